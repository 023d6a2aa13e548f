"""One GGUF model loaded in-process through llama-cpp-python's low-level bindings.

We drive `llama_decode` and a C sampler chain directly: the high-level `Llama` class samples in
Python over the full logits row each step (2-3x slower per token on small models) and its FIM
path is broken in 0.3.36. Not thread-safe: only the engine worker touches a LoadedModel.
This module holds the resources (model, context, batch, vocab, caches); the decode loop over
them is generate.py, whose `LocalModel` is what the pipeline runs.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import llama_cpp
from llama_cpp import _internals

from smallcode_lsp.engine.cpu import choose_repack, read_cpu
from smallcode_lsp.engine.info import FimTokens, LoadOptions, ModelInfo, ModelLoadError
from smallcode_lsp.engine.local.abort import AbortSwitch, abort_expected
from smallcode_lsp.engine.local.gguf_header import GGUFHeaderError, diagnose, read_scalars
from smallcode_lsp.engine.local.kv_cache import KVCache
from smallcode_lsp.engine.local.moe import cpu_expert_overrides
from smallcode_lsp.engine.local.parking import PARK_MIN_TOKENS, RESTORE_MIN_GAIN, ParkingLot
from smallcode_lsp.engine.speed import SpeedMeter
from smallcode_lsp.engine.tokens import BlockTokenizer

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
CACHE_SEQUENCES = (0, 1)  # llama.cpp sequence ids: one KVCache each
WARM_UP_PROMPT = 128  # tokens decoded at load to measure prompt throughput


def default_threads() -> int:
    """Threads for llama.cpp: the performance cores on Apple silicon, else physical-ish cores."""
    return choose_threads(os.cpu_count() or 2, apple_performance_cores())


def choose_threads(cpu_count: int, performance_cores: int | None) -> int:
    """Apple silicon: its performance cores (a thread on an efficiency core makes every
    graph barrier wait for the slowest core). Elsewhere: decode is memory-bound and SMT
    siblings rarely help, so half the logical CPUs above 4, at most 8."""
    if performance_cores:
        return max(1, min(16, performance_cores))
    return max(1, min(8, cpu_count if cpu_count <= 4 else cpu_count // 2))


def apple_performance_cores() -> int | None:
    """hw.perflevel0.physicalcpu (macOS 12+ on Apple silicon); None elsewhere."""
    if sys.platform != "darwin":
        return None
    value = ctypes.c_int(0)
    size = ctypes.c_size_t(ctypes.sizeof(value))
    try:
        libc = ctypes.CDLL(None)
        status = libc.sysctlbyname(
            b"hw.perflevel0.physicalcpu", ctypes.byref(value), ctypes.byref(size), None, 0
        )
    except (OSError, AttributeError):
        return None
    return value.value if status == 0 and value.value > 0 else None


def check_gguf_file(path: str) -> None:
    """Raise ModelLoadError with a clear reason unless `path` looks like a GGUF file."""
    p = Path(path)
    if not p.exists():
        raise ModelLoadError(f"model file not found: {path}")
    if not p.is_file():
        raise ModelLoadError(f"model path is not a file: {path}")
    with p.open("rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise ModelLoadError(f"not a GGUF file (bad magic {magic!r}): {path}")


def _token_or_none(token: int) -> int | None:
    return None if token is None or token < 0 else int(token)


class LoadedModel:
    """A llama.cpp model + context, its KV cache, speed meter and abort switch."""

    def __init__(
        self,
        path: str,
        options: LoadOptions,
        *,
        extra_bufts: bool | None = None,
        warm_up: bool = True,
    ) -> None:
        """`extra_bufts`: let llama.cpp repack the weights into its CPU-specific buffer types
        (None: as `cpu_repack` chooses for this CPU, cpu.py; loader.py adds a trial load)."""
        if extra_bufts is None:
            extra_bufts = choose_repack(options.cpu_repack, read_cpu()).on
        check_gguf_file(path)
        llama_cpp.llama_log_set(_log_errors_only, ctypes.c_void_p(0))
        self.path = path
        self.options = options
        self.extra_bufts = extra_bufts
        model_params = llama_cpp.llama_model_default_params()
        model_params.n_gpu_layers = options.n_gpu_layers if options.n_gpu_layers >= 0 else 0x7FFF
        model_params.use_mmap = True
        model_params.use_extra_bufts = extra_bufts
        self._kv_overrides = None
        arch = _read_arch(path)
        if options.experts_used > 0:
            self._kv_overrides = _int_override(f"{arch}.expert_used_count", options.experts_used)
            model_params.kv_overrides = self._kv_overrides
        self._buft_overrides = None
        if options.cpu_moe:
            self._buft_overrides = cpu_expert_overrides(options.cpu_moe)
            model_params.tensor_buft_overrides = ctypes.addressof(self._buft_overrides)
        _log_state.buffers = []  # llama.cpp logs the weight buffers it makes: which types
        try:
            # verbose=True: the wrapper's quiet mode redirects fds 1/2, which would swallow the
            # LSP messages another thread writes to stdout meanwhile.
            self.model = _internals.LlamaModel(path_model=path, params=model_params, verbose=True)
        except ValueError as exc:
            reason = diagnose(path) or "see the log for llama.cpp's reason"
            raise ModelLoadError(f"llama.cpp could not load {path}: {reason}") from exc
        finally:
            self.weight_buffers: tuple[tuple[str, float], ...] = tuple(_log_state.buffers)
            _log_state.buffers = None
        n_threads = options.n_threads or default_threads()
        ctx_params = llama_cpp.llama_context_default_params()
        ctx_params.n_ctx = options.n_ctx
        ctx_params.n_batch = options.n_batch
        ctx_params.n_ubatch = options.n_batch
        ctx_params.n_threads = n_threads
        ctx_params.n_threads_batch = n_threads
        ctx_params.no_perf = True
        # Two prompts stay cached side by side (kv_cache.py): the one answering the user and
        # a larger one grown in the background; one buffer of n_ctx cells holds both.
        ctx_params.n_seq_max = len(CACHE_SEQUENCES)
        ctx_params.kv_unified = True
        # Full-size sliding-window cache (Gemma 3 and others): with the default small SWA cache,
        # cutting the cached sequence back to a shared prefix can need KV entries already evicted.
        ctx_params.swa_full = True
        try:
            self.context = _internals.LlamaContext(
                model=self.model, params=ctx_params, verbose=True
            )
        except ValueError as exc:
            self.model.close()
            raise ModelLoadError(
                f"llama.cpp could not create a context of {options.n_ctx} tokens for {path}"
                " (too little memory? lower nCtx)"
            ) from exc
        self.abort = AbortSwitch(self.context.ctx)
        self.n_threads = n_threads
        self.n_ctx = self.context.n_ctx()
        self.n_batch = options.n_batch
        self.batch = _internals.LlamaBatch(n_tokens=self.n_batch, embd=0, n_seq_max=1, verbose=True)
        self.vocab = self.model.vocab
        self.fim = FimTokens(
            pre=_token_or_none(llama_cpp.llama_vocab_fim_pre(self.vocab)),
            suf=_token_or_none(llama_cpp.llama_vocab_fim_suf(self.vocab)),
            mid=_token_or_none(llama_cpp.llama_vocab_fim_mid(self.vocab)),
            repo=_token_or_none(llama_cpp.llama_vocab_fim_rep(self.vocab)),
            file_sep=_token_or_none(llama_cpp.llama_vocab_fim_sep(self.vocab)),
        )
        self.bos = _token_or_none(llama_cpp.llama_vocab_bos(self.vocab))
        self.add_bos = bool(llama_cpp.llama_vocab_get_add_bos(self.vocab))
        self.metadata = self.model.metadata()
        self.info = self._make_info(arch)
        self.caches = tuple(KVCache(self.context.memory, seq) for seq in CACHE_SEQUENCES)
        self.kv = self.caches[0]  # where single-prompt callers (warm-up, tests) work
        self.parking = ParkingLot(self.context.ctx, options.warm_cache_mb << 20)
        self._uses = 0
        self.speed = SpeedMeter()
        self.llama_ms = 0.0  # time spent inside llama_decode and the sampler, all jobs
        self.prompt_tokens_evaluated = 0  # prompt tokens decoded, all jobs (cancelled too)
        self.blocks = BlockTokenizer(self.tokenize)  # prompts: cached line blocks
        self._piece_buf = ctypes.create_string_buffer(256)
        if warm_up:
            self.warm_up()

    def warm_up(self) -> None:
        """Decode one token, then a prompt-sized batch, and forget them: pages the mmapped
        weights in, builds both graphs and measures prompt throughput now, not on the user's
        first keystroke (prompts are sized from it)."""
        token = self.bos if self.bos is not None else 0
        began = time.perf_counter()
        self.batch.set_batch([token], n_past=0, logits_all=False)
        status = llama_cpp.llama_decode(self.context.ctx, self.batch.batch)
        took_ms = (time.perf_counter() - began) * 1000
        sample = min(WARM_UP_PROMPT, self.n_batch, self.n_ctx - 1)
        began = time.perf_counter()
        self.batch.set_batch([token] * sample, n_past=1, logits_all=False)
        if llama_cpp.llama_decode(self.context.ctx, self.batch.batch) == 0:
            self.speed.prefill_tokens_per_s = sample / (time.perf_counter() - began)
        self.kv.clear()
        log.info(
            "warm-up decode: %.0f ms (status %d); prompt %.0f tokens/s",
            took_ms,
            status,
            self.speed.prefill_tokens_per_s,
        )

    # -- the KV caches -------------------------------------------------------------------------

    def pick_cache(self, tokens: Sequence[int]) -> KVCache:
        """The cache to evaluate `tokens` in: the one holding most of it, else the one used
        least recently (its prompt is the one worth less)."""
        return self.caches[self._pick([cache.shared_prefix(tokens) for cache in self.caches])]

    def _pick(self, shared: list[int]) -> int:
        """pick_cache's rule, given each cache's shared prefix."""
        return max(range(len(self.caches)), key=lambda i: (shared[i], -self.caches[i].last_used))

    def cache_for(self, tokens: Sequence[int]) -> tuple[KVCache, int]:
        """The cache a job evaluates `tokens` in, and how many of them were restored into it:
        a prompt it is about to overwrite is parked first, and a parked prompt that holds
        more of `tokens` than any live cache is brought back (parking.py)."""
        shared = [cache.shared_prefix(tokens) for cache in self.caches]
        chosen = self._pick(shared)
        kv = self.caches[chosen]
        parked, kept = self.parking.best(tokens)
        restore = parked is not None and kept >= max(shared) + RESTORE_MIN_GAIN
        if restore or len(kv) - shared[chosen] >= PARK_MIN_TOKENS:
            self.parking.park(kv)  # most of it is about to go
        if restore and parked is not None:
            self.make_room(kv, len(parked.tokens) + RESTORE_MIN_GAIN)
            if self.parking.restore(parked, kv):
                return kv, kept
        return kv, 0

    def touch(self, cache: KVCache) -> None:
        """`cache` is being used now (the least recently used one is evicted first)."""
        self._uses += 1
        cache.last_used = self._uses

    def shared_prefix(self, tokens: Sequence[int]) -> int:
        """The most leading `tokens` any cache holds, parked ones included (a job brings
        those back in milliseconds: cache_for)."""
        live = max(cache.shared_prefix(tokens) for cache in self.caches)
        return max(live, self.parking.best(tokens)[1])

    def make_room(self, cache: KVCache, total: int) -> None:
        """Let `cache` grow to `total` tokens: the other caches give back cells (from their
        ends) when all would not fit in the context together."""
        for other in self.caches:
            if other is cache:
                continue
            spare = self.n_ctx - total - sum(len(c) for c in self.caches if c not in (cache, other))
            if spare < len(other):
                if len(other) - max(0, spare) >= PARK_MIN_TOKENS:
                    self.parking.park(other)
                other.truncate(max(0, spare))

    def clear_cache(self) -> None:
        """Forget every cached prompt, parked ones too."""
        for cache in self.caches:
            cache.clear()
        self.parking.clear()

    def _make_info(self, arch: str) -> ModelInfo:
        meta = self.metadata

        def meta_int(key: str) -> int:
            try:
                return int(meta.get(f"{arch}.{key}", "0"))
            except ValueError:
                return 0

        return ModelInfo(
            path=self.path,
            architecture=arch,
            name=meta.get("general.name", Path(self.path).stem),
            description=self.model.desc(),
            file_size=os.path.getsize(self.path),
            n_params=self.model.n_params(),
            n_ctx_train=self.model.n_ctx_train(),
            n_vocab=self.model.n_vocab(),
            has_fim=self.fim.available,
            expert_count=meta_int("expert_count"),
            expert_used_count=self.options.experts_used or meta_int("expert_used_count"),
        )

    # -- vocab ---------------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        """Tokens of plain text: no BOS, special-token text is not parsed (user code stays text)."""
        if not text:
            return []
        tokens: list[int] = self.model.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        return tokens

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def piece(self, token: int) -> bytes:
        """The bytes a generated token stands for (special tokens render as nothing)."""
        n = llama_cpp.llama_token_to_piece(self.vocab, token, self._piece_buf, 256, 0, False)
        if n < 0:  # buffer too small: very long token
            buf = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, buf, -n, 0, False)
            return buf.raw[:n]
        return self._piece_buf.raw[:n]

    def is_eog(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def close(self) -> None:
        self.batch.close()
        self.context.close()
        self.model.close()


_GGML_LOG_ERROR, _GGML_LOG_CONT = 4, 5  # ggml_log_level (llama-cpp-python's map predates them)
# The level a continuation line (_GGML_LOG_CONT) belongs to: per thread, since llama.cpp logs
# from whichever thread calls it (the engine worker, ggml's threads, a command's main thread).
_log_state = threading.local()


# "load_tensors:   CPU_REPACK model buffer size =   120.94 MiB": the weight buffer types in use.
_BUFFER_LINE = re.compile(rb"^\w+:\s+(\S+) model buffer size =\s+([0-9.]+) MiB")


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
def _log_errors_only(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    """llama.cpp's log: errors to stderr (never stdout: that is the LSP transport).

    Not the warning and errors an aborted decode logs (every cancel does that, abort.py).
    While a model loads on this thread, the weight buffer lines are collected.
    """
    if level != _GGML_LOG_CONT:
        _log_state.level = level
    buffers = getattr(_log_state, "buffers", None)
    if buffers is not None and (found := _BUFFER_LINE.match(text)):
        buffers.append((found[1].decode(), float(found[2])))
    if getattr(_log_state, "level", 0) == _GGML_LOG_ERROR and not abort_expected():
        sys.stderr.write(text.decode("utf-8", errors="replace"))
        sys.stderr.flush()


def _read_arch(path: str) -> str:
    """general.architecture, read from the GGUF header without loading tensors."""
    try:
        arch = read_scalars(path, {"general.architecture"}).get("general.architecture")
    except (GGUFHeaderError, OSError) as exc:
        raise ModelLoadError(f"corrupt GGUF header in {path}: {exc}") from exc
    if not isinstance(arch, str):
        raise ModelLoadError(f"GGUF file has no general.architecture: {path}")
    return arch


def _int_override(key: str, value: int) -> ctypes.Array[Any]:
    """A NULL-terminated llama_model_kv_override array holding one integer override."""
    overrides = (llama_cpp.llama_model_kv_override * 2)()
    overrides[0].key = key.encode("utf-8")
    overrides[0].tag = llama_cpp.LLAMA_KV_OVERRIDE_TYPE_INT
    overrides[0].value.val_i64 = value  # type: ignore[union-attr]
    overrides[1].key = b"\0"
    return overrides
