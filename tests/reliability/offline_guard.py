"""Run `smallcode-lsp` under an audit hook that records (and blocks) any network access.

    python tests/reliability/offline_guard.py VIOLATIONS_FILE [smallcode-lsp args...]

Each line of VIOLATIONS_FILE is one blocked event. stdio pipes are the LSP transport; the only
socket the process may create is an AF_UNIX socketpair (asyncio's self-pipe). Subprocess
launches are recorded too: a download could hide behind `curl` or `git`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from typing import Any

NETWORK_EVENTS = {
    "socket.connect",
    "socket.bind",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
    "socket.sendto",
    "socket.sendmsg",
    "urllib.Request",
    "http.client.connect",
    "ftplib.connect",
    "smtplib.connect",
    "webbrowser.open",
}
SPAWN_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"}
LOCAL_FAMILIES = {socket.AF_UNIX}


def install(fd: int) -> None:
    busy = False

    def hook(event: str, args: tuple[Any, ...]) -> None:
        nonlocal busy
        if busy:
            return
        violation = event in NETWORK_EVENTS or event in SPAWN_EVENTS
        if event == "socket.__new__":
            family = args[1] if len(args) > 1 else None
            violation = family not in LOCAL_FAMILIES
        if not violation:
            return
        busy = True
        try:
            os.write(fd, f"{event} {args!r:.300}\n".encode())
        finally:
            busy = False
        raise PermissionError(f"offline guard: {event} blocked")

    sys.addaudithook(hook)


def main() -> int:
    violations = sys.argv[1]
    fd = os.open(violations, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.write(fd, b"")
    install(fd)
    if os.environ.get("OFFLINE_GUARD_SELFTEST"):  # proves the guard sees a real attempt
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", 9), timeout=1)
    from smallcode_lsp.cli import main as cli_main

    return cli_main(sys.argv[2:])


if __name__ == "__main__":
    raise SystemExit(main())
