"""Next-edit suggestions for the open documents: history per document, offers, feedback.

Owned by the event loop (the server's handlers call it; nothing here blocks: one regex pass
over the text per pattern). Offsets are str indices; the server converts LSP positions.
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from smallcode_lsp.nextedit import evidence, filters
from smallcode_lsp.nextedit.history import EditHistory, UserEdit
from smallcode_lsp.nextedit.propagate import Pattern, Site, explains, infer, nearest_first, sites


class Syntax(Protocol):
    """What propagation asks of the document's syntax tree (documents.DocumentSyntax)."""

    def function_at(self, offset: int) -> tuple[int, int] | None: ...

    def binding_scope(self, offset: int) -> tuple[int, int] | None:
        """Where the name bound at `offset` is visible; None when it is a use, not a binding."""
        ...


MAX_OFFERS = 32  # offered edits remembered to recognise an accepted one
REJECTED_S = 120.0  # how long a rejected suggestion stays unshown at its spot
PATTERN_EDITS = 1  # the newest edits a pattern is inferred from: an older one is stale intent


@dataclass(frozen=True)
class Offer:
    """A next edit shown (or about to be) to the client."""

    id: str
    uri: str
    version: int | None
    site: Site
    key: tuple[str, str, str]  # filters.rejection_key
    source: str  # the predictor: "propagation" or "model"


@dataclass
class NextEditCounts:
    offered: int = 0
    shown: int = 0
    accepted: int = 0
    rejected: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Document:
    history: EditHistory
    rejected: dict[tuple[str, str, str], float] = field(default_factory=dict)


