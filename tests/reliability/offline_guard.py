"""Run `smallcode-lsp` under an audit hook that records (and blocks) any network access.

    python tests/reliability/offline_guard.py VIOLATIONS_FILE [smallcode-lsp args...]

Each line of VIOLATIONS_FILE is one blocked event. stdio pipes are the LSP transport; the only
socket the process may create is an AF_UNIX socketpair (asyncio's self-pipe). Subprocess
launches are recorded too: a download could hide behind `curl` or `git`; the one allowed is the
server's trial load of the model in a child (our own module in this interpreter, probe.py).

With OFFLINE_GUARD_ALLOW=HOST:PORT (a configured remote engine), TCP sockets may be created and
connect to that one address; a lookup or connection anywhere else is still a violation.
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


def allowed_address() -> tuple[str, int] | None:
    host, _, port = os.environ.get("OFFLINE_GUARD_ALLOW", "").rpartition(":")
    return (host, int(port)) if host and port.isdigit() else None


def permitted(event: str, args: tuple[Any, ...], allow: tuple[str, int] | None) -> bool:
    """Whether `event` only reaches the allowed engine address."""
    if allow is None:
        return False
    if event == "socket.__new__":
        return args[1] in (socket.AF_INET, socket.AF_INET6) if len(args) > 1 else False
    if event == "socket.getaddrinfo":
        return (args[0], str(args[1])) == (allow[0], str(allow[1]))
    if event == "socket.connect":
        address = args[1] if len(args) > 1 else None
        return isinstance(address, tuple) and tuple(address[:2]) == allow
    if event == "http.client.connect":
        return (args[1], args[2]) == allow if len(args) > 2 else False
    return False


def own_trial_child(event: str, args: tuple[Any, ...]) -> bool:
    """The one process the server may start: its trial load (smallcode_lsp/engine/local/probe.py),
    this same interpreter running our own module, which opens no socket either."""
    if event != "subprocess.Popen" or len(args) < 2:
        return False
    argv = [str(a) for a in args[1]] if isinstance(args[1], list | tuple) else []
    return argv[:3] == [sys.executable, "-m", "smallcode_lsp.engine.local.probe"]


def install(fd: int) -> None:
    busy = False
    allow = allowed_address()

    def hook(event: str, args: tuple[Any, ...]) -> None:
        nonlocal busy
        if busy:
            return
        violation = event in NETWORK_EVENTS or event in SPAWN_EVENTS
        if event == "socket.__new__":
            family = args[1] if len(args) > 1 else None
            violation = family not in LOCAL_FAMILIES
        if not violation or permitted(event, args, allow) or own_trial_child(event, args):
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
