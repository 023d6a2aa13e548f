"""The pygls language server: thin handlers over CompletionService."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import uuid
from typing import Any
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from smallcode_lsp import __version__
from smallcode_lsp.convert import (
    PositionOutOfRange,
    completion_items,
    completion_request,
    fs_path,
    inline_items,
    offset_at,
    position_at,
    text_edits,
    trigger_of,
)
from smallcode_lsp.engine.base import Engine
from smallcode_lsp.engine.info import ModelInfo, ModelLoadError
from smallcode_lsp.engine.local.engine import LocalEngine
from smallcode_lsp.nextedit.model import NextEditModel
from smallcode_lsp.nextedit.service import NextEditService, Offer
from smallcode_lsp.options import Settings, merge_settings
from smallcode_lsp.protocol import FrameLimitedReader, SmallcodeProtocol
from smallcode_lsp.service import CompletionService, make_engine
from smallcode_lsp.types import CompletionRequest, Trigger

log = logging.getLogger(__name__)

STATUS_REQUEST = "smallcode/status"
STATUS_NOTIFICATION = "smallcode/statusChanged"
STATS_NOTIFICATION = "smallcode/completionStats"
ACCEPTED_COMMAND = "smallcode.accepted"
DID_SHOW = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion"
# Where the cursor rests before the user types (our clients; Copilot's language server takes
# `textDocument/didFocus` {textDocument: {uri}} when an editor gains focus).
DID_MOVE_CURSOR = "smallcode/didMoveCursor"
DID_FOCUS = "textDocument/didFocus"
# Next-edit suggestions, as GitHub Copilot's language server serves them (copilot-lsp and
# sidekick.nvim talk to it unchanged); a dismissal is ours (Copilot has none).
INLINE_EDIT = "textDocument/copilotInlineEdit"
DID_SHOW_INLINE_EDIT = "textDocument/didShowInlineEdit"
DID_REJECT_INLINE_EDIT = "smallcode/didRejectInlineEdit"
NEXT_EDIT_ACCEPTED_COMMAND = "smallcode.didAcceptNextEdit"


def _field(value: Any, name: str) -> Any:
    """A field of a custom notification's params (pygls hands them over as objects)."""
    if isinstance(value, dict):
        return value.get(name)
    return getattr(value, name, None)


class SmallcodeServer(LanguageServer):
    def __init__(self, settings: Settings | None = None, engine: Engine | None = None) -> None:
        super().__init__(
            "smallcode-lsp",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=SmallcodeProtocol,  # answers every request, even malformed ones
        )
        # The service exists from the start; `initialize` applies the client's settings and
        # starts loading the model (on a remote engine when `engineUrl` is set).
        # Without an `engine` none runs until that load makes the one the settings ask for.
        self.service = CompletionService(
            settings or Settings(),
            engine,
            on_status=self.status_changed,
            on_stats=self.completion_stats,
            choose_engine=None if engine else make_engine,
            on_error=self.show_error,
        )
        self.item_ids = itertools.count(1)
        self.initial_load: asyncio.Future[ModelInfo] | None = None
        self.cursors: dict[str, lsp.Position] = {}  # uri -> where the cursor was last seen
        self.next_edits = NextEditService()
        self.next_edit_model = NextEditModel(LocalEngine)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log and keep serving; pygls' default pops up "Error in server" for each bad message."""
        assert isinstance(self.protocol, SmallcodeProtocol)
        self.protocol.report_error(error, source)

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """stdio, with frames claiming more than MAX_FRAME_BYTES refused instead of allocated."""
        reader = FrameLimitedReader(stdin or sys.stdin.buffer)
        super().start_io(reader, stdout)  # type: ignore[arg-type]  # a BinaryIO in all it uses

    def status_changed(self) -> None:
        """The service's state changed (on the event loop)."""
        self.protocol.notify(STATUS_NOTIFICATION, self.service.status_dict())

    def completion_stats(self, stats: dict[str, object]) -> None:
        """With the `debug` setting: what each completion cost (for benchmarks, on the loop)."""
        self.protocol.notify(STATS_NOTIFICATION, stats)

    def show_error(self, message: str) -> None:
        self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error, message=message))

    async def load_model(self, future: asyncio.Future[ModelInfo] | None = None) -> None:
        """Load (or reload) the model, reporting work-done progress when the client supports it."""
        future = future or self.service.load_model()
        token = str(uuid.uuid4())
        window = self.client_capabilities.window
        progress = bool(window and window.work_done_progress)
        if progress:
            try:
                await self.work_done_progress.create_async(token)
            except Exception:
                progress = False
        if progress:
            self.work_done_progress.begin(
                token,
                lsp.WorkDoneProgressBegin(title="SmallCode: loading model", cancellable=False),
            )
        try:
            info = await future
            message = f"{info.name} ({info.architecture}) ready"
            if info.runtime is not None and info.runtime.notice:
                # A crash in the trial load was survived by changing settings: say so.
                self.window_show_message(
                    lsp.ShowMessageParams(
                        type=lsp.MessageType.Warning, message=f"SmallCode: {info.runtime.notice}"
                    )
                )
        except ModelLoadError as exc:
            message = f"model failed to load: {exc}"
            if self.service.engine.status().kind == "remote":
                then = "Trying again on the next request."
            else:
                then = "Completions are off until the model setting is fixed."
            self.show_error(f"SmallCode: {message}. {then}")
        if progress:
            self.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=message))


