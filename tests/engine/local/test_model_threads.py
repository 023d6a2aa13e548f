import sys

from smallcode_lsp.engine.local.model import apple_performance_cores, choose_threads


def test_performance_cores_win_on_apple_silicon() -> None:
    assert choose_threads(16, 12) == 12  # M3 Max: 12 performance + 4 efficiency cores
    assert choose_threads(8, 4) == 4  # M1: 4 + 4


def test_elsewhere_half_the_logical_cpus_above_four() -> None:
    assert choose_threads(2, None) == 2
    assert choose_threads(4, None) == 4
    assert choose_threads(16, None) == 8
    assert choose_threads(64, None) == 8


def test_no_performance_level_outside_macos() -> None:
    if sys.platform != "darwin":
        assert apple_performance_cores() is None
    else:
        cores = apple_performance_cores()
        assert cores is None or cores >= 1
