"""Command line: `smallcode-lsp [serve|complete|model]`."""

from __future__ import annotations

import argparse
import dataclasses
import faulthandler
import logging
import os
import re
import sys
from typing import Any

from smallcode_lsp import __version__
from smallcode_lsp.options import SETTINGS_SPEC, Settings, SettingSpec

# The settings every subcommand takes as flags: the model and engine groups whole, and the
# completion settings below; `complete` and `eval` add theirs (_COMMAND_SETTINGS).
_COMPLETION_SETTINGS = ("nextEditModel", "nextEditFormat")
_COMMAND_SETTINGS = {"complete": ("maxTokens",), "eval": ("maxTokens", "latencyBudgetMs")}
# Flags whose names are not the kebab-case of their key (`--n-threads`).
FLAG_ALIASES = {"nThreads": "--threads", "nGpuLayers": "--gpu-layers"}
_TYPES = {"integer": int, "number": float, "string": str}


def setting_flag(key: str) -> str:
    """The command-line flag of the setting `key`: `nCtx` -> `--n-ctx`."""
    return FLAG_ALIASES.get(key) or "--" + re.sub(r"(?<!^)([A-Z])", r"-\1", key).lower()


def _dest(key: str) -> str:
    """Where argparse keeps the flag's value (its name: `--gpu-layers` -> gpu_layers)."""
    return setting_flag(key).removeprefix("--").replace("-", "_")


def cli_settings(command: str) -> tuple[SettingSpec, ...]:
    """The settings `command` takes as flags, in the spec's order."""
    extra = {*_COMPLETION_SETTINGS, *_COMMAND_SETTINGS.get(command, ())}
    return tuple(s for s in SETTINGS_SPEC if s.group in ("model", "engine") or s.key in extra)


def _setting_arg(parser: argparse.ArgumentParser, spec: SettingSpec) -> None:
    """The flag of `spec`: type, default and help from options.SETTINGS_SPEC."""
    text = f"{spec.description} (default: {spec.shown})".replace("%", "%%")  # argparse formats it
    flag, dest = setting_flag(spec.key), _dest(spec.key)
    if spec.kind == "boolean":  # --engine-infill / --no-engine-infill
        action = argparse.BooleanOptionalAction
        parser.add_argument(flag, dest=dest, action=action, default=spec.default, help=text)
        return
    kind = _TYPES[spec.kind]
    parser.add_argument(
        flag, dest=dest, type=kind, default=spec.default, help=text, choices=spec.choices
    )


def _add_setting_args(parser: argparse.ArgumentParser, command: str) -> None:
    # Also accepted after the subcommand; SUPPRESS keeps the top-level value when absent.
    parser.add_argument("--log-level", default=argparse.SUPPRESS, help="stderr log level")
    for spec in cli_settings(command):
        _setting_arg(parser, spec)


def _settings(args: argparse.Namespace) -> Settings:
    """The settings the flags of `args.command` give (the spec's defaults for the rest)."""
    base = Settings()
    fields: dict[str, dict[str, Any]] = {"model": {}, "engine": {}, "completion": {}}
    for spec in cli_settings(args.command):
        fields[spec.group][spec.name] = getattr(args, _dest(spec.key))
    # `complete` shows the whole suggestion: no keystroke deadline to meet. `eval` times
    # Automatic requests with the budget a user has.
    if args.command == "complete":
        fields["completion"]["latency_budget_ms"] = 0
    groups = {group: dataclasses.replace(getattr(base, group), **f) for group, f in fields.items()}
    return dataclasses.replace(base, **groups)


