"""When the resting cursor's spot is warmed (event loop side, with a fake engine): after the rest
delay, once per spot, the newest spot replacing an older one, never after a keystroke there, and
a spot the cursor rested on while the model loaded is warmed once it is loaded."""

from __future__ import annotations

import asyncio

from smallcode_lsp.completion.job import JobKind
from smallcode_lsp.engine.info import ModelInfo
from smallcode_lsp.options import Settings
from smallcode_lsp.service import CompletionService
from smallcode_lsp.types import (
    Completion,
    CompletionRequest,
    DocumentSnapshot,
    GenerationStats,
    StopReason,
    Trigger,
)
from smallcode_lsp.warmer import REST_S
from tests.fake_engine import FakeEngine

TEXT = "def f():\n    return 1\n\n\ndef g():\n    "


def at(offset: int, text: str = TEXT) -> CompletionRequest:
    return CompletionRequest(
        DocumentSnapshot("file:///a.py", text, "python"), offset, Trigger.AUTOMATIC
    )


def warm_jobs(engine: FakeEngine) -> list[CompletionRequest]:
    return [c.job.request for c in engine.background_calls if c.job.kind is JobKind.WARM]


def test_a_resting_spot_is_warmed_once_and_moves_replace_it() -> None:
    engine = FakeEngine()

    async def scenario() -> None:
        service = CompletionService(Settings(), engine)
        service.status.state = "ready"
        service.cursor_rests(at(5))
        service.cursor_rests(at(len(TEXT)))  # moved on before the rest delay
        await asyncio.sleep(REST_S * 2)
        assert [r.offset for r in warm_jobs(engine)] == [len(TEXT)]
        service.cursor_rests(at(len(TEXT)))  # the same spot again: warm already
        await asyncio.sleep(REST_S * 2)
        assert len(warm_jobs(engine)) == 1
        service.cursor_rests(at(3))
        await asyncio.sleep(REST_S * 2)
        assert [r.offset for r in warm_jobs(engine)] == [len(TEXT), 3]
        assert engine.background_calls[0].cancel.cancelled  # the older spot's job let go
        service.cursor_rests(at(7))
        service.change_document("file:///a.py", [], None)  # a keystroke there: not resting
        await asyncio.sleep(REST_S * 2)
        assert len(warm_jobs(engine)) == 2
        service.close()

    asyncio.run(scenario())


def test_a_spot_rested_on_while_loading_is_warmed_once_loaded() -> None:
    engine = FakeEngine()

    async def scenario() -> None:
        service = CompletionService(Settings(), engine)
        loading = service.load_model()
        service.cursor_rests(at(len(TEXT)))
        await asyncio.sleep(REST_S * 2)
        assert warm_jobs(engine) == []
        engine.loads[0].set_result(_info())
        await loading
        await asyncio.sleep(REST_S * 2)
        assert [r.offset for r in warm_jobs(engine)] == [len(TEXT)]
        service.close()

    asyncio.run(scenario())


def _info() -> ModelInfo:
    return ModelInfo("m.gguf", "gemma3", "m", "", 1, 1, 2048, 100, False, 0, 0)


def test_the_first_key_is_answered_from_what_the_warm_job_made_before_it_stopped() -> None:
    """The key stops the warm job; the request waits for its answer (the engine must stop it
    anyway) and types along it instead of asking the model again."""
    engine = FakeEngine()

    async def scenario() -> None:
        service = CompletionService(Settings(), engine)
        service.status.state = "ready"
        service.cursor_rests(at(len(TEXT)))
        await asyncio.sleep(REST_S * 2)
        warm = engine.background_calls[0]
        assert warm.future.set_running_or_notify_cancel()  # the engine is on it
        typed = TEXT + "r"
        service.change_document("file:///a.py", [], None)  # the first key
        assert warm.cancel.cancelled
        answer = asyncio.ensure_future(service.complete(at(len(typed), typed)))
        await asyncio.sleep(0.01)
        assert not engine.user_calls  # waiting for the stopped warm job, not asking the model
        warm.future.set_result(
            [Completion("return 2", GenerationStats(stop_reason=StopReason.CANCELLED))]
        )
        shown = await answer
        assert [c.text for c in shown] == ["eturn 2"] and shown[0].stats.from_cache
        assert not engine.user_calls
        service.close()

    asyncio.run(scenario())
