from smallcode_lsp.cadence import SHARE, TypingCadence


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
