from smallcode_lsp.cadence import PAUSE_FACTOR, SHARE, TypingCadence


def test_configured_budget_until_a_burst_is_measured() -> None:
    cadence = TypingCadence()
    cadence.note("a", 0.0)
    assert cadence.budget_ms("a", 1000) == 1000
    cadence.note("a", 0.125)
    assert cadence.budget_ms("a", 1000) == 1000  # one interval is not yet a rhythm


def test_a_burst_shrinks_the_budget_to_a_share_of_the_interval() -> None:
    cadence = TypingCadence()
    for i in range(6):
        cadence.note("a", i * 0.125)
    assert abs(cadence.budget_ms("a", 1000) - SHARE * 125) < 1e-6
    assert cadence.budget_ms("a", 50) == 50  # never above the configured budget
    assert cadence.budget_ms("b", 1000) == 1000  # per document


def test_a_pause_ends_the_burst() -> None:
    cadence = TypingCadence()
    for i in range(6):
        cadence.note("a", i * 0.1)
    cadence.note("a", 5.0)
    assert cadence.budget_ms("a", 1000) == 1000
    cadence.forget("a")
    assert cadence.budget_ms("a", 1000) == 1000


def test_background_work_waits_for_a_pause_in_a_burst() -> None:
    cadence = TypingCadence()
    cadence.note("a", 0.0)
    assert cadence.pause_delay("a", 0.01) == 0.0  # no burst: start now
    for i in range(1, 6):
        cadence.note("a", i * 0.1)
    # Last key at 0.5 s, keys every 0.1 s: a pause shows once 0.15 s pass without one.
    assert abs(cadence.pause_delay("a", 0.52) - (0.5 + PAUSE_FACTOR * 0.1 - 0.52)) < 1e-9
    assert cadence.pause_delay("a", 0.9) == 0.0


def test_a_bursts_first_keys_get_a_share_of_the_users_usual_pace() -> None:
    """No rhythm yet in a new document: opening_budget_ms is a share of the interval the user
    typed at before (any document); budget_ms keeps the configured budget for cold spots."""
    cadence = TypingCadence()
    cadence.note("b", 0.0)
    assert cadence.opening_budget_ms("b", 1000) is None  # the user's pace is not known yet
    for i in range(6):
        cadence.note("a", 10 + i * 0.125)
    assert cadence.opening_budget_ms("a", 1000) is None  # in a burst: budget_ms shrinks
    cadence.note("b", 20.0)  # the first key at a new spot
    assert cadence.budget_ms("b", 1000) == 1000
    assert abs(cadence.opening_budget_ms("b", 1000) - SHARE * 125) < 1e-6  # type: ignore[operator]
    # Background work there waits for a pause at the user's usual pace too.
    assert abs(cadence.pause_delay("b", 20.0) - PAUSE_FACTOR * 0.125) < 1e-9
