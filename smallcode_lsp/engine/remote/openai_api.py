"""The OpenAI-compatible completions API as the remote engine speaks it (`engineKind: openai`):
vLLM, SGLang, llama-server, Ollama and others serve `/v1/completions` and `/v1/models`.

Pure functions over JSON, plus the probes at connect: which model, and how to count tokens.
The prompt goes as text (the one form every such server takes; token-id prompts are an
extension Ollama lacks), its FIM template rendered by us (text_prompt.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from smallcode_lsp.engine.remote.http import (
    AuthRefused,
    BadResponse,
    EngineError,
    HttpClient,
    Unreachable,
)
from smallcode_lsp.types import GenerationParams, StopReason

COMPLETIONS = "/v1/completions"
MODELS = "/v1/models"
TOKENIZE = "/tokenize"  # llama-server and vLLM, at the server's root
# Without a tokenizer endpoint (Ollama): BPE vocabularies of code models average 3.5-4.5
# characters per token on source code; 3 over-counts, so prompts stay inside the window.
CHARS_PER_TOKEN = 3.0
DEFAULT_CTX = 2048  # when the server does not say (Ollama's long-standing num_ctx default)
PROBE_TEXT = "def add(a, b):\n    return a + b\n"


def api_root(url: str) -> str:
    """The server's root: users often give the OpenAI base URL, ending in /v1."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class ServedModel:
    """One entry of GET /v1/models."""

    id: str
    max_model_len: int | None  # vLLM, SGLang
    meta: dict[str, Any]  # llama-server: n_ctx_train, n_vocab, n_params, size


def served_models(answer: dict[str, Any]) -> list[ServedModel]:
    data = answer.get("data")
    if not isinstance(data, list):
        raise BadResponse(f"{MODELS}: no model list")
    out = []
    for entry in data:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]:
            meta = entry.get("meta")
            out.append(
                ServedModel(
                    entry["id"],
                    _int(entry.get("max_model_len")),
                    meta if isinstance(meta, dict) else {},
                )
            )
    return out


def pick_model(models: list[ServedModel], wanted: str | None) -> ServedModel:
    """`wanted` (engineModel) when served, else the first; BadResponse naming what is."""
    if not models:
        raise BadResponse(f"{MODELS}: the engine serves no model")
    if not wanted:
        return models[0]
    for model in models:
        if model.id == wanted:
            return model
    served = ", ".join(m.id for m in models[:10])
    raise BadResponse(f"engineModel {wanted!r} is not served (the engine serves: {served})")


@dataclass(frozen=True)
class Counter:
    """How prompt text is counted in the engine's tokens: `style` names the endpoint."""

    style: str  # "llama-server" | "vllm" | "estimate"
    count: Callable[[str], int]


def _llama_count(client: HttpClient, text: str) -> int:
    body = {"content": text, "add_special": False, "parse_special": False}
    tokens = client.post_json(TOKENIZE, body).get("tokens")
    if not isinstance(tokens, list):
        raise BadResponse(f"{TOKENIZE}: no token list")
    return len(tokens)


def _vllm_count(client: HttpClient, model: str, text: str) -> int:
    body = {"model": model, "prompt": text, "add_special_tokens": False}
    answer = client.post_json(TOKENIZE, body)
    count = _int(answer.get("count"))
    if count is None:
        tokens = answer.get("tokens")
        if not isinstance(tokens, list):
            raise BadResponse(f"{TOKENIZE}: no token count")
        count = len(tokens)
    return count


