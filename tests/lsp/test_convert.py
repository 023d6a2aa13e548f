"""UTF-16 positions (the LSP default) must map to the right code-point offsets."""

import pytest
from lsprotocol import types as lsp
from pygls.workspace import TextDocument

from smallcode_lsp.convert import PositionOutOfRange, offset_at


def doc(text: str) -> TextDocument:
    return TextDocument("file:///t.py", text, language_id="python")


def test_ascii_position() -> None:
    d = doc("abc\ndef\n")
    assert offset_at(d, lsp.Position(line=1, character=2)) == 6


def test_emoji_counts_two_utf16_units() -> None:
    text = "s = '😀x'\nnext\n"
    d = doc(text)
    # 'x' is at UTF-16 column 7 (s, space, =, space, ', 😀 = 2 units)
    offset = offset_at(d, lsp.Position(line=0, character=7))
    assert text[offset] == "x"


def test_cjk_is_one_unit_each() -> None:
    text = "名前 = 1\n"
    d = doc(text)
    assert text[offset_at(d, lsp.Position(line=0, character=2))] == " "


def test_character_past_line_end_means_line_end() -> None:
    d = doc("ab\ncd\n")
    assert offset_at(d, lsp.Position(line=0, character=50)) == 2


def test_line_past_end_is_an_error() -> None:
    d = doc("ab\ncd\n")
    assert offset_at(d, lsp.Position(line=2, character=0)) == 6  # the empty last line
    with pytest.raises(PositionOutOfRange):
        offset_at(d, lsp.Position(line=7, character=0))
