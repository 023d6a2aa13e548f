import pytest

from smallcode_lsp.commands import offset_of, parse_location


def test_parse_location_allows_colons_in_the_path() -> None:
    assert parse_location("C:/src/a.py:3:7") == ("C:/src/a.py", 3, 7)


@pytest.mark.parametrize("bad", ["a.py", "a.py:3", "a.py:x:1", "a.py:0:1"])
def test_parse_location_rejects_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_location(bad)


def test_offset_of_is_one_based_and_clamps_column() -> None:
    text = "ab\ncdef\n"
    assert offset_of(text, 1, 1) == 0
    assert offset_of(text, 2, 3) == 5
    assert offset_of(text, 2, 99) == 7
    with pytest.raises(ValueError):
        offset_of(text, 9, 1)
