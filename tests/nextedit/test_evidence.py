"""What the user's instances of a change must agree with before a site is offered (evidence.py),
through the service as the server drives it: the caret at the end of the user's last edit."""

from __future__ import annotations

from collections.abc import Callable

from smallcode_lsp.nextedit.evidence import BACK_LINES
from smallcode_lsp.nextedit.service import NextEditService, Offer, Syntax


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Functions:
    """Syntax for a text of top-level `def` blocks: each runs to the next `def` (no bindings)."""

    def __init__(self, text: str) -> None:
        self.starts = [i for i in range(len(text)) if text.startswith("def ", i)]
        self.length = len(text)

    def function_at(self, offset: int) -> tuple[int, int] | None:
        ends = [*self.starts[1:], self.length]
        spans = zip(self.starts, ends, strict=True)
        return next(((s, e) for s, e in spans if s <= offset < e), None)

    def binding_scope(self, offset: int) -> tuple[int, int] | None:
        return None


class Binding:
    """Syntax as for a file where every edited name is a definition's (`x = ...`)."""

    def function_at(self, offset: int) -> tuple[int, int] | None:
        return None

    def binding_scope(self, offset: int) -> tuple[int, int] | None:
        return (0, 1 << 30)


class User:
    """One document edited by hand, site by site; asks as the server does, at the caret."""

    def __init__(self, text: str) -> None:
        self.clock = Clock()
        self.svc = NextEditService(self.clock)
        self.text, self.caret = text, 0
        self.svc.open("u", text)

    def edit(self, old: str, new: str, after: str = "") -> None:
        """`old` -> `new` at its first occurrence that follows `after`."""
        at = self.text.index(old, self.text.index(after) + len(after) if after else 0)
        self.clock.now += 10
        self.text = self.text[:at] + new + self.text[at + len(old) :]
        self.caret = at + len(new)
        self.svc.change("u", self.text)

    def offers(self, syntax: Callable[[str], Syntax] | None = None) -> list[str]:
        """What is offered at the caret, accepted one after another: each as its line then.
        `syntax`: the text's syntax, from the text."""
        lines = []
        for _ in range(10):
            tree = syntax(self.text) if syntax else None
            offer = self.svc.suggest("u", None, self.caret, self.text, tree)
            if not offer:
                break
            self.accept(offer[0])
            lines.append(self._line(offer[0].site.start))
        return lines

    def accept(self, offer: Offer) -> None:
        site = offer.site
        self.text = self.text[: site.start] + site.text + self.text[site.end :]
        self.caret = site.start + len(site.text)
        self.clock.now += 0.5
        self.svc.change("u", self.text)
        self.svc.accepted(offer.id)

    def _line(self, offset: int) -> str:
        start = self.text.rfind("\n", 0, offset) + 1
        end = self.text.find("\n", offset)
        return self.text[start : len(self.text) if end < 0 else end]


def test_a_rename_to_a_name_the_file_already_has_needs_a_third_instance() -> None:
    source = "from t import Dict, Mapping\na: Dict = 1\nb: Dict = 2\nc: Dict = 3\nd: Dict = 4\n"
    user = User(source)
    user.edit("Dict", "Mapping", after="\n")
    user.edit("Dict", "Mapping", after="a:")
    assert user.offers() == []  # `Mapping` was there: swapping one thing for another
    user.edit("Dict", "Mapping", after="b:")
    assert user.offers() == ["d: Mapping = 4"]
    fresh = User(source)
    fresh.edit("Dict", "Table", after="\n")
    fresh.edit("Dict", "Table", after="a:")
    assert fresh.offers() == ["c: Table = 3", "d: Table = 4"]  # a new name: after two


def test_a_definition_renamed_once_to_an_existing_name_is_not_propagated() -> None:
    user = User("value = 1\nprint(value)\nresult = 2\n")
    user.edit("value", "result")
    assert user.offers(lambda _: Binding()) == []
    fresh = User("value = 1\nprint(value)\n")
    fresh.edit("value", "total")
    assert fresh.offers(lambda _: Binding()) == ["print(total)"]


def test_a_rewrite_to_text_the_file_already_has_needs_a_third_instance() -> None:
    source = (
        "  if (a) goto error;\n  if (b) return NULL;\n  if (c) return NULL;\n"
        "  if (d) return NULL;\n  if (e) return NULL;\n"
    )
    user = User(source)
    user.edit("return NULL", "goto error")
    user.edit("return NULL", "goto error")
    assert user.offers() == []  # `goto error` was there: which exit is a choice per site
    user.edit("return NULL", "goto error")
    assert user.offers() == ["  if (e) goto error;"]
    fresh = User(source.replace("goto error", "return 0"))
    fresh.edit("return NULL", "goto fail")
    fresh.edit("return NULL", "goto fail")
    assert fresh.offers() == ["  if (d) goto fail;", "  if (e) goto fail;"]


def test_an_insertion_is_not_a_substitution() -> None:
    user = User("fetch(a, 1)\nfetch(b)\nfetch(c)\nfetch(d)\n")
    user.edit("fetch(b)", "fetch(b, 1)")
    user.edit("fetch(c)", "fetch(c, 1)")
    assert user.offers() == ["fetch(d, 1)"]  # `, 1` was in the file: an insertion swaps nothing


def test_a_site_inside_a_string_needs_an_instance_inside_one() -> None:
    user = User("x = old + 1\nf(old)\nlog('old')\ny = old\n")
    user.edit("old", "new")
    user.edit("old", "new", after="f(")
    assert user.offers() == ["y = new"]


def test_a_site_the_user_passed_over_is_left_as_it_is() -> None:
    user = User("a = old\nb = old\nc = old\nd = old\n")
    user.edit("old", "new")
    user.edit("old", "new", after="c =")  # b skipped
    assert user.offers() == ["d = new"]


def test_no_jump_back_further_than_a_screen() -> None:
    user = User("v = old\n" + "pass\n" * BACK_LINES + "a = old\nb = old\n")
    user.edit("old", "new", after="a =")
    user.edit("old", "new", after="b =")
    assert user.offers() == []
    near = User("v = old\n" + "pass\n" * (BACK_LINES - 2) + "a = old\nb = old\n")
    near.edit("old", "new", after="a =")
    near.edit("old", "new", after="b =")
    assert near.offers() == ["v = new"]


def test_a_change_made_twice_inside_one_function_stays_in_it() -> None:
    user = User(
        "def f():\n    x = d.get(k)\n    y = e.get(j)\n    z = g.get(i)\n"
        "def h():\n    w = m.get(n)\n"
    )
    user.edit("d.get(k)", "d[k]")
    user.edit("e.get(j)", "e[j]")
    assert user.offers(Functions) == ["    z = g[i]"]
