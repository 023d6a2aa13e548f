"""Next-edit suggestions measured on real edits by real people (issue 20).

The corpus (benchmarks/next_edit_corpus.py) is two consecutive releases of real Python,
JavaScript/TypeScript and C packages, diffed into token edits and grouped where a change
repeats in a file. Each case is replayed through one real `smallcode-lsp serve` over LSP: the
OLD file is opened, the user's edit (a repeated group's first member, or an edit that occurs
once) is applied with an incremental `didChange` (`--typing`: its whole words selected and
deleted, then typed key by key, up to 40 characters; longer text is pasted), and
`textDocument/copilotInlineEdit` is asked at the end of it. The answer is scored against the
file's remaining real edits, tracked in the current text's coordinates. A correct one is
accepted as an editor does (didShow, the edit applied as given, its command run) and the server
asked again; a wrong one is rejected (didReject) and ends the case. Where nothing is offered
while the group has members left, the user makes the next one by hand and the server is asked
again (a predictor may want two examples first); the case ends when nothing is offered and no
member is left, or after `--chain` asks. Also: each file opened and asked at a few places with
no edit at all (whatever is shown there is noise).

A suggestion is trimmed of what it leaves as it is (common prefix/suffix), then it is
- exact: on the lines it touches it gives the same tokens as a remaining real edit there (or
  all of them together): the corpus's edits are token edits, so spacing outside strings aside;
- partial: it overlaps (or touches) a remaining real edit's range but gives something else;
- noise: it is near no remaining real edit (a suggestion that changes nothing counts here);
- a reversal (counted besides): it restores what the replayed or an accepted edit replaced,
  or deletes/rewrites part of what it wrote back into what was there.
Recall: the repeated groups' later members (all but the first, at most `--chain` per group)
predicted exactly; members made by hand count as missed.

    .venv/bin/python benchmarks/next_edit.py [--typing] [--chain 20] [--groups-per-file 12]
        [--alone-per-file 4] [--packages NAME ...] [--next-edit-model GGUF]
        [--next-edit-format sweep|zeta] [--examples 10] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.next_edit_corpus import (  # noqa: E402
    PACKAGES,
    Edit,
    FilePair,
    common_ends,
    corpus,
    tokenize,
)
from smallcode_lsp.engine.cpu import read_cpu  # noqa: E402
from smallcode_lsp.nextedit.model_format import format_names  # noqa: E402
from tests.e2e.lsp_session import (  # noqa: E402
    SERVER_COMMAND,
    _plain,
    initialize,
    open_document,
    status,
    wait_for_state,
)

INLINE_EDIT = "textDocument/copilotInlineEdit"
QUIET_FRACTIONS = (0.25, 0.5, 0.75)  # where the no-edit run asks, through the file's lines
KEY_S = 0.02  # --typing: between keys (a fast typist; the server groups keys within 2 s)
MAX_TYPED = 40  # --typing: longer new text is pasted (one didChange), as people do
SLOWEST = 5  # asks listed with their file
TARGETS = {"precision": 0.90, "noise": 0.05, "p95_ms": 50.0}  # issue 20, for propagation


# -- spans in the current text (pure) --------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """Replace text[start:end] with `text`. Real edits carry their index in the file's edits;
    applied ones (`start:end` = what they wrote) carry in `text` what they replaced."""

    start: int
    end: int
    text: str
    key: int = -1


def apply_spans(text: str, spans: list[Span]) -> str:
    """`text` with non-overlapping spans applied."""
    for span in sorted(spans, key=lambda s: s.start, reverse=True):
        text = text[: span.start] + span.text + text[span.end :]
    return text


def shifted(spans: list[Span], change: Span) -> list[Span]:
    """Spans of the text before `change`, moved to the text after it; those it overlaps are gone
    (consumed or destroyed). A span ending where the change starts stays before it."""
    delta = len(change.text) - (change.end - change.start)
    kept = []
    for span in spans:
        if span.end <= change.start and not (span.start == change.start < change.end):
            kept.append(span)
        elif span.start >= change.end:
            kept.append(Span(span.start + delta, span.end + delta, span.text, span.key))
    return kept


def trimmed(text: str, span: Span) -> Span | None:
    """The span without what it leaves unchanged at either end; None if it changes nothing."""
    old, new = text[span.start : span.end], span.text
    head, tail = common_ends(old, new)
    if old == new:
        return None
    return Span(span.start + head, span.end - tail, new[head : len(new) - tail], span.key)


def _lines_around(text: str, start: int, end: int) -> tuple[int, int]:
    stop = text.find("\n", end)
    return text.rfind("\n", 0, start) + 1, len(text) if stop < 0 else stop


def same_tokens(text: str, ours: list[Span], theirs: list[Span]) -> bool:
    """Whether both sets of spans give the same tokens on the lines they touch."""
    every = ours + theirs
    lo, hi = _lines_around(text, min(s.start for s in every), max(s.end for s in every))
    window = text[lo:hi]

    def result(spans: list[Span]) -> list[str]:
        local = [Span(s.start - lo, s.end - lo, s.text) for s in spans]
        return [t.text for t in tokenize(apply_spans(window, local))]

    return result(ours) == result(theirs)


def touches(a: Span, b: Span) -> bool:
    return a.start <= b.end and b.start <= a.end


def judge(text: str, shown: Span, remaining: list[Span]) -> tuple[str, list[Span]]:
    """("exact" | "partial" | "noise", the real edits an exact suggestion carries out)."""
    s = trimmed(text, shown)
    if s is None:
        return "noise", []
    lo, hi = _lines_around(text, s.start, s.end)
    near = [r for r in remaining if r.start <= hi and r.end >= lo]
    for real in near:
        if same_tokens(text, [s], [real]):
            return "exact", [real]
    if len(near) > 1 and same_tokens(text, [s], near):
        return "exact", near
    return ("partial" if any(touches(s, r) for r in near) else "noise"), []


def reverses(text: str, shown: Span, applied: list[Span]) -> bool:
    """Whether the suggestion undoes (part of) an applied edit: restores what it replaced, or
    rewrites part of what it wrote into text it replaced (a deletion of it included)."""
    s = trimmed(text, shown)
    if s is None:
        return False
    for done in applied:
        if not touches(s, done):
            continue
        if same_tokens(text, [s], [done]):
            return True
        if done.start <= s.start and s.end <= done.end and s.text in done.text:
            return True
    return False


def widened(text: str, span: Span) -> Span:
    """The same change over whole words at both ends: `etItem` -> `ET_ITEM` (what the diff
    left) becomes `GetItem` -> `GET_ITEM`, what a person selects and types."""
    start, end = span.start, span.end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return Span(start, end, text[start : span.start] + span.text + text[span.end : end], span.key)


def readable(text: str, span: Span) -> dict[str, Any]:
    wide = widened(text, span)
    line = text.count("\n", 0, wide.start) + 1
    return {"line": line, "old": text[wide.start : wide.end], "new": wide.text}


# -- LSP positions (UTF-16 columns, as the server's default) --------------------------------------


@lru_cache(maxsize=4)
def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in re.finditer("\n", text))]


def position(text: str, offset: int) -> dict[str, int]:
    line = text.count("\n", 0, offset)
    start = _line_starts(text)[line]
    return {"line": line, "character": len(text[start:offset].encode("utf-16-le")) // 2}


def offset_of(text: str, where: dict[str, int]) -> int:
    starts = _line_starts(text)
    line = min(where["line"], len(starts) - 1)
    start = starts[line]
    stop = starts[line + 1] - 1 if line + 1 < len(starts) else len(text)
    units, at = where["character"], start
    while at < stop and units > 0:
        units -= 2 if ord(text[at]) > 0xFFFF else 1
        at += 1
    return at


# -- replay ----------------------------------------------------------------------------------------


@dataclass
class Tally:
    """One language's counts (or all languages')."""

    files: int = 0
    groups: int = 0
    later: int = 0  # repeated groups' later members within the chain length
    predicted: int = 0
    alone: int = 0
    asks: int = 0
    shown: int = 0
    exact: int = 0
    shown_after_repeated: int = 0  # of `shown`: in a chain that began with a repeated edit
    exact_after_repeated: int = 0
    by_hand: int = 0  # members the user made after nothing was offered
    partial: int = 0
    noise: int = 0
    reversals: int = 0
    quiet_asks: int = 0
    quiet_shown: int = 0
    latencies_ms: list[float] = field(default_factory=list)


@dataclass
class Case:
    pair: FilePair
    first: Edit
    group: list[Edit]  # the repeated edit's members, `first` among them; empty: an edit alone


@dataclass
class Chain:
    """One case's real edits still to come and the edits made so far, in the current text."""

    remaining: list[Span]
    members: set[int]  # keys of the group's members still to come
    applied: list[Span] = field(default_factory=list)  # what they wrote; `text`: what was there
    cursor: int = 0

    def made(self, done: Span, replaced: str) -> None:
        """`done` (which replaced `replaced`) was applied; the caret is at its end."""
        self.remaining = shifted(self.remaining, done)
        written = Span(done.start, done.start + len(done.text), replaced)
        self.applied = [*shifted(self.applied, done), written]
        self.cursor = written.end

    def drop(self, keys: set[int]) -> None:
        self.remaining = [r for r in self.remaining if r.key not in keys]
        self.members -= keys

    def next_member(self) -> Span | None:
        """The group's first member still to come, in file order."""
        todo = [r for r in self.remaining if r.key in self.members]
        return min(todo, key=lambda r: r.start, default=None)


