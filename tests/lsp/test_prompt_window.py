from smallcode_lsp.prompt_window import ANCHOR_LINES, prefix_window, suffix_window


def count(text: str) -> int:
    return len(text) // 4 + 1


def make_file(lines: int) -> str:
    return "".join(f"value_{i} = compute({i}, factor={i * 3})\n" for i in range(lines))


def test_small_prefix_is_kept_whole() -> None:
    prefix = make_file(10)
    assert prefix_window(prefix, 10_000, count) == prefix


def test_window_fits_budget_and_starts_on_anchor_line() -> None:
    prefix = make_file(500)
    window = prefix_window(prefix, 1000, count)
    assert count(window) <= 1000
    first_line = window.split("\n", 1)[0]
    index = int(first_line.split("_")[1].split(" ")[0])
    assert index % ANCHOR_LINES == 0


def test_window_start_is_stable_while_typing() -> None:
    prefix = make_file(500)
    starts = set()
    typed = ""
    for ch in "result = compute_total(values)":
        typed += ch
        window = prefix_window(prefix + typed, 1000, count)
        starts.add(window.split("\n", 1)[0])
    assert len(starts) == 1


def test_huge_single_line_is_cut_to_its_tail() -> None:
    prefix = "x" * 100_000
    window = prefix_window(prefix, 100, count)
    assert prefix.endswith(window)
    assert len(window) <= 200


def test_suffix_window_fits_budget_at_line_end() -> None:
    suffix = make_file(200)
    window = suffix_window(suffix, 100, count)
    assert count(window) <= 100
    assert suffix.startswith(window)