def _apply_settings(ls: SmallcodeServer, payload: Any) -> Settings:
    settings, problems = merge_settings(ls.service.settings, payload)
    for problem in problems:
        log.warning(problem)
        ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=problem))
    completion = settings.completion
    ls.next_edit_model.configure(
        completion.next_edit_model, completion.next_edit_format, settings.model.load_options()
    )
    if ls.next_edit_model.error:
        ls.show_error(f"SmallCode: {ls.next_edit_model.error}")
    return settings


def workspace_roots(params: lsp.InitializeParams) -> list[str]:
    """Filesystem paths of the workspace folders (or the root URI / path of older clients)."""
    uris = [folder.uri for folder in params.workspace_folders or []]
    if not uris and params.root_uri:
        uris = [params.root_uri]
    roots = [path for path in (fs_path(uri) for uri in uris) if path]
    if not roots and params.root_path:
        roots = [params.root_path]
    return roots


def create_server(settings: Settings | None = None) -> SmallcodeServer:
    server = SmallcodeServer(settings)

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: SmallcodeServer, params: lsp.InitializeParams) -> None:
        # Loading starts now, before `initialized`, so the model is ready sooner.
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("smallcode"), dict):
            options = options["smallcode"]
        ls.service.update_settings(_apply_settings(ls, options))
        ls.service.start_index(workspace_roots(params))  # the roots also pick a remote slot
        ls.initial_load = ls.service.load_model()

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: SmallcodeServer, _params: lsp.InitializedParams) -> None:
        if ls.initial_load is not None:
            await ls.load_model(ls.initial_load)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: SmallcodeServer, params: lsp.DidChangeConfigurationParams
    ) -> None:
        payload = params.settings
        if isinstance(payload, dict) and "smallcode" in payload:
            payload = payload["smallcode"]
        if ls.service.update_settings(_apply_settings(ls, payload)):
            await ls.load_model()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SmallcodeServer, params: lsp.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        uri = unquote(doc.uri)  # the key pygls' workspace uses too
        ls.service.open_document(uri, doc.text, doc.language_id, fs_path(doc.uri))
        synced = ls.workspace.text_documents.get(uri)
        ls.next_edits.open(uri, synced.source if synced is not None else doc.text)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SmallcodeServer, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = unquote(params.text_document.uri)
        synced = ls.workspace.text_documents.get(uri)
        text = synced.source if synced is not None else None
        ls.service.change_document(uri, text_edits(params), text)
        if text is not None:
            ls.next_edits.change(uri, text)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SmallcodeServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.cursors.pop(unquote(params.text_document.uri), None)
        ls.next_edits.close(unquote(params.text_document.uri))
        ls.service.close_document(unquote(params.text_document.uri))

    def request_at(
        ls: SmallcodeServer, uri: str, position: lsp.Position, trigger: Trigger
    ) -> CompletionRequest | None:
        document = ls.workspace.text_documents.get(unquote(uri))  # pygls keys unquoted
        if document is None:
            log.warning("position in unknown document %s", uri)
            return None
        ls.cursors[unquote(uri)] = position
        try:
            return completion_request(document, position, trigger)
        except PositionOutOfRange as exc:
            log.warning("%s", exc)
            return None

    async def complete(
        ls: SmallcodeServer, uri: str, position: lsp.Position, trigger: Trigger
    ) -> list[Any] | None:
        request = request_at(ls, uri, position, trigger)
        return None if request is None else await ls.service.complete(request)

    def rest_at(ls: SmallcodeServer, uri: Any, position: lsp.Position | None) -> None:
        if not isinstance(uri, str) or position is None:
            return
        request = request_at(ls, uri, position, Trigger.AUTOMATIC)
        if request is not None:
            ls.service.cursor_rests(request)

    @server.feature(DID_MOVE_CURSOR)
    def did_move_cursor(ls: SmallcodeServer, params: Any) -> None:
        where = _field(params, "position")
        line, character = _field(where, "line"), _field(where, "character")
        if isinstance(line, int) and isinstance(character, int):
            uri = _field(_field(params, "textDocument"), "uri")
            rest_at(ls, uri, lsp.Position(line=line, character=character))

    @server.feature(DID_FOCUS)
    def did_focus(ls: SmallcodeServer, params: Any) -> None:
        uri = _field(_field(params, "textDocument"), "uri")
        if isinstance(uri, str):  # the spot last seen there, if any
            rest_at(ls, uri, ls.cursors.get(unquote(uri)))

    @server.feature(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, lsp.InlineCompletionOptions())
    async def inline_completion(
        ls: SmallcodeServer, params: lsp.InlineCompletionParams
    ) -> lsp.InlineCompletionList | None:
        trigger = trigger_of(params.context.trigger_kind if params.context else None)
        results = await complete(ls, params.text_document.uri, params.position, trigger)
        if not results:
            return None
        first_id = next(ls.item_ids)
        for _ in results[1:]:
            next(ls.item_ids)
        return inline_items(results, params.position, first_id)

    @server.feature(INLINE_EDIT)
    async def inline_edit(ls: SmallcodeServer, params: Any) -> dict[str, object]:
        return {"edits": await next_edits(ls, params)}

    async def next_edits(ls: SmallcodeServer, params: Any) -> list[dict[str, object]]:
        completion = ls.service.settings.completion
        if not (completion.enable and completion.next_edit):
            return []
        doc_id, where = _field(params, "textDocument"), _field(params, "position")
        uri, version = _field(doc_id, "uri"), _field(doc_id, "version")
        line, character = _field(where, "line"), _field(where, "character")
        if not (isinstance(uri, str) and isinstance(line, int) and isinstance(character, int)):
            return []
        key = unquote(uri)
        document = ls.workspace.text_documents.get(key)
        if document is None or (isinstance(version, int) and version != document.version):
            return []  # unknown, or asked about a version the client has since changed
        try:
            cursor = offset_at(document, lsp.Position(line=line, character=character))
        except PositionOutOfRange:
            return []
        text, at_version = document.source, document.version
        source = "propagation"
        syntax = ls.service.documents.syntax(key, text)
        site = ls.next_edits.propagate(key, cursor, text, syntax)
        if site is None and ls.next_edit_model.active:
            source = "model"
            path = fs_path(uri) or key
            site = await ls.next_edit_model.predict(path, text, cursor, ls.next_edits.recent(key))
            if document.version != at_version or (
                site is not None and not ls.next_edits.admits(key, site, text)
            ):
                return []  # typed on while the model ran, or a filtered answer
        if site is None:
            return []
        offer = ls.next_edits.offer(key, at_version, site, text, source)
        return [inline_edit_item(document, uri, offer)]

    def inline_edit_item(document: Any, uri: str, offer: Offer) -> dict[str, object]:
        start, end = position_at(document, offer.site.start), position_at(document, offer.site.end)
        return {
            "text": offer.site.text,
            "textDocument": {"uri": uri, "version": offer.version},
            "range": {
                "start": {"line": start.line, "character": start.character},
                "end": {"line": end.line, "character": end.character},
            },
            "command": {
                "title": "SmallCode: next edit accepted",
                "command": NEXT_EDIT_ACCEPTED_COMMAND,
                "arguments": [offer.id],
            },
        }

    def offer_id(params: Any) -> str | None:
        arguments = _field(_field(_field(params, "item"), "command"), "arguments")
        if isinstance(arguments, (list, tuple)) and arguments and isinstance(arguments[0], str):
            return arguments[0]
        return None

    @server.feature(DID_SHOW_INLINE_EDIT)
    def did_show_inline_edit(ls: SmallcodeServer, params: Any) -> None:
        if (offer := offer_id(params)) is not None:
            ls.next_edits.shown(offer)

    @server.feature(DID_REJECT_INLINE_EDIT)
    def did_reject_inline_edit(ls: SmallcodeServer, params: Any) -> None:
        if (offer := offer_id(params)) is not None:
            ls.next_edits.rejected(offer)

    @server.command(NEXT_EDIT_ACCEPTED_COMMAND)
    def next_edit_accepted(ls: SmallcodeServer, *args: Any) -> None:
        ids = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
        if ids and isinstance(ids[0], str):
            ls.next_edits.accepted(ids[0])

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[]))
    async def completion(
        ls: SmallcodeServer, params: lsp.CompletionParams
    ) -> lsp.CompletionList | None:
        results = await complete(ls, params.text_document.uri, params.position, Trigger.INVOKED)
        return completion_items(results, params.position) if results else None

    @server.feature(STATUS_REQUEST)
    def status(ls: SmallcodeServer, _params: Any) -> dict[str, object]:
        next_edit = {**ls.next_edits.counts.as_dict(), "model": ls.next_edit_model.status()}
        return {**ls.service.status_dict(), "nextEdit": next_edit}

    @server.feature(DID_SHOW)
    def did_show(ls: SmallcodeServer, _params: Any) -> None:
        ls.service.acceptance.shown += 1

    @server.feature(DID_PARTIALLY_ACCEPT)
    def did_partially_accept(ls: SmallcodeServer, params: Any) -> None:
        accepted = getattr(params, "acceptedLength", None) or getattr(params, "accepted_length", 0)
        ls.service.acceptance.partially_accepted += 1
        if isinstance(accepted, int) and accepted > 0:
            ls.service.acceptance.accepted_chars += accepted
        ls.status_changed()  # status bars show the acceptance counts

    @server.command(ACCEPTED_COMMAND)
    def accepted(ls: SmallcodeServer, *_args: Any) -> None:
        ls.service.acceptance.accepted += 1
        ls.status_changed()

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: SmallcodeServer, *_args: Any) -> None:
        ls.service.close()
        ls.next_edit_model.close()

    return server
