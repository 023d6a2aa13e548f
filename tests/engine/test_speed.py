from smallcode_lsp.engine.speed import SpeedMeter


def test_a_step_fits_only_when_it_ends_by_the_deadline() -> None:
    meter = SpeedMeter(generate_ms_per_token=20.0)
    assert meter.step_fits(deadline=10.030, now=10.0)  # 20 ms step, 30 ms left
    assert not meter.step_fits(deadline=10.015, now=10.0)
    # A verification step with drafts costs more than one token-time.
    assert not meter.step_fits(deadline=10.030, now=10.0, tokens=1.6)


def test_measurements_move_the_estimate() -> None:
    meter = SpeedMeter(generate_ms_per_token=20.0)
    for _ in range(60):
        meter.record_step(50.0)
    assert abs(meter.generate_ms_per_token - 50.0) < 1
