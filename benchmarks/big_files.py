"""Time per didChange and per completion against file size, through the real server over LSP.

Looks for quadratic behaviour: each size is 10x the previous one, so a cost that grows 100x
per step is quadratic, 10x is linear, ~1x is constant. Also times the server-side position
conversion (convert.offset_at) in-process.

    .venv/bin/python benchmarks/big_files.py [--sizes 100000,1000000,10000000] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.rpc import RawServer, edit  # noqa: E402

PY_UNIT = (
    "def handler_{i}(request, retries=3):\n"
    "    total = 0\n"
    "    for item in request.items:\n"
    "        total += item.price * item.count\n"
    "    return total\n\n"
)
JS_UNIT = "function f{i}(a,b){{var c=a+b;return c*{i}}};"


def python_source(size: int, newline: str = "\n") -> str:
    """Many small functions: many lines."""
    parts, length, i = [], 0, 0
    while length < size:
        unit = PY_UNIT.format(i=i).replace("\n", newline)
        parts.append(unit)
        length += len(unit)
        i += 1
    return "".join(parts)[:size]


def minified_js(size: int) -> str:
    """One line, no newline at all."""
    unit_len = len(JS_UNIT.format(i=0)) + 4
    return "".join(JS_UNIT.format(i=i) for i in range(size // unit_len + 1))[:size]


def binary_text(size: int) -> str:
    """Every byte value, NULs and control characters included, as an editor shows a binary."""
    block = bytes(range(256)).decode("latin-1")
    return (block * (size // 256 + 1))[:size]


def mixed_encodings(size: int) -> str:
    """UTF-8 text, latin-1 mojibake, replacement characters, emoji, CRLF and lone CR."""
    unit = "naïve = 'Ã©tÃ©'  # café ☕ 😀 \ufffd\r\nx = 1\rprint('日本語')\n"
    return (unit * (size // len(unit) + 1))[:size]


KINDS: dict[str, Callable[[int], str]] = {
    "python": python_source,
    "python-crlf": lambda size: python_source(size, "\r\n"),
    "minified-js": minified_js,
    "binary-nul": binary_text,
    "mixed": mixed_encodings,
}
LANGUAGE = {"minified-js": "javascript", "binary-nul": "plaintext"}


def end_position(text: str) -> tuple[int, int]:
    """LSP position (UTF-16) of the end of `text`."""
    lines = text.split("\n")
    last = lines[-1]
    return len(lines) - 1, len(last.encode("utf-16-le")) // 2


def middle_position(text: str) -> tuple[int, int]:
    head = text[: len(text) // 2]
    return end_position(head)


async def measure(server: RawServer, kind: str, size: int, edits: int) -> dict[str, float]:
    """Open a file of `size` chars, type `edits` characters in the middle, complete twice."""
    text = KINDS[kind](size)
    uri = f"file:///bench/{kind}-{size}.txt"
    started = time.perf_counter()
    await server.open(uri, text, LANGUAGE.get(kind, "python"))
    await server.request("smallcode/status", {})
    open_s = time.perf_counter() - started
    line, character = middle_position(text)
    change_ms = []
    for n in range(edits):
        started = time.perf_counter()
        await server.change(uri, n + 2, [edit((line, character), (line, character), "x")])
        await server.request("smallcode/status", {})  # round trip: the change was applied
        change_ms.append((time.perf_counter() - started) * 1000)
        character += 1
    complete_ms = []
    for position in [(line, character), end_position(text)]:
        started = time.perf_counter()
        response = await server.inline(uri, *position, timeout=600)
        complete_ms.append((time.perf_counter() - started) * 1000)
        assert "result" in response, response
    await server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return {
        "open_ms": open_s * 1000,
        "change_ms": statistics.median(change_ms),
        "complete_middle_ms": complete_ms[0],
        "complete_end_ms": complete_ms[1],
    }


async def status_baseline(server: RawServer, n: int = 20) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        await server.request("smallcode/status", {})
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def offset_at_ms(size: int) -> float:
    """In-process: convert.offset_at for a position near the end of a python file."""
    from lsprotocol import types as lsp
    from pygls.workspace import TextDocument

    from smallcode_lsp.convert import offset_at

    text = python_source(size)
    document = TextDocument("file:///x.py", text)
    line, character = end_position(text)
    started = time.perf_counter()
    for _ in range(5):
        offset_at(document, lsp.Position(line=line, character=character))
    return (time.perf_counter() - started) * 1000 / 5


async def main(sizes: list[int], kinds: list[str], edits: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = await RawServer.start(Path(tmp))
        try:
            await server.initialize({"maxTokens": 4, "invokedItems": 1})
            state = (await server.wait_ready())["state"]
            assert state == "ready", server.log_tail()
            base = await status_baseline(server)
            print(f"status round trip (baseline, included below): {base:.1f} ms")
            header = f"{'kind':<12} {'size':>10} {'open':>9} {'didChange':>10} "
            print(header + f"{'complete mid':>13} {'complete end':>13} {'offset_at':>10}")
            for kind in kinds:
                for size in sizes:
                    row = await measure(server, kind, size, edits)
                    row.update(kind=kind, size=size)
                    if kind == "python":
                        row["offset_at_ms"] = offset_at_ms(size)
                    rows.append(row)
                    print(
                        f"{kind:<12} {size:>10} {row['open_ms']:>7.0f}ms "
                        f"{row['change_ms']:>8.1f}ms "
                        f"{row['complete_middle_ms']:>11.0f}ms {row['complete_end_ms']:>11.0f}ms "
                        f"{row.get('offset_at_ms', float('nan')):>8.1f}ms",
                        flush=True,
                    )
        finally:
            await server.close()
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    result = asyncio.run(main(sizes, args.kinds.split(","), args.edits))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
