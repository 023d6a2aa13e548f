"""The `complete` and `model` commands: the server's pipeline without an editor."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from smallcode_lsp.completion.plan import make_plan
from smallcode_lsp.completion.run import run_alternatives, run_completion, warm_prompt
from smallcode_lsp.completion.sources import ContextSources
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import ModelLoadError
from smallcode_lsp.engine.local.generate import LocalModel
from smallcode_lsp.engine.local.loader import load_local
from smallcode_lsp.engine.remote.engine import client_key, connect
from smallcode_lsp.engine.remote.http import EngineError
from smallcode_lsp.engine.remote.openai_api import CHARS_PER_TOKEN
from smallcode_lsp.engine.remote.remote_model import RemoteModel
from smallcode_lsp.evaluate import EvalRun, FimTask, timed_request
from smallcode_lsp.languages import language_id_for_path
from smallcode_lsp.options import Settings
from smallcode_lsp.safety.lint import lint
from smallcode_lsp.service import resolve_model_path
from smallcode_lsp.types import (
    Completion,
    CompletionRequest,
    DocumentSnapshot,
    StopReason,
    Trigger,
)
from smallcode_lsp.warmer import REST_S
from smallcode_lsp.workspace.index import WorkspaceIndex


def parse_location(location: str) -> tuple[str, int, int]:
    """FILE:LINE:COL (1-based; the file name may itself contain colons)."""
    path, sep1, rest = location.rpartition(":")
    path2, sep2, line = path.rpartition(":")
    if not (sep1 and sep2 and line.isdigit() and rest.isdigit()):
        raise ValueError(f"expected FILE:LINE:COL, got {location!r}")
    if int(line) < 1 or int(rest) < 1:
        raise ValueError("LINE and COL are 1-based")
    return path2, int(line), int(rest)


def offset_of(text: str, line: int, column: int) -> int:
    """Offset of 1-based LINE:COL (COL counts characters; past the line end means its end)."""
    lines = text.split("\n")
    if line > len(lines):
        raise ValueError(f"line {line} is past the end of the file ({len(lines)} lines)")
    start = sum(len(item) + 1 for item in lines[: line - 1])
    return start + min(column - 1, len(lines[line - 1].rstrip("\r")))


def _load(settings: Settings, command: str) -> LocalModel | None:
    """The model for `settings`, or None after telling the user why it cannot load."""
    try:
        return load_local(resolve_model_path(settings.model.path), settings.model.load_options())
    except ModelLoadError as exc:
        print(f"smallcode-lsp {command}: {exc}", file=sys.stderr)
        return None


def _connect(settings: Settings, command: str) -> RemoteModel | None:
    """The remote engine's model (`engineUrl`), or None after telling the user why not."""
    remote = settings.engine.remote_options(client_key([os.getcwd()]))
    assert remote is not None
    try:
        return connect(remote)
    except EngineError as exc:
        print(f"smallcode-lsp {command}: {exc}", file=sys.stderr)
        return None


def complete_command(location: str, settings: Settings, invoked: bool = False) -> int:
    try:
        path, line, column = parse_location(location)
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        offset = offset_of(text, line, column)
    except (OSError, ValueError) as exc:
        print(f"smallcode-lsp complete: {exc}", file=sys.stderr)
        return 2
    remote = settings.engine.engine_url
    model = _connect(settings, "complete") if remote else _load(settings, "complete")
    if model is None:
        return 1
    document = DocumentSnapshot(
        uri=Path(path).resolve().as_uri(),
        text=text,
        language_id=language_id_for_path(path),
        path=str(Path(path).resolve()),
    )
    trigger = Trigger.INVOKED if invoked else Trigger.AUTOMATIC
    request = CompletionRequest(document=document, offset=offset, trigger=trigger)
    plan = make_plan(settings)
    results = run_alternatives(model, request, plan, CancelToken(), ContextSources())
    model.close()
    for index, completion in enumerate(results):
        if len(results) > 1:
            print(f"--- suggestion {index + 1} ---")
        print(completion.text)
    stats = results[0].stats if results else None
    if stats is not None:
        print(
            f"[{stats.prompt_tokens} prompt tokens in {stats.prompt_ms:.0f} ms, "
            f"{stats.generated_tokens} generated in {stats.generate_ms:.0f} ms, "
            f"stop: {stats.stop_reason.value}]",
            file=sys.stderr,
        )
    return 0


TOKENIZER_TEXT = {
    "llama-server": "the engine's /tokenize (llama-server)",
    "vllm": "the engine's /tokenize (vLLM)",
    "estimate": f"estimated, {CHARS_PER_TOKEN:g} characters a token (no /tokenize)",
}


