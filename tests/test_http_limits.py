"""HTTP under slow, hostile and many clients: request deadlines, the connection cap, the Host check,
the auth token rule, session limits and the start-up line. Real uvicorn on loopback, real sockets."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import anyio
import httpx2 as httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.loopback import free_port, serving, stop
from vapi_mcp.cli import main
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import Sandbox

TOKEN = "test-auth-token-5b1f-9c2e"
ACCEPT = "application/json, text/event-stream"
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
}


def limited(tmp_path: Path, **limits: Any) -> Settings:
    return Settings.load({}, audit_log=str(tmp_path / "audit.jsonl"), quiet_hours=False, **limits)


@asynccontextmanager
async def served(settings: Settings, sandbox: Sandbox, *flags: str) -> AsyncIterator[tuple[str, int]]:
    """`vapi-mcp serve --transport http <flags>` on loopback: (base URL, port)."""
    async with serving("--transport", "http", *flags, settings=settings, sandbox=sandbox) as base:
        yield base, int(base.rsplit(":", 1)[1])


async def closed_by_server(stream: Any, within: float = 30) -> bool:
    """True once the server closes the connection (a liveness check: `within` is generous, not a measure)."""
    with anyio.move_on_after(within):
        try:
            while await stream.receive():
                pass
        except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
            return True
    return False


# Request deadlines


@pytest.mark.parametrize(
    "sent",
    [
        b"",
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ",
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"jsonrpc\"",
    ],
    ids=["nothing", "half the headers", "half the body"],
)
async def test_a_connection_that_never_finishes_its_request_is_closed(tmp_path: Path, sandbox: Sandbox, sent: bytes) -> None:
    settings = limited(tmp_path, request_read_timeout=1)
    async with served(settings, sandbox) as (_, port):
        stream = await anyio.connect_tcp("127.0.0.1", port)
        async with stream:
            if sent:
                await stream.send(sent)
            assert await closed_by_server(stream)


async def test_a_request_trickled_a_byte_at_a_time_is_cut_off(tmp_path: Path, sandbox: Sandbox) -> None:
    """Slowloris: each byte resets no clock; the whole request must arrive within the deadline."""
    settings = limited(tmp_path, request_read_timeout=1)
    request = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Pad: " + b"a" * 400 + b"\r\n\r\n"
    async with served(settings, sandbox) as (_, port):
        stream = await anyio.connect_tcp("127.0.0.1", port)
        async with stream:
            cut_off = False
            with anyio.move_on_after(60):
                try:
                    for byte in request:
                        await stream.send(bytes([byte]))
                        await anyio.sleep(0.1)
                except (anyio.BrokenResourceError, ConnectionError):
                    cut_off = True
            assert cut_off or await closed_by_server(stream, within=1), "the trickled request was served to the end"


async def test_a_kept_alive_client_is_served_request_after_request(tmp_path: Path, sandbox: Sandbox) -> None:
    settings = limited(tmp_path, request_read_timeout=1)
    async with served(settings, sandbox, "--stateless") as (base, _), httpx.AsyncClient(timeout=10) as http:
        for _ in range(3):
            response = await http.post(f"{base}/mcp", json=PING, headers={"Accept": ACCEPT})
            assert response.status_code == 200
            await anyio.sleep(0.5)  # idle between requests, within keep-alive


async def test_at_the_connection_cap_the_longest_waiting_connection_makes_room(tmp_path: Path, sandbox: Sandbox) -> None:
    settings = limited(tmp_path, max_connections=8, request_read_timeout=300)
    async with served(settings, sandbox, "--stateless") as (base, port):
        idle = [await anyio.connect_tcp("127.0.0.1", port) for _ in range(8)]
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                response = await http.post(f"{base}/mcp", json=PING, headers={"Accept": ACCEPT})
            assert response.status_code == 200
            assert await closed_by_server(idle[0]), "the oldest idle connection was kept"
        finally:
            for stream in idle:
                await stream.aclose()


def spawn(tmp_path: Path, *args: str, env: dict[str, str] | None = None, fd_limit: int | None = None, stderr: Any = subprocess.PIPE) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    clean.update(VAPI_MCP_AUDIT_LOG=str(tmp_path / "audit.jsonl"), XDG_CACHE_HOME=str(tmp_path / "cache"), **(env or {}))

    def limit() -> None:
        if fd_limit is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))

    return subprocess.Popen(
        [sys.executable, "-m", "vapi_mcp", *args], env=clean, stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=limit
    )


def wait_until_answering(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline and proc.poll() is None, "the server did not start"
            time.sleep(0.1)


async def test_half_sent_requests_cannot_lock_out_a_client_with_the_token(tmp_path: Path) -> None:
    """The reproduction: fd limit 256, 300 connections each with half a request, then a real client."""
    port = free_port()
    log = (tmp_path / "stderr.log").open("wb")  # read at the end; a pipe nobody drains could block the server
    proc = spawn(tmp_path, "serve", "--transport", "http", "--port", str(port), "--auth-token", TOKEN, "--sandbox", fd_limit=256, stderr=log)
    attackers: list[socket.socket] = []
    try:
        await anyio.to_thread.run_sync(wait_until_answering, f"http://127.0.0.1:{port}/mcp", proc)
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ")
            attackers.append(s)
        with anyio.fail_after(60):  # liveness, not speed
            async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
                async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as client:
                    result = await client.call_tool("list_calls", {"limit": 1})
        assert not result.is_error
    finally:
        for s in attackers:
            s.close()
        stop(proc)
        log.close()
    logged = (tmp_path / "stderr.log").read_text()
    assert "Traceback" not in logged, logged[-2000:]


# Where it listens


@pytest.mark.parametrize(("transport", "kind", "path"), [("http", "streamable HTTP", "/mcp"), ("sse", "SSE", "/sse")])
def test_the_server_says_where_it_listens(tmp_path: Path, transport: str, kind: str, path: str) -> None:
    log = tmp_path / "stderr.log"
    with log.open("wb") as sink:
        proc = spawn(tmp_path, "serve", "--transport", transport, "--port", "0", "--sandbox", stderr=sink)
    try:
        pattern = re.compile(rf"^vapi-mcp: serving {kind} on (http://127\.0\.0\.1:(\d+){path})$", re.M)
        deadline = time.monotonic() + 30
        while not (found := pattern.search(log.read_text())) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert found, log.read_text()
        assert int(found.group(2)) > 0  # --port 0: the port the system chose, not 0
        if transport == "http":
            response = httpx.post(found.group(1), json=PING, headers={"Accept": ACCEPT}, timeout=10)
            assert response.status_code in (200, 400)  # the MCP endpoint answers (400: no session yet)
    finally:
        stop(proc)


# The Host check


async def ping(base: str, host: str, origin: str | None = None) -> httpx.Response:
    headers = {"Host": host, "Accept": ACCEPT, "Authorization": f"Bearer {TOKEN}"}
    if origin is not None:
        headers["Origin"] = origin
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(f"{base}/mcp", json=PING, headers=headers)


@pytest.mark.parametrize("allowed", [(), ("--allowed-hosts", "192.0.2.2"), ("--allowed-hosts", "mcp.example.com")])
async def test_off_loopback_loopback_names_and_addresses_always_work(settings: Settings, sandbox: Sandbox, allowed: tuple[str, ...]) -> None:
    flags = ("--host", "0.0.0.0", "--auth-token", TOKEN, "--stateless", *allowed)
    async with served(settings, sandbox, *flags) as (base, port):
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost", f"192.0.2.7:{port}", f"[2001:db8::7]:{port}"):
            response = await ping(base, host)
            assert response.status_code == 200, (host, response.text)


async def test_a_host_name_not_allowed_gets_421_naming_the_flag(settings: Settings, sandbox: Sandbox) -> None:
    flags = ("--host", "0.0.0.0", "--auth-token", TOKEN, "--stateless", "--allowed-hosts", "mcp.example.com,api.example.com:8443")
    async with served(settings, sandbox, *flags) as (base, _):
        assert (await ping(base, "mcp.example.com")).status_code == 200
        assert (await ping(base, "mcp.example.com:443")).status_code == 200
        assert (await ping(base, "api.example.com:8443")).status_code == 200
        for host in ("attacker.example", "attacker.example:8000", "api.example.com:9999", "mcp.example.com.attacker.example"):
            refused = await ping(base, host)
            assert refused.status_code == 421, host
            assert "--allowed-hosts" in refused.json()["message"]
    assert sandbox.requests == []


async def test_allowed_hosts_come_from_the_environment_too(settings: Settings, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAPI_MCP_ALLOWED_HOSTS", "mcp.example.com")
    async with served(settings, sandbox, "--host", "0.0.0.0", "--auth-token", TOKEN, "--stateless") as (base, _):
        assert (await ping(base, "mcp.example.com:8000")).status_code == 200
        assert (await ping(base, "other.example.com")).status_code == 421


async def test_a_foreign_origin_is_refused(settings: Settings, sandbox: Sandbox) -> None:
    async with served(settings, sandbox, "--stateless") as (base, port):
        assert (await ping(base, f"127.0.0.1:{port}", origin="http://localhost:6274")).status_code == 200
        for origin in ("http://attacker.example", "null", "file://"):
            response = await ping(base, f"127.0.0.1:{port}", origin=origin)
            assert response.status_code == 403, origin


# The auth token


@pytest.mark.parametrize("token", ["x", "   ", "fifteen-chars-x", " 15-characters! "])
def test_off_loopback_a_short_token_refuses_to_start(token: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], never_serves: None) -> None:
    monkeypatch.delenv("VAPI_MCP_AUTH_TOKEN", raising=False)
    assert main(["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "0", "--auth-token", token]) == 2
    err = capsys.readouterr().err
    assert "VAPI_MCP_AUTH_TOKEN" in err and "--auth-token" in err


def test_off_loopback_a_short_token_in_the_environment_refuses_to_start(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], never_serves: None) -> None:
    monkeypatch.setenv("VAPI_MCP_AUTH_TOKEN", "hunter2")
    assert main(["serve", "--transport", "sse", "--host", "192.168.1.20", "--port", "0"]) == 2
    assert "at least 16" in capsys.readouterr().err


# Sessions


async def open_session(http: httpx.AsyncClient, url: str) -> httpx.Response:
    return await http.post(url, json=INITIALIZE, headers={"Accept": ACCEPT})


async def test_idle_sessions_expire_so_live_sessions_stay_bounded(tmp_path: Path, sandbox: Sandbox) -> None:
    settings = limited(tmp_path, session_idle_timeout=1, max_sessions=5)
    async with served(settings, sandbox) as (base, _), httpx.AsyncClient(timeout=10) as http:
        url = f"{base}/mcp"
        first = [(await open_session(http, url)).headers["mcp-session-id"] for _ in range(5)]
        assert (await open_session(http, url)).status_code == 503  # the bound
        with anyio.fail_after(30):  # idle ones expire and make room
            while (opened := await open_session(http, url)).status_code == 503:
                await anyio.sleep(0.2)
        assert opened.status_code == 200
        for session in first:
            gone = await http.post(url, json=PING, headers={"Accept": ACCEPT, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18"})
            assert gone.status_code == 404


async def test_beyond_the_session_cap_new_sessions_wait_and_open_ones_keep_working(tmp_path: Path, sandbox: Sandbox) -> None:
    settings = limited(tmp_path, max_sessions=2, toolsets=("all",))
    async with served(settings, sandbox) as (base, _):
        async with Client(f"{base}/mcp", mode="legacy") as one, Client(f"{base}/mcp", mode="legacy") as two:
            async with httpx.AsyncClient(timeout=10) as http:
                refused = await open_session(http, f"{base}/mcp")
            assert refused.status_code == 503
            for client in (one, two):
                assert not (await client.call_tool("list_calls", {"limit": 1})).is_error
        async with Client(f"{base}/mcp", mode="legacy") as three:  # the first two closed their sessions
            assert not (await three.call_tool("list_calls", {"limit": 1})).is_error
