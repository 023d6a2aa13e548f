from smallcode_lsp.typeahead import TypeAheadCache

PREFIX = "def area(self):\n    return "
SUFFIX = "\n\ndef other():\n    pass\n"


def test_typing_along_the_suggestion_returns_the_rest() -> None:
    cache = TypeAheadCache()
    cache.add(PREFIX, SUFFIX, "math.pi * r ** 2")
    assert cache.lookup(PREFIX, SUFFIX) == "math.pi * r ** 2"
    assert cache.lookup(PREFIX + "ma", SUFFIX) == "th.pi * r ** 2"
    assert cache.lookup(PREFIX + "math.pi * r ** ", SUFFIX) == "2"


def test_diverging_text_misses() -> None:
    cache = TypeAheadCache()
    cache.add(PREFIX, SUFFIX, "math.pi * r ** 2")
    assert cache.lookup(PREFIX + "mx", SUFFIX) is None
    assert cache.lookup(PREFIX + "math.pi * r ** 2", SUFFIX) is None  # fully typed
    assert cache.lookup(PREFIX, SUFFIX + "x") is None  # the text after the cursor changed
    assert cache.lookup("x" + PREFIX[1:], SUFFIX) is None  # the text before changed


def test_backspace_returns_to_an_older_suggestion() -> None:
    cache = TypeAheadCache()
    cache.add(PREFIX, SUFFIX, "math.pi * r ** 2")
    cache.add(PREFIX + "x", SUFFIX, " * 2")
    assert cache.lookup(PREFIX, SUFFIX) == "math.pi * r ** 2"


def test_bounded_entries_and_whitespace_ignored() -> None:
    cache = TypeAheadCache(max_entries=3)
    for i in range(10):
        cache.add(PREFIX + str(i), SUFFIX, "value")
    cache.add(PREFIX, SUFFIX, "   ")
    assert len(cache) == 3
    assert cache.lookup(PREFIX + "0", SUFFIX) is None
    assert cache.lookup(PREFIX + "9", SUFFIX) == "value"


def test_a_cut_short_suggestion_is_found_as_incomplete() -> None:
    cache = TypeAheadCache()
    cache.add(PREFIX, SUFFIX, "math.pi", complete=False)
    hit = cache.find(PREFIX + "ma", SUFFIX)
    assert hit is not None and hit.rest == "th.pi" and not hit.complete
    cache.add(PREFIX, SUFFIX, "math.pi * r ** 2")  # the prefetch finished it
    hit = cache.find(PREFIX + "ma", SUFFIX)
    assert hit is not None and hit.rest == "th.pi * r ** 2" and hit.complete
