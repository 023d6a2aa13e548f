"""NextEditService: offers, accepts seen from the text, rejections, the filters in force."""

from __future__ import annotations

from smallcode_lsp.nextedit.service import REJECTED_S, NextEditService, Offer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def applied(text: str, offer: Offer) -> str:
    return text[: offer.site.start] + offer.site.text + text[offer.site.end :]


def renamed_first(svc: NextEditService, clock: Clock, text: str, old: str, new: str) -> str:
    svc.open("u", text)
    clock.now += 10
    text = text.replace(old, new, 1)
    svc.change("u", text)
    return text


def test_a_rename_is_carried_site_by_site_through_accepts() -> None:
    clock = Clock()
    svc = NextEditService(clock)
    text = renamed_first(
        svc, clock, "value = 1\nprint(value)\ntotal = value + 1\n", "value", "result"
    )
    seen = []
    for _ in range(3):
        offers = svc.suggest("u", None, 0, text)
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


def test_an_edit_that_reverts_the_users_last_one_is_never_offered() -> None:
    clock = Clock()
    svc = NextEditService(clock)
    text = renamed_first(svc, clock, "x = old\ny = old\nz = new\n", "x = old", "x = new")
    assert [o.site.text for o in svc.suggest("u", None, 0, text)] == ["new"]  # y = old -> new
    clock.now += 10
    text = text.replace("z = new", "z = old")  # now the other way round
    svc.change("u", text)
    # `new` -> `old` would rewrite line 1, which the user just wrote; and y's old -> new
    # would undo what the user just did at z
    assert svc.suggest("u", None, 0, text) == []


def test_a_rejected_suggestion_stays_away_from_its_spot_for_a_while() -> None:
    clock = Clock()
    svc = NextEditService(clock)
    text = renamed_first(svc, clock, "f(old)\ng(old)\nh(old)\n", "f(old)", "f(new)")
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
