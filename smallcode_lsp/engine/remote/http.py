"""HTTP to a remote engine with the standard library only: JSON calls and server-sent-event
streams over one keep-alive connection, each bounded by a timeout and closed by a cancel.

Used on the remote engine's thread only. A `CancelToken` (any thread) shuts the socket down,
which wakes the blocked read at once: a cancelled stream is a closed connection.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from smallcode_lsp.engine.cancel import Cancelled, CancelToken

MAX_BODY = 16 << 20  # a JSON answer larger than this is garbage, not a completion


class EngineError(Exception):
    """The engine cannot serve a request; the message is for the user (never holds the key)."""


class Unreachable(EngineError):
    """No connection, a reset, a timeout, or the server still loading (503)."""


class AuthRefused(EngineError):
    """HTTP 401/403: the API key is missing or wrong."""


class CertificateRefused(EngineError):
    """https: the engine's certificate did not verify against the trusted CAs."""


class BadResponse(EngineError):
    """An answer that is not what the engine's API promises (status, JSON, fields)."""


@dataclass(frozen=True)
class Endpoint:
    """Where the engine is and how to talk to it."""

    url: str  # http(s)://host[:port][/base]
    api_key: str | None = None  # sent as `Authorization: Bearer`; never logged
    timeout_s: float = 10.0  # connect, every read, and a whole call
    ca_file: str | None = None  # https: trust only the CAs in this PEM file (else the system's)

    def __repr__(self) -> str:  # keeps the key out of logs and tracebacks
        return f"Endpoint({self.url!r}, key={'set' if self.api_key else 'none'})"


