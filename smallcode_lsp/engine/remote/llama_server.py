"""llama-server's HTTP API as the remote engine speaks it: what the model is (`/props`,
`/v1/models`, `/tokenize`), the `/completion` request for our own token-list prompt, and what
its answer says (stop type, timings, cached tokens).

Pure functions over JSON, plus `read_facts` (a few calls at connect). Field names are those of
the llama.cpp that the pinned llama-cpp-python vendors (tools/server/server-task.cpp).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from smallcode_lsp.engine.deadline import LINE_AFTER_OVERRUN_MS
from smallcode_lsp.engine.info import NO_FIM, FimTokens, ModelInfo
from smallcode_lsp.engine.remote.http import BadResponse, HttpClient
from smallcode_lsp.types import GenerationParams, StopReason

# The final event keeps only these (partial events are small already).
RESPONSE_FIELDS = (
    "content",
    "tokens",
    "stop",
    "stop_type",
    "tokens_cached",
    "tokens_predicted",
    "tokens_evaluated",
    "timings",
)
# FIM special tokens by family, as their vocab spells them (PSM order: prefix, suffix, middle;
# then the repo-level pair). llama.cpp's own FIM ids come from the GGUF, which a client cannot
# read: a family is used when each of its strings is one token of the served vocab.
FIM_FAMILIES: tuple[tuple[tuple[str, str, str], tuple[str, str] | None], ...] = (
    (("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"), ("<|repo_name|>", "<|file_sep|>")),
    (("<fim_prefix>", "<fim_suffix>", "<fim_middle>"), ("<repo_name>", "<file_sep>")),  # StarCoder
    (
        (
            "<\uff5cfim\u2581begin\uff5c>",
            "<\uff5cfim\u2581hole\uff5c>",
            "<\uff5cfim\u2581end\uff5c>",
        ),
        None,
    ),  # DeepSeek-Coder: fullwidth bars
    (("▁<PRE>", "▁<SUF>", "▁<MID>"), None),  # CodeLlama
)


@dataclass(frozen=True)
class ServerFacts:
    """What one llama-server serves, read at connect."""

    info: ModelInfo
    n_ctx: int  # per slot
    total_slots: int
    fim: FimTokens
    bos: int | None
    add_bos: bool


def _field(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise BadResponse(f"{where}: no {kind.__name__} field {key!r}")
    return value


def token_list(value: Any, where: str) -> list[int]:
    """A list of token ids, or BadResponse."""
    if not isinstance(value, list) or not all(
        isinstance(t, int) and not isinstance(t, bool) for t in value
    ):
        raise BadResponse(f"{where}: expected a list of token ids")
    return value


def tokenize_body(text: str) -> dict[str, Any]:
    """User text stays text: special-token spellings in code are not parsed."""
    return {"content": text, "add_special": False, "parse_special": False}


def _pieces(client: HttpClient, content: str, add_special: bool) -> list[tuple[int, str]]:
    body = {"content": content, "add_special": add_special, "with_pieces": True}
    answer = client.post_json("/tokenize", body)
    tokens = answer.get("tokens")
    if not isinstance(tokens, list):
        raise BadResponse("/tokenize: no token list")
    out = []
    for item in tokens:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            raise BadResponse("/tokenize: unexpected token entry")
        piece = item.get("piece")
        out.append((item["id"], piece if isinstance(piece, str) else ""))
    return out


def _single_tokens(client: HttpClient, texts: Sequence[str]) -> list[int] | None:
    """The ids of `texts` when each is exactly one token of the vocab."""
    pieces = _pieces(client, "".join(texts), add_special=False)
    if [piece for _, piece in pieces] != list(texts):
        return None
    return [token for token, _ in pieces]


def read_fim(client: HttpClient) -> FimTokens:
    for core, repo in FIM_FAMILIES:
        ids = _single_tokens(client, core)
        if ids is None:
            continue
        repo_ids = _single_tokens(client, repo) if repo else None
        return FimTokens(
            pre=ids[0],
            suf=ids[1],
            mid=ids[2],
            repo=repo_ids[0] if repo_ids else None,
            file_sep=repo_ids[1] if repo_ids else None,
        )
    return NO_FIM


def read_facts(client: HttpClient) -> ServerFacts:
    """/health, /props, /v1/models and a few /tokenize calls: what the server serves."""
    client.get_json("/health")  # 503 while the model loads: Unreachable
    props = client.get_json("/props")
    settings = _field(props, "default_generation_settings", dict, "/props")
    n_ctx = _field(settings, "n_ctx", int, "/props default_generation_settings")
    slots = _field(props, "total_slots", int, "/props")
    path = str(props.get("model_path") or props.get("model_alias") or "")
    meta: dict[str, Any] = {}
    models = client.get_json("/v1/models").get("data")
    if isinstance(models, list) and models and isinstance(models[0], dict):
        found = models[0].get("meta")
        meta = found if isinstance(found, dict) else {}
    bos_text = props.get("bos_token")
    specials = _pieces(client, "", add_special=True)
    bos = next((t for t, piece in specials if bos_text and piece == bos_text), None)
    fim = read_fim(client)

    def meta_int(key: str) -> int:
        value = meta.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    info = ModelInfo(
        path=path,
        architecture="unknown (remote)",
        name=PurePath(path).stem if path else "remote model",
        description=f"{props.get('model_ftype') or 'GGUF'} served by llama-server at {client.url}",
        file_size=meta_int("size"),
        n_params=meta_int("n_params"),
        n_ctx_train=meta_int("n_ctx_train"),
        n_vocab=meta_int("n_vocab"),
        has_fim=fim.available,
        expert_count=0,
        expert_used_count=0,
    )
    return ServerFacts(info, n_ctx, max(1, slots), fim, bos, bos is not None)


def slot_for(key: str, total_slots: int) -> int:
    """A stable slot for one user and workspace: their prompts meet their own cache, and users
    spread over the slots instead of all colliding on slot 0."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % max(1, total_slots)


