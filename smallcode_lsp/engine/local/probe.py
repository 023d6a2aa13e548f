"""A trial load in a child process, so that a native crash in llama.cpp kills the child, not
the language server.

The engine runs in the server's own process (that is the point of the product), and a
segfault in a llama.cpp kernel takes the process with it, without a word to the editor. So a
(model file, llama.cpp build, CPU, load options) combination that has not run here before is
first loaded in `python -m smallcode_lsp.engine.local.probe`: load, the warm-up decodes (one token,
a prompt-sized batch), a few generated tokens. The verdict is cached in
`<cache>/probes.json`; loader.py falls back to safe settings on a crash and says so.

`SMALLCODE_PROBE_FAULT` (tests): `repack` makes the child die of a real SIGSEGV when it loaded
with repacked weight buffers, `always` whatever it loaded with; `kill` sends it SIGKILL (with
repacked buffers), a death from outside that is told but not remembered.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from smallcode_lsp.default_model import machine_cache_dir
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import LoadOptions
from smallcode_lsp.engine.local.generate import LocalModel
from smallcode_lsp.types import GenerationParams

log = logging.getLogger(__name__)

FAULT_ENV = "SMALLCODE_PROBE_FAULT"
CACHE_FILE = "probes.json"
PROBE_PROMPT = "def add(a, b):\n    return"
PROBE_TOKENS = 4
BASE_TIMEOUT_S = 120.0
LOAD_BYTES_PER_S = 50e6  # a slow disk's reading speed: big models get longer to load
# Deaths that come from outside the process (the OOM killer, a user's Ctrl+C): told, not kept.
OUTSIDE_SIGNALS = frozenset({"SIGKILL", "SIGTERM", "SIGINT", "SIGHUP"})


@dataclass(frozen=True)
class Verdict:
    ok: bool
    detail: str  # "ran: ..." or "killed by SIGSEGV ..."
    when: float  # time.time() of the trial
    lasting: bool = True  # worth remembering (not a kill from outside: OOM killer, Ctrl+C)


@dataclass(frozen=True)
class TrialSpec:
    """What a trial loads: the model and every load option that changes llama.cpp's code path."""

    path: str
    n_ctx: int
    n_threads: int
    n_gpu_layers: int
    n_batch: int
    experts_used: int
    cpu_moe: int
    extra_bufts: bool

    def key(self, build: str, cpu_fingerprint: str) -> str:
        """The cache key: this spec on this file (size, mtime), llama.cpp build and CPU."""
        stat = os.stat(self.path)
        parts = {
            **asdict(self),
            "path": os.path.realpath(self.path),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "build": build,
            "cpu": cpu_fingerprint,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


class VerdictCache:
    """probes.json: trial verdicts by key. Unreadable or unwritable: no cache, never an error
    (a read-only home directory costs a trial per load, not the completions)."""

    def __init__(self, file: Path | None = None) -> None:
        self.file = file or machine_cache_dir() / CACHE_FILE

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> Verdict | None:
        entry = self._read().get(key)
        if not isinstance(entry, dict):
            return None
        try:
            return Verdict(bool(entry["ok"]), str(entry["detail"]), float(entry["when"]))  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, key: str, verdict: Verdict) -> None:
        data = self._read()
        data[key] = asdict(verdict)
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".probes.")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
            os.replace(tmp, self.file)  # atomic: a concurrent reader sees old or new, whole
        except OSError as exc:
            log.warning("cannot record the trial verdict in %s: %s", self.file, exc)


def run_trial(spec: TrialSpec) -> Verdict | None:
    """Load and decode `spec` in a child process. None: inconclusive (the child failed with a
    Python error, which the in-process load reports itself, or ran past its time limit)."""
    timeout = BASE_TIMEOUT_S + os.path.getsize(spec.path) / LOAD_BYTES_PER_S
    command = [sys.executable, "-m", "smallcode_lsp.engine.local.probe", json.dumps(asdict(spec))]
    began = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        log.warning("trial load of %s did not finish in %.0f s: not judged", spec.path, timeout)
        return None
    took = time.perf_counter() - began
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        tail = _last_line(done.stderr)
        detail = f"killed by {name} after {took:.1f} s" + (f" ({tail})" if tail else "")
        return Verdict(False, detail, time.time(), lasting=name not in OUTSIDE_SIGNALS)
    if done.returncode != 0:
        log.info(
            "trial load failed with a Python error (%s): the load reports it",
            _last_line(done.stderr),
        )
        return None
    lines = done.stdout.decode("utf-8", errors="replace").strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        return None
    detail = (
        f"ran in a child process in {took:.1f} s: load, warm-up, {result['generated']} tokens"
        f" ({result['prefill_tokens_per_s']:.0f} prompt tokens/s)"
    )
    return Verdict(True, detail, time.time())


def _last_line(data: bytes) -> str:
    lines = [line for line in data.decode("utf-8", errors="replace").splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else ""


def _segfault() -> None:
    """A real SIGSEGV (a read of address 0), the way a crashing kernel dies."""
    import ctypes

    ctypes.string_at(0)


def main(argv: list[str]) -> int:
    """The child: load `argv[0]` (a TrialSpec as JSON), decode, print one JSON line."""
    spec = TrialSpec(**json.loads(argv[0]))
    options = LoadOptions(
        n_ctx=spec.n_ctx,
        n_threads=spec.n_threads,
        n_gpu_layers=spec.n_gpu_layers,
        n_batch=spec.n_batch,
        experts_used=spec.experts_used,
        cpu_moe=spec.cpu_moe,
    )
    fault = os.environ.get(FAULT_ENV, "")
    model = LocalModel(spec.path, options, extra_bufts=spec.extra_bufts, warm_up=False)
    if fault == "always" or (fault == "repack" and spec.extra_bufts):
        _segfault()
    if fault == "kill" and spec.extra_bufts:
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
    model.warm_up()
    params = GenerationParams(max_tokens=PROBE_TOKENS, speculative=False)
    _, stats = model.generate(model.tokenize(PROBE_PROMPT), params, (), CancelToken())
    print(
        json.dumps(
            {
                "generated": stats.generated_tokens,
                "prefill_tokens_per_s": model.speed.prefill_tokens_per_s,
            }
        )
    )
    model.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
