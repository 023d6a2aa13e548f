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
