"""smallcode-quantize: convert / verify / inspect."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from quantize.checkpoint import CheckpointError
from quantize.recipes import FTYPES


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="smallcode-quantize", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert", help="HF MoE checkpoint directory -> GGUF")
    c.add_argument("checkpoint", type=Path)
    c.add_argument("-o", "--output", type=Path, required=True)
    c.add_argument("--type", default="F16", choices=sorted(FTYPES))
    c.add_argument("--recipe", default="expert-aware", choices=["expert-aware", "uniform"])
    c.add_argument("--force", action="store_true", help="overwrite an existing output")
    c.add_argument("--no-progress", action="store_true")
    c.add_argument("--verbose", action="store_true", help="show llama.cpp's per-tensor log")
    c.add_argument("--pre", help="llama.cpp pre-tokenizer name (tokenizer.ggml.pre) when the "
                   "tokenizer.json regex is not recognised, e.g. deepseek-coder")
    v = sub.add_parser("verify", help="compare a GGUF's logits with a reference")
    v.add_argument("gguf", type=Path)
    g = v.add_mutually_exclusive_group(required=True)
    g.add_argument("--reference", type=Path, help="HF checkpoint (needs transformers + torch)")
    g.add_argument("--against", type=Path, help="another GGUF, e.g. the F16 one")
    i = sub.add_parser("inspect", help="architecture, experts, tensor types, bytes")
    i.add_argument("gguf", type=Path)
    return p


def _run(args: argparse.Namespace) -> int:
    if args.cmd == "convert":
        from quantize.convert import convert

        res = convert(
            args.checkpoint, args.output, args.type, args.recipe, args.force,
            progress=not args.no_progress, verbose=args.verbose, pre=args.pre,
        )
        print(f"wrote {res.path} ({res.n_tensors} tensors); FIM ids: {res.fim_ids or 'none'}")
        return 0
    if args.cmd == "verify":
        from quantize.verify import verify

        for path in (args.gguf, args.reference or args.against):
            if not path.exists():
                raise CheckpointError(f"{path}: does not exist")
        print(verify(args.gguf, reference=args.reference, against=args.against).line())
        return 0
    from quantize.inspect_gguf import render, summarize

    if not args.gguf.is_file():
        raise CheckpointError(f"{args.gguf}: does not exist")
    print(render(summarize(args.gguf)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; bad input -> one `error:` line on stderr and exit status 2."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        # Disk full, file size limit, permission: the write failed and the partial file is gone.
        print(f"error: write failed: {e}", file=sys.stderr)
        return 1
    except RuntimeError as e:  # llama.cpp quantizer failure
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
