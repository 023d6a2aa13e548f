"""The openai kind's pure parts: FIM templates, stand-in tokens rendered back to text in a
template's layout, the streamed chunks, and the request bodies."""

from __future__ import annotations

import pytest

from smallcode_lsp.engine.info import NO_FIM, FimTokens
from smallcode_lsp.engine.prompt import PromptFormat, build_prompt
from smallcode_lsp.engine.remote.http import BadResponse, parse_sse_line
from smallcode_lsp.engine.remote.openai_api import (
    ServedModel,
    Usage,
    api_root,
    completion_body,
    pick_model,
    read_chunk,
    served_models,
    stop_reason,
)
from smallcode_lsp.engine.remote.text_prompt import (
    FILLER,
    PRESETS,
    TemplateError,
    TextBlocks,
    choose_template,
    estimate_tokens,
)
from smallcode_lsp.engine.tokens import blocks
from smallcode_lsp.types import ContextSnippet, GenerationParams, PromptParts, StopReason

PARTS = PromptParts(
    prefix="def add(a, b):\n    return ",
    suffix="\n\nprint(add(1, 2))\n",
    file_path="calc.py",
    language_id="python",
    snippets=(ContextSnippet(path="util.py", text="def sub(a, b):\n    return a - b"),),
)


def words(text: str) -> int:
    return len(text.split()) or 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("qwen", "<|fim_prefix|>P{suffix}<|fim_suffix|>S{prefix}<|fim_middle|>"),
        (
            "deepseek",
            "<\uff5cfim\u2581begin\uff5c>P{suffix}<\uff5cfim\u2581hole\uff5c>S{prefix}"
            "<\uff5cfim\u2581end\uff5c>",
        ),
        ("starcoder2", "<fim_prefix>P{suffix}<fim_suffix>S{prefix}<fim_middle>"),
        ("codellama", "<PRE> P{suffix} <SUF>S{prefix} <MID>"),
        ("codestral", "[SUFFIX]S{prefix}[PREFIX]P{suffix}"),
    ],
)
def test_presets_render_in_one_pass(name: str, expected: str) -> None:
    # Code that spells a placeholder stays as written.
    assert PRESETS[name].render("P{suffix}", "S{prefix}") == expected


def test_choose_template() -> None:
    assert choose_template(None, "Qwen/Qwen2.5-Coder-1.5B") is PRESETS["qwen"]
    assert choose_template("", "qwen3-coder:30b") is PRESETS["qwen"]
    assert choose_template(None, "deepseek-ai/deepseek-coder-1.3b-base") is PRESETS["deepseek"]
    assert choose_template(None, "bigcode/starcoder2-3b") is PRESETS["starcoder2"]
    assert choose_template(None, "codellama/CodeLlama-7b-hf") is PRESETS["codellama"]
    assert choose_template(None, "mistralai/Codestral-22B-v0.1") is PRESETS["codestral"]
    assert choose_template(None, "gemma-3-270m.gguf") is None  # unknown: prefix-only
    assert choose_template(None, "Qwen/Qwen2.5-7B") is None  # not a coder model
    assert choose_template("none", "Qwen/Qwen2.5-Coder-1.5B") is None
    assert choose_template("StarCoder2", "x") is PRESETS["starcoder2"]
    custom = choose_template("<A>{prefix}<B>{suffix}<C>", "x")
    assert custom is not None and custom.render("p", "s") == "<A>p<B>s<C>"
    for bad in ("qwen25", "<A>{prefix}", "{prefix}{suffix}{prefix}"):
        with pytest.raises(TemplateError, match="neither a preset"):
            choose_template(bad, "x")


def test_stand_ins_count_real_tokens_and_render_back() -> None:
    blocks = TextBlocks(words)
    text = "".join(f"line {i} of code\n" for i in range(40))
    ids = blocks.tokenize(text)
    assert len(ids) == blocks.count(text) == sum(words(b) for b in _blocks(text))
    assert blocks.render(ids, None) == text
    assert blocks.tokenize(text) == ids  # same text, same ids: the cache record compares them


def _blocks(text: str) -> list[str]:
    return list(blocks(text))


def test_a_prefix_only_prompt_is_the_text_with_context_first() -> None:
    blocks = TextBlocks(words)
    fmt = PromptFormat(fim=choose_fim(None), bos=None, add_bos=False)
    text = blocks.render(build_prompt(PARTS, fmt, blocks.tokenize), None)
    assert text == "# Path: util.py\n# def sub(a, b):\n#     return a - b\n\n# Path: calc.py\n" + (
        PARTS.prefix
    )


def choose_fim(name: str | None) -> FimTokens:
    return PRESETS[name].fim if name else NO_FIM


