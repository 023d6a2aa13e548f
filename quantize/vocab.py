"""BPE vocabulary from tokenizer.json, torch-free: tokens, types, merges, special and FIM ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gguf
from gguf import GGUFWriter

from quantize.checkpoint import CheckpointError
from quantize.gguf_names import FIM_KEYS, PRE_TOKENIZERS


def _split_regexes(pre: dict[str, Any] | None) -> list[str]:
    if not pre:
        return []
    if pre.get("type") == "Sequence":
        return [r for p in pre.get("pretokenizers", []) for r in _split_regexes(p)]
    if pre.get("type") == "Split":
        return [pre.get("pattern", {}).get("Regex", "")]
    return []


def detect_pre(tok: dict[str, Any]) -> str:
    """llama.cpp pre-tokenizer name for this tokenizer.json; error when none matches."""
    pre = tok.get("pre_tokenizer") or {}
    regexes = _split_regexes(pre)
    for r in regexes:
        if r in PRE_TOKENIZERS:
            return PRE_TOKENIZERS[r]
    if not regexes and pre.get("type") == "ByteLevel" and pre.get("use_regex", True):
        return "gpt-2"  # plain GPT-2 byte-level pre-tokenization
    shown = " / ".join(regexes) if regexes else str(pre.get("type"))
    raise CheckpointError(
        f"tokenizer.json: pre-tokenizer {shown} matches no llama.cpp pre-tokenizer this tool "
        "knows (quantize/gguf_names.py PRE_TOKENIZERS); name one with --pre"
    )


def write_vocab(
    w: GGUFWriter, root: Path, vocab_size: int, pre: str | None = None
) -> dict[str, int]:
    """Write the tokenizer keys; return the FIM ids written (key -> id). `pre` overrides the
    detected llama.cpp pre-tokenizer name."""
    path = root / "tokenizer.json"
    if not path.is_file():
        raise CheckpointError(f"{root}: missing tokenizer.json")
    tok = json.loads(path.read_text(encoding="utf-8"))
    model = tok.get("model", {})
    if model.get("type") != "BPE":
        raise CheckpointError(f"{path}: tokenizer model {model.get('type')!r} is not BPE")
    by_id: dict[int, str] = {i: t for t, i in model["vocab"].items()}
    added = {a["id"]: a for a in tok.get("added_tokens", [])}
    for i, a in added.items():
        by_id[i] = a["content"]
    n = max(vocab_size, max(by_id) + 1)
    tokens: list[str] = []
    types: list[int] = []
    for i in range(n):
        if i not in by_id:
            # Embedding rows past the tokenizer (vocab padded for matmul alignment).
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(by_id[i])
            special = added[i].get("special", False)
            types.append(gguf.TokenType.CONTROL if special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.NORMAL)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre or detect_pre(tok))
    w.add_token_list(tokens)
    w.add_token_types(types)
    # SpecialVocab reads merges (both the "a b" and ["a","b"] spellings) and bos/eos/pad ids
    # from tokenizer.json + tokenizer_config.json, torch-free.
    special = gguf.SpecialVocab(root, load_merges=True, n_vocab=n)
    if not special.merges:
        raise CheckpointError(f"{path}: BPE tokenizer without merges")
    special.add_to_gguf(w, quiet=True)
    ids = {t: i for i, t in by_id.items()}
    fim: dict[str, int] = {}
    for key, texts in FIM_KEYS.items():
        for text in texts.split():
            if text in ids:
                fim[key] = ids[text]
                w.add_uint32(f"tokenizer.ggml.{key}", ids[text])
                break
    return fim
