"""Fill-in-the-middle evaluation on real code: holes chosen with tree-sitter, scored by exact
match, edit similarity, syntax validity of the filled file, and latency.

`build_tasks` and the scorers are pure; `run_eval` only needs a `complete(request) -> str`
callable, so the CLI can run the same tasks through the pipeline with context/shaping on and off.
`eval_runs` names the runs of one evaluation (the naive baseline first, then the full plan per
trigger) and `timed_request` gives a task's request the trigger and deadline the server would.
`curve_runs` / `format_curve` are quality against latency: the naive prompt and ours at the
same budgets, ours after the cursor rested at the spot (a dwell: the spot warmed first).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from tree_sitter import Node

from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.languages import LANGUAGE_IDS, language_for, language_key, parse_text
from smallcode_lsp.types import CompletionRequest, DocumentSnapshot, Trigger
from smallcode_lsp.workspace.files import FileFilter, looks_indexable

FUNCTION_TYPES = frozenset({
    "function_definition", "function_declaration", "method_definition", "method_declaration",
    "function_item", "constructor_declaration", "arrow_function", "function_expression",
})  # fmt: skip
BODY_TYPES = frozenset({"block", "statement_block", "compound_statement", "constructor_body"})
MAX_BLOCK_LINES = 15
MIN_LINE_CHARS = 8
MIN_HOLE = 4  # bytes left to predict in a line hole
MAX_FILES = 2000


@dataclass(frozen=True)
class FimTask:
    """One hole: the file without `expected`, which belonged at `offset`."""

    path: str
    language_id: str
    text: str
    offset: int
    expected: str
    kind: str  # "line" | "block"

    def request(self) -> CompletionRequest:
        doc = DocumentSnapshot(f"file://{self.path}", self.text, self.language_id, 0, self.path)
        return CompletionRequest(doc, self.offset, Trigger.INVOKED)


def _holes(doc: ParsedDocument, rng: random.Random) -> list[tuple[str, int, int]]:
    """(kind, start, end) str ranges: whole function bodies and rests of body lines."""
    root = doc.root
    out: list[tuple[str, int, int]] = []
    if root is None:
        return out
    stack = [root]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if node.type not in FUNCTION_TYPES:
            continue
        body = node.child_by_field_name("body")
        if body is None or body.type not in BODY_TYPES:
            continue  # `x => f(x)`: an expression body has no statements to hole
        stmts = [c for c in body.named_children if "comment" not in c.type] if body else []
        if not stmts:
            continue
        first, last = stmts[0], stmts[-1]
        if 2 <= last.end_point[0] - first.start_point[0] + 1 <= MAX_BLOCK_LINES:
            out.append(("block", doc.str_offset(first.start_byte), doc.str_offset(last.end_byte)))
        stmt = rng.choice(stmts)
        if stmt.start_point[0] == stmt.end_point[0]:
            # Leave at least MIN_HOLE_CHARS to predict: a lone `;` or `)` says nothing.
            leaves = [x for x in _leaves(stmt)[1:] if stmt.end_byte - x.start_byte >= MIN_HOLE]
            if leaves and len(doc.node_text(stmt)) >= MIN_LINE_CHARS:
                cut = rng.choice(leaves)
                out.append(("line", doc.str_offset(cut.start_byte), doc.str_offset(stmt.end_byte)))
    return out


def _leaves(node: Node) -> list[Node]:
    out: list[Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.child_count == 0:
            out.append(n)
        else:
            stack.extend(reversed(n.children))
    return out


def build_tasks(root: str, limit: int, seed: int) -> list[FimTask]:
    """Up to `limit` tasks (about half line holes, half block holes) from code under `root`."""
    rng = random.Random(seed)
    lines: list[FimTask] = []
    blocks: list[FimTask] = []
    for path in FileFilter([root]).walk(MAX_FILES):
        key = language_key("", path)
        if key is None or language_for("", path) is None:
            continue
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if not looks_indexable(data):
            continue
        text = data.decode("utf-8", "replace")
        lang = LANGUAGE_IDS[key]
        doc = ParsedDocument(text, lang, path)
        if doc.root is None or doc.root.has_error:
            continue  # a file that does not parse cannot judge syntax validity
        for kind, start, end in _holes(doc, rng):
            task = FimTask(path, lang, text[:start] + text[end:], start, text[start:end], kind)
            (lines if kind == "line" else blocks).append(task)
    rng.shuffle(lines)
    rng.shuffle(blocks)
    half = (limit + 1) // 2
    chosen = blocks[: limit - min(half, len(lines))]
    chosen = lines[: limit - len(chosen)] + chosen
    return chosen[:limit]


def _norm(text: str) -> str:
    return "\n".join(ln.rstrip() for ln in text.strip().splitlines())


def exact_match(prediction: str, expected: str) -> bool:
    """Equal up to surrounding whitespace and trailing spaces on lines."""
    return _norm(prediction) == _norm(expected)


def _levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def edit_similarity(prediction: str, expected: str) -> float:
    """1 - normalized Levenshtein distance (1.0 = identical), on normalized text."""
    a, b = _norm(prediction), _norm(expected)
    if not a and not b:
        return 1.0
    return 1.0 - _levenshtein(a, b) / max(len(a), len(b))


def syntax_valid(language_id: str, text: str) -> bool:
    """True when `text` parses without ERROR/MISSING nodes (always True without a grammar)."""
    language = language_for(language_id)
    if language is None:
        return True
    return not parse_text(language, text).root_node.has_error


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_eval(
    tasks: list[FimTask],
    complete: Callable[[CompletionRequest], str],
    before_each: Callable[[FimTask], None] | None = None,
) -> dict:
    """Run every task through `complete`; aggregate scores overall and per hole kind.

    `before_each` runs before a task, outside its timing (a cold run clears the KV cache; a
    dwell also warms the spot as the resting cursor would).
    """
    rows: list[dict] = []
    for task in tasks:
        if before_each is not None:
            before_each(task)
        began = time.perf_counter()
        try:
            prediction = complete(task.request())
            failed = False
        except Exception:  # one failing task must not end the evaluation
            prediction, failed = "", True
        ms = (time.perf_counter() - began) * 1000
        filled = task.text[: task.offset] + prediction + task.text[task.offset :]
        rows.append({
            "kind": task.kind,
            "path": task.path,
            "exact": exact_match(prediction, task.expected),
            "similarity": edit_similarity(prediction, task.expected),
            "valid": syntax_valid(task.language_id, filled),
            "empty": not prediction.strip(),
            "failed": failed,
            "ms": ms,
            "expected": task.expected,
            "prediction": prediction,
        })  # fmt: skip
    result = _aggregate(rows)
    result["by_kind"] = {
        kind: _aggregate([r for r in rows if r["kind"] == kind])
        for kind in sorted({r["kind"] for r in rows})
    }
    result["answers"] = rows  # each task's answer, for reading the JSON
    return result


def _aggregate(rows: list[dict]) -> dict:
    n = len(rows)
    latencies = [r["ms"] for r in rows]
    rate = (lambda k: sum(1 for r in rows if r[k]) / n) if n else (lambda k: 0.0)
    return {
        "tasks": n,
        "exact_match": rate("exact"),
        "edit_similarity": statistics.fmean(r["similarity"] for r in rows) if n else 0.0,
        "syntax_valid": rate("valid"),
        "empty": rate("empty"),
        "failed": rate("failed"),
        "latency_ms_p50": _percentile(latencies, 0.5),
        "latency_ms_p95": _percentile(latencies, 0.95),
    }


def format_table(results: dict[str, dict]) -> str:
    """Markdown table comparing named runs (e.g. {"context+shaping": r1, "prefix/suffix": r2})."""
    head = "| run | kind | tasks | exact | edit sim | syntax ok | empty | p50 ms | p95 ms |"
    rows = [head, "|" + "---|" * 9]
    for name, res in results.items():
        parts = [("all", res), *sorted(res.get("by_kind", {}).items())]
        for kind, r in parts:
            rows.append(
                f"| {name} | {kind} | {r['tasks']} | {r['exact_match']:.1%} "
                f"| {r['edit_similarity']:.3f} | {r['syntax_valid']:.1%} | {r['empty']:.1%} "
                f"| {r['latency_ms_p50']:.0f} | {r['latency_ms_p95']:.0f} |"
            )
    return "\n".join(rows)


# -- the runs of one evaluation -------------------------------------------------------------------

TRIGGER_CHOICES: dict[str, tuple[Trigger, ...]] = {
    "automatic": (Trigger.AUTOMATIC,),
    "invoked": (Trigger.INVOKED,),
    "both": (Trigger.AUTOMATIC, Trigger.INVOKED),
}


@dataclass(frozen=True)
class EvalRun:
    """One row group of the table: the full plan (context + shaping) or the naive baseline
    (prefix/suffix window, no shaping), run with one trigger."""

    name: str
    full: bool  # context + shaping on; False: the baseline plan
    trigger: Trigger
    budget_ms: int | None = None  # Automatic's time budget; None: the configured one; 0: none
    dwell_ms: int = 0  # the cursor rested this long at the spot (warming it) before the request


def eval_runs(triggers: Sequence[Trigger], cold: bool, fim: bool) -> list[EvalRun]:
    """The naive baseline first (Invoked: no deadline), then context + shaping per trigger.

    `fim`: the model has fill-in-the-middle tokens, so the baseline's prompt holds the suffix too.
    """
    prompt = "prefix/suffix only" if fim else "prefix only"
    spot = "cold" if cold else "warm"
    runs = [EvalRun(f"baseline ({prompt}, no deadline)", False, Trigger.INVOKED)]
    runs += [EvalRun(f"context + shaping, {t.value}, {spot}", True, t) for t in triggers]
    return runs


CURVE_BUDGETS_MS = (250, 500, 1000, 2000, 0)  # 0: no deadline, the full prompt
CURVE_DWELLS_MS = (500, 1000, 2000)


def _budget_name(budget_ms: int) -> str:
    return f"{budget_ms / 1000:g} s" if budget_ms > 0 else "no deadline"


def curve_runs(
    budgets_ms: Sequence[int], dwells_ms: Sequence[int], budget_ms: int, fim: bool
) -> list[EvalRun]:
    """Quality against latency: per budget the naive prompt (prefix window, no context, no
    shaping) and ours, both Automatic, cold; ours after each dwell at the configured
    `budget_ms`; ours Invoked (the user asked and waits)."""
    prompt = "prefix/suffix" if fim else "prefix"
    runs: list[EvalRun] = []
    for budget in budgets_ms:
        at = _budget_name(budget)
        runs.append(
            EvalRun(f"naive {prompt} prompt, automatic, {at}", False, Trigger.AUTOMATIC, budget)
        )
        runs.append(EvalRun(f"context + shaping, automatic, {at}", True, Trigger.AUTOMATIC, budget))
    for dwell in dwells_ms:
        at = f"{_budget_name(budget_ms)}, after a {dwell / 1000:g} s dwell"
        runs.append(
            EvalRun(
                f"context + shaping, automatic, {at}", True, Trigger.AUTOMATIC, budget_ms, dwell
            )
        )
    runs.append(EvalRun("context + shaping, invoked", True, Trigger.INVOKED))
    return runs


def format_curve(runs: Sequence[EvalRun], results: dict[str, dict]) -> str:
    """Quality against latency, one row per budget (naive beside ours) and per dwell, then the
    issue's targets checked against these figures."""
    by_budget: dict[int, dict[bool, dict]] = {}
    dwells: list[tuple[EvalRun, dict]] = []
    invoked = None
    for run in runs:
        result = results[run.name]
        if run.trigger is Trigger.INVOKED:
            invoked = result
        elif run.dwell_ms:
            dwells.append((run, result))
        elif run.budget_ms is not None:
            by_budget.setdefault(run.budget_ms, {})[run.full] = result
    lines = [
        "| budget | naive exact | naive syntax ok | naive p50 ms | ours exact | ours syntax ok "
        "| ours p50 ms | ours - naive, points |",
        "|" + "---|" * 8,
    ]
    checks: list[str] = []
    for budget, pair in by_budget.items():
        naive, ours = pair.get(False), pair.get(True)
        if naive is None or ours is None:
            continue
        points = 100 * (ours["exact_match"] - naive["exact_match"])
        lines.append(
            f"| {_budget_name(budget)} | {naive['exact_match']:.1%} | {naive['syntax_valid']:.1%} "
            f"| {naive['latency_ms_p50']:.0f} | {ours['exact_match']:.1%} "
            f"| {ours['syntax_valid']:.1%} | {ours['latency_ms_p50']:.0f} | {points:+.1f} |"
        )
        checks.append(f"ours >= naive at {_budget_name(budget)}: {_met(points >= 0)}")
    for run, result in dwells:
        lines.append(
            f"| {_budget_name(run.budget_ms or 0)} after a {run.dwell_ms / 1000:g} s dwell | - | - "
            f"| - | {result['exact_match']:.1%} | {result['syntax_valid']:.1%} "
            f"| {result['latency_ms_p50']:.0f} | - |"
        )
    if invoked is not None:
        lines.append(
            f"| invoked | - | - | - | {invoked['exact_match']:.1%} "
            f"| {invoked['syntax_valid']:.1%} | {invoked['latency_ms_p50']:.0f} | - |"
        )
        rested = next((r for run, r in dwells if run.dwell_ms == 1000), None)
        if rested is not None:
            gap = 100 * (invoked["exact_match"] - rested["exact_match"])
            p50, valid = rested["latency_ms_p50"], rested["syntax_valid"]
            checks.append(
                f"automatic after a 1 s dwell: {gap:.1f} points below invoked (target <= 2: "
                f"{_met(gap <= 2)}), p50 {p50:.0f} ms (target <= 300: {_met(p50 <= 300)}), "
                f"syntax ok {valid:.1%} (target >= 95%: {_met(valid >= 0.95)})"
            )
        full = by_budget.get(0, {}).get(False)
        if full is not None:
            gain = 100 * (invoked["exact_match"] - full["exact_match"])
            checks.append(
                f"invoked vs the naive full prompt: {gain:+.1f} points (target >= +10: "
                f"{_met(gain >= 10)}), p50 {invoked['latency_ms_p50']:.0f} ms (target <= 3000: "
                f"{_met(invoked['latency_ms_p50'] <= 3000)})"
            )
    return "\n".join([*lines, "", *checks])


