"""Type-ahead and prefetch over a fake engine: what gets cached, what gets asked ahead."""

from __future__ import annotations

import asyncio
import gc

from smallcode_lsp.cadence import TypingCadence
from smallcode_lsp.engine.cancel import Cancelled
from smallcode_lsp.prefetcher import Prefetcher, next_line_lead
from smallcode_lsp.scheduler import Scheduler
from smallcode_lsp.types import (
    Completion,
    CompletionRequest,
    DocumentSnapshot,
    GenerationStats,
    StopReason,
    Trigger,
)
from tests.fake_engine import FakeEngine, FakeJob

URI = "file:///a.py"
BEFORE = "def area(r):\n    "
AFTER = "\n\nprint(area(2))\n"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def at(prefix: str, suffix: str = AFTER, invoked: bool = False) -> CompletionRequest:
    trigger = Trigger.INVOKED if invoked else Trigger.AUTOMATIC
    return CompletionRequest(DocumentSnapshot(URI, prefix + suffix, "python"), len(prefix), trigger)


def answer(text: str, stop: StopReason = StopReason.EOG) -> Completion:
    return Completion(text, GenerationStats(stop_reason=stop))


def make(clock: Clock | None = None) -> tuple[Prefetcher, FakeEngine, TypingCadence]:
    engine = FakeEngine()
    cadence = TypingCadence()
    clock = clock or Clock()
    scheduler = Scheduler(engine, cadence, clock)
    prefetcher = Prefetcher(
        scheduler,
        cadence,
        lambda req: FakeJob(req, background=True),
        lambda req: FakeJob(req, background=True, grow=True),
        clock,
    )
    return prefetcher, engine, cadence


def typing_burst(clock: Clock, cadence: TypingCadence) -> None:
    """Six keys 20 ms apart: a pause shows 30 ms after the last."""
    for i in range(6):
        clock.now = i * 0.02
        cadence.note(URI, clock.now)


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def test_typing_along_a_suggestion_answers_its_rest() -> None:
    prefetcher, engine, _ = make()
    prefetcher.remember(at(BEFORE), [answer("return 3.14 * r * r")])
    hit = prefetcher.lookup(at(BEFORE + "ret"))
    assert hit is not None and hit.text == "urn 3.14 * r * r"
    assert hit.stats.from_cache and hit.stats.stop_reason is StopReason.EOG
    assert prefetcher.lookup(at(BEFORE + "x")) is None  # typed off the suggestion
    assert prefetcher.lookup(at(BEFORE + "ret", invoked=True)) is None  # asks for fresh ones
    assert not engine.calls


def test_a_cut_short_suggestion_stays_cut_short_when_typed_along() -> None:
    prefetcher, _, _ = make()
    prefetcher.remember(at(BEFORE), [answer("return 3.14", StopReason.DEADLINE)])
    hit = prefetcher.lookup(at(BEFORE + "r"))
    assert hit is not None and hit.stats.stop_reason is StopReason.DEADLINE


def test_type_ahead_off() -> None:
    prefetcher, _, _ = make()
    prefetcher.configure(typeahead=False, prefetch=True)
    prefetcher.remember(at(BEFORE), [answer("return r")])
    assert prefetcher.lookup(at(BEFORE + "r")) is None


async def test_a_finished_line_prefetches_the_next_line_and_enter_answers_from_it() -> None:
    prefetcher, engine, _ = make()
    request = at(BEFORE)
    shown = answer("total = r * r")
    prefetcher.remember(request, [shown])
    prefetcher.schedule(request, shown)
    (call,) = engine.background_calls
    ahead = call.job.request
    # After accepting and pressing Enter the editor auto-indents the next line.
    assert ahead.prefix == BEFORE + "total = r * r\n    "
    assert ahead.suffix == AFTER
    call.answer("return total")
    await settle()
    hit = prefetcher.lookup(at(BEFORE + "total = r * r\n    "))
    assert hit is not None and hit.text == "return total"
    assert prefetcher.prefetched == 1


async def test_a_cut_short_suggestion_prefetches_the_rest_of_its_line() -> None:
    prefetcher, engine, _ = make()
    request = at(BEFORE)
    shown = answer("return 3.14", StopReason.DEADLINE)
    prefetcher.remember(request, [shown])
    prefetcher.schedule(request, shown)
    (call,) = engine.background_calls
    assert call.job.request.prefix == BEFORE + "return 3.14"  # no newline: same line
    call.answer(" * r * r")
    await settle()
    hit = prefetcher.lookup(at(BEFORE + "ret"))
    assert hit is not None and hit.text == "urn 3.14 * r * r"  # typing along shows it all


async def test_the_same_spot_is_prefetched_once_unless_preempted() -> None:
    prefetcher, engine, _ = make()
    request, shown = at(BEFORE), answer("x = 1")
    prefetcher.remember(request, [shown])
    prefetcher.schedule(request, shown)
    prefetcher.schedule(request, shown)
    assert len(engine.background_calls) == 1
    engine.calls[0].future.set_exception(Cancelled())  # a user job preempted it
    await settle()
    prefetcher.schedule(request, shown)
    assert len(engine.background_calls) == 2


