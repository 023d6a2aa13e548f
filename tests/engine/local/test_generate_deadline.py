"""Deadline rules of the decode loop, with a fake clock and a fake vocabulary."""

from __future__ import annotations

from smallcode_lsp.engine.deadline import LINE_AFTER_OVERRUN_MS, answer_deadline
from smallcode_lsp.engine.local.generate import _Emitter
from smallcode_lsp.engine.speed import SpeedMeter
from smallcode_lsp.types import GenerationStats, StopReason


def test_a_deadline_the_prompt_left_time_for_stands() -> None:
    speed = SpeedMeter(generate_ms_per_token=20)
    assert answer_deadline(10.5, 10.0, speed) == (10.5, False)
    assert answer_deadline(None, 10.0, speed) == (None, False)


def test_a_prompt_that_overran_the_deadline_answers_its_line() -> None:
    speed = SpeedMeter(generate_ms_per_token=20)
    # The prompt took until after the deadline (a cold spot): the time counts from the
    # first token, like llama-server's t_max_predict_ms, and the answer is its line.
    deadline, line_only = answer_deadline(10.0, 12.0, speed)
    assert line_only and deadline == 12.0 + LINE_AFTER_OVERRUN_MS / 1000
    # Less than one token-time left counts as overrun too.
    assert answer_deadline(10.01, 10.0, speed)[1]


def test_in_a_typing_burst_an_overrun_prompt_answers_its_first_words() -> None:
    """The burst deadline is a share of the keystroke interval: the next key comes before a
    whole line could, so the words ready now are the answer (no line mode, deadline kept)."""
    speed = SpeedMeter(generate_ms_per_token=20)
    assert answer_deadline(10.0, 12.0, speed, finish_line=False) == (10.0, False)


class Vocab:
    """Token i is the i-th piece; 0 ends generation."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces

    def is_eog(self, token: int) -> bool:
        return token == 0

    def piece(self, token: int) -> bytes:
        return self.pieces[token].encode()


def emit_all(emitter: _Emitter, tokens: list[int]) -> str:
    for token in tokens:
        if emitter.emit(token):
            break
    return emitter.text


def test_line_mode_stops_at_the_end_of_the_first_line_with_text() -> None:
    vocab = Vocab(["", "\n", "    ", "x = 1", "\n", "y = 2"])
    stats = GenerationStats()
    emitter = _Emitter(vocab, [], stats, line_only=True)  # type: ignore[arg-type]
    # A leading newline (a block after an opener) is not the end of the answer's line.
    assert emit_all(emitter, [1, 2, 3, 4, 5]) == "\n    x = 1"
    assert stats.stop_reason is StopReason.DEADLINE  # cut short: the model has more


def test_without_line_mode_the_text_runs_on() -> None:
    vocab = Vocab(["", "\n", "    ", "x = 1", "\n", "y = 2"])
    emitter = _Emitter(vocab, [], GenerationStats())  # type: ignore[arg-type]
    assert emit_all(emitter, [1, 2, 3, 4, 5]) == "\n    x = 1\ny = 2"


def test_a_deadline_mid_block_finishes_the_line_being_written() -> None:
    vocab = Vocab(["", "x = 1\n", "y = ", "2", "\n", "z = 3"])
    stats = GenerationStats()
    emitter = _Emitter(vocab, [], stats)  # type: ignore[arg-type]
    assert not emitter.emit(1) and not emitter.emit(2)
    emitter.line_only = True  # the deadline came while "y = " was being written
    emitter.line_from = emitter.text.rfind("\n") + 1
    assert emit_all(emitter, [3, 4, 5]) == "x = 1\ny = 2"
    assert stats.stop_reason is StopReason.DEADLINE
