from smallcode_lsp.engine.lookup import NgramIndex


def test_draft_continues_an_earlier_occurrence() -> None:
    index = NgramIndex([1, 2, 3, 4, 5, 6, 9, 1, 2, 3])
    assert index.draft(3) == [4, 5, 6]


def test_draft_prefers_the_most_recent_occurrence() -> None:
    index = NgramIndex([1, 2, 3, 7, 0, 1, 2, 3, 8, 0, 1, 2, 3])
    assert index.draft(2) == [8, 0]


def test_no_draft_without_a_repeat() -> None:
    assert NgramIndex([1, 2, 3, 4]).draft(4) == []
    assert NgramIndex([]).draft(4) == []


def test_falls_back_to_bigram_and_updates_on_append() -> None:
    index = NgramIndex([5, 6, 7, 1, 2])
    assert index.draft(2) == []
    index.append(5)
    index.append(6)
    assert index.draft(2) == [7, 1]
