"""Next-edit model prompts from the format files, and answers read back as one edit."""

from __future__ import annotations

import pytest

from smallcode_lsp.nextedit.history import EditHistory
from smallcode_lsp.nextedit.model_format import (
    build_prompt,
    format_for,
    format_names,
    load_format,
    parse_answer,
)
from smallcode_lsp.options import setting_spec

TEXT = "def area(w, h):\n    return w * h\n\n\ndef volume(w, h, d):\n    return w * h * d\n"


def edited() -> tuple[str, EditHistory]:
    history = EditHistory(TEXT)
    text = TEXT.replace("def area(w, h)", "def area(width, h)")
    history.record(text, 0.0)
    return text, history


def test_every_format_file_loads_and_is_picked_by_model_file_name() -> None:
    assert format_names() == ["sweep", "zeta"]
    assert setting_spec("nextEditFormat").choices == tuple(format_names())  # one file each
    for name in format_names():
        assert load_format(name).name == name
    assert format_for("/m/sweep-next-edit-1.5b.q8_0.v2.gguf", None).name == "sweep"
    assert format_for("/m/zeta-7b-q4_K_M.gguf", None).name == "zeta"
    assert format_for("/m/gemma-3-270m.gguf", None) is None
    assert format_for("/m/gemma-3-270m.gguf", "zeta").name == "zeta"


@pytest.mark.parametrize("name", ["sweep", "zeta"])
def test_the_prompt_shows_the_edit_the_window_and_the_cursor(name: str) -> None:
    fmt = load_format(name)
    text, history = edited()
    cursor = text.index("width") + len("width")
    prompt = build_prompt(fmt, "geo.py", text, cursor, history.recent())
    assert prompt is not None
    assert "def area(w, h):" in prompt.text  # the line before the edit, in the history
    assert "def area(width, h):" in prompt.text
    if fmt.cursor:
        assert f"def area(width{fmt.cursor}, h)" in prompt.text
    window = text[prompt.window_start : prompt.window_end]
    assert window.startswith("def area(width, h):")


def test_sweep_shows_the_window_as_it_was_before_the_latest_edit() -> None:
    fmt = load_format("sweep")
    text, history = edited()
    prompt = build_prompt(fmt, "geo.py", text, text.index("width"), history.recent())
    assert prompt is not None
    original = prompt.text.split("<|file_sep|>original/geo.py\n")[1]
    assert original.startswith("def area(w, h):\n    return w * h")


def test_an_answer_becomes_one_minimal_edit_and_no_change_none() -> None:
    fmt = load_format("sweep")
    text, history = edited()
    prompt = build_prompt(fmt, "geo.py", text, text.index("width"), history.recent())
    assert prompt is not None
    window = text[prompt.window_start : prompt.window_end]
    answer = window.replace("return w * h\n", "return width * h\n", 1) + "\n<|file_sep|>x"
    site = parse_answer(fmt, prompt, answer, text)
    assert site is not None
    assert (text[site.start : site.end], site.text) == ("w", "width")
    assert text[: site.start].endswith("    return ")
    assert parse_answer(fmt, prompt, window, text) is None
    assert parse_answer(fmt, prompt, "", text) is None


def test_text_holding_a_formats_markers_gets_no_prompt() -> None:
    fmt = load_format("zeta")
    text = "x = '<|editable_region_end|>'\n"
    assert build_prompt(fmt, "a.py", text, 0, []) is None