def _milliseconds(text: str) -> tuple[int, ...]:
    """`0.25,1,0` (seconds) -> (250, 1000, 0)."""
    try:
        values = tuple(round(float(part) * 1000) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds like 0.5,1,2, got {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected seconds >= 0 like 0.5,1,2, got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smallcode-lsp", description="Offline AI inline completions over LSP."
    )
    parser.add_argument("--version", action="version", version=f"smallcode-lsp {__version__}")
    parser.add_argument("--log-level", default="INFO", help="stderr log level (DEBUG, INFO, ...)")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the language server (default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    # vscode-languageclient's stdio transport appends --stdio: accept it (it is the default).
    serve.add_argument("--stdio", action="store_true", help="LSP over stdio (the default)")
    _add_setting_args(serve, "serve")
    complete = sub.add_parser("complete", help="complete at FILE:LINE:COL (1-based) and print it")
    complete.add_argument("location", help="FILE:LINE:COL")
    complete.add_argument("--invoked", action="store_true", help="as an explicit request")
    _add_setting_args(complete, "complete")
    evaluate = sub.add_parser("eval", help="fill-in-the-middle evaluation on a code directory")
    evaluate.add_argument("directory", help="root of real code to cut holes from")
    evaluate.add_argument("--limit", type=int, default=40, help="number of tasks")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument(
        "--trigger",
        choices=("automatic", "invoked", "both"),  # evaluate.TRIGGER_CHOICES
        default="both",
        help="context + shaping runs: as typing (Automatic, with the deadline) or as an "
        "explicit request (Invoked, no deadline); both: one row each (default: both)",
    )
    spots = evaluate.add_mutually_exclusive_group()
    spots.add_argument(
        "--cold",
        dest="cold",
        action="store_true",
        default=True,
        help="every task a new spot: KV cache cleared before each (the default)",
    )
    spots.add_argument(
        "--warm", dest="cold", action="store_false", help="keep the KV cache between tasks"
    )
    evaluate.add_argument(
        "--curve",
        action="store_true",
        help="quality against latency: the naive prefix prompt and ours at the same budgets, "
        "ours after the cursor rested at the spot (dwells), and Invoked; all cold",
    )
    evaluate.add_argument(
        "--budgets",
        type=_milliseconds,
        default=None,
        metavar="S,S,...",
        help="--curve's Automatic budgets in seconds, 0: no deadline (default: 0.25,0.5,1,2,0)",
    )
    evaluate.add_argument(
        "--dwells",
        type=_milliseconds,
        default=None,
        metavar="S,S,...",
        help="--curve's rests before the request, in seconds (default: 0.5,1,2)",
    )
    evaluate.add_argument("--json", dest="json_out", help="also write the results here")
    _add_setting_args(evaluate, "eval")
    model = sub.add_parser("model", help="describe the model that would be used")
    model.add_argument("--json", action="store_true")
    _add_setting_args(model, "model")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv or (argv[0].startswith("--") and argv[0] not in ("--version", "-h", "--help")):
        argv = ["serve", *argv]  # `smallcode-lsp --model X` means serve
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("pygls").setLevel(logging.WARNING)  # it logs every message at INFO
    command = args.command or "serve"
    if command == "serve":
        return serve(args)
    if command == "complete":
        from smallcode_lsp.commands import complete_command

        return complete_command(args.location, _settings(args), invoked=args.invoked)
    if command == "eval":
        from smallcode_lsp.commands import eval_command
        from smallcode_lsp.evaluate import CURVE_BUDGETS_MS, CURVE_DWELLS_MS, TRIGGER_CHOICES

        budgets, dwells = args.budgets or CURVE_BUDGETS_MS, args.dwells or CURVE_DWELLS_MS

        return eval_command(
            args.directory,
            _settings(args),
            args.limit,
            args.seed,
            args.json_out,
            triggers=TRIGGER_CHOICES[args.trigger],
            cold=args.cold,
            curve=(budgets, dwells) if args.curve else None,
        )
    if command == "model":
        from smallcode_lsp.commands import model_command

        return model_command(_settings(args), as_json=args.json)
    parser.error(f"unknown command {command}")
    return 2


def serve(args: argparse.Namespace) -> int:
    from smallcode_lsp.server import create_server

    # A native crash that the trial load (engine/local/probe.py) did not foresee still leaves a
    # reason in the editor's server log (stderr): the signal and the Python stack.
    faulthandler.enable(file=sys.stderr)

    server = create_server(_settings(args))
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
        return 0
    # stdout carries LSP messages only: keep a private handle to it and point fd 1 at stderr,
    # so a stray print (Python or C) can never corrupt the protocol stream.
    lsp_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    server.start_io(sys.stdin.buffer, lsp_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
