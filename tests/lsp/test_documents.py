from smallcode_lsp.documents import MAX_PARSED_CHARS, DocumentStore, TextEdit

SOURCE = "def f(x):\n    return x\n"


def test_incremental_edits_track_the_text_and_tree() -> None:
    store = DocumentStore()
    store.open("u", SOURCE, "python", None)
    text = SOURCE.replace("return x", "return x + 1")
    store.change("u", [TextEdit(" + 1", (1, 12), (1, 12))], text)
    snap = store.snapshot("u", text)
    assert snap is not None and snap.text == text
    assert snap.tree is not None and not snap.tree.root_node.has_error


def test_a_wrong_edit_resyncs_from_the_synced_text() -> None:
    store = DocumentStore()
    store.open("u", SOURCE, "python", None)
    store.change("u", [TextEdit("zzz", (0, 0), (0, 2))], "x = 1\n")
    snap = store.snapshot("u", "x = 1\n")
    assert snap is not None and snap.text == "x = 1\n"


def test_large_documents_are_not_kept_parsed_until_they_shrink() -> None:
    store = DocumentStore()
    big = "x = 1\n" * (MAX_PARSED_CHARS // 6 + 10)
    store.open("u", big, "python", None)
    assert store.snapshot("u", big) is None
    store.change("u", [TextEdit(big[:10])], big[:10])
    snap = store.snapshot("u", big[:10])
    assert snap is not None and snap.tree is not None


def test_snapshot_of_stale_text_is_none() -> None:
    store = DocumentStore()
    store.open("u", SOURCE, "python", None)
    assert store.snapshot("u", SOURCE + "#") is None
    assert store.snapshot("other", SOURCE) is None
