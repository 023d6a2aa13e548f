from smallcode_lsp.engine.speed import MIN_TOKENS, SpeedMeter


def test_budget_leaves_room_for_the_prompt() -> None:
    meter = SpeedMeter(prompt_ms_per_token=2.0, generate_ms_per_token=20.0)
    assert meter.max_tokens_within(300, prompt_tokens=50, requested=64) == 10
    assert meter.max_tokens_within(10_000, prompt_tokens=0, requested=64) == 64


def test_budget_never_goes_below_the_minimum() -> None:
    meter = SpeedMeter(prompt_ms_per_token=2.0, generate_ms_per_token=20.0)
    assert meter.max_tokens_within(100, prompt_tokens=2000, requested=64) == MIN_TOKENS
    assert meter.max_tokens_within(100, prompt_tokens=2000, requested=4) == 4


def test_measurements_move_the_estimates() -> None:
    meter = SpeedMeter(prompt_ms_per_token=2.0, generate_ms_per_token=20.0)
    for _ in range(20):
        meter.record_generation(10, 500.0)
        meter.record_prompt(100, 100.0)
    assert abs(meter.generate_ms_per_token - 50.0) < 1
    assert abs(meter.prompt_ms_per_token - 1.0) < 0.05
    meter.record_prompt(2, 1000.0)  # too short to count
    assert abs(meter.prompt_ms_per_token - 1.0) < 0.05
