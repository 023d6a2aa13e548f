"""What a status notification carries when it is sent (clients render it as it comes)."""

from __future__ import annotations

import asyncio

from smallcode_lsp.options import Settings
from smallcode_lsp.service import CompletionService
from smallcode_lsp.types import CompletionRequest, DocumentSnapshot, Trigger
from tests.fake_engine import FakeEngine


def test_the_ready_notification_already_carries_the_finished_completion() -> None:
    """Clients read `last` when the state turns back to ready: it used to be recorded after
    that notification, so a status bar showed the completion before the last one."""
    engine = FakeEngine()
    seen: list[dict[str, object]] = []

    async def scenario() -> None:
        service = CompletionService(Settings(), engine)
        service._on_status = lambda: seen.append(service.status_dict())
        service.status.state = "ready"
        doc = DocumentSnapshot("file:///a.py", "def f():\n    ret", "python")
        task = asyncio.create_task(
            service.complete(CompletionRequest(doc, len(doc.text), Trigger.INVOKED))
        )
        while not engine.user_calls:
            await asyncio.sleep(0.001)
        engine.user_calls[0].answer("urn 1")
        assert [c.text for c in await task] == ["urn 1"]
        service.close()

    asyncio.run(scenario())
    states = [s["state"] for s in seen]
    assert states[:2] == ["generating", "ready"]
    ready = seen[1]
    assert ready["last"] is not None and ready["lastLatencyMs"] is not None