def model_command(settings: Settings, as_json: bool = False) -> int:
    remote = settings.engine.engine_url
    model = _connect(settings, "model") if remote else _load(settings, "model")
    if model is None:
        return 1
    info = model.info
    engine: dict[str, object] = {"kind": "local"}
    if isinstance(model, RemoteModel):
        engine = {"kind": "remote", "url": remote, **model.describe()}
    model.close()
    if as_json:
        print(json.dumps({**info.as_dict(), "engine": engine}, indent=2))
        return 0
    runtime = info.runtime
    experts = (
        f"yes: {info.expert_count} experts, {info.expert_used_count} active per token"
        if info.is_moe
        else "no (dense)"
    )
    rows = [
        ("model", info.path),
        ("name", info.name),
        ("architecture", info.architecture),
        ("description", info.description),
        ("file size", f"{info.file_size / 2**20:.1f} MiB"),
        ("parameters", f"{info.n_params / 1e6:.1f} M"),
        ("context length", f"{info.n_ctx_train} tokens (trained)"),
        ("vocabulary", f"{info.n_vocab} tokens"),
        ("fill-in-the-middle", "yes" if info.has_fim else "no (prefix-only prompts)"),
        ("mixture of experts", experts),
    ]
    if runtime is not None:
        rows += [
            ("cpu", runtime.cpu.summary()),
            ("llama.cpp build", " ".join(runtime.build_features) or "?"),
            ("weight buffers", runtime.buffers_text()),
            ("trial load", runtime.trial),
        ]
        if runtime.notice:
            rows.append(("notice", runtime.notice))
    if engine["kind"] == "remote" and engine["api"] == "openai":
        fim = engine["fimTemplate"]
        rows = [
            ("engine", f"OpenAI-compatible /v1/completions at {remote}"),
            ("model (served name)", info.path),
            ("context", f"{engine['context']} tokens"),
            ("FIM template", "none (prefix-only prompts)" if fim == "none" else str(fim)),
            ("token counts", TOKENIZER_TEXT.get(str(engine["tokenizer"]), "?")),
            *rows[1:],
        ]
        rows = [row for row in rows if row[0] not in ("fill-in-the-middle", "vocabulary")]
    elif engine["kind"] == "remote":
        rows = [
            ("engine", f"llama-server at {remote}"),
            ("model (remote path)", info.path),
            ("slots", f"{engine['slots']} of {engine['slotContext']} tokens each"),
            ("slot used", str(engine["ourSlot"])),
            *rows[1:],
        ]
        rows = [row for row in rows if row[0] not in ("architecture", "mixture of experts")]
    for key, value in rows:
        print(f"{key:>20}: {value}")
    return 0


def eval_command(
    root: str,
    settings: Settings,
    limit: int,
    seed: int,
    out: str | None,
    triggers: tuple[Trigger, ...] = (Trigger.AUTOMATIC, Trigger.INVOKED),
    cold: bool = True,
    curve: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
) -> int:
    """Fill-in-the-middle tasks from real code: the naive baseline, then context + shaping per
    trigger, one model. Cold: the KV cache is cleared before every task (a new spot each).
    `curve` (budgets, dwells; ms): quality against latency instead (evaluate.curve_runs)."""
    from smallcode_lsp.evaluate import (
        build_tasks,
        curve_runs,
        eval_runs,
        format_curve,
        format_summary,
        format_table,
        run_eval,
        versus,
    )

    if settings.engine.engine_url:
        print("smallcode-lsp eval: runs the in-process model only (for now)", file=sys.stderr)
        return 2
    tasks = build_tasks(root, limit, seed)
    if not tasks:
        print(f"smallcode-lsp eval: no tasks found under {root}", file=sys.stderr)
        return 2
    model = _load(settings, "eval")
    if model is None:
        return 1
    index = WorkspaceIndex([root], watch=False)
    index.start()
    index.ready.wait(120)
    budget_ms = settings.completion.latency_budget_ms
    if curve is not None:
        runs = curve_runs(*curve, budget_ms, model.fim.available)
        cold = True
    else:
        runs = eval_runs(triggers, cold, model.fim.available)
    results: dict[str, dict] = {}
    for run in runs:
        runner = _EvalRunner(model, settings, run, index, cold)
        result = run_eval(tasks, runner.complete, before_each=runner.prepare)
        automatic = run.trigger is Trigger.AUTOMATIC
        result.update(
            plan=runner.plan.name,
            trigger=run.trigger.value,
            cache="cold" if cold else "warm",
            latency_budget_ms=runner.budget_ms if automatic else 0,
            dwell_ms=run.dwell_ms,
            warm_answers=runner.warm_answers,
            warm_continued=runner.warm_continued,
            security_lint_fired=len(runner.fired),
        )
        results[run.name] = result
        print(f"  {run.name}: done", file=sys.stderr)
    index.stop()
    model.close()
    spots = "KV cache cleared before every task" if cold else "KV cache kept between tasks"
    deadline = f"Automatic deadline {budget_ms} ms" if budget_ms > 0 else "no Automatic deadline"
    print(f"{len(tasks)} tasks from {root}, model {model.info.name}; {spots}; {deadline}")
    print(format_table(results))
    if curve is not None:
        print(format_curve(runs, results))
    else:
        baseline = runs[0].name
        for name, result in results.items():
            if name != baseline:
                result["vs_baseline"] = versus(result, results[baseline])
        print(format_summary(results, baseline))
    for name, result in results.items():
        if result["dwell_ms"]:
            print(
                f"answered from the warm-up at rest: {result['warm_answers']} tasks, its answer "
                f"cut short and continued: {result['warm_continued']} ({name})"
            )
        print(f"security lint fired {result['security_lint_fired']} times ({name})")
    if out:
        Path(out).write_text(json.dumps(results, indent=2))
    return 0


