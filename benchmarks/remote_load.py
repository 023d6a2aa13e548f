"""N developers typing at once against one llama-server (benchmarks/remote.py's load run).

Each developer is a separate `smallcode-lsp serve` over stdio (benchmarks/remote_serve.py: the
same server, logging its /completion calls) with its own workspace folder holding copies of
the same repository files (the scenario's files). Developer u types lines of its own, spread
through the files, after a start staggered by u x `stagger` seconds: per line the cursor
lands (the line cut to its indentation, one Automatic request), with the `typing` scenario a
`pause` while the developer reads, then the line typed back at `cps` characters per second, a
request per key and `$/cancelRequest` for one still running at the next key (latency.type_along).
A fresh llama-server per N (`--metrics`), its log and /metrics read once everyone is done.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psutil
from pytest_lsp import ClientServerConfig

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import remote_serve  # noqa: E402
from benchmarks.big_real_files import Spot, statement_lines  # noqa: E402
from benchmarks.latency import (  # noqa: E402
    Run,
    _plain,
    delete_range,
    type_along,
    wait_idle,
)
from benchmarks.llama_server import LlamaServer, start_server  # noqa: E402
from benchmarks.remote_stats import (  # noqa: E402
    UserRun,
    load_row,
    parse_metrics,
    parse_server_log,
)
from smallcode_lsp.engine.remote.engine import client_key  # noqa: E402
from smallcode_lsp.engine.remote.llama_server import slot_for  # noqa: E402
from tests.e2e.lsp_session import (  # noqa: E402
    initialize,
    inline_params,
    open_document,
    wait_for_state,
)

SERVE = [sys.executable, str(Path(remote_serve.__file__)), "serve", "--log-level", "INFO"]


@dataclass(frozen=True)
class LoadPlan:
    files: dict[str, str]  # repository file name -> languageId
    sources: dict[str, Path]  # repository file name -> the original
    lines: int  # per developer
    keys: int | None  # characters typed per line (None: the whole line)
    cps: float
    stagger: float  # seconds between developers' starts
    pause: float  # seconds at a new line before typing (0: type at once)
    slots: int
    slot_ctx: int
    threads: int
    most_users: int  # the largest N: a developer's lines do not depend on N
    keep: Path | None = None  # copy the llama-server log and request logs here
    spread: bool = False  # pick folder names that put developer u on slot u mod slots
    settings: dict[str, Any] = field(default_factory=dict)  # more settings for every developer


def user_spots(plan: LoadPlan, user: int, root: Path) -> list[Spot]:
    """Developer `user`'s lines, in their copy of the files: line j in file (user + j) mod F, at
    a spot no other developer (of up to `most_users`) or line of theirs uses."""
    names = sorted(plan.files)
    spots: list[Spot] = []
    slots_per_file = plan.most_users * plan.lines
    for j in range(plan.lines):
        name = names[(user + j) % len(names)]
        text = plan.sources[name].read_text()
        rows = statement_lines(text, plan.files[name])
        k = user * plan.lines + j
        row = rows[int((k + 0.5) / slots_per_file * len(rows))]
        spot = Spot(root / name, plan.files[name], row, text.split("\n")[row])
        if plan.keys is not None:  # type only the first characters of the line
            spot = replace(spot, text=spot.text[: spot.indent + plan.keys])
        spots.append(spot)
    return spots


def workspace(base: Path, user: int, plan: LoadPlan) -> Path:
    """A developer's workspace folder: copies of the repository's files. Its path (with the
    user and host names) is what the slot is hashed from: with `plan.spread`, a suffix that
    lands developer u on slot u mod slots (the best case; the hash alone may pile them up)."""
    root = base / f"dev-{user + 1}"
    if plan.spread:
        suffix = 0
        while slot_for(client_key([str(root)]), plan.slots) != user % plan.slots:
            suffix += 1
            root = base / f"dev-{user + 1}-{suffix}"
    root.mkdir(parents=True, exist_ok=True)
    for name, source in plan.sources.items():
        shutil.copyfile(source, root / name)
    return root


class Developer:
    """One `smallcode-lsp serve` and the typing of one developer."""

    def __init__(self, user: int, root: Path, plan: LoadPlan, url: str, base: Path) -> None:
        self.root, self.plan, self.url = root, plan, url
        self.log = base / f"requests-{user + 1}.jsonl"
        self.log.touch()
        slot = slot_for(client_key([str(root)]), plan.slots)
        self.record = UserRun(f"dev-{user + 1}", slot)
        self.spots = user_spots(plan, user, root)
        self.client: Any = None

    async def start(self) -> None:
        env = {**os.environ, remote_serve.ENV: str(self.log)}
        self.client = await ClientServerConfig(server_command=SERVE, server_env=env).start()
        stats = self.record.stats
        self.client.feature("smallcode/completionStats")(lambda p: stats.append(_plain(p)))
        options = {"engineUrl": self.url, "debug": True, **self.plan.settings}
        await initialize(self.client, options, root=self.root)
        await wait_for_state(self.client, "ready", timeout=120)

    async def type_lines(self, delay: float) -> None:
        await asyncio.sleep(delay)
        client, run = self.client, Run()
        process = psutil.Process(client._server.pid)
        versions: dict[str, int] = {}
        for spot in self.spots:
            uri = spot.path.as_uri()
            if uri not in versions:
                open_document(client, uri, spot.path.read_text(), spot.language)
                versions[uri] = 1
            versions[uri] += 1
            full = len(spot.path.read_text().split("\n")[spot.line])
            delete_range(client, uri, versions[uri], spot.line, spot.indent, full)
            if self.plan.pause > 0:  # the cursor lands: the editor asks, the developer reads
                params = inline_params(uri, spot.line, spot.indent)
                await asyncio.gather(
                    client.text_document_inline_completion_async(params),
                    asyncio.sleep(self.plan.pause),
                )
            await type_along(
                client, run, process, uri, versions[uri] + 1, spot.line, spot.indent,
                spot.typed, 1 / self.plan.cps,
            )  # fmt: skip
            versions[uri] += len(spot.typed)
        self.record.keys = run.keys

    async def stop(self) -> None:
        await wait_idle(self.client, background=True)
        await self.client.shutdown_session()
        await self.client.stop()
        self.record.requests = [json.loads(x) for x in self.log.read_text().splitlines() if x]


def metrics(server: LlamaServer) -> dict[str, float]:
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as reply:
        return parse_metrics(reply.read().decode())


def wait_engine_idle(server: LlamaServer, timeout: float = 60.0) -> None:
    """Until no slot is processing (tasks our clients let go may still be running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{server.url}/slots", timeout=10) as reply:
            if not any(slot.get("is_processing") for slot in json.loads(reply.read())):
                return
        time.sleep(0.1)


async def run_load(plan: LoadPlan, users: int, extra: tuple[str, ...]) -> dict[str, Any]:
    """N developers against a fresh llama-server; their records and the engine's."""
    server = await asyncio.to_thread(
        start_server, None, plan.threads, plan.slots * plan.slot_ctx,
        ("--metrics", "--log-prefix", "--log-timestamps", *extra), slots=plan.slots,
    )  # fmt: skip
    # A fixed place: the slots hashed from the folders are the same from run to run.
    base = Path(tempfile.gettempdir()) / "smallcode-remote-bench" / f"N{users}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    developers: list[Developer] = []
    try:
        for user in range(users):
            root = workspace(base, user, plan)
            developers.append(Developer(user, root, plan, server.url, base))
        await asyncio.gather(*(d.start() for d in developers))
        before = metrics(server)
        began = time.perf_counter()
        await asyncio.gather(*(d.type_lines(i * plan.stagger) for i, d in enumerate(developers)))
        typing_s = time.perf_counter() - began
        await asyncio.gather(*(d.stop() for d in developers))
        await asyncio.to_thread(wait_engine_idle, server)
        await asyncio.sleep(0.5)  # the server's log thread
        after = metrics(server)
        tasks = parse_server_log(server.log.read_text(errors="replace"))
        if plan.keep is not None:
            kept = plan.keep / f"N{users}"
            kept.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(server.log, kept / "llama-server.log")
            for d in developers:
                shutil.copyfile(d.log, kept / d.log.name)
    finally:
        for d in developers:
            process = d.client._server if d.client is not None else None
            if process is not None and process.returncode is None:
                process.kill()
        await asyncio.to_thread(server.stop)
        shutil.rmtree(base, ignore_errors=True)
    records = [d.record for d in developers]
    row = load_row(records, 1 / plan.cps, tasks, before, after)
    row["typing_s"] = round(typing_s, 1)
    row["lines"] = [
        {"user": d.record.name, "file": s.path.name, "line": s.line + 1, "typed": s.typed}
        for d in developers
        for s in d.spots
    ]
    return row
