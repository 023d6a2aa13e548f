from smallcode_lsp.engine.tokens import BlockTokenizer, blocks


def test_blocks_cover_the_text_and_never_start_with_an_empty_line() -> None:
    text = "".join(f"line {i}\n" + ("\n\n" if i % 5 == 4 else "") for i in range(100)) + "tail"
    pieces = list(blocks(text, lines=4))
    assert "".join(pieces) == text
    assert all(not p.startswith(("\n", "\r")) for p in pieces)
    assert all(p.endswith("\n") for p in pieces[:-1])


def test_only_the_edited_block_is_tokenized_again() -> None:
    calls: list[str] = []

    def tokenize(text: str) -> list[int]:
        calls.append(text)
        return [ord(c) for c in text]

    counter = BlockTokenizer(tokenize)
    text = "".join(f"x = {i}\n" for i in range(200))
    assert counter.tokenize(text) == [ord(c) for c in text]
    calls.clear()
    assert counter.count(text + "y") == len(text) + 1
    assert len(calls) == 1 and calls[0].endswith("y")  # the last block only
