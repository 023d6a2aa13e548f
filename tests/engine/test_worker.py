"""The engine worker's bookkeeping, with plain Python jobs (no model)."""

from __future__ import annotations

import threading
from concurrent.futures import Future

from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.worker import EngineWorker


def test_work_submitted_when_a_job_resolves_finds_the_engine_free() -> None:
    """The LSP loop schedules a prefetch as soon as an answer's future resolves: that
    background job must not be taken for one overtaken by a user job (cancelled on arrival)."""
    worker = EngineWorker()
    try:
        seen: dict[str, object] = {}
        submitted = threading.Event()

        def on_done(_: Future[int]) -> None:
            seen["idle"] = worker.idle
            token = CancelToken()
            seen["prefetch"] = worker.submit_background(lambda: 2, token)
            seen["cancelled_on_arrival"] = token.cancelled
            submitted.set()

        worker.submit(lambda: 1).add_done_callback(on_done)
        assert submitted.wait(10)
        assert seen["idle"] is True
        assert seen["cancelled_on_arrival"] is False
        prefetch = seen["prefetch"]
        assert isinstance(prefetch, Future) and prefetch.result(10) == 2
    finally:
        worker.stop()


def test_a_user_job_still_preempts_background_work() -> None:
    worker = EngineWorker()
    try:
        gate = threading.Event()
        worker.submit(lambda: gate.wait(10))  # the engine is busy with a user job
        token = CancelToken()
        worker.submit_background(lambda: 0, token)
        assert token.cancelled  # a user job waits: background work gives way
        gate.set()
        assert worker.wait_idle(10)
    finally:
        worker.stop()
