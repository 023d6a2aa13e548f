from smallcode_lsp.engine.speed import SpeedMeter


def test_a_step_fits_only_when_it_ends_by_the_deadline() -> None:
    meter = SpeedMeter(prompt_ms_per_token=2.0, generate_ms_per_token=20.0)
    assert meter.step_fits(deadline=10.030, now=10.0)  # 20 ms step, 30 ms left
    assert not meter.step_fits(deadline=10.015, now=10.0)
    # A verification step with drafts costs more than one token-time.
    assert not meter.step_fits(deadline=10.030, now=10.0, tokens=1.6)


def test_measurements_move_the_estimates() -> None:
    meter = SpeedMeter(prompt_ms_per_token=2.0, generate_ms_per_token=20.0)
    for _ in range(60):
        meter.record_step(50.0)
        meter.record_prompt(100, 100.0)
    assert abs(meter.generate_ms_per_token - 50.0) < 1
    assert abs(meter.prompt_ms_per_token - 1.0) < 0.05
    meter.record_prompt(2, 1000.0)  # too short to count
    assert abs(meter.prompt_ms_per_token - 1.0) < 0.05
