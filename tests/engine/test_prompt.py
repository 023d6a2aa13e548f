from smallcode_lsp.engine.info import FimTokens
from smallcode_lsp.engine.prompt import PromptFormat, build_prompt, render_comment_context
from smallcode_lsp.types import ContextSnippet, PromptParts


def fake_tokenize(text: str) -> list[int]:
    return [ord(c) for c in text]


NO_FIM = FimTokens(pre=None, suf=None, mid=None)
FIM = FimTokens(pre=-10, suf=-11, mid=-12)
REPO_FIM = FimTokens(pre=-10, suf=-11, mid=-12, repo=-13, file_sep=-14)


def test_prefix_only_prompt_has_bos_context_then_prefix() -> None:
    parts = PromptParts(
        prefix="def f():\n", suffix="ignored", file_path="a.py", language_id="python"
    )
    tokens = build_prompt(parts, PromptFormat(NO_FIM, bos=1, add_bos=True), fake_tokenize)
    assert tokens[0] == 1
    text = "".join(chr(t) for t in tokens[1:])
    assert text == "# Path: a.py\ndef f():\n"
    assert "ignored" not in text


def test_fim_prompt_layout() -> None:
    parts = PromptParts(prefix="P", suffix="S", language_id="python")
    tokens = build_prompt(parts, PromptFormat(FIM, bos=None, add_bos=False), fake_tokenize)
    assert tokens == [-10, ord("P"), -11, ord("S"), -12]


def test_fim_disabled_by_setting_falls_back_to_prefix_only() -> None:
    parts = PromptParts(prefix="P", suffix="S")
    fmt = PromptFormat(FIM, bos=None, add_bos=False, use_fim=False)
    assert build_prompt(parts, fmt, fake_tokenize) == [ord("P")]


def test_repo_level_prompt_puts_snippets_in_file_sections() -> None:
    snippet = ContextSnippet(path="lib/util.py", text="def helper(): ...")
    parts = PromptParts(prefix="P", suffix="S", snippets=(snippet,), file_path="main.py")
    tokens = build_prompt(parts, PromptFormat(REPO_FIM, bos=None, add_bos=False), fake_tokenize)
    assert tokens[0] == -13
    assert tokens.count(-14) == 2
    tail = tokens[tokens.index(-10) :]
    assert tail == [-10, ord("P"), -11, ord("S"), -12]


def test_context_rendering_is_stable_and_commented() -> None:
    snippet = ContextSnippet(path="x.js", text="function a() {}\n\nconst b = 1;")
    text = render_comment_context((snippet,), "y.js", "javascript")
    assert text.splitlines() == [
        "// Path: x.js",
        "// function a() {}",
        "//",
        "// const b = 1;",
        "",
        "// Path: y.js",
    ]
    assert text == render_comment_context((snippet,), "y.js", "javascript")


def test_prefix_change_keeps_the_front_of_the_token_list() -> None:
    fmt = PromptFormat(FIM, bos=1, add_bos=True)
    snippet = ContextSnippet(path="u.py", text="x = 1")
    a = build_prompt(
        PromptParts(prefix="def f", suffix="S", snippets=(snippet,)), fmt, fake_tokenize
    )
    b = build_prompt(
        PromptParts(prefix="def fo", suffix="S", snippets=(snippet,)), fmt, fake_tokenize
    )
    common = 0
    while a[common] == b[common]:
        common += 1
    assert common == len(a) - 3  # only the new character, FIM_SUF, suffix, FIM_MID differ
