"""Next-edit model prompts: one data file per published format (formats/*.toml), and the
pure code that fills one in from the edit history and reads the model's rewritten window
back as one edit. Nothing here runs a model (model.py does)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from smallcode_lsp.nextedit.history import UserEdit
from smallcode_lsp.nextedit.propagate import Site, whole_tokens
from smallcode_lsp.nextedit.text import Change, diff

FORMATS_DIR = Path(__file__).with_name("formats")
FILE_LINES = 60  # lines of the file around the window a prompt shows (a 100 KB file is ~30K tokens)


@dataclass(frozen=True)
class Format:
    name: str
    match: tuple[str, ...]  # lowercase pieces of a model file name that pick this format
    lines_above: int
    lines_below: int
    max_tokens: int
    stop: tuple[str, ...]
    history_items: int
    history_item: str
    prompt: str
    cursor: str  # marker put at the cursor in the current window ("" for none)
    answer_start: str  # what precedes / ends the rewritten window in the answer
    answer_end: str
    reserved: tuple[str, ...]  # text with these is refused (prompt injection, garbage)


def load_format(name: str) -> Format:
    data = tomllib.loads((FORMATS_DIR / f"{name}.toml").read_text(encoding="utf-8"))
    for key in ("match", "stop", "reserved"):
        data[key] = tuple(data[key])
    return Format(**data)


def format_names() -> list[str]:
    return sorted(p.stem for p in FORMATS_DIR.glob("*.toml"))


def format_for(model_path: str, setting: str | None) -> Format | None:
    """The setting's format, else the first whose `match` is in the model's file name."""
    if setting:
        return load_format(setting)
    name = Path(model_path).name.lower()
    for candidate in format_names():
        fmt = load_format(candidate)
        if any(piece in name for piece in fmt.match):
            return fmt
    return None


@dataclass(frozen=True)
class ModelPrompt:
    text: str
    window_start: int  # offsets of the editable window in the current text
    window_end: int


def _line_starts(text: str) -> list[int]:
    starts = [0]
    at = text.find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts


def _lines_span(text: str, starts: list[int], first: int, last: int) -> tuple[int, int]:
    """Offsets of lines first..last (inclusive, clamped), without the final newline."""
    first, last = max(0, first), min(len(starts) - 1, last)
    end = starts[last + 1] - 1 if last + 1 < len(starts) else len(text)
    return starts[first], end


def _changed_lines(edit: UserEdit) -> tuple[str, str]:
    """The whole lines an edit touched, before and after it."""
    before, change = edit.before, edit.change
    start = before.rfind("\n", 0, change.start) + 1
    end = before.find("\n", change.old_end)
    end = len(before) if end < 0 else end
    old = before[start:end]
    new = before[start : change.start] + change.new + before[change.old_end : end]
    return old, new


def _history(fmt: Format, path: str, edits: list[UserEdit]) -> str:
    items = []
    for edit in reversed(edits[: fmt.history_items]):  # oldest first, as the formats read
        old, new = _changed_lines(edit)
        unified = "\n".join(
            [*("-" + s for s in old.split("\n")), *("+" + s for s in new.split("\n"))]
        )
        items.append(fmt.history_item.format(path=path, old=old, new=new, diff=unified))
    return "".join(items)


def build_prompt(
    fmt: Format, path: str, text: str, cursor: int, recent: list[UserEdit]
) -> ModelPrompt | None:
    """The prompt for the document `text` with the cursor at `cursor`; None when the text
    holds one of the format's reserved markers."""
    if any(marker in text for marker in fmt.reserved):
        return None
    starts = _line_starts(text)
    line = text.count("\n", 0, cursor)
    start, end = _lines_span(text, starts, line - fmt.lines_above, line + fmt.lines_below)
    current = text[start:end]
    original = current
    newest = recent[0] if recent else None
    if (
        newest is not None
        and newest.span is not None
        and start <= newest.span[0] <= newest.span[1] <= end
    ):
        s, e = newest.span[0] - start, newest.span[1] - start
        original = current[:s] + newest.change.old + current[e:]  # the window before that edit
    marked = current[: cursor - start] + fmt.cursor + current[cursor - start :]
    file_start, file_end = _lines_span(text, starts, line - FILE_LINES, line + FILE_LINES)
    prompt = fmt.prompt.format(
        path=path,
        file=text[file_start:file_end],
        history=_history(fmt, path, recent),
        original=original,
        current=marked,
        before=text[file_start:start],
        after=text[end:file_end],
    )
    return ModelPrompt(prompt, start, end)


def parse_answer(fmt: Format, prompt: ModelPrompt, answer: str, text: str) -> Site | None:
    """The model's rewritten window as one minimal edit of `text`; None for no change."""
    if fmt.answer_start and answer.startswith(fmt.answer_start):
        answer = answer[len(fmt.answer_start) :]
    if fmt.answer_end and fmt.answer_end in answer:
        answer = answer[: answer.index(fmt.answer_end)]
    for stop in fmt.stop:
        if stop in answer:
            answer = answer[: answer.index(stop)]
    if fmt.cursor:
        answer = answer.replace(fmt.cursor, "")
    if any(marker in answer for marker in fmt.reserved):
        return None
    # Trailing newlines: the prompt's separator after the window, not an edit.
    window = text[prompt.window_start : prompt.window_end].rstrip("\n")
    change = diff(window, answer.rstrip("\n"))
    if change is None or not answer.strip():
        return None  # the same window, or nothing: no prediction
    # Whole tokens, as propagation offers them: `w` -> `width`, not `` -> `idth`.
    widened = whole_tokens(text, Change(prompt.window_start + change.start, change.old, change.new))
    return Site(widened.start, widened.old_end, widened.new)