class Replayer:
    """One server for the whole run; one document (a fresh URI) per case."""

    def __init__(self, client: Any, typing: bool, chain: int) -> None:
        self.client, self.typing, self.chain = client, typing, chain
        self.tallies: dict[str, Tally] = defaultdict(Tally)
        self.wrong: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []  # every suggestion shown, for --json
        self.slowest: list[tuple[float, str, int]] = []  # (ms, uri, chars)
        self.outcomes: list[dict[str, Any]] = []  # per case, to compare runs
        self._uris = 0
        self.uri, self.text, self.version = "", "", 0

    async def open(self, pair: FilePair) -> None:
        self._uris += 1
        self.uri = f"file:///next-edit/{self._uris}/{pair.release.name}/{pair.path}"
        self.text, self.version = pair.old, 1
        open_document(self.client, self.uri, self.text, pair.language)
        # A file is open well before anyone edits it: one round trip lets the server finish
        # the didOpen (a big file's parse) so that it is not timed as the first ask.
        await status(self.client)

    def close(self) -> None:
        self.client.text_document_did_close(
            lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=self.uri))
        )

    def change(self, span: Span) -> None:
        rng = {"start": position(self.text, span.start), "end": position(self.text, span.end)}
        self.version += 1
        self.text = self.text[: span.start] + span.text + self.text[span.end :]
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[
                    lsp.TextDocumentContentChangePartial(
                        range=lsp.Range(
                            start=lsp.Position(**rng["start"]), end=lsp.Position(**rng["end"])
                        ),
                        text=span.text,
                    )
                ],
            )
        )

    async def user_edit(self, span: Span) -> Span:
        """`span` applied the way the user makes it (the text ends up the same either way); the
        change as made: the caret is at its end."""
        if not self.typing or len(span.text) > MAX_TYPED:
            self.change(span)
            return span
        span = widened(self.text, span)
        if span.end > span.start:
            self.change(Span(span.start, span.end, ""))
        for i, ch in enumerate(span.text):
            await asyncio.sleep(KEY_S)
            self.change(Span(span.start + i, span.start + i, ch))
        return span

    async def ask(self, tally: Tally, cursor: int) -> dict[str, Any] | None:
        """The first edit the server offers at `cursor` (an editor shows one), or None."""
        params = {
            "textDocument": {"uri": self.uri, "version": self.version},
            "position": position(self.text, cursor),
        }
        started = time.perf_counter()
        result = _plain(await self.client.protocol.send_request_async(INLINE_EDIT, params))
        elapsed = (time.perf_counter() - started) * 1000
        tally.latencies_ms.append(elapsed)
        self.slowest = sorted([*self.slowest, (elapsed, self.uri, len(self.text))])[-SLOWEST:]
        edits = (result or {}).get("edits") or []
        return edits[0] if edits else None

    def notify(self, method: str, edit: dict[str, Any]) -> None:
        self.client.protocol.notify(method, {"item": {"command": edit["command"]}})

    async def replay(self, case: Case) -> None:
        """The user's edit, then ask / score / accept until the chain length, a wrong edit, or
        nothing offered with no member of the group left; while members are left, nothing
        offered means the user makes the next one by hand (a predictor may want two examples)."""
        tally = self.tallies[case.pair.language]
        await self.open(case.pair)
        edits = case.pair.edits
        first = edits.index(case.first)
        chain = Chain(
            [Span(e.start, e.end, e.text, k) for k, e in enumerate(edits) if k != first],
            {edits.index(e) for e in case.group} - {first},
        )
        outcome = {"file": f"{case.pair.release.label}: {case.pair.path}", "end": "chain"}
        outcome |= {"line": case.pair.old.count("\n", 0, case.first.start) + 1}
        outcome |= {"repeated": len(case.group), "accepted": 0, "by_hand": 0}
        self.outcomes.append(outcome)
        await self.by_hand(chain, Span(case.first.start, case.first.end, case.first.text))
        for _ in range(self.chain):
            tally.asks += 1
            edit = await self.ask(tally, chain.cursor)
            if edit is None:
                todo = chain.next_member()
                if todo is None:
                    outcome["end"] = "nothing"
                    break
                tally.by_hand += 1
                outcome["by_hand"] += 1
                await self.by_hand(chain, todo)
                continue
            verdict = self.score(case, chain, tally, edit)
            if verdict != "exact":
                outcome["end"] = verdict
                break
            outcome["accepted"] += 1
            await self.accept(chain, edit)
        self.close()

    async def by_hand(self, chain: Chain, span: Span) -> None:
        replaced = self.text[span.start : span.end]
        chain.drop({span.key})
        done = await self.user_edit(span)
        chain.made(done, replaced)

    def score(self, case: Case, chain: Chain, tally: Tally, edit: dict[str, Any]) -> str:
        """Count the shown edit; an exact one's real edits leave the chain's lists."""
        self.notify("textDocument/didShowInlineEdit", edit)
        span = self._span(edit)
        verdict, carried = judge(self.text, span, chain.remaining)
        tally.shown += 1
        tally.shown_after_repeated += bool(case.group)
        tally.exact_after_repeated += bool(case.group) and verdict == "exact"
        setattr(tally, verdict, getattr(tally, verdict) + 1)
        tally.reversals += reverses(self.text, span, chain.applied)
        lines = self.text.count("\n", 0, span.start) - self.text.count("\n", 0, chain.cursor)
        self.shown.append(
            {"file": self.outcomes[-1]["file"], "verdict": verdict, "lines_from_cursor": lines}
            | {"repeated": len(case.group), "accepted_before": self.outcomes[-1]["accepted"]}
            | {"suggested": readable(self.text, span)}
        )
        if verdict == "exact":
            keys = {r.key for r in carried}
            tally.predicted += len(chain.members & keys)
            chain.drop(keys)
        else:
            self.notify("smallcode/didRejectInlineEdit", edit)  # the user's Esc
            self._note_wrong(case, verdict, span, chain)
        return verdict

    async def accept(self, chain: Chain, edit: dict[str, Any]) -> None:
        span = self._span(edit)
        replaced = self.text[span.start : span.end]
        self.change(span)
        command = edit["command"]
        await self.client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command=command["command"], arguments=command["arguments"])
        )
        chain.made(span, replaced)

    async def quiet(self, pair: FilePair) -> None:
        """The file opened and asked at a few places, nothing edited: all it shows is noise."""
        tally = self.tallies[pair.language]
        await self.open(pair)
        starts = _line_starts(pair.old)
        for fraction in QUIET_FRACTIONS:
            line = int(fraction * (len(starts) - 1))
            end = pair.old.find("\n", starts[line])
            tally.quiet_asks += 1
            tally.quiet_shown += (
                await self.ask(tally, len(pair.old) if end < 0 else end) is not None
            )
        self.close()

    def _span(self, edit: dict[str, Any]) -> Span:
        rng = edit["range"]
        start, end = offset_of(self.text, rng["start"]), offset_of(self.text, rng["end"])
        return Span(start, end, edit["text"])

    def _note_wrong(self, case: Case, verdict: str, span: Span, chain: Chain) -> None:
        """Keep the case for the predictor's author: what was done, shown, and due next."""
        remaining = chain.remaining
        due = [r for r in remaining if r.key in chain.members] or remaining
        after = [r for r in due if r.start >= chain.cursor] or due
        nearest = min(after, key=lambda r: abs(r.start - span.start), default=None)
        core = trimmed(self.text, span) or span
        there = next((r for r in remaining if touches(core, r)), None)

        def shown_as(change: Span | None) -> dict[str, Any] | None:
            return None if change is None else readable(self.text, change)

        first = case.first
        self.wrong.append(
            {
                "file": f"{case.pair.release.label}: {case.pair.path}",
                "language": case.pair.language,
                "verdict": verdict,
                "repeated": len(case.group),
                "accepted_before": self.outcomes[-1]["accepted"],
                "by_hand_before": self.outcomes[-1]["by_hand"],
                "replayed": readable(case.pair.old, Span(first.start, first.end, first.text)),
                "suggested": shown_as(span),  # as the server sent it
                "real_there": shown_as(there),
                "real_next": shown_as(nearest),
            }
        )