def sampling(params: GenerationParams, seed: int = 0) -> dict[str, Any]:
    """Greedy at temperature 0 (top-1, then the only token is drawn), else what the
    in-process sampler does: top-k 40, top-p 0.95, temperature."""
    if params.temperature <= 0:
        return {"samplers": ["top_k"], "top_k": 1, "seed": seed}
    return {
        "samplers": ["top_k", "top_p", "temperature"],
        "top_k": 40,
        "top_p": 0.95,
        "temperature": params.temperature,
        "seed": seed,
    }


def completion_body(
    prompt: Sequence[int],
    params: GenerationParams,
    slot: int,
    now: float,
    timeout_ms: int,
    *,
    stream: bool = True,
) -> dict[str, Any]:
    """POST /completion for our token-list prompt. Bounded server-side whatever happens to
    the connection (llama-server has not always noticed a client gone): `n_predict`, and
    `t_max_predict_ms` (from the first token, at the next newline) from the deadline."""
    return {
        "prompt": list(prompt),
        **_bounds(params, slot, now, timeout_ms, stream),
    }


def _bounds(
    params: GenerationParams, slot: int, now: float, timeout_ms: int, stream: bool
) -> dict[str, Any]:
    """What every generation request carries besides its prompt: the slot, the cache, the
    stream, and the server-side bounds (`n_predict`; `t_max_predict_ms` from the deadline)."""
    if params.deadline is not None:
        left_ms = (params.deadline - now) * 1000
        limit_ms = int(max(left_ms, LINE_AFTER_OVERRUN_MS))  # the overrun case's line
    else:
        limit_ms = timeout_ms
    return {
        "n_predict": params.max_tokens,
        "stream": stream,
        "cache_prompt": True,
        "id_slot": slot,
        "t_max_predict_ms": max(1, limit_ms),
        "response_fields": list(RESPONSE_FIELDS),
        **sampling(params),
    }


def split_fim(prompt: Sequence[int], fim: FimTokens) -> tuple[list[int], list[int]] | None:
    """The prefix and suffix tokens of our FIM prompt (`... [PRE] prefix [SUF] suffix [MID]`,
    prompt.py), or None when `prompt` is not one (FIM off, a prefix-only prompt)."""
    if fim.pre is None or fim.suf is None or fim.mid is None or not prompt:
        return None
    if prompt[-1] != fim.mid or fim.pre not in prompt:
        return None
    pre = list(prompt).index(fim.pre)
    try:
        suf = list(prompt).index(fim.suf, pre + 1)
    except ValueError:
        return None
    return list(prompt[pre + 1 : suf]), list(prompt[suf + 1 : -1])


