from smallcode_lsp.engine.stops import first_cut, make_block_stop, stop_at_line_end


def test_line_stop_cuts_at_first_newline_after_text() -> None:
    assert stop_at_line_end("foo(x)") is None
    assert stop_at_line_end("foo(x)\nbar") == len("foo(x)")


def test_line_stop_allows_leading_newline_then_one_line() -> None:
    assert stop_at_line_end("\n    return x") is None
    assert stop_at_line_end("\n    return x\n") == len("\n    return x")


def test_block_stop_on_dedent_in_python_body() -> None:
    rule = make_block_stop("        ")  # blank line inside a method body
    text = "return 2 * x\n        y = 1\n    def other(self):\n"
    cut = rule(text)
    assert cut is not None
    assert text[:cut] == "return 2 * x\n        y = 1"


def test_block_stop_after_header_keeps_body_only() -> None:
    rule = make_block_stop("    def f(self):")
    text = "\n        return 1\n    def g(self):\n"
    cut = rule(text)
    assert cut is not None
    assert text[:cut] == "\n        return 1"


def test_block_stop_waits_for_complete_lines() -> None:
    rule = make_block_stop("        ")
    assert rule("return 2\n    de") is None  # the dedented line is not complete yet


def test_block_stop_on_two_blank_lines() -> None:
    rule = make_block_stop("")
    text = "a = 1\nb = 2\n\n\nc = 3\n"
    cut = rule(text)
    assert cut is not None and text[:cut].rstrip() == "a = 1\nb = 2"


def test_first_cut_takes_the_first_rule_that_fires() -> None:
    assert first_cut([lambda t: None, lambda t: 2], "abc") == 2
    assert first_cut([], "abc") is None