# -- the run ---------------------------------------------------------------------------------------


def spread(items: list[Any], count: int) -> list[Any]:
    """`count` items evenly through `items` (all of them if fewer)."""
    if len(items) <= count:
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


def cases_of(pairs: list[FilePair], groups_per_file: int, alone_per_file: int) -> list[Case]:
    cases = []
    for pair in pairs:
        cases += [Case(pair, group[0], group) for group in spread(pair.groups, groups_per_file)]
        cases += [Case(pair, edit, []) for edit in spread(pair.alone, alone_per_file)]
    return cases


def settings(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.next_edit_model:
        options["nextEditModel"] = str(args.next_edit_model)
    if args.next_edit_format:
        options["nextEditFormat"] = args.next_edit_format
    return options


async def wait_for_model(client: Any, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        model = (await status(client))["nextEdit"]["model"]
        if model["loaded"] or model["error"] or time.monotonic() > deadline:
            return model
        await asyncio.sleep(0.2)


async def run(
    args: argparse.Namespace, pairs: list[FilePair], cases: list[Case]
) -> tuple[Replayer, dict[str, Any]]:
    """Every case through one server: the replayer (its tallies), the server's nextEdit status."""
    client = await ClientServerConfig(server_command=SERVER_COMMAND).start()
    await initialize(client, settings(args))
    await wait_for_state(client, "ready", timeout=300)  # the embedded model loads once, first
    if args.next_edit_model:
        await wait_for_model(client)
    replayer = Replayer(client, args.typing, args.chain)
    for pair in pairs:
        replayer.tallies[pair.language].files += 1
        await replayer.quiet(pair)
    for done, case in enumerate(cases, start=1):
        tally = replayer.tallies[case.pair.language]
        if case.group:
            tally.groups += 1
            tally.later += min(len(case.group) - 1, args.chain)
        else:
            tally.alone += 1
        await replayer.replay(case)
        if done % 100 == 0:
            print(f"  {done}/{len(cases)} cases", file=sys.stderr)
    final = (await status(client))["nextEdit"]
    await client.shutdown_session()
    await client.stop()
    return replayer, final


# -- the table -------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def total(tallies: dict[str, Tally]) -> Tally:
    every = Tally()
    for tally in tallies.values():
        for name, value in asdict(tally).items():
            setattr(every, name, getattr(every, name) + value)
    return every


def row(language: str, t: Tally) -> dict[str, Any]:
    return {
        "language": language,
        "files": t.files,
        "groups": t.groups,
        "later_members": t.later,
        "recall": share(t.predicted, t.later),
        "predicted": t.predicted,
        "alone_edits": t.alone,
        "asks": t.asks,
        "shown": t.shown,
        "precision": share(t.exact, t.shown),
        "exact": t.exact,
        "precision_after_repeated": share(t.exact_after_repeated, t.shown_after_repeated),
        "exact_after_repeated": t.exact_after_repeated,
        "shown_after_repeated": t.shown_after_repeated,
        "precision_after_single": share(
            t.exact - t.exact_after_repeated, t.shown - t.shown_after_repeated
        ),
        "exact_after_single": t.exact - t.exact_after_repeated,
        "shown_after_single": t.shown - t.shown_after_repeated,
        "by_hand": t.by_hand,
        "partial": share(t.partial, t.shown),
        "partial_n": t.partial,
        "noise": share(t.noise, t.shown),
        "noise_n": t.noise,
        "reversals": t.reversals,
        "p50_ms": pct(t.latencies_ms, 0.5),
        "p95_ms": pct(t.latencies_ms, 0.95),
        "requests": len(t.latencies_ms),
        "quiet_asks": t.quiet_asks,
        "quiet_shown": t.quiet_shown,
    }


COLUMNS = (
    ("language", "language", None),
    ("files", "files", None),
    ("groups", "repeated groups", None),
    ("recall", "recall", ("predicted", "later_members")),
    ("by_hand", "made by hand", None),
    ("alone_edits", "single edits", None),
    ("asks", "asks", None),
    ("shown", "shown", None),
    ("precision", "precision", ("exact", "shown")),
    (
        "precision_after_repeated",
        "after repeated",
        ("exact_after_repeated", "shown_after_repeated"),
    ),
    ("precision_after_single", "after single", ("exact_after_single", "shown_after_single")),
    ("partial", "partial", ("partial_n", "shown")),
    ("noise", "noise", ("noise_n", "shown")),
    ("reversals", "reversals", None),
    ("p50_ms", "p50 ms", None),
    ("p95_ms", "p95 ms", None),
    ("quiet", "no-edit shown/asks", None),
)


def cell(result: dict[str, Any], key: str, counts: tuple[str, str] | None) -> str:
    if key == "quiet":
        return f"{result['quiet_shown']}/{result['quiet_asks']}"
    value = result[key]
    if value is None:
        return "-"
    if counts:
        return f"{value:.0%} ({result[counts[0]]}/{result[counts[1]]})"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    print("| " + " | ".join(title for _, title, _ in COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for result in rows:
        print("| " + " | ".join(cell(result, key, counts) for key, _, counts in COLUMNS) + " |")


def verdicts(overall: dict[str, Any]) -> list[str]:
    """The issue's targets (set for propagation) against the overall row."""
    checks = [
        ("precision", overall["precision"], ">=", TARGETS["precision"]),
        ("noise", overall["noise"], "<=", TARGETS["noise"]),
        ("latency p95 ms", overall["p95_ms"], "<=", TARGETS["p95_ms"]),
    ]
    lines = []
    for name, value, op, target in checks:
        if value is None:
            lines.append(f"{name}: no data (target {op} {target:g})")
            continue
        met = value >= target if op == ">=" else value <= target
        lines.append(f"{name}: {value:.3g} (target {op} {target:g}): {'met' if met else 'MISSED'}")
    return lines


def examples(wrong: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """Up to `count` wrong suggestions: half after repeated edits, half after single ones, one
    per file spread through the corpus first (so one package cannot fill the list)."""

    def pick(items: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
        seen: set[str] = set()
        firsts = [w for w in items if not (w["file"] in seen or seen.add(w["file"]))]
        if len(firsts) >= n:
            return spread(firsts, n)
        taken = {id(w) for w in firsts}
        return (firsts + [w for w in items if id(w) not in taken])[:n]

    single = [w for w in wrong if not w["repeated"]]
    chosen = pick([w for w in wrong if w["repeated"]], count - min(count // 2, len(single)))
    return chosen + pick(single, count - len(chosen))


def _short(text: str, limit: int = 70) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def print_example(w: dict[str, Any]) -> None:
    replayed, suggested = w["replayed"], w["suggested"]
    group = f"repeated x{w['repeated']}" if w["repeated"] else "single edit"
    before = [f"{w['accepted_before']} accepted"] if w["accepted_before"] else []
    before += [f"{w['by_hand_before']} more by hand"] if w.get("by_hand_before") else []
    after = f", after {' and '.join(before)}" if before else ""
    print(f"- {w['file']} ({group}{after}), {w['verdict']}:")
    changes = [("replayed", replayed), ("suggested", suggested)]
    changes += [("real edit there", w["real_there"]), ("real next", w["real_next"])]
    for name, change in changes:
        if change:
            old, new = _short(change["old"]), _short(change["new"])
            print(f"    {name} line {change['line']}: {old} -> {new}")


def server_version() -> str:
    """The tree the server ran from: its commit, and whether it had uncommitted changes (the
    predictor changes fast; a table means little without it)."""
    try:
        described = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return described.stdout.strip()


def predictor(args: argparse.Namespace, final: dict[str, Any]) -> str:
    model = final.get("model") or {}
    if not args.next_edit_model:
        return "repeated-edit propagation (no nextEditModel)"
    state = "loaded" if model.get("loaded") else f"NOT loaded: {model.get('error')}"
    return f"propagation, then the model {model.get('model')} ({model.get('format')}, {state})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packages", nargs="*", help="only these packages (default: all)")
    parser.add_argument("--typing", action="store_true", help="the user's edit typed key by key")
    parser.add_argument("--chain", type=int, default=20, help="most asks after one user edit")
    parser.add_argument("--groups-per-file", type=int, default=12)
    parser.add_argument("--alone-per-file", type=int, default=4)
    parser.add_argument("--next-edit-model", type=Path, help="GGUF, as the nextEditModel setting")
    parser.add_argument("--next-edit-format", choices=format_names())
    parser.add_argument("--examples", type=int, default=10, help="wrong suggestions printed")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    releases = [r for r in PACKAGES if not args.packages or r.name in args.packages]
    pairs = corpus(releases)
    cases = cases_of(pairs, args.groups_per_file, args.alone_per_file)
    replayer, final = asyncio.run(run(args, pairs, cases))
    rows = [row(lang, replayer.tallies[lang]) for lang in sorted(replayer.tallies)]
    rows.append(row("all", total(replayer.tallies)))
    print(f"machine: {read_cpu().summary()}")
    print(f"server: {server_version()}; predictor: {predictor(args, final)}")
    print(f"server's next-edit counts: {final}")
    mode = "typed key by key" if args.typing else "one didChange"
    print(
        f"user's edit: {mode}; at most {args.chain} asks after it; where nothing is offered, the"
        " group's next member is made by hand; packages:"
    )
    print("  " + "; ".join(r.label for r in releases))
    print_table(rows)
    for line in verdicts(rows[-1]):
        print(line)
    slowest = ", ".join(
        f"{ms:.0f} ms ({uri.split('/', 5)[-1]}, {chars // 1000} KB)"
        for ms, uri, chars in reversed(replayer.slowest)
    )
    print(f"slowest asks: {slowest}")
    chosen = examples(replayer.wrong, args.examples)
    if chosen:
        print(f"wrong suggestions ({len(chosen)} of {len(replayer.wrong)}):")
        for w in chosen:
            print_example(w)
    if args.json:
        machine = read_cpu().as_dict()
        packages = [asdict(r) for r in releases]
        report = {"machine": machine, "packages": packages, "predictor": predictor(args, final)}
        report |= {"server": server_version()}
        report |= {"typing": args.typing, "chain": args.chain, "rows": rows}
        report |= {"slowest": replayer.slowest, "cases": replayer.outcomes}
        report |= {"shown": replayer.shown}
        args.json.write_text(json.dumps(report | {"wrong": replayer.wrong}, indent=2))


if __name__ == "__main__":
    main()