def find_counter(client: HttpClient, model: str) -> Counter:
    """The engine's tokenizer when it has one (llama-server's `/tokenize {content}`, vLLM's
    `/tokenize {model, prompt}`), else the CHARS_PER_TOKEN estimate. A refused key or an
    engine gone is an error, not a missing tokenizer."""
    candidates: tuple[tuple[str, Callable[[str], int]], ...] = (
        ("llama-server", lambda text: _llama_count(client, text)),
        ("vllm", lambda text: _vllm_count(client, model, text)),
    )
    for style, count in candidates:
        try:
            if count(PROBE_TEXT) > 0:  # llama-server answers [] to a body it cannot read
                return Counter(style, count)
        except (AuthRefused, Unreachable):
            raise
        except EngineError:
            continue  # 404, 400 (another server's body), garbage
    return Counter("estimate", lambda text: math.ceil(len(text) / CHARS_PER_TOKEN))


def context_size(client: HttpClient, model: ServedModel, counter: Counter) -> int:
    """Tokens one prompt + answer may use: vLLM's max_model_len, llama-server's slot
    context (/props), else DEFAULT_CTX."""
    if model.max_model_len:
        return model.max_model_len
    if counter.style == "llama-server":
        try:
            settings = client.get_json("/props").get("default_generation_settings")
        except (AuthRefused, Unreachable):
            raise
        except EngineError:
            settings = None
        n_ctx = _int(settings.get("n_ctx")) if isinstance(settings, dict) else None
        if n_ctx:
            return n_ctx
    return DEFAULT_CTX


def sampling(params: GenerationParams, seed: int = 0) -> dict[str, Any]:
    """Greedy at temperature 0, else the in-process sampler's top-p 0.95 and temperature."""
    if params.temperature <= 0:
        return {"temperature": 0.0, "seed": seed}
    return {"temperature": params.temperature, "top_p": 0.95, "seed": seed}


def completion_body(
    model: str, prompt: str, params: GenerationParams, *, stream: bool = True
) -> dict[str, Any]:
    """POST /v1/completions. `max_tokens` bounds the answer server-side whatever happens to
    the connection; no `stop`: our stop rules run on the streamed text."""
    body: dict[str, Any] = {
        "model": model,
        "prompt": prompt,
        "max_tokens": params.max_tokens,
        "stream": stream,
        **sampling(params),
    }
    if stream:
        body["stream_options"] = {"include_usage": True}  # a last chunk with the token counts
    return body


def prefill_body(model: str, prompt: str) -> dict[str, Any]:
    """Evaluate `prompt` into the engine's prefix cache; one token is the least the API
    lets us ask for."""
    return {"model": model, "prompt": prompt, "max_tokens": 1, "stream": False, "temperature": 0.0}


@dataclass(frozen=True)
class Usage:
    """The `usage` object of a final chunk (None fields when absent)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None  # prompt_tokens_details.cached_tokens

    @staticmethod
    def of(event: dict[str, Any]) -> Usage | None:
        raw = event.get("usage")
        if not isinstance(raw, dict):
            return None
        details = raw.get("prompt_tokens_details")
        cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else None
        return Usage(_int(raw.get("prompt_tokens")), _int(raw.get("completion_tokens")), cached)


@dataclass(frozen=True)
class Chunk:
    """One streamed event: the next piece of text, and why the answer ended, if it did."""

    text: str
    finish_reason: str | None
    usage: Usage | None


def read_chunk(event: dict[str, Any]) -> Chunk:
    """A `text_completion` chunk; BadResponse when it is none (a usage-only chunk has no
    choices)."""
    choices = event.get("choices")
    if not isinstance(choices, list):
        raise BadResponse(f"{COMPLETIONS}: a chunk without choices")
    text, finish = "", None
    if choices:
        choice = choices[0]
        if not isinstance(choice, dict):
            raise BadResponse(f"{COMPLETIONS}: unexpected choice entry")
        piece = choice.get("text")
        text = piece if isinstance(piece, str) else ""
        reason = choice.get("finish_reason")
        finish = reason if isinstance(reason, str) and reason else None
    return Chunk(text, finish, Usage.of(event))


def stop_reason(finish_reason: str) -> StopReason:
    """`stop`: the model ended its answer (we send no stop strings); `length`: max_tokens."""
    return StopReason.EOG if finish_reason == "stop" else StopReason.MAX_TOKENS
