"""`smallcode-lsp` with a request log, for benchmarks/remote.py's multi-user run.

The same server (`smallcode_lsp.cli.main`), with the remote engine's HTTP client wrapped to
append one JSON line per `/completion` call to the file named by $SMALLCODE_BENCH_REQUESTS:
`{"t": monotonic start, "ms": duration, "stream": bool, "final": bool, "cancelled": bool,
"error": exception name or null, "unsent": bool}`. `final`: the engine's answer was read to
its end (a stream's `stop: true` event, or a whole non-streamed body); otherwise we closed the
connection first: `cancelled` when the request's cancel token fired (the editor cancelled
it), `error` for a transport fault (engineTimeoutMs, a reset), else our own stop (a stop
rule, the deadline); `unsent`: cancelled before it was sent (the engine never saw it).
Counting only: nothing the server does changes.

    python benchmarks/remote_serve.py serve --log-level INFO    # as `smallcode-lsp serve`
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smallcode_lsp import cli  # noqa: E402
from smallcode_lsp.engine.cancel import Cancelled, CancelToken  # noqa: E402
from smallcode_lsp.engine.remote import http  # noqa: E402

ENV = "SMALLCODE_BENCH_REQUESTS"
_lock = threading.Lock()


def _record(
    path: Path,
    began: float,
    stream: bool,
    final: bool,
    cancelled: bool,
    error: str | None,
    unsent: bool,
) -> None:
    line = {
        "t": round(began, 4),
        "ms": round((time.monotonic() - began) * 1000, 2),
        "stream": stream,
        "final": final,
        "cancelled": cancelled,
        "error": error,
        "unsent": unsent,
    }
    with _lock, path.open("a") as out:
        out.write(json.dumps(line) + "\n")


def install(log: Path) -> None:
    """Wrap HttpClient.stream and .post_json (for /completion) to log each call's end."""
    stream, post_json = http.HttpClient.stream, http.HttpClient.post_json

    def counted_stream(
        self: http.HttpClient, path: str, body: dict[str, Any], cancel: CancelToken
    ) -> Iterator[dict[str, Any]]:
        began, final, error = time.monotonic(), False, None
        unsent = cancel.cancelled  # at the first next(): the request is not sent yet
        inner = stream(self, path, body, cancel)
        try:
            for event in inner:
                final = final or event.get("stop") is True
                yield event
        except Exception as exc:  # a fault: recorded, then raised as before
            error = type(exc).__name__
            raise
        finally:
            close = getattr(inner, "close", None)  # a generator: runs its `finally`
            if close is not None:
                close()  # closes the connection when we stopped reading early
            if path == "/completion":
                _record(log, began, True, final, cancel.cancelled, error, unsent)

    def counted_post(
        self: http.HttpClient,
        path: str,
        body: dict[str, Any],
        cancel: CancelToken | None = None,
    ) -> dict[str, Any]:
        if path != "/completion":
            return post_json(self, path, body, cancel)
        began, final, error = time.monotonic(), False, None
        unsent = bool(cancel and cancel.cancelled)
        try:
            answer = post_json(self, path, body, cancel)
            final = True
            return answer
        except Cancelled:
            raise
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:
            _record(log, began, False, final, bool(cancel and cancel.cancelled), error, unsent)

    http.HttpClient.stream = counted_stream  # type: ignore[method-assign]
    http.HttpClient.post_json = counted_post  # type: ignore[method-assign]


def main() -> int:
    target = os.environ.get(ENV)
    if target:
        install(Path(target))
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