class NextEditService:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._docs: dict[str, _Document] = {}
        self._offers: OrderedDict[str, Offer] = OrderedDict()
        self._ids = itertools.count(1)
        self.counts = NextEditCounts()

    def open(self, uri: str, text: str) -> None:
        self._docs[uri] = _Document(EditHistory(text))

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)
        for offer_id in [i for i, o in self._offers.items() if o.uri == uri]:
            del self._offers[offer_id]

    def change(self, uri: str, text: str) -> None:
        doc = self._docs.get(uri)
        if doc is None:
            return
        accepted = self._applied_offer(uri, doc.history.text, text)
        doc.history.record(text, self._clock(), accepted=accepted is not None)

    def _applied_offer(self, uri: str, before: str, after: str) -> Offer | None:
        """The offer this change applied exactly, if any (an accept seen from the text)."""
        for offer in reversed(self._offers.values()):
            site = offer.site
            if (
                offer.uri == uri
                and site.end <= len(before)
                and len(after) == len(before) - (site.end - site.start) + len(site.text)
                and after[site.start : site.start + len(site.text)] == site.text
                and after[: site.start] == before[: site.start]
                and after[site.start + len(site.text) :] == before[site.end :]
            ):
                return offer
        return None

    def suggest(
        self, uri: str, version: int | None, cursor: int, text: str, syntax: Syntax | None = None
    ) -> list[Offer]:
        """At most one next edit (by propagation) for the document as `text` at `version`."""
        site = self.propagate(uri, cursor, text, syntax)
        return [] if site is None else [self.offer(uri, version, site, text, "propagation")]

    def propagate(
        self, uri: str, cursor: int, text: str, syntax: Syntax | None = None
    ) -> Site | None:
        """`syntax`: the document's tree as `text` (None: unparsed; one-letter renames and
        renames of a definition are then not propagated)."""
        doc = self._docs.get(uri)
        if doc is None:
            return None
        if doc.history.text != text:  # a change we missed (or a full resync): follow it
            doc.history.record(text, self._clock())
        return self._propagate(doc, cursor, text, syntax)

    def recent(self, uri: str) -> list[UserEdit]:
        doc = self._docs.get(uri)
        return doc.history.recent() if doc is not None else []

    def admits(self, uri: str, site: Site, text: str) -> bool:
        """Whether a site from another predictor (the model) passes the same filters."""
        doc = self._docs.get(uri)
        if doc is None or not filters.allowed(site, text, doc.history.recent()):
            return False
        rejected_at = doc.rejected.get(filters.rejection_key(site, text))
        return rejected_at is None or self._clock() - rejected_at >= REJECTED_S

    def offer(self, uri: str, version: int | None, site: Site, text: str, source: str) -> Offer:
        offer = Offer(
            str(next(self._ids)), uri, version, site, filters.rejection_key(site, text), source
        )
        self._offers[offer.id] = offer
        while len(self._offers) > MAX_OFFERS:
            self._offers.popitem(last=False)
        self.counts.offered += 1
        return offer

    def _propagate(
        self, doc: _Document, cursor: int, text: str, syntax: Syntax | None
    ) -> Site | None:
        recent = doc.history.recent()
        now = self._clock()
        for edit in recent[:PATTERN_EDITS]:
            site = self._next_site(edit, recent, doc, cursor, text, now, syntax)
            if site is not None:
                return site
        return None

    def _next_site(
        self,
        edit: UserEdit,
        recent: list[UserEdit],
        doc: _Document,
        cursor: int,
        text: str,
        now: float,
        syntax: Syntax | None,
    ) -> Site | None:
        others = [e for e in recent if e is not edit]
        for pattern in infer(edit.before, edit.change):
            seen = [e for e in others if explains(pattern, e.before, e.change)]
            defined = _definition_scope(pattern, edit, syntax)
            if not seen and defined is None:
                continue  # seen once: a change, not yet a repeated one
            instances = [edit, *seen]
            if not evidence.enough(pattern, instances):
                continue
            found = list(sites(pattern, text))
            # A definition's uses; a change made twice inside one function stays in it.
            within = defined or (_one_function(instances, syntax) if seen else None)
            if within is not None:
                found = [s for s in found if within[0] <= s.start < within[1]]
            if pattern.local:
                where = syntax.function_at(edit.span[0]) if syntax and edit.span else None
                found = [s for s in found if where and where[0] <= s.start < where[1]]
            agreed = evidence.read(instances)
            for site in nearest_first(found, cursor):  # the checks below lex: nearest first
                if not (
                    filters.allowed(site, text, recent)
                    and evidence.like(site, text, agreed)
                    and evidence.ahead(site, text, cursor, agreed)
                ):
                    continue
                rejected_at = doc.rejected.get(filters.rejection_key(site, text))
                if rejected_at is None or now - rejected_at >= REJECTED_S:
                    return site
        return None

    def shown(self, offer_id: str) -> None:
        if offer_id in self._offers:
            self.counts.shown += 1

    def accepted(self, offer_id: str) -> None:
        if offer_id in self._offers:
            self.counts.accepted += 1

    def rejected(self, offer_id: str) -> None:
        offer = self._offers.pop(offer_id, None)
        if offer is None:
            return
        self.counts.rejected += 1
        doc = self._docs.get(offer.uri)
        if doc is not None:
            doc.rejected[offer.key] = self._clock()
            for key in [k for k, t in doc.rejected.items() if self._clock() - t >= REJECTED_S]:
                del doc.rejected[key]


def _one_function(instances: list[UserEdit], syntax: Syntax | None) -> tuple[int, int] | None:
    """The function all the instances lie in, if one does (their current spans)."""
    if syntax is None or any(e.span is None for e in instances):
        return None
    functions = {syntax.function_at(e.span[0]) for e in instances if e.span is not None}
    if len(functions) != 1:
        return None
    return next(iter(functions))


def _definition_scope(
    pattern: Pattern, edit: UserEdit, syntax: Syntax | None
) -> tuple[int, int] | None:
    """For a rename where the name is bound (`def f`, a parameter, `x = ...`), where it is
    visible: once is evidence enough that its uses there follow. None otherwise: any other
    change must be seen twice before it is repeated."""
    if pattern.kind != "rename" or syntax is None or edit.span is None:
        return None
    return syntax.binding_scope(edit.span[0])
