"""The remote engine: the same pipeline, with llama-server doing the model's work over HTTP.

`RemoteEngine` implements `Engine` like the in-process one: jobs run one at a time on its own
worker thread (worker.py), user jobs preempting background ones, and there the pipeline gets a
`RemoteModel` (a `CompletionModel`): tokenization through `/tokenize` (cached in line blocks),
generation streamed from `/completion` with our own token-list prompt and our stop rules applied
as the text arrives. Faults never escape as errors: a request the engine cannot serve is
answered empty (`EngineUnavailable`), the status says why, and the next request after
RETRY_S tries again, reconnecting from scratch (the server may have restarted with another
model).
"""

from __future__ import annotations

import getpass
import logging
import os
import platform
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from urllib.parse import urlsplit

from smallcode_lsp.engine.base import EngineJob, EngineUnavailable
from smallcode_lsp.engine.cancel import Cancelled, CancelToken
from smallcode_lsp.engine.generate import answer_deadline
from smallcode_lsp.engine.http import AuthRefused, Endpoint, EngineError, HttpClient, Unreachable
from smallcode_lsp.engine.llama_server import (
    ServerFacts,
    Timings,
    completion_body,
    prefill_body,
    read_facts,
    slot_for,
    stop_reason,
    token_list,
    tokenize_body,
)
from smallcode_lsp.engine.model import LoadOptions, ModelInfo, ModelLoadError
from smallcode_lsp.engine.speed import SpeedMeter
from smallcode_lsp.engine.stops import StopRule, first_cut, first_line_end
from smallcode_lsp.engine.threaded import CountingModel, ThreadedEngine
from smallcode_lsp.engine.tokens import BlockTokenizer
from smallcode_lsp.types import Completion, GenerationParams, GenerationStats, StopReason

log = logging.getLogger(__name__)

KINDS = ("llama-server", "openai")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
RETRY_S = 1.0  # after a failure, requests are answered empty at once for this long


@dataclass(frozen=True)
class RemoteOptions:
    """How to reach the engine. The key itself is read from the environment at connect."""

    url: str
    kind: str = "llama-server"
    api_key_env: str | None = None  # the name of the variable holding the key
    timeout_ms: int = 10_000
    client: str = ""  # user and workspace: picks a stable llama-server slot


def client_key(roots: Sequence[str]) -> str:
    """Who is asking, for slot affinity (hashed before use; only a slot number is sent)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return f"{user}@{platform.node()}:{'|'.join(sorted(roots))}"


class SlotPrompt:
    """What our llama-server slot holds, as far as we know: the last prompt and the tokens
    generated after it. Another user hashed onto the slot may have replaced it: then prompt
    sizing only misjudges one request's cost."""

    def __init__(self) -> None:
        self.tokens: list[int] = []

    def shared_prefix(self, tokens: Sequence[int]) -> int:
        n = 0
        for held, wanted in zip(self.tokens, tokens, strict=False):
            if held != wanted:
                break
            n += 1
        return n

    def __len__(self) -> int:
        return len(self.tokens)


class StreamText:
    """The streamed answer so far, cut by the stop rules as pieces arrive."""

    def __init__(self, rules: Sequence[StopRule], stats: GenerationStats) -> None:
        self.rules = rules
        self.stats = stats
        self.text = ""
        self.line_only = False  # the prompt overran the deadline: finish the line only

    def add(self, piece: str) -> bool:
        """Append `piece`; True when the answer is complete here."""
        if not piece:
            return False
        self.text += piece
        cut = first_cut(self.rules, self.text)
        if cut is not None:
            self.text = self.text[:cut]
            self.stats.stop_reason = StopReason.STOP_RULE
            return True
        if self.line_only:
            end = first_line_end(self.text)
            if end is not None:
                self.text = self.text[:end]
                self.stats.stop_reason = StopReason.DEADLINE
                return True
        return False


