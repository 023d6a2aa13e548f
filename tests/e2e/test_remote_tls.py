"""`engineCaFile` end to end: the real `smallcode-lsp` over stdio, the real llama-server behind
a TLS-terminating proxy whose certificate a private CA signed (tests/e2e/tls_proxy.py).
Without the CA file the certificate is refused with a clear error in the status; with it,
completions work; a CA file that is no PEM bundle is explained."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.llama_server import LlamaServer, require_binary
from tests.e2e.test_remote_engine import UNHURRIED, current, shown_messages, start
from tests.e2e.tls_proxy import TlsProxy, make_certificates
from tests.reliability.conftest import FAST, assert_completes

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def proxied(
    default_model: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TlsProxy, Path]]:
    require_binary()
    ca, cert, key = make_certificates(tmp_path_factory.mktemp("tls"))
    engine = LlamaServer(default_model, slots=1, ctx=2048)
    proxy = TlsProxy(engine.port, cert, key)
    yield proxy, ca
    proxy.stop()
    engine.stop()


async def test_https_with_the_ca_file(tmp_path: Path, proxied: tuple[TlsProxy, Path]) -> None:
    proxy, ca = proxied
    server = await start(tmp_path, {**UNHURRIED, "engineUrl": proxy.url, "engineCaFile": str(ca)})
    try:
        status = await server.wait_ready()
        assert (status["state"], status["engineUrl"]) == ("ready", proxy.url), server.log_tail()
        await assert_completes(server)
        assert (await current(server))["error"] is None
    finally:
        assert await server.close() == 0, server.log_tail()


async def test_https_without_the_ca_file_is_refused_clearly(
    tmp_path: Path, proxied: tuple[TlsProxy, Path]
) -> None:
    proxy, _ = proxied
    failures = proxy.handshake_failures
    server = await start(tmp_path, {**FAST, "engineUrl": proxy.url})
    try:
        status = await server.wait_ready()
        assert status["state"] == "error", server.log_tail()
        error = status["error"]
        assert error.startswith(f"engine at {proxy.url}: its TLS certificate did not verify")
        assert "set engineCaFile" in error and "certificate" in error, error
        assert any("TLS certificate" in m for m in shown_messages(server))
        response = await server.inline("file:///check/ok.py", 0, 0)
        assert response.get("result") is None  # answered, empty
        assert proxy.handshake_failures > failures  # refused at the handshake, nothing sent
    finally:
        assert await server.close() == 0, server.log_tail()


async def test_a_bad_ca_file_is_explained(tmp_path: Path, proxied: tuple[TlsProxy, Path]) -> None:
    proxy, _ = proxied
    bad = tmp_path / "not-a-bundle.pem"
    bad.write_text("hello\n")
    for path, reason in ((bad, "not a readable PEM CA bundle"), (tmp_path / "nope.pem", "No such")):
        server = await start(tmp_path, {**FAST, "engineUrl": proxy.url, "engineCaFile": str(path)})
        try:
            status = await server.wait_ready()
            assert status["state"] == "error", server.log_tail()
            assert f"engineCaFile {path}" in status["error"] and reason in status["error"], status
        finally:
            assert await server.close() == 0, server.log_tail()