def infill_body(
    prompt: Sequence[int],
    fim: FimTokens,
    params: GenerationParams,
    slot: int,
    now: float,
    timeout_ms: int,
    *,
    stream: bool = True,
) -> dict[str, Any] | None:
    """POST /infill for our FIM prompt (None: not a FIM prompt, use /completion): the server
    assembles `[REPO]myproject ([FILE_SEP]file text)* [FILE_SEP]filename [PRE] prefix [SUF]
    suffix [MID]` with the GGUF's own FIM tokens (format_prompt_infill in server-common.cpp).

    Prefix and suffix go as our token ids (the server takes ids as well as text), so they are
    tokenized exactly as we counted them. `input_extra` is the context snippets, stable first
    and byte-identical whenever the snippets are, for repo-level FIM vocabularies; for the
    others our prompt already holds them as comments inside the prefix. No `prompt` field:
    the server appends it to the prefix before [SUF], which the prefix already ends with.
    The bounds are those of /completion."""
    parts = split_fim(prompt, fim)
    if parts is None:
        return None
    repo_level = fim.repo is not None and fim.file_sep is not None
    extra = [
        {"filename": path, "text": text.rstrip() + "\n"} for path, text in params.context_files
    ]
    return {
        "input_prefix": parts[0],
        "input_suffix": parts[1],
        "input_extra": extra if repo_level else [],
        **_bounds(params, slot, now, timeout_ms, stream),
    }


def prefill_body(prompt: Sequence[int], slot: int) -> dict[str, Any]:
    """Evaluate `prompt` into the slot's cache, generate nothing."""
    return {
        "prompt": list(prompt),
        "n_predict": 0,
        "stream": False,
        "cache_prompt": True,
        "id_slot": slot,
        "response_fields": ["tokens_cached", "timings"],
    }


# Code-like text of ~300 tokens in code models' vocabularies: what the warm-up prefill times.
WARMUP_TEXT = "".join(
    f"def step_{i}(value):\n    return value * {i} + {i * 7}\n\n" for i in range(20)
)


def warmup_body(slot: int) -> dict[str, Any]:
    """Evaluate WARMUP_TEXT afresh on our slot (`cache_prompt: false`: a measurement, not a
    cache hit), generating nothing: its `timings` say how fast the engine evaluates prompts."""
    return {
        "prompt": WARMUP_TEXT,
        "n_predict": 0,
        "stream": False,
        "cache_prompt": False,
        "id_slot": slot,
        "response_fields": ["timings"],
    }


def stop_reason(final: dict[str, Any], max_tokens: int) -> StopReason:
    """The final event's `stop_type` as ours (`limit` before max_tokens: t_max_predict_ms)."""
    kind = final.get("stop_type")
    if kind == "eos":
        return StopReason.EOG
    if kind == "word":
        return StopReason.STOP_RULE
    predicted = final.get("tokens_predicted")
    if isinstance(predicted, int) and predicted < max_tokens:
        return StopReason.DEADLINE
    return StopReason.MAX_TOKENS


@dataclass(frozen=True)
class Timings:
    """The `timings` object of a final answer (zeros when absent or malformed)."""

    cache_n: int = 0
    prompt_n: int = 0
    prompt_ms: float = 0.0
    predicted_n: int = 0
    predicted_ms: float = 0.0

    @staticmethod
    def of(final: dict[str, Any]) -> Timings:
        raw = final.get("timings")
        if not isinstance(raw, dict):
            return Timings()

        def num(key: str) -> float:
            value = raw.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return 0.0
            return max(0.0, float(value))

        return Timings(
            cache_n=int(num("cache_n")),
            prompt_n=int(num("prompt_n")),
            prompt_ms=num("prompt_ms"),
            predicted_n=int(num("predicted_n")),
            predicted_ms=num("predicted_ms"),
        )