class RemoteModel:
    """A model served by llama-server, as the pipeline sees it (engine thread only)."""

    def __init__(self, client: HttpClient, facts: ServerFacts, slot: int, timeout_ms: int):
        self.client = client
        self.facts = facts
        self.info = facts.info
        self.fim = facts.fim
        self.bos = facts.bos
        self.add_bos = facts.add_bos
        self.n_ctx = facts.n_ctx
        self.slot_id = slot
        self.timeout_ms = timeout_ms
        self.speed = SpeedMeter()  # fed from the server's timings
        self.blocks = BlockTokenizer(self.tokenize)
        self.slot = SlotPrompt()
        self.prompt_tokens_evaluated = 0

    def tokenize(self, text: str) -> list[int]:
        if not text:
            return []
        answer = self.client.post_json("/tokenize", tokenize_body(text))
        return token_list(answer.get("tokens"), "/tokenize")

    def count_tokens(self, text: str) -> int:
        return self.blocks.count(text)  # cached: each count is a round trip otherwise

    def shared_prefix(self, tokens: Sequence[int]) -> int:
        return self.slot.shared_prefix(tokens)

    def pick_cache(self, tokens: Sequence[int]) -> SlotPrompt:
        return self.slot

    def generate(
        self,
        prompt: Sequence[int],
        params: GenerationParams,
        stop_rules: Sequence[StopRule],
        cancel: CancelToken,
    ) -> tuple[str, GenerationStats]:
        """Stream `/completion`; stop (close the stream) at a stop rule, the deadline or a
        cancel. Transport faults raise EngineError (the engine answers empty)."""
        stats = GenerationStats(prompt_tokens=len(prompt), stop_reason=StopReason.MAX_TOKENS)
        reused = self.slot.shared_prefix(prompt)
        began = time.perf_counter()
        body = completion_body(prompt, params, self.slot_id, began, self.timeout_ms)
        text = StreamText(stop_rules, stats)
        deadline = params.deadline
        generated: list[int] = []
        first: float | None = None
        final: dict[str, object] | None = None
        try:
            for event in self.client.stream("/completion", body, cancel):
                tokens = token_list(event.get("tokens", []), "/completion")
                piece = event.get("content", "")
                if first is None and (tokens or piece):
                    first = time.perf_counter()
                    deadline, text.line_only = answer_deadline(
                        params.deadline, first, self.speed, params.finish_line
                    )
                generated += tokens
                stats.generated_tokens = len(generated)
                if event.get("stop") is True:
                    final = event
                if text.add(piece if isinstance(piece, str) else ""):
                    break
                if final is not None:
                    stats.stop_reason = stop_reason(final, params.max_tokens)
                    break
                if cancel.cancelled:
                    stats.stop_reason = StopReason.CANCELLED
                    break
                if (
                    deadline is not None
                    and text.text.strip()
                    and not self.speed.step_fits(deadline, time.perf_counter())
                ):
                    stats.stop_reason = StopReason.DEADLINE
                    break
            else:  # no stop event and no reason of ours to stop: the server went away
                raise Unreachable(f"engine unreachable at {self.client.url}: closed mid-answer")
        except Cancelled:
            stats.stop_reason = StopReason.CANCELLED
        ended = time.perf_counter()
        self._account(stats, prompt, generated, reused, final, began, first, ended)
        return text.text, stats

    def prefill(
        self, prompt: Sequence[int], params: GenerationParams, cancel: CancelToken
    ) -> GenerationStats:
        stats = GenerationStats(prompt_tokens=len(prompt), stop_reason=StopReason.MAX_TOKENS)
        reused = self.slot.shared_prefix(prompt)
        began = time.perf_counter()
        final: dict[str, object] | None = None
        try:
            final = self.client.post_json("/completion", prefill_body(prompt, self.slot_id), cancel)
        except Cancelled:
            stats.stop_reason = StopReason.CANCELLED
        self._account(stats, prompt, [], reused, final, began, None, time.perf_counter())
        return stats

    def _account(
        self,
        stats: GenerationStats,
        prompt: Sequence[int],
        generated: list[int],
        reused: int,
        final: dict[str, object] | None,
        began: float,
        first: float | None,
        ended: float,
    ) -> None:
        """Fill `stats`, feed the speed meter, remember what the slot now holds."""
        timings = Timings.of(final) if final is not None else None
        if timings is not None and timings.prompt_n + timings.cache_n > 0:
            stats.prompt_tokens_reused = timings.cache_n
            stats.prompt_tokens_evaluated = timings.prompt_n
            stats.prompt_ms = timings.prompt_ms
            stats.generate_ms = timings.predicted_ms
            stats.llama_ms = timings.prompt_ms + timings.predicted_ms
            self.speed.record_prefill(timings.prompt_n, timings.prompt_ms)
            if timings.predicted_n > 1:
                self.speed.record_step(timings.predicted_ms / timings.predicted_n)
        else:  # the stream was closed early: our own clock and our own idea of the slot
            stats.prompt_tokens_reused = reused
            stats.prompt_tokens_evaluated = len(prompt) - reused
            prompt_end = first if first is not None else ended
            stats.prompt_ms = (prompt_end - began) * 1000
            stats.generate_ms = (ended - prompt_end) * 1000
        self.prompt_tokens_evaluated += stats.prompt_tokens_evaluated
        # The last generated token was sampled, not decoded: the slot holds the ones before.
        self.slot.tokens = list(prompt) + generated[:-1]

    def close(self) -> None:
        self.client.close()


