"""Command line: `smallcode-lsp [serve|complete|model]`."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import sys

from smallcode_lsp import __version__
from smallcode_lsp.options import (
    CompletionSettings,
    EngineSettings,
    ModelSettings,
    Settings,
    setting_spec,
)


def _setting_arg(parser: argparse.ArgumentParser, flag: str, key: str) -> None:
    """`flag` for the setting `key`: type, default and help from options.SETTINGS_SPEC."""
    spec = setting_spec(key)
    kind = {"integer": int, "number": float, "string": str}[spec.kind]
    text = f"{spec.description} (default: {spec.shown})".replace("%", "%%")  # argparse formats it
    parser.add_argument(flag, type=kind, default=spec.default, help=text, choices=spec.choices)


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    # Also accepted after the subcommand; SUPPRESS keeps the top-level value when absent.
    parser.add_argument("--log-level", default=argparse.SUPPRESS, help="stderr log level")
    _setting_arg(parser, "--model", "model")
    _setting_arg(parser, "--n-ctx", "nCtx")
    _setting_arg(parser, "--threads", "nThreads")
    _setting_arg(parser, "--gpu-layers", "nGpuLayers")
    _setting_arg(parser, "--experts-used", "expertsUsed")
    _setting_arg(parser, "--cpu-moe", "cpuMoe")
    _setting_arg(parser, "--cpu-repack", "cpuRepack")
    _setting_arg(parser, "--warm-cache-mb", "warmCacheMb")
    _setting_arg(parser, "--engine-url", "engineUrl")
    _setting_arg(parser, "--engine-kind", "engineKind")
    _setting_arg(parser, "--engine-model", "engineModel")
    _setting_arg(parser, "--engine-fim-template", "engineFimTemplate")
    _setting_arg(parser, "--engine-api-key-env", "engineApiKeyEnv")
    _setting_arg(parser, "--engine-ca-file", "engineCaFile")
    _setting_arg(parser, "--next-edit-model", "nextEditModel")
    _setting_arg(parser, "--next-edit-format", "nextEditFormat")


def _settings(args: argparse.Namespace) -> Settings:
    model = ModelSettings(
        path=args.model,
        n_ctx=args.n_ctx,
        n_threads=args.threads,
        n_gpu_layers=args.gpu_layers,
        experts_used=args.experts_used,
        cpu_moe=args.cpu_moe,
        cpu_repack=args.cpu_repack,
        warm_cache_mb=args.warm_cache_mb,
    )
    engine = EngineSettings(
        engine_url=args.engine_url,
        engine_kind=args.engine_kind,
        engine_model=args.engine_model,
        engine_fim_template=args.engine_fim_template,
        engine_api_key_env=args.engine_api_key_env,
        engine_ca_file=args.engine_ca_file,
    )
    completion = CompletionSettings(
        next_edit_model=args.next_edit_model,
        next_edit_format=args.next_edit_format,
        max_tokens=getattr(args, "max_tokens", setting_spec("maxTokens").default),
        # `complete` shows the whole suggestion: no keystroke deadline to meet. `eval` times
        # Automatic requests with the budget a user has.
        latency_budget_ms=(
            0
            if args.command == "complete"
            else getattr(args, "latency_budget_ms", setting_spec("latencyBudgetMs").default)
        ),
    )
    return Settings(model=model, engine=engine, completion=completion)


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
    _add_model_args(serve)
    complete = sub.add_parser("complete", help="complete at FILE:LINE:COL (1-based) and print it")
    complete.add_argument("location", help="FILE:LINE:COL")
    _setting_arg(complete, "--max-tokens", "maxTokens")
    complete.add_argument("--invoked", action="store_true", help="as an explicit request")
    _add_model_args(complete)
    evaluate = sub.add_parser("eval", help="fill-in-the-middle evaluation on a code directory")
    evaluate.add_argument("directory", help="root of real code to cut holes from")
    evaluate.add_argument("--limit", type=int, default=40, help="number of tasks")
    evaluate.add_argument("--seed", type=int, default=0)
    _setting_arg(evaluate, "--max-tokens", "maxTokens")
    _setting_arg(evaluate, "--latency-budget-ms", "latencyBudgetMs")
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
    evaluate.add_argument("--json", dest="json_out", help="also write the results here")
    _add_model_args(evaluate)
    model = sub.add_parser("model", help="describe the model that would be used")
    model.add_argument("--json", action="store_true")
    _add_model_args(model)
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
        from smallcode_lsp.evaluate import TRIGGER_CHOICES

        return eval_command(
            args.directory,
            _settings(args),
            args.limit,
            args.seed,
            args.json_out,
            triggers=TRIGGER_CHOICES[args.trigger],
            cold=args.cold,
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