def parse_sse_line(line: bytes, pending: list[bytes]) -> dict[str, Any] | None:
    """Feed one line of a server-sent-event stream; returns an event's JSON when a blank line
    ends it. `pending` holds the `data:` lines of the event being read. Comments (`:` pings)
    and other fields are skipped; `data: [DONE]` (OpenAI) ends nothing by itself."""
    line = line.rstrip(b"\r\n")
    if line.startswith(b"data:"):
        pending.append(line[5:].lstrip(b" "))
        return None
    if line or not pending:
        return None
    data = b"\n".join(pending)
    pending.clear()
    if data == b"[DONE]":
        return None
    try:
        event = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadResponse(f"unreadable event in the stream: {data[:80]!r}") from exc
    if not isinstance(event, dict):
        raise BadResponse(f"unexpected event in the stream: {data[:80]!r}")
    if "error" in event:
        raise BadResponse(f"the engine reported an error: {str(event['error'])[:200]}")
    return event


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Certificates and host names checked against `ca_file` only, else the system trust
    store. ValueError (for the user) when the file cannot be read as PEM certificates."""
    if not ca_file:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValueError(
            f"engineCaFile {ca_file}: not a readable PEM CA bundle ({reason})"
        ) from exc


class HttpClient:
    """JSON and SSE calls to one engine; the connection is kept between calls."""

    def __init__(self, endpoint: Endpoint) -> None:
        parts = urlsplit(endpoint.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"engine URL must be http(s)://host[:port][/path], got {endpoint.url}")
        self.endpoint = endpoint
        self._https = parts.scheme == "https"
        self._tls = tls_context(endpoint.ca_file) if self._https else None
        self._host = parts.hostname
        self._port = parts.port
        self._base = parts.path.rstrip("/")
        self._conn: http.client.HTTPConnection | None = None

    @property
    def url(self) -> str:
        return self.endpoint.url

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- calls ---------------------------------------------------------------------------------

    def get_json(self, path: str) -> dict[str, Any]:
        return self._json(self._request("GET", path, None, None))

    def post_json(
        self, path: str, body: dict[str, Any], cancel: CancelToken | None = None
    ) -> dict[str, Any]:
        """POST `body`; a cancel closes the connection and raises Cancelled."""
        return self._json(self._request("POST", path, body, cancel), cancel)

    def stream(
        self, path: str, body: dict[str, Any], cancel: CancelToken
    ) -> Iterator[dict[str, Any]]:
        """POST `body` and yield the JSON of each server-sent event. Stopping early (a stop
        rule, a cancel, a deadline) closes the connection: the engine sees its client gone
        (and every request is bounded server-side too)."""
        response = self._request("POST", path, body, cancel)
        began = time.monotonic()
        pending: list[bytes] = []
        finished = False
        release = self._closer(cancel)
        try:
            cancel.raise_if_cancelled()  # it may have fired before the closer was in place
            while True:
                try:
                    line = response.readline(MAX_BODY)
                except (OSError, http.client.HTTPException) as exc:
                    raise self._lost(exc, cancel) from exc
                if not line:
                    cancel.raise_if_cancelled()  # our shutdown reads as the end of the stream
                    if pending:
                        event = parse_sse_line(b"", pending)
                        if event is not None:
                            yield event
                    finished = True  # the whole answer read: the connection is reusable
                    return
                event = parse_sse_line(line, pending)
                if event is not None:
                    yield event
                if time.monotonic() - began > self.endpoint.timeout_s:
                    raise Unreachable(
                        f"engine unreachable at {self.url}: no end of answer in "
                        f"{self.endpoint.timeout_s:g} s"
                    )
        finally:
            release()
            if not finished:
                self.close()  # mid-response: the connection cannot be reused

    # -- plumbing ------------------------------------------------------------------------------

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """The kept connection (True) or a new one (False)."""
        if self._conn is not None:
            return self._conn, True
        timeout = self.endpoint.timeout_s
        if self._tls is not None:
            self._conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=timeout, context=self._tls
            )
        else:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        return self._conn, False

    def _headers(self, body: bytes | None) -> dict[str, str]:
        headers = {"Accept": "application/json, text/event-stream"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.endpoint.api_key:
            headers["Authorization"] = f"Bearer {self.endpoint.api_key}"
        return headers

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None, cancel: CancelToken | None
    ) -> http.client.HTTPResponse:
        """Send and read the status line; a kept connection the server closed meanwhile is
        replaced once. Raises AuthRefused, Unreachable or BadResponse unless the status is 200."""
        data = None if body is None else json.dumps(body).encode()
        for attempt in (0, 1):
            if cancel is not None and cancel.cancelled:
                raise Cancelled
            conn, reused = self._connection()
            release = self._closer(cancel)
            try:
                if conn.sock is None:
                    conn.connect()
                    release()
                    release = self._closer(cancel)  # now there is a socket to shut down
                conn.request(method, self._base + path, body=data, headers=self._headers(data))
                response = conn.getresponse()
                break
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                stale = isinstance(exc, http.client.RemoteDisconnected | ConnectionError)
                if reused and attempt == 0 and stale and not (cancel and cancel.cancelled):
                    continue  # the server closed the idle connection (a restart, a timeout)
                raise self._lost(exc, cancel) from exc
            finally:
                release()
        if response.status == 200:
            return response
        text = response.read(4096).decode("utf-8", errors="replace")
        self.close()
        if response.status in (401, 403):
            raise AuthRefused(
                f"the engine at {self.url} refused the API key (HTTP {response.status})"
            )
        if response.status == 503:
            raise Unreachable(
                f"engine unreachable at {self.url}: not ready (HTTP 503: {text[:120]})"
            )
        raise BadResponse(f"engine at {self.url}: HTTP {response.status} for {path}: {text[:200]}")

    def _json(
        self, response: http.client.HTTPResponse, cancel: CancelToken | None = None
    ) -> dict[str, Any]:
        release = self._closer(cancel)
        try:
            raw = response.read(MAX_BODY + 1)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise self._lost(exc, cancel) from exc
        finally:
            release()
        if len(raw) > MAX_BODY:
            self.close()
            raise BadResponse(f"engine at {self.url}: answer larger than {MAX_BODY} bytes")
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            self.close()
            raise BadResponse(f"engine at {self.url} answered garbage: {raw[:80]!r}") from exc
        if not isinstance(value, dict):
            raise BadResponse(
                f"engine at {self.url} answered {type(value).__name__}, not an object"
            )
        return value

    def _closer(self, cancel: CancelToken | None) -> Callable[[], None]:
        """Make `cancel` shut the current socket down (from its thread); returns the undo."""
        conn = self._conn
        sock = conn.sock if conn is not None else None
        if cancel is None or sock is None:
            return lambda: None

        def shut() -> None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

        cancel.add_callback(shut)
        return lambda: cancel.remove_callback(shut)

    def _lost(self, exc: BaseException, cancel: CancelToken | None) -> Exception:
        """What a failed read or write means: our own cancel, or the engine gone."""
        self.close()
        if cancel is not None and cancel.cancelled:
            return Cancelled()
        if isinstance(exc, ssl.SSLCertVerificationError):
            trusted = (
                f"the CAs in engineCaFile {self.endpoint.ca_file}"
                if self.endpoint.ca_file
                else "the system trust store (set engineCaFile to the CA bundle that signed it)"
            )
            return CertificateRefused(
                f"engine at {self.url}: its TLS certificate did not verify against {trusted}: "
                f"{exc.verify_message or exc}"
            )
        if isinstance(exc, TimeoutError | socket.timeout):
            return Unreachable(
                f"engine unreachable at {self.url}: no answer in {self.endpoint.timeout_s:g} s"
            )
        reason = str(exc) or type(exc).__name__
        return Unreachable(f"engine unreachable at {self.url}: {reason}")
