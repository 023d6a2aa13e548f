"""Our record of what llama-server's cache holds: the slot's prompt, and the prompts it held
before, which the engine keeps in host RAM and brings back (`--cache-ram`)."""

from __future__ import annotations

from smallcode_lsp.engine.remote.remote_model import MISSES_TO_STOP, SlotPrompt

A = list(range(1000, 1400))
B = list(range(2000, 2300))
C = list(range(3000, 3500))


def visit(slot: SlotPrompt, prompt: list[int], reported: int | None = None) -> None:
    slot.hold(prompt, [*prompt, 7], reported)  # answered: the prompt and one token held


def test_a_prompt_displaced_from_the_slot_is_counted_on_when_revisited() -> None:
    slot = SlotPrompt()
    visit(slot, A)
    visit(slot, B)
    visit(slot, C)
    assert slot.shared_prefix(A) == len(A)  # brought back from host RAM
    assert slot.shared_prefix([*A[:110], 5, 6]) == 110  # keeps over 25% of A: worth it
    assert slot.shared_prefix([*A[:50], 5, 6]) == 0  # less: the engine leaves it
    visit(slot, A, reported=len(A) - 1)
    assert slot.shared_prefix(C) == len(C)  # C went to host RAM as A came back
    assert slot.restores


def test_typing_on_keeps_the_slot_and_saves_nothing() -> None:
    slot = SlotPrompt()
    visit(slot, A)
    visit(slot, [*A, 1, 2])  # the next keystroke: the slot's prompt continues
    visit(slot, [*A[:300], 9])  # a deletion keeps most of it: the engine saves nothing
    assert slot.displaced == []
    visit(slot, B)
    assert slot.shared_prefix([*A[:300], 9, 4]) == 301


def test_an_engine_that_never_brings_prompts_back_is_not_counted_on() -> None:
    slot = SlotPrompt()
    for _ in range(MISSES_TO_STOP):
        visit(slot, A)
        visit(slot, B)
        assert slot.shared_prefix(A) == len(A)
        visit(slot, A, reported=0)  # `--cache-ram 0`: all of it evaluated again
    assert not slot.restores
    visit(slot, B)
    assert slot.shared_prefix(A) == 0


def test_an_engine_that_does_not_say_is_taken_at_its_word() -> None:
    slot = SlotPrompt()
    visit(slot, A)
    visit(slot, B)
    visit(slot, A, reported=None)  # a stream closed early: no timings
    assert slot.restores and slot.shared_prefix(B) == len(B)
