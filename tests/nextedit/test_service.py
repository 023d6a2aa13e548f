"""NextEditService: offers, accepts seen from the text, rejections, the filters in force."""

from __future__ import annotations

from smallcode_lsp.nextedit.service import REJECTED_S, NextEditService, Offer


class Binding:
    """Syntax as for a file where every edited name is a definition's (`x = ...`)."""

    def function_at(self, offset: int) -> tuple[int, int] | None:
        return None

    def binding_scope(self, offset: int) -> tuple[int, int] | None:
        return (0, 1 << 30)  # the whole file


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def applied(text: str, offer: Offer) -> str:
    return text[: offer.site.start] + offer.site.text + text[offer.site.end :]


def edited(svc: NextEditService, clock: Clock, text: str, old: str, new: str, times: int) -> str:
    """`old` -> `new` at its first `times` places, each an edit of its own."""
    svc.open("u", text)
    for _ in range(times):
        clock.now += 10
        text = text.replace(old, new, 1)
        svc.change("u", text)
    return text


def test_a_rename_is_carried_site_by_site_through_accepts() -> None:
    clock = Clock()
    svc = NextEditService(clock)
    source = "value = 1\nprint(value)\ntotal = value + 1\n"
    text = edited(svc, clock, source, "value", "result", 1)
    assert svc.suggest("u", None, 0, text) == []  # without syntax: not known to be a definition
    seen = []
    for _ in range(3):
        offers = svc.suggest("u", None, 0, text, Binding())
        if not offers:
            break
        svc.shown(offers[0].id)
        text = applied(text, offers[0])
        seen.append(text)
        clock.now += 0.5
        svc.change("u", text)  # the client applied it: an accepted edit, not typing
        svc.accepted(offers[0].id)
    assert seen[-1] == "result = 1\nprint(result)\ntotal = result + 1\n"
    assert len(seen) == 2
    assert svc.counts.as_dict() == {"offered": 2, "shown": 2, "accepted": 2, "rejected": 0}


def test_any_other_change_is_repeated_once_the_user_made_it_twice() -> None:
    clock = Clock()
    svc = NextEditService(clock)
    source = "a = d.get(k)\nb = e.get(j)\nc = f.get(i)\n"
    text = edited(svc, clock, source, "d.get(k)", "d[k]", 1)
    assert svc.suggest("u", None, 0, text) == []
    clock.now += 10
    text = text.replace("e.get(j)", "e[j]")
    svc.change("u", text)
    assert [o.site.text for o in svc.suggest("u", None, 0, text)] == ["[i]"]


def test_an_edit_that_reverts_the_users_last_one_is_never_offered() -> None:
    clock = Clock()
    svc = NextEditService(clock)
    # `new` is in the file already (w): a substitution, repeated after three instances
    source = "x = old\ny = old\nv = old\nz = old\nw = new\n"
    text = edited(svc, clock, source, "= old", "= new", 3)
    assert [o.site.text for o in svc.suggest("u", None, 0, text)] == ["new"]  # z = old -> new
    clock.now += 10
    text = text.replace("w = new", "w = old")  # now the other way round
    svc.change("u", text)
    # `new` -> `old` would rewrite x and y, which the user just wrote; and z's old -> new
    # would undo what the user just did at w
    assert svc.suggest("u", None, 0, text) == []


def test_a_rejected_suggestion_stays_away_from_its_spot_for_a_while() -> None:
    clock = Clock()
    svc = NextEditService(clock)
    text = edited(svc, clock, "f(old)\ng(old)\nh(old)\nk(old)\n", "(old)", "(new)", 2)
    first = svc.suggest("u", None, 0, text)[0]
    svc.rejected(first.id)
    second = svc.suggest("u", None, 0, text)[0]
    assert second.site.start > first.site.start  # the next site, not the rejected one
    clock.now += REJECTED_S
    assert svc.suggest("u", None, 0, text)[0].site == first.site


def test_nothing_while_there_is_no_edit() -> None:
    svc = NextEditService(Clock())
    svc.open("u", "value = 1\nprint(value)\n")
    assert svc.suggest("u", None, 0, "value = 1\nprint(value)\n") == []
    assert svc.suggest("unknown", None, 0, "") == []
