"""pygls' LSP protocol, hardened: every request gets a response, no message stops the server.

pygls 2.x structures a message while the JSON is still being parsed (`json.loads` object_hook);
when a request's params do not fit the LSP types it raises there, before the id is known to the
protocol, and the client waits forever. Here parsing keeps plain dicts and structuring happens
in `handle_message`, where the id is at hand:

- request with bad params        -> -32602 InvalidParams, same id
- request that is not JSON-RPC   -> -32600 InvalidRequest, same id (null when it has none)
- a body that is not JSON        -> -32700 ParseError, id null (JSON-RPC 2.0, section 5.1)
- request after `shutdown`       -> -32600 InvalidRequest (LSP: "should error")
- a second `initialize`          -> -32600 InvalidRequest (it would start a second engine)
- notification with bad params   -> logged and dropped (notifications are never answered)
- didChange for a document that is not open -> logged and ignored (pygls raised KeyError)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCProtocol, RPCMessage
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition, Utf16

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602


def _valid_id(msg_id: Any) -> bool:
    return isinstance(msg_id, str | int) and not isinstance(msg_id, bool)


def _describe(exc: BaseException) -> str:
    """A short reason: cattrs nests the real errors inside an ExceptionGroup."""
    cause = exc.__cause__ or exc
    while isinstance(cause, BaseExceptionGroup) and cause.exceptions:
        cause = cause.exceptions[0]
    text = f"{type(cause).__name__}: {cause}"
    return text if len(text) <= 300 else text[:297] + "..."


class SmallcodeProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that answers every request, whatever arrives."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        # Called by json.loads for every object, innermost first: keep dicts, structure later.
        return data

    def handle_message(self, message: RPCMessage | Any) -> None:
        if not isinstance(message, dict):
            if hasattr(message, "jsonrpc"):  # already structured (not from our reader)
                super().handle_message(message)
            else:  # a JSON array, string or number: not a message
                self.send_error(None, INVALID_REQUEST, "a message must be a JSON object")
            return
        structured = self._structure(message)
        if structured is None:
            return
        if self._drop_stale_document_change(structured):
            return
        if self._shutdown and _is_request(message) and message["method"] != lsp.EXIT:
            self.send_error(message["id"], INVALID_REQUEST, "the server is shutting down")
            return
        initialized = self._workspace is not None
        if _is_request(message) and message["method"] == lsp.INITIALIZE and initialized:
            # A second initialize would start a second engine beside the first.
            self.send_error(message["id"], INVALID_REQUEST, "the server is already initialized")
            return
        super().handle_message(structured)
        if _is_request(message) and message["method"] == lsp.INITIALIZE:
            self._use_fast_positions()

    def _use_fast_positions(self) -> None:
        """The workspace exists once initialize ran; no document was created before it."""
        workspace = self._workspace
        if workspace is not None and not isinstance(workspace.position_codec, FastPositionCodec):
            workspace._position_codec = FastPositionCodec(workspace.position_codec.encoding)

    def _structure(self, data: dict[str, Any]) -> Any | None:
        """The typed message, or None when it was answered or dropped here."""
        msg_id = data.get("id")
        is_request = "method" in data and "id" in data
        if data.get("jsonrpc") != JsonRPCProtocol.VERSION or (
            "method" in data and not isinstance(data["method"], str)
        ):
            self._reject(data, INVALID_REQUEST, "not a JSON-RPC 2.0 message")
            return None
        if is_request and not _valid_id(msg_id):
            self.send_error(None, INVALID_REQUEST, f"invalid request id {msg_id!r}")
            return None
        if "method" not in data and "result" not in data and "error" not in data:
            self._reject(data, INVALID_REQUEST, "neither a request, a notification nor a response")
            return None
        if "method" in data and "params" not in data:
            # JSON-RPC lets params be omitted (vscode-languageclient's sendRequest(method)
            # does); pygls' generic message types require the member.
            data = {**data, "params": None}
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            reason = _describe(exc)
        if is_request:
            log.warning("invalid params for %s (id %r): %s", data["method"], msg_id, reason)
            self.send_error(
                msg_id, INVALID_PARAMS, f"invalid params for {data['method']}: {reason}"
            )
        else:
            log.warning("dropped a malformed message (%s): %s", data.get("method"), reason)
        return None

    def _reject(self, data: dict[str, Any], code: int, text: str) -> None:
        msg_id = data.get("id")
        if "result" in data or "error" in data:  # a malformed response: never answer it
            log.warning("dropped a malformed response: %s", text)
        elif "method" in data and "id" not in data:
            log.warning("dropped a malformed notification: %s", text)
        else:
            self.send_error(msg_id if _valid_id(msg_id) else None, code, text)

    def _drop_stale_document_change(self, message: Any) -> bool:
        """didChange for a document that is not open: pygls would raise KeyError."""
        if getattr(message, "method", None) != lsp.TEXT_DOCUMENT_DID_CHANGE:
            return False
        uri = message.params.text_document.uri
        if self._workspace is None or unquote(uri) not in self._workspace.text_documents:
            log.warning("%s for a document that is not open: %s", message.method, uri)
            return True
        return False

    def send_error(self, msg_id: Any, code: int, text: str) -> None:
        """A JSON-RPC error response (id None: the request's id could not be read)."""
        self._send_data(
            {
                "jsonrpc": JsonRPCProtocol.VERSION,
                "id": msg_id,
                "error": {"code": code, "message": text},
            }
        )

    def report_error(self, error: Exception, source: type[Exception]) -> None:
        """An error outside any request: log it and keep serving (never a popup per message).

        pygls' default shows "Error in server: ..." to the user for each one.
        """
        if source is JsonRpcException and isinstance(error, ValueError):
            # json.JSONDecodeError / UnicodeDecodeError: the body was not JSON.
            self.send_error(None, PARSE_ERROR, f"parse error: {error}")
        log.warning("protocol error, still serving: %s", _describe(error))


def _is_request(data: dict[str, Any]) -> bool:
    return "method" in data and "id" in data


# -- position conversion at C speed ----------------------------------------------------------------
# pygls converts UTF-16 columns with a Python loop over the line's characters, on every edit and
# every completion: a 10 MB one-line minified file cost 6.6 s per keystroke. Same results here,
# computed with str/bytes operations; anything unusual (lone surrogates) falls back to pygls.

_SURROGATE = re.compile("[\ud800-\udfff]")


class FastUtf16(Utf16):
    def num_units(self, chars: str) -> int:
        if chars.isascii():
            return len(chars)
        return len(chars.encode("utf-16-le", "surrogatepass")) // 2


class FastPositionCodec(PositionCodec):
    """pygls' PositionCodec with fast paths for ASCII lines and UTF-16 clients."""

    def __init__(self, encoding: str | lsp.PositionEncodingKind | None) -> None:
        super().__init__(encoding)
        if isinstance(self.impl, Utf16):
            self.impl = FastUtf16()

    def position_from_client_units(
        self, lines: Sequence[str], position: lsp.Position
    ) -> ServerTextPosition:
        if not lines or position.line >= len(lines):
            return super().position_from_client_units(lines, position)
        line = lines[position.line].replace("\r\n", "\n")
        if line.isascii():
            units = len(line)
        elif isinstance(self.impl, FastUtf16) and not _SURROGATE.search(line):
            encoded = line.encode("utf-16-le")
            units = len(encoded) // 2
        else:
            return super().position_from_client_units(lines, position)
        if units == 0:
            return ServerTextPosition(position.line, 0)
        if position.character > units:
            position.character = units - 1  # as pygls does (it mutates the position too)
        wanted = position.character
        if line.isascii():
            index = min(wanted, len(line))
        else:  # the characters that start before unit `wanted`, a half pair counted whole
            index = len(encoded[: 2 * wanted].decode("utf-16-le", "surrogatepass"))
        return ServerTextPosition(line=position.line, character=index)


# -- framing ---------------------------------------------------------------------------------------
MAX_FRAME_BYTES = 256 << 20  # a 10 MB binary file, JSON-escaped, is ~60 MB


class FrameLimitedReader:
    """stdin for pygls' reader: a body claimed larger than MAX_FRAME_BYTES is not read.

    pygls calls `read(content_length)` and Python allocates that much up front: one frame
    claiming 100 GB ended the server with MemoryError. The body is answered as `null` (-32600,
    id null) and the bytes that follow are read as headers again, which pygls skips until the
    next Content-Length line.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def readline(self) -> bytes:
        return self._stream.readline()

    def read(self, size: int) -> bytes:
        if size > MAX_FRAME_BYTES:
            log.warning("refused a %d-byte frame (limit %d)", size, MAX_FRAME_BYTES)
            return b"null"
        return self._stream.read(size)
