"""Build the prompt token list: stable parts first so the KV cache survives keystrokes.

Layout (prefix-only models):  [BOS] context-comments file-header prefix
Layout (FIM models):          [BOS] [FIM_PRE] context-comments file-header prefix
                              [FIM_SUF] suffix [FIM_MID]
Layout (repo-level FIM, Qwen2.5/3-Coder): [BOS] [REPO]name\\n ([FILE_SEP]path\\ncode\\n)*
                              [FILE_SEP]path\\n [FIM_PRE] prefix [FIM_SUF] suffix [FIM_MID]
Each part is tokenized on its own, so a change in the prefix never re-tokenizes the context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smallcode_lsp.engine.info import FimTokens
from smallcode_lsp.languages import comment_prefix
from smallcode_lsp.types import ContextSnippet, PromptParts

Tokenize = Callable[[str], list[int]]


def line_comment(language_id: str) -> str:
    """The line-comment marker for a language (C-style `//` when unknown)."""
    return comment_prefix(language_id, default="//")


@dataclass(frozen=True)
class PromptFormat:
    fim: FimTokens
    bos: int | None
    add_bos: bool
    use_fim: bool = True  # use FIM when the vocab has it

    @property
    def fim_active(self) -> bool:
        return self.use_fim and self.fim.available

    @property
    def repo_level(self) -> bool:
        return self.fim_active and self.fim.repo is not None and self.fim.file_sep is not None


def render_comment_context(
    snippets: tuple[ContextSnippet, ...], file_path: str | None, language_id: str
) -> str:
    """Snippets from other files as comment blocks headed by their paths, then the file's path."""
    mark = line_comment(language_id)
    out: list[str] = []
    for snippet in snippets:
        out.append(f"{mark} Path: {snippet.path}\n")
        out.extend(
            f"{mark} {line}\n" if line else f"{mark}\n" for line in snippet.text.splitlines()
        )
        out.append("\n")
    if file_path:
        out.append(f"{mark} Path: {file_path}\n")
    return "".join(out)


def build_prompt(parts: PromptParts, fmt: PromptFormat, tokenize: Tokenize) -> list[int]:
    """The token list for `parts` in the model's format."""
    tokens: list[int] = [fmt.bos] if fmt.add_bos and fmt.bos is not None else []
    fim = fmt.fim
    if fmt.repo_level:
        assert fim.repo is not None and fim.file_sep is not None
        tokens.append(fim.repo)
        tokens += tokenize("workspace\n")
        for snippet in parts.snippets:
            tokens.append(fim.file_sep)
            tokens += tokenize(f"{snippet.path}\n{snippet.text.rstrip()}\n")
        tokens.append(fim.file_sep)
        tokens += tokenize(f"{parts.file_path or 'untitled'}\n")
        return tokens + _fim_body(parts, fim, tokenize)
    context = render_comment_context(parts.snippets, parts.file_path, parts.language_id)
    if fmt.fim_active:
        assert fim.pre is not None
        return [*tokens, fim.pre, *tokenize(context), *_fim_body(parts, fim, tokenize)[1:]]
    return tokens + tokenize(context) + tokenize(parts.prefix)


def _fim_body(parts: PromptParts, fim: FimTokens, tokenize: Tokenize) -> list[int]:
    assert fim.pre is not None and fim.suf is not None and fim.mid is not None
    return [fim.pre, *tokenize(parts.prefix), fim.suf, *tokenize(parts.suffix), fim.mid]