def connect(options: RemoteOptions) -> RemoteModel:
    """A connection to the engine and what it serves now; raises EngineError."""
    if options.kind != "llama-server":
        raise EngineError(f"engineKind {options.kind!r} is not implemented yet (use llama-server)")
    key = os.environ.get(options.api_key_env) if options.api_key_env else None
    try:
        client = HttpClient(Endpoint(options.url, key or None, options.timeout_ms / 1000))
    except ValueError as exc:
        raise EngineError(str(exc)) from exc
    host = urlsplit(options.url).hostname or ""
    if key and options.url.startswith("http:") and host not in LOOPBACK:
        log.warning("engine: the API key travels unencrypted to %s: use https", host)
    try:
        facts = read_facts(client)
    except EngineError:
        client.close()
        raise
    slot = slot_for(options.client, facts.total_slots)
    return RemoteModel(client, facts, slot, options.timeout_ms)


class RemoteEngine(ThreadedEngine):
    """The `Engine` over a llama-server. Its worker owns the connection and the model; the
    status fields it updates are read under a lock, as a snapshot (threaded.py)."""

    kind = "remote"

    def __init__(self, options: RemoteOptions) -> None:
        super().__init__(url=options.url)
        self.options = options
        self._model: RemoteModel | None = None  # worker thread only
        self._retry_at = 0.0  # worker thread only: time.monotonic()

    def load(self, resolve_path: Callable[[], str], options: LoadOptions) -> Future[ModelInfo]:
        """Connect; the remote serves its own model (`resolve_path` and `options` are the
        in-process engine's)."""
        with self._lock:
            self._loading = True
        return self._worker.submit(self._load)

    def _load(self) -> ModelInfo:
        self._drop()
        try:
            model = self._connect()
        except EngineError as exc:
            raise ModelLoadError(self._failed(exc)) from exc
        finally:
            with self._lock:
                self._loading = False
        return model.info

    def _connect(self) -> RemoteModel:
        """On the worker: a fresh connection and what the server serves now."""
        options = self.options
        model = connect(options)
        facts = model.facts
        self._model = model
        self._retry_at = 0.0
        with self._lock:
            self._info, self._error = model.info, None
        log.info(
            "engine: llama-server at %s, %s, %d slots of %d tokens (ours: %d), FIM %s",
            options.url,
            model.info.name,
            facts.total_slots,
            facts.n_ctx,
            model.slot_id,
            "yes" if facts.fim.available else "no",
        )
        return model

    def _key_hint(self) -> str:
        """Where the key comes from (the variable's name, never its value)."""
        name = self.options.api_key_env
        if not name:
            return "set engineApiKeyEnv to the name of an environment variable holding the key"
        state = "holds a key the engine refused" if os.environ.get(name) else "is not set"
        return f"the environment variable {name} {state}"

    def _failed(self, exc: EngineError) -> str:
        """On the worker: forget the connection; requests wait RETRY_S before trying again.
        Returns the message for the user."""
        self._drop()
        self._retry_at = time.monotonic() + RETRY_S
        message = str(exc)
        if self.options.url not in message:  # say which engine (garbage from /props, ...)
            message = f"engine at {self.options.url}: {message}"
        if isinstance(exc, AuthRefused):
            message = f"{message}: {self._key_hint()}"
        with self._lock:
            if self._error != message:
                log.warning("engine: %s", message)
            self._error = message
        return message

    def _drop(self) -> None:
        if self._model is not None:
            self._model.close()
            self._model = None

    def _model_for_job(self) -> RemoteModel:
        """On the worker: the model, reconnecting after a failure once RETRY_S has passed."""
        if self._model is not None:
            return self._model
        if time.monotonic() < self._retry_at:
            raise EngineUnavailable(self.status().error or "engine unavailable")
        try:
            return self._connect()
        except EngineError as exc:
            raise EngineUnavailable(self._failed(exc)) from exc

    def _run_job(
        self, job: EngineJob, model: CountingModel, cancel: CancelToken
    ) -> list[Completion]:
        try:
            return job.run(model, cancel)
        except EngineError as exc:
            raise EngineUnavailable(self._failed(exc)) from exc

    def close(self) -> None:
        self._worker.stop(on_exit=self._drop)
