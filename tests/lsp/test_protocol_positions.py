"""FastPositionCodec gives exactly pygls' results, much faster on long lines."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp
from pygls.workspace.position_codec import PositionCodec

from smallcode_lsp.protocol import FastPositionCodec

alphabet = st.sampled_from(
    ["a", " ", "\n", "\r\n", "\r", "é", "日", "😀", "\ud83d", "\ude00", "\x00"]
)
documents = st.lists(alphabet, max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(
    text=documents,
    line=st.integers(0, 8),
    character=st.integers(0, 80),
    encoding=st.sampled_from(list(lsp.PositionEncodingKind)),
)
def test_same_results_as_pygls(text: str, line: int, character: int, encoding: str) -> None:
    lines = text.splitlines(True)
    slow, fast = PositionCodec(encoding), FastPositionCodec(encoding)
    p_slow = lsp.Position(line=line, character=character)
    p_fast = lsp.Position(line=line, character=character)
    assert fast.position_from_client_units(lines, p_fast) == slow.position_from_client_units(
        lines, p_slow
    )
    assert p_fast == p_slow  # pygls also clamps the position it was given
    for piece in lines:
        assert fast.client_num_units(piece) == slow.client_num_units(piece)


def test_a_long_line_converts_fast() -> None:
    line = "var a = '😀';" * 300_000  # ~4 MB, one line, not ASCII
    codec = FastPositionCodec(lsp.PositionEncodingKind.Utf16)
    started = time.perf_counter()
    position = codec.position_from_client_units([line], lsp.Position(line=0, character=3_000_000))
    assert time.perf_counter() - started < 0.5
    assert (
        position.character
        == PositionCodec()
        .position_from_client_units([line], lsp.Position(line=0, character=3_000_000))
        .character
    )
