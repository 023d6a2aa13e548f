"""What a next edit must never be: a reversal, a no-op, whitespace only, just rejected.

Each rule is a pure function of the candidate site, the text and the edit history.
"""

from __future__ import annotations

from smallcode_lsp.nextedit.history import UserEdit
from smallcode_lsp.nextedit.propagate import Site
from smallcode_lsp.nextedit.text import overlaps


def is_noop(site: Site, text: str) -> bool:
    return text[site.start : site.end] == site.text


def whitespace_only(site: Site, text: str) -> bool:
    return "".join(text[site.start : site.end].split()) == "".join(site.text.split())


def rewrites_recent_edit(site: Site, recent: list[UserEdit]) -> bool:
    """The site touches text a recent edit wrote (the user's, or an accepted suggestion):
    changing it would undo or redo the user's own work, and the region being typed in is one."""
    return any(e.span is not None and overlaps((site.start, site.end), e.span) for e in recent)


def undoes_recent_edit(site: Site, text: str, recent: list[UserEdit]) -> bool:
    """The site would make the inverse change of a recent edit (`new` back to `old`)."""
    old = text[site.start : site.end].strip()
    return any(
        e.change.new.strip() == old and e.change.old.strip() == site.text.strip() for e in recent
    )


def rejection_key(site: Site, text: str) -> tuple[str, str, str]:
    """A rejected suggestion is the same one again if it makes the same change to the same
    line: offsets move as the user edits elsewhere, the line's text does not."""
    line_start = text.rfind("\n", 0, site.start) + 1
    line_end = text.find("\n", site.end)
    line = text[line_start : len(text) if line_end < 0 else line_end]
    return (line, text[site.start : site.end], site.text)


def allowed(site: Site, text: str, recent: list[UserEdit]) -> bool:
    return not (
        is_noop(site, text)
        or whitespace_only(site, text)
        or rewrites_recent_edit(site, recent)
        or undoes_recent_edit(site, text, recent)
    )