# A warm-up's answer the dwell's end or its deadline cut: the request at the spot goes on.
_CUT = (StopReason.DEADLINE, StopReason.CANCELLED)


class _EvalRunner:
    """One run of `smallcode-lsp eval`: its plan, and per task what the server would do.

    `prepare` (untimed) clears the cache of a cold run; with a dwell, it then runs the warm-up
    the resting cursor starts in the server (warmer.py: after REST_S, completion.warm_prompt),
    stopped when the dwell ends. `complete` (timed) answers from the warm-up's answer when the
    model ended it (the server's type-ahead cache answers the first request there), else runs
    the request with the run's deadline, as the server would: an answer the dwell's end cut
    goes on from the cache (engine/local/lookup.py CachedAnswer).
    """

    def __init__(
        self, model: LocalModel, settings: Settings, run: EvalRun, index: WorkspaceIndex, cold: bool
    ) -> None:
        self.model, self.run, self.index, self.cold = model, run, index, cold
        self.budget_ms = settings.completion.latency_budget_ms
        if run.budget_ms is not None:
            self.budget_ms = run.budget_ms
        completion = replace(
            settings.completion,
            context=run.full,
            shaping=run.full,
            latency_budget_ms=self.budget_ms,
        )
        self.plan = make_plan(replace(settings, completion=completion))
        if not run.full and run.trigger is Trigger.INVOKED:
            self.plan = replace(self.plan, invoked_budget_ms=0)  # the full prompt, however long
        self.sources = ContextSources(index=index)
        self.warmed: list[Completion] = []
        self.warm_answers = 0  # answered from the warm-up alone
        self.warm_continued = 0  # the warm-up's answer was cut short: the request went on
        self.fired: list[str] = []

    def prepare(self, task: FimTask) -> None:
        # A fresh ring per task: recent chunks of an earlier task's file would hold this
        # task's answer (only that task's own hole was cut from its text).
        self.sources = ContextSources(index=self.index)
        self.warmed = []
        if self.cold:
            self.model.clear_cache()
        if self.run.dwell_ms > 0:
            self.warmed = self._rest(task.request(), self.run.dwell_ms / 1000)

    def complete(self, request: CompletionRequest) -> str:
        if self.warmed and self.warmed[0].stats.stop_reason not in _CUT:
            self.warm_answers += 1
            text = self.warmed[0].text
        else:
            self.warm_continued += bool(self.warmed)
            request = timed_request(request, self.run.trigger, self.budget_ms, time.perf_counter())
            text = run_completion(self.model, request, self.plan, CancelToken(), self.sources).text
        self.fired.extend(f.rule for f in lint(text, request.document.language_id))
        return text

    def _rest(self, request: CompletionRequest, dwell_s: float) -> list[Completion]:
        """The warm job of a cursor resting `dwell_s` at `request`'s spot (as the server's)."""
        resting = replace(request, trigger=Trigger.AUTOMATIC)  # as a cursor notification's
        cancel = CancelToken()
        answer: list[Completion] = []

        def warm() -> None:
            try:
                answer.extend(warm_prompt(self.model, resting, self.plan, cancel, self.sources))
            except Exception as exc:  # a failed warm-up leaves the request cold, as in the server
                print(f"smallcode-lsp eval: warm-up failed: {exc!r}", file=sys.stderr)

        time.sleep(min(REST_S, dwell_s))
        worker = threading.Thread(target=warm, name="eval-warm", daemon=True)
        worker.start()
        worker.join(max(0.0, dwell_s - REST_S))
        cancel.cancel()  # the request comes: the warm-up stops before its next token
        worker.join()
        return answer
