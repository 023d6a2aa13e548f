"""The scheduler over a fake engine: newest request wins, cancels reach the engine, deadlines
follow the typing cadence (fake clock)."""

from __future__ import annotations

import asyncio

import pytest

from smallcode_lsp.cadence import SHARE, TypingCadence
from smallcode_lsp.engine.base import NoModel
from smallcode_lsp.engine.cancel import Cancelled
from smallcode_lsp.scheduler import Scheduler
from smallcode_lsp.types import CompletionRequest, DocumentSnapshot, StopReason, Trigger
from tests.fake_engine import FakeEngine, FakeJob


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def request(text: str = "x = ", uri: str = "file:///a.py", invoked: bool = False):
    trigger = Trigger.INVOKED if invoked else Trigger.AUTOMATIC
    return CompletionRequest(DocumentSnapshot(uri, text, "python"), len(text), trigger)


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_newer_request_for_the_document_cancels_the_running_one() -> None:
    engine = FakeEngine()
    scheduler = Scheduler(engine, TypingCadence())
    first = asyncio.ensure_future(scheduler.run("a", FakeJob(request("x"))))
    await settle()
    second = asyncio.ensure_future(scheduler.run("a", FakeJob(request("xy"))))
    await settle()
    assert engine.calls[0].cancel.cancelled
    assert not engine.calls[1].cancel.cancelled
    engine.calls[0].future.set_exception(Cancelled())
    engine.calls[1].answer("1")
    assert await first is None
    assert [c.text for c in await second] == ["1"]
    assert not scheduler.busy


async def test_other_documents_are_not_cancelled() -> None:
    engine = FakeEngine()
    scheduler = Scheduler(engine, TypingCadence())
    a = asyncio.ensure_future(scheduler.run("a", FakeJob(request(uri="a"))))
    b = asyncio.ensure_future(scheduler.run("b", FakeJob(request(uri="b"))))
    await settle()
    assert not any(call.cancel.cancelled for call in engine.calls)
    for call in engine.calls:
        call.answer("z")
    assert (await a) and (await b)


async def test_cancel_request_stops_the_engine_job() -> None:
    engine = FakeEngine()
    scheduler = Scheduler(engine, TypingCadence())
    task = asyncio.ensure_future(scheduler.run("a", FakeJob(request())))
    await settle()
    task.cancel()  # pygls cancels the handler's task on $/cancelRequest
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine.calls[0].cancel.cancelled
    assert scheduler.cancelled == 1 and not scheduler.busy


async def test_document_change_cancels_and_the_answer_is_dropped() -> None:
    engine = FakeEngine()
    scheduler = Scheduler(engine, TypingCadence())
    task = asyncio.ensure_future(scheduler.run("a", FakeJob(request())))
    await settle()
    scheduler.cancel_document("a")
    engine.calls[0].answer("late")  # the engine finished the token it was on
    assert await task is None
    assert scheduler.cancelled == 1


async def test_no_model_is_no_answer() -> None:
    engine = FakeEngine()
    scheduler = Scheduler(engine, TypingCadence())
    task = asyncio.ensure_future(scheduler.run("a", FakeJob(request())))
    await settle()
    engine.calls[0].future.set_exception(NoModel("loading"))
    assert await task is None


def test_deadline_is_the_budget_until_a_burst_then_a_share_of_the_interval() -> None:
    clock = Clock()
    scheduler = Scheduler(FakeEngine(), TypingCadence(), clock)
    first = scheduler.with_deadline(request(), 1000)
    assert first.deadline == pytest.approx(clock.now + 1.0)
    for _ in range(5):
        clock.now += 0.125
        typed = scheduler.with_deadline(request(), 1000)
    assert typed.deadline == pytest.approx(clock.now + SHARE * 0.125)
    # The whole budget may finish its line; a burst's share must land before the next key.
    assert first.finish_line and not typed.finish_line


def test_invoked_requests_and_a_zero_budget_have_no_deadline() -> None:
    scheduler = Scheduler(FakeEngine(), TypingCadence(), Clock())
    assert scheduler.with_deadline(request(invoked=True), 1000).deadline is None
    assert scheduler.with_deadline(request(), 0).deadline is None


async def test_background_work_is_submitted_as_preemptible() -> None:
    engine = FakeEngine()
    scheduler = Scheduler(engine, TypingCadence())
    future, token = scheduler.run_background(FakeJob(request(), background=True))
    assert engine.calls[0].background and engine.calls[0].cancel is token
    engine.calls[0].answer("more")
    assert [c.text for c in await future] == ["more"]


async def running_with_keep() -> tuple[FakeEngine, Scheduler, list[str], asyncio.Future]:
    """A request running on the engine, what it makes when cancelled collected in `kept`."""
    engine = FakeEngine()
    scheduler = Scheduler(engine, TypingCadence())
    kept: list[str] = []
    task = asyncio.ensure_future(
        scheduler.run("a", FakeJob(request()), keep=lambda made: kept.extend(c.text for c in made))
    )
    await settle()
    return engine, scheduler, kept, task


async def test_what_a_cancelled_request_made_reaches_keep_and_settled_waits_for_it() -> None:
    engine, scheduler, kept, task = await running_with_keep()
    assert not await scheduler.settled("a", 0.01)  # nothing stopped yet
    scheduler.cancel_document("a")  # the next keystroke
    waiting = asyncio.ensure_future(scheduler.settled("a", 5.0))
    await settle()
    assert not waiting.done()  # the engine is still on its token
    engine.calls[0].answer("self.", StopReason.CANCELLED)
    assert await waiting
    assert kept == ["self."]
    assert await task is None  # its own keystroke is gone: nothing shown for it


async def test_a_cancel_request_keeps_what_was_made_too_and_settled_is_bounded() -> None:
    engine, scheduler, kept, task = await running_with_keep()
    assert engine.calls[0].future.set_running_or_notify_cancel()  # the engine is on it
    task.cancel()  # $/cancelRequest
    with pytest.raises(asyncio.CancelledError):
        await task
    began = asyncio.get_running_loop().time()
    assert await scheduler.settled("a", 0.05)  # the engine has not stopped: waits no longer
    assert asyncio.get_running_loop().time() - began < 1.0
    engine.calls[0].answer("", StopReason.CANCELLED)  # stopped before any token: nothing kept
    await settle()
    assert kept == [] and not await scheduler.settled("a", 0.01)
