"""Render context snippets for the prompt: Qwen-coder repo-level tokens or comment headers.

Qwen2.5/3-Coder were trained on `<|repo_name|>name\\n<|file_sep|>path\\ncode...`; other models see
each snippet as a comment line naming its file followed by the code, which every code model
has seen countless times at the top of real files.
"""

from __future__ import annotations

from collections.abc import Iterable

from smallcode_lsp.languages import comment_prefix, language_key
from smallcode_lsp.types import ContextSnippet

REPO_NAME = "<|repo_name|>"
FILE_SEP = "<|file_sep|>"


def _grouped(snippets: Iterable[ContextSnippet]) -> list[tuple[str, list[str]]]:
    """Consecutive snippets of the same path share one header (fewer tokens, reads like a file)."""
    groups: list[tuple[str, list[str]]] = []
    for s in snippets:
        if groups and groups[-1][0] == s.path:
            groups[-1][1].append(s.text)
        else:
            groups.append((s.path, [s.text]))
    return groups


def render_snippets(
    snippets: Iterable[ContextSnippet], language_id: str, repo_tokens: bool, repo_name: str
) -> str:
    """Text placed before the current file's header; "" when there are no snippets.

    With `repo_tokens` the result starts with `<|repo_name|>` and each file starts with
    `<|file_sep|>path`; the caller then adds `<|file_sep|>current_path\\n` before the prefix.
    Otherwise each file is introduced by a `# path` / `// path` comment line.
    """
    groups = _grouped(snippets)
    if not groups:
        return f"{REPO_NAME}{repo_name}\n" if repo_tokens else ""
    parts: list[str] = []
    if repo_tokens:
        parts.append(f"{REPO_NAME}{repo_name}\n")
        for path, texts in groups:
            body = "\n".join(t.rstrip("\n") for t in texts)
            parts.append(f"{FILE_SEP}{path}\n{body}\n")
        return "".join(parts)
    for path, texts in groups:
        # The snippet's own language decides its comment syntax (a .py file shown in a .js one).
        marker = comment_prefix("", path) if language_key("", path) else comment_prefix(language_id)
        body = "\n".join(t.rstrip("\n") for t in texts)
        parts.append(f"{marker} {path}\n{body}\n\n")
    return "".join(parts)


def render_file_header(path: str | None, language_id: str, repo_tokens: bool) -> str:
    """The line that introduces the current file after the snippets."""
    if not path:
        return ""
    if repo_tokens:
        return f"{FILE_SEP}{path}\n"
    return f"{comment_prefix(language_id, path)} {path}\n"