async def test_preempted_prefetch_keeps_what_it_made() -> None:
    prefetcher, engine, _ = make()
    request, shown = at(BEFORE), answer("return 3", StopReason.DEADLINE)
    prefetcher.remember(request, [shown])
    prefetcher.schedule(request, shown)
    call = engine.calls[0]
    call.cancel.cancel()
    call.answer(".14", StopReason.CANCELLED)
    await settle()
    hit = prefetcher.lookup(at(BEFORE + "return 3"))
    assert hit is not None and hit.text == ".14"
    assert hit.stats.stop_reason is StopReason.DEADLINE  # still cut short: may be continued


async def test_in_a_burst_prefetch_waits_for_a_pause_and_a_key_cancels_it() -> None:
    clock = Clock()
    prefetcher, engine, cadence = make(clock)
    typing_burst(clock, cadence)
    request, shown = at(BEFORE), answer("x = 1")
    prefetcher.remember(request, [shown])
    prefetcher.schedule(request, shown)
    assert not engine.calls  # deferred: the user is typing
    prefetcher.cancel_timer(URI)  # the next key came
    await asyncio.sleep(0.05)
    assert not engine.calls
    prefetcher.schedule(request, shown)
    await asyncio.sleep(0.05)  # no key for 1.5 intervals: a pause
    assert len(engine.background_calls) == 1
    prefetcher.schedule(request, shown, defer=False)  # same spot: nothing new
    assert len(engine.background_calls) == 1


async def test_closing_the_document_forgets_everything_and_drops_late_results() -> None:
    prefetcher, engine, _ = make()
    request, shown = at(BEFORE), answer("x = 1")
    prefetcher.remember(request, [shown])
    prefetcher.schedule(request, shown)
    prefetcher.forget(URI)
    engine.calls[0].answer("y = 2")
    await settle()
    assert prefetcher.lookup(at(BEFORE + "x = 1\n    ")) is None
    assert prefetcher.prefetched == 0
    prefetcher.remember(request, [shown])
    prefetcher.schedule(request, shown)  # the spot is not remembered as done any more
    assert len(engine.background_calls) == 2


def test_prefetch_off() -> None:
    prefetcher, engine, _ = make()
    prefetcher.configure(typeahead=True, prefetch=False)
    request, shown = at(BEFORE), answer("x = 1")
    prefetcher.remember(request, [shown])
    prefetcher._prefetch(request, shown.text, True)
    assert not engine.calls


def test_next_line_lead_follows_the_editor_indent() -> None:
    assert next_line_lead("    x = 1", "\n    y = 2\n") == "\n    "
    assert next_line_lead("    if x:", "\n") == "\n        "
    assert next_line_lead("\tif (x) {", "") == "\n\t\t"
    assert next_line_lead("    f(x", ")\n") == ""  # text follows on the line


async def test_after_a_cold_answer_the_full_prompt_grows_once_per_document() -> None:
    prefetcher, engine, _ = make()
    request = at(BEFORE)
    prefetcher.remember(request, [answer("x = 1")])
    prefetcher.schedule_growth(request)
    prefetcher.schedule_growth(request)  # rescheduled, not doubled
    await asyncio.sleep(0.01)
    (call,) = engine.background_calls
    assert call.job.grow and call.job.request is request
    prefetcher.schedule_growth(at(BEFORE + "x"))
    await asyncio.sleep(0.01)
    assert len(engine.background_calls) == 1  # one grow job in flight per document
    call.future.set_result([])
    await settle()
    prefetcher.schedule_growth(at(BEFORE + "x"))
    await asyncio.sleep(0.01)
    assert len(engine.background_calls) == 2


async def test_growth_waits_for_a_pause_and_a_key_cancels_it() -> None:
    clock = Clock()
    prefetcher, engine, cadence = make(clock)
    typing_burst(clock, cadence)
    request = at(BEFORE)
    prefetcher.remember(request, [answer("x = 1")])
    prefetcher.schedule_growth(request)
    prefetcher.cancel_timer(URI)
    await asyncio.sleep(0.05)
    assert not engine.calls
    prefetcher.configure(typeahead=True, prefetch=False)  # background work off
    prefetcher.schedule_growth(request)
    await asyncio.sleep(0.05)
    assert not engine.calls


async def test_a_preempted_growth_is_not_reported_as_an_error() -> None:
    """Its Cancelled is expected: left unretrieved, asyncio logs it at ERROR when collected."""
    reported: list[str] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, c: reported.append(c["message"]))
    prefetcher, engine, _ = make()
    request = at(BEFORE)
    prefetcher.remember(request, [answer("x = 1")])
    prefetcher.schedule_growth(request)
    await asyncio.sleep(0.01)
    engine.calls.pop().future.set_exception(Cancelled())  # a user job preempted it
    await settle()
    gc.collect()  # the future is gone: had its exception not been retrieved, asyncio says so
    assert reported == []