@pytest.mark.parametrize("name", ["deepseek", "codellama", "codestral"])
def test_fim_prompts_in_each_templates_layout(name: str) -> None:
    blocks = TextBlocks(words)
    template = PRESETS[name]
    fmt = PromptFormat(fim=template.fim, bos=None, add_bos=False)
    ids = build_prompt(PARTS, fmt, blocks.tokenize)
    context = "# Path: util.py\n# def sub(a, b):\n#     return a - b\n\n# Path: calc.py\n"
    assert blocks.render(ids, template) == template.render(context + PARTS.prefix, PARTS.suffix)


def test_repo_level_prompt_for_qwen() -> None:
    blocks = TextBlocks(words)
    template = PRESETS["qwen"]
    fmt = PromptFormat(fim=template.fim, bos=None, add_bos=False)
    assert fmt.repo_level
    text = blocks.render(build_prompt(PARTS, fmt, blocks.tokenize), template)
    assert text == (
        "<|repo_name|>workspace\n<|file_sep|>util.py\ndef sub(a, b):\n    return a - b\n"
        "<|file_sep|>calc.py\n<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>"
        "\n\nprint(add(1, 2))\n<|fim_middle|>"
    )


def test_use_fim_off_sends_no_template() -> None:
    blocks = TextBlocks(words)
    fmt = PromptFormat(fim=PRESETS["qwen"].fim, bos=None, add_bos=False, use_fim=False)
    text = blocks.render(build_prompt(PARTS, fmt, blocks.tokenize), PRESETS["qwen"])
    assert "<|fim" not in text and text.endswith(PARTS.prefix)


def test_evicted_blocks_take_their_text_along() -> None:
    blocks = TextBlocks(words, max_blocks=2)
    for i in range(5):
        blocks.tokenize(f"block {i}\n")
    assert len(blocks.texts) == 2
    assert FILLER not in blocks.texts


def test_estimate() -> None:
    assert estimate_tokens("abcdefg", 3.0) == 3
    assert estimate_tokens("", 3.0) == 0


def test_sse_chunks_as_the_servers_send_them() -> None:
    pending: list[bytes] = []
    stream = [
        b'data: {"choices":[{"text":"a + b","index":0,"finish_reason":null}]}\n',
        b"\n",
        b": ping\n",
        b'data: {"choices":[{"text":"","index":0,"finish_reason":"length"}],\n',
        b"\n",
        b'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,'
        b'"prompt_tokens_details":{"cached_tokens":8}}}\n',
        b"\n",
        b"data: [DONE]\n",
        b"\n",
    ]
    with pytest.raises(BadResponse):  # a truncated JSON line is garbage, said so
        [parse_sse_line(line, pending) for line in stream]
    pending.clear()
    stream[3] = stream[3].replace(b"],\n", b"]}\n")
    events = [e for line in stream if (e := parse_sse_line(line, pending)) is not None]
    chunks = [read_chunk(e) for e in events]
    assert [c.text for c in chunks] == ["a + b", "", ""]
    assert [c.finish_reason for c in chunks] == [None, "length", None]
    assert chunks[2].usage == Usage(prompt_tokens=12, completion_tokens=3, cached_tokens=8)
    assert stop_reason("length") is StopReason.MAX_TOKENS
    assert stop_reason("stop") is StopReason.EOG


def test_bad_chunks() -> None:
    for bad in ({"choices": "x"}, {"choices": [3]}, {"id": "no choices"}):
        with pytest.raises(BadResponse):
            read_chunk(bad)
    assert read_chunk({"choices": [{"text": None, "finish_reason": ""}]}).finish_reason is None


def test_bodies_and_models() -> None:
    body = completion_body("m", "text", GenerationParams(max_tokens=17))
    assert body == {
        "model": "m",
        "prompt": "text",
        "max_tokens": 17,
        "stream": True,
        "temperature": 0.0,
        "seed": 0,
        "stream_options": {"include_usage": True},
    }
    assert api_root("https://h:8000/v1/") == "https://h:8000"
    assert api_root("http://h/proxy/v1") == "http://h/proxy"
    models = served_models({"data": [{"id": "a", "max_model_len": 8192}, {"id": ""}, {"id": "b"}]})
    assert models == [ServedModel("a", 8192, {}), ServedModel("b", None, {})]
    assert pick_model(models, None).id == "a"
    assert pick_model(models, "b").id == "b"
    with pytest.raises(BadResponse, match=r"engineModel 'c' is not served .*serves: a, b"):
        pick_model(models, "c")
    with pytest.raises(BadResponse, match="serves no model"):
        pick_model([], None)