def _met(ok: bool) -> str:
    return "met" if ok else "missed"


def timed_request(
    request: CompletionRequest, trigger: Trigger, budget_ms: float, now: float
) -> CompletionRequest:
    """`request` as the server runs it for a user who just arrived at the spot (no typing burst
    to shrink the budget): Automatic answers by `now` + `budget_ms` (0: no deadline), Invoked
    has no deadline. `now` is time.perf_counter(), taken right before the pipeline runs."""
    automatic = trigger is Trigger.AUTOMATIC and budget_ms > 0
    deadline = now + budget_ms / 1000 if automatic else None
    return replace(request, trigger=trigger, deadline=deadline, finish_line=automatic)


def versus(result: dict, baseline: dict) -> dict[str, float]:
    """Percentage points gained over `baseline` (negative: lost)."""
    return {
        "exact_match_points": 100 * (result["exact_match"] - baseline["exact_match"]),
        "edit_similarity_points": 100 * (result["edit_similarity"] - baseline["edit_similarity"]),
    }


def format_summary(results: dict[str, dict], baseline: str) -> str:
    """One line per run under the table: its gains over `baseline` and its latency."""
    lines = []
    for name, res in results.items():
        latency = f"latency p50 {res['latency_ms_p50']:.0f} ms, p95 {res['latency_ms_p95']:.0f} ms"
        if name == baseline:
            lines.append(f"{name}: {latency}")
            continue
        d = versus(res, results[baseline])
        lines.append(
            f"{name}: exact match {d['exact_match_points']:+.1f} points, edit similarity "
            f"{d['edit_similarity_points']:+.1f} points vs baseline; {latency}"
        )
    return "\n".join(lines)
