"""A TLS-terminating proxy for the https tests: Python's ssl in front of a plain-HTTP server
(the real llama-server), with a private CA and a server certificate for 127.0.0.1 made by
the `openssl` command line tool. Each client connection gets its own thread; closing either
side closes the other, so a client's disconnect reaches the server as it would directly."""

from __future__ import annotations

import contextlib
import select
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

CA_EXT = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
LEAF_EXT = (
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
    "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key), for 127.0.0.1, valid for a day."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command line tool is needed to make test certificates")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=folder)

    (folder / "ca.ext").write_text(CA_EXT)
    (folder / "leaf.ext").write_text(LEAF_EXT)
    run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.csr",
        "-subj", "/CN=SmallCode test CA")  # fmt: skip
    run("x509", "-req", "-in", "ca.csr", "-signkey", "ca.key", "-out", "ca.pem", "-days", "1",
        "-extfile", "ca.ext")  # fmt: skip
    run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
        "-out", "server.csr", "-subj", "/CN=127.0.0.1")  # fmt: skip
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "leaf.ext")  # fmt: skip
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


class TlsProxy:
    """https://127.0.0.1:port -> http://127.0.0.1:upstream_port."""

    def __init__(self, upstream_port: int, cert: Path, key: Path) -> None:
        self.upstream_port = upstream_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.handshake_failures = 0
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._stopped.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):  # the client refused our certificate
            self.handshake_failures += 1
            conn.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        try:
            self._pipe(tls, upstream)
        finally:
            for side in (tls, upstream):
                with contextlib.suppress(OSError):
                    side.close()

    def _pipe(self, tls: ssl.SSLSocket, upstream: socket.socket) -> None:
        """One thread moves bytes both ways (an SSL socket is not for two threads at once)."""
        while not self._stopped.is_set():
            ready, _, _ = select.select([tls, upstream], [], [], 0.5)
            try:
                if tls in ready or tls.pending():
                    try:
                        data = tls.recv(65536)
                    except ssl.SSLWantReadError:
                        data = None
                    if data == b"":
                        return
                    if data:
                        upstream.sendall(data)
                if upstream in ready:
                    data = upstream.recv(65536)
                    if not data:
                        return
                    tls.sendall(data)
            except OSError:
                return
