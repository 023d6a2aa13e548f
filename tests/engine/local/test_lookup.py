from smallcode_lsp.engine.local.lookup import NgramIndex


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


def reference_draft(tokens: list[int], max_tokens: int) -> list[int]:
    """Brute force: the most recent earlier occurrence of the tail trigram, else bigram."""
    end = len(tokens)
    for n in (3, 2):
        if end <= n:
            continue
        tail = tokens[end - n :]
        for start in range(end - n - 1, -1, -1):
            if tokens[start : start + n] == tail:
                return tokens[start + n : min(start + n + max_tokens, end)]
    return []


def test_matches_that_straddle_token_boundaries_are_not_matches() -> None:
    # Packed little-endian, [256, 256, 0] holds the bytes of [1, 1] one byte in: not a match.
    tokens = [256, 256, 0, 7, 1, 1]
    assert NgramIndex(tokens).draft(4) == reference_draft(tokens, 4) == []
    assert NgramIndex([1, 1, 0, 7, 1, 1]).draft(4) == [0, 7, 1, 1]


def test_same_drafts_as_brute_force_on_random_repetitive_streams() -> None:
    import random

    rng = random.Random(7)
    for _ in range(300):
        tokens = [rng.choice([0, 1, 2, 3, 256, 65536, 262143]) for _ in range(rng.randint(0, 40))]
        index = NgramIndex(tokens[: len(tokens) // 2])
        for token in tokens[len(tokens) // 2 :]:
            index.append(token)
        assert index.draft(5) == reference_draft(tokens, 5), tokens
