"""Replay a typing session over a real source file through the real server, over LSP.

For each keystroke: `didChange` (one character), then `textDocument/inlineCompletion`, waiting
for the answer before the next key (the editor pauses). Prints p50/p95 request latency and
the prompt tokens evaluated per request, with KV-cache prefix reuse on and off.

    .venv/bin/python benchmarks/latency.py [--file PATH] [--chars N] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

from pytest_lsp import ClientServerConfig

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.lsp_session import (  # noqa: E402
    SERVER_COMMAND,
    initialize,
    inline_completion,
    insert_text,
    open_document,
    status,
    wait_for_state,
)


def default_file() -> Path:
    import json.decoder

    return Path(json.decoder.__file__)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def pick_session(text: str, chars: int) -> tuple[str, str, int]:
    """Cut the first function body line long enough: returns (before, to_type, line index)."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if (
            index > 40
            and line.startswith("        ")
            and len(stripped) >= 24
            and stripped[0].isalpha()
        ):
            indent = line[: len(line) - len(line.lstrip())]
            before = "\n".join(lines[:index]) + "\n" + indent
            return before, stripped[:chars], index
    raise SystemExit("no suitable line to retype")


async def replay(path: Path, chars: int, reuse: bool, max_tokens: int) -> dict[str, object]:
    text = path.read_text()
    before, to_type, line = pick_session(text, chars)
    rest = text[len(before) - len(before.split("\n")[-1]) :].split("\n", 1)[1]
    document = before + "\n" + rest
    client = await ClientServerConfig(server_command=SERVER_COMMAND).start()
    await initialize(client, {"cacheReuse": reuse, "maxTokens": max_tokens})
    await wait_for_state(client, "ready")
    uri = path.as_uri()
    open_document(client, uri, document)
    column = len(before.split("\n")[-1])
    latencies: list[float] = []
    evaluated: list[int] = []
    prompt: list[int] = []
    generated: list[int] = []
    await inline_completion(client, uri, line, column)  # first request: cold cache, not counted
    for version, ch in enumerate(to_type, start=2):
        insert_text(client, uri, version, line, column, ch)
        column += 1
        start = time.perf_counter()
        await inline_completion(client, uri, line, column)
        latencies.append((time.perf_counter() - start) * 1000)
        last = (await status(client))["last"]
        evaluated.append(last["promptTokensEvaluated"])
        prompt.append(last["promptTokens"])
        generated.append(last["generatedTokens"])
    await client.shutdown_session()
    await client.stop()
    return {
        "file": str(path),
        "reuse": reuse,
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "mean_prompt_tokens": round(statistics.mean(prompt), 1),
        "mean_evaluated_tokens": round(statistics.mean(evaluated), 1),
        "p95_evaluated_tokens": percentile([float(e) for e in evaluated], 95),
        "mean_generated_tokens": round(statistics.mean(generated), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=default_file())
    parser.add_argument("--chars", type=int, default=24, help="characters to type")
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rows = [
        asyncio.run(replay(args.file, args.chars, reuse, args.max_tokens))
        for reuse in (True, False)
    ]
    print(f"typing replay over {args.file} ({rows[0]['requests']} keystrokes, 1 request each)")
    header = ("prefix reuse", "p50 ms", "p95 ms", "prompt tok", "evaluated tok", "generated tok")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print(
            f"| {'on' if row['reuse'] else 'off'} | {row['p50_ms']} | {row['p95_ms']} | "
            f"{row['mean_prompt_tokens']} | {row['mean_evaluated_tokens']} | "
            f"{row['mean_generated_tokens']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
