"""Prompts sent as text to an OpenAI-compatible engine, built by the same pipeline as token
lists: FIM templates rendered client-side (vLLM's `/v1/completions` has no `suffix`), and the
stand-in token ids that carry the text through the pipeline.

The pipeline budgets and builds prompts in tokens (completion/, prompt.py). For an engine
that takes text, `TextBlocks` hands it stand-ins: each line block (tokens.py) becomes one id
naming the block's text, padded with FILLER ids to the block's length in the engine's tokens,
so every budget counts real tokens while `render` turns the list back into the text to send.
FIM markers are the ids PRE, SUF and MID (and REPO, FILE_SEP for repo-level prompts), placed
by build_prompt in prefix-suffix-middle order: a template may put the parts in any order.
Same text, same ids: the record of what the engine's cache holds compares stand-ins.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from smallcode_lsp.engine.info import FimTokens
from smallcode_lsp.engine.tokens import MAX_BLOCKS, BlockTokenizer

FILLER, PRE, SUF, MID, REPO, FILE_SEP = 0, 1, 2, 3, 4, 5
FIRST_BLOCK = 16  # block ids are 16 + a 56-bit hash of the text
STAND_IN_FIM = FimTokens(PRE, SUF, MID)
PLACEHOLDER = re.compile(r"\{prefix\}|\{suffix\}")


@dataclass(frozen=True)
class FimTemplate:
    """How one model family spells a fill-in-the-middle prompt; `text` holds `{prefix}` and
    `{suffix}` once each. `repo`/`file_sep`: the repo-level markers, when the family has
    them (context files come before the template, each after `file_sep` and its path)."""

    name: str
    text: str
    repo: str | None = None
    file_sep: str | None = None

    def render(self, prefix: str, suffix: str) -> str:
        """The template with the parts in place (in one pass: code may spell `{suffix}`)."""
        values = {"{prefix}": prefix, "{suffix}": suffix}
        return PLACEHOLDER.sub(lambda m: values[m.group(0)], self.text)

    @property
    def fim(self) -> FimTokens:
        if self.repo is None or self.file_sep is None:
            return STAND_IN_FIM
        return FimTokens(PRE, SUF, MID, REPO, FILE_SEP)


NO_TEMPLATE = "none"
PRESETS: dict[str, FimTemplate] = {
    t.name: t
    for t in (
        FimTemplate(  # Qwen2.5-Coder, Qwen3-Coder
            "qwen",
            "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
            "<|repo_name|>",
            "<|file_sep|>",
        ),
        FimTemplate(  # DeepSeek-Coder (fullwidth bars, U+2581 lower eighth block)
            "deepseek",
            "<\uff5cfim\u2581begin\uff5c>{prefix}<\uff5cfim\u2581hole\uff5c>{suffix}"
            "<\uff5cfim\u2581end\uff5c>",
        ),
        FimTemplate(
            "starcoder2",
            "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
            "<repo_name>",
            "<file_sep>",
        ),
        FimTemplate("codellama", "<PRE> {prefix} <SUF>{suffix} <MID>"),
        FimTemplate("codestral", "[SUFFIX]{suffix}[PREFIX]{prefix}"),  # suffix first (SPM)
    )
}
# Substrings of a served model's name -> its preset (checked in order, lower case).
BY_MODEL_NAME = (
    ("qwen", "coder", "qwen"),
    ("deepseek", "coder", "deepseek"),
    ("starcoder", "", "starcoder2"),
    ("codellama", "", "codellama"),
    ("code-llama", "", "codellama"),
    ("codestral", "", "codestral"),
)


class TemplateError(ValueError):
    """engineFimTemplate names no preset and is not a usable custom template."""


def choose_template(setting: str | None, model_name: str) -> FimTemplate | None:
    """The template for `setting` (a preset name, a custom string, or empty: chosen from the
    model's name); None for prefix-only prompts (`none`, or a model we do not know)."""
    if setting:
        name = setting.strip().lower()
        if name == NO_TEMPLATE:
            return None
        if name in PRESETS:
            return PRESETS[name]
        found = PLACEHOLDER.findall(setting)
        if sorted(found) != ["{prefix}", "{suffix}"]:
            names = ", ".join([*PRESETS, NO_TEMPLATE])
            raise TemplateError(
                f"engineFimTemplate {setting!r} is neither a preset ({names}) nor a template "
                "with {prefix} and {suffix} once each"
            )
        return FimTemplate("custom", setting)
    lowered = model_name.lower()
    for first, second, preset in BY_MODEL_NAME:
        if first in lowered and second in lowered:
            return PRESETS[preset]
    return None


class LostBlock(KeyError):
    """A stand-in id whose text is no longer held (cannot happen within one request)."""


class TextBlocks(BlockTokenizer):
    """Stand-in tokens for text: one id per line block, padded to its length in the engine's
    tokens (`count`). The texts live exactly as long as the block cache's entries."""

    def __init__(self, count: Callable[[str], int], max_blocks: int = MAX_BLOCKS) -> None:
        super().__init__(self._stand_ins, max_blocks)
        self._count = count
        self.texts: dict[int, str] = {}

    def _stand_ins(self, text: str) -> list[int]:
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=7).digest()
        block = FIRST_BLOCK + int.from_bytes(digest, "big")
        self.texts[block] = text
        return [block] + [FILLER] * (max(1, self._count(text)) - 1)

    def _block(self, text: str) -> list[int]:
        tokens = self._cache.get(text)
        if tokens is not None:
            self._cache.move_to_end(text)
            return tokens
        tokens = self._cache[text] = self._stand_ins(text)
        if len(self._cache) > self._max:
            _, old = self._cache.popitem(last=False)
            self.texts.pop(old[0], None)
        return tokens

    def render(self, ids: Sequence[int], template: FimTemplate | None) -> str:
        """The text a stand-in prompt stands for, in `template`'s layout."""
        head: list[str] = []
        prefix: list[str] = []
        suffix: list[str] = []
        tail: list[str] = []
        part = head
        for token in ids:
            if token == FILLER:
                continue
            if token == PRE:
                part = prefix
            elif token == SUF:
                part = suffix
            elif token == MID:
                part = tail
            elif token in (REPO, FILE_SEP):
                marker = None
                if template is not None:
                    marker = template.repo if token == REPO else template.file_sep
                part.append(marker or "")
            else:
                try:
                    part.append(self.texts[token])
                except KeyError as exc:
                    raise LostBlock(token) from exc
        if template is None or PRE not in ids:  # prefix-only (no template, or useFim off)
            return "".join(head + prefix + suffix + tail)
        return "".join(head) + template.render("".join(prefix), "".join(suffix)) + "".join(tail)


def estimate_tokens(text: str, chars_per_token: float) -> int:
    """Tokens in `text` when the engine has no tokenizer endpoint (rounded up)."""
    return math.ceil(len(text) / chars_per_token)
