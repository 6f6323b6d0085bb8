"""The wire to a real Vapi (aiohttp, behind VapiClient): what leaves, and what every fault means.

In-process tests reach the sandbox through httpx2's ASGI transport; a real base URL goes
through `vapi_mcp.transport.AiohttpWire` on a socket (httpx2's own transport while it
loads). These tests drive that path on loopback: the request must carry what httpx2 would
send, each request leaves once (retries are `VapiClient`'s decision alone), and every
failure maps to the same error an agent can act on.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

import httpx2 as httpx
import orjson
import pytest
from contextlib import asynccontextmanager

from vapi_mcp.client import VapiClient
from vapi_mcp.errors import VapiError
from vapi_mcp.sandbox import Fault, Sandbox
from vapi_mcp.transport import AiohttpWire  # loaded here, so each client takes the wire from its first request

from .faults_kit import CALL_BODY, CHECK, FAST_RETRY, OddVapi, as_the_guard, unknown_outcome
from .loopback import on_loopback

ITEM = "/phone-number/0b4f8a1e-2c3d-4e5f-8a9b-1c2d3e4f5a6b"


@dataclass
class Seen:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    connection: int


@dataclass
class RawVapi:
    """A loopback HTTP/1.1 server that records each request as it arrived and answers `[]` or `{}`,
    or drops the connection without an answer for the methods in `drop`."""

    drop: set[str] = field(default_factory=set)
    requests: list[Seen] = field(default_factory=list)
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection = self.connections
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ")
                headers = [tuple(line.split(": ", 1)) for line in lines[1:] if line]
                length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
                body = await reader.readexactly(length)
                self.requests.append(Seen(method, target, headers, body, connection))  # type: ignore[arg-type]
                if method in self.drop:
                    return
                data = b"[]" if method == "GET" and "/phone-number/" not in target else b"{}"
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(data), data))
                await writer.drain()
        finally:
            writer.close()

    def of(self, method: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method]


@asynccontextmanager
async def raw_vapi(**kwargs: Any) -> AsyncIterator[tuple[RawVapi, str]]:
    vapi = RawVapi(**kwargs)
    server = await asyncio.start_server(vapi.handle, "127.0.0.1", 0)
    async with server:
        yield vapi, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def production(base: str, **kwargs: Any) -> VapiClient:
    """The client as the server builds it for a real Vapi: no transport given."""
    return VapiClient(base_url=base, api_key="sk-test-wire-0001", retry=FAST_RETRY, **kwargs)


async def exchange(vapi: VapiClient) -> None:
    """One request of each kind the tools send."""
    await vapi.get("/call", params={"assistantId": "0b4f8a1e-2c3d-4e5f-8a9b-1c2d3e4f5a6b", "createdAtGt": "2026-11-02T00:00:00+01:00", "limit": 5})
    with as_the_guard():
        await vapi.post("/call", CALL_BODY)
    await vapi.patch(ITEM, {"name": "Support line ✓"})
    await vapi.delete(ITEM)


def normalised(seen: Seen) -> tuple[str, str, bytes, dict[str, str]]:
    """What a request says; aiohttp's one addition, `Content-Length: 0` on a DELETE without a body, says nothing more."""
    headers = {k.lower(): v for k, v in seen.headers}
    if not seen.body and headers.get("content-length") == "0":
        del headers["content-length"]
    return seen.method, seen.target, seen.body, headers


async def test_a_request_leaves_as_httpx2s_own_transport_would_send_it() -> None:
    async with raw_vapi() as (vapi_side, base):
        reference = production(base, transport=httpx.AsyncHTTPTransport())
        await exchange(reference)
        await reference.aclose()
        vapi = production(base)
        await exchange(vapi)
        assert isinstance(vapi._wire, AiohttpWire)
        await vapi.aclose()
    httpx2s, wire = vapi_side.requests[:4], vapi_side.requests[4:]
    assert [normalised(r) for r in wire] == [normalised(r) for r in httpx2s]
    assert wire[0].connection != httpx2s[-1].connection  # really another client
    for seen in wire:  # one of each header, the Host the URL names
        names = [k.lower() for k, _ in seen.headers]
        assert len(names) == len(set(names)), seen.headers
        assert dict(seen.headers)["Host"] == base.removeprefix("http://")
    post = wire[1]
    assert post.method == "POST" and orjson.loads(post.body) == CALL_BODY and post.body == httpx2s[1].body
    assert dict(post.headers)["Content-Type"] == "application/json" and dict(post.headers)["Authorization"] == "Bearer sk-test-wire-0001"


async def test_requests_made_while_the_wire_loads_go_through_httpx2(monkeypatch: pytest.MonkeyPatch) -> None:
    """No request waits for aiohttp to import (~130 ms, on a thread): until it is loaded, httpx2 sends."""
    async with raw_vapi() as (vapi_side, base):
        vapi = production(base)
        with monkeypatch.context() as loading:
            loading.delitem(sys.modules, "vapi_mcp.transport")
            loading.setattr("vapi_mcp.client._preloading", object())  # as if the import were under way on its thread
            assert await vapi.get("/call") == []
            assert vapi._wire is None
        assert await vapi.get("/call") == []
        assert isinstance(vapi._wire, AiohttpWire)
        await vapi.aclose()
    assert [normalised(r) for r in vapi_side.requests[:1]] == [normalised(r) for r in vapi_side.requests[1:]]
    assert vapi_side.connections == 2  # httpx2's, then the wire's


async def test_connections_are_kept_alive() -> None:
    async with raw_vapi() as (wire, base):
        vapi = production(base)
        for _ in range(20):
            assert await vapi.get("/call") == []
        await vapi.aclose()
    assert len(wire.requests) == 20 and wire.connections == 1


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "POST"])
async def test_a_request_that_changes_something_is_sent_once_even_when_the_connection_drops(method: str) -> None:
    """aiohttp would resend a DELETE on a fresh connection when a kept-alive one drops; Vapi must see it once."""
    async with raw_vapi(drop={method}) as (wire, base):
        vapi = production(base)
        assert await vapi.get("/call") == []  # the connection is now kept alive, as it is between tool calls
        with as_the_guard(), pytest.raises(VapiError) as failed:
            await vapi.request(method, "/call" if method == "POST" else ITEM, json=CALL_BODY if method == "POST" else {"name": "x"}, check=CHECK)
        await vapi.aclose()
    assert len(wire.of(method)) == 1
    unknown_outcome(failed.value.text())


async def test_a_dropped_get_is_tried_again_by_the_retry_policy_alone() -> None:
    async with raw_vapi(drop={"GET"}) as (wire, base):
        vapi = production(base)
        with pytest.raises(VapiError) as failed:
            await vapi.get("/call")
        await vapi.aclose()
    assert len(wire.of("GET")) == FAST_RETRY.attempts
    assert "Nothing was changed" in failed.value.text() and "RemoteProtocolError" in failed.value.text()


async def test_nothing_listening_is_could_not_connect_and_nothing_was_sent() -> None:
    async with raw_vapi() as (_, base):
        pass  # the port is free again
    vapi = production(base)
    with as_the_guard(), pytest.raises(VapiError) as failed:
        await vapi.post("/call", CALL_BODY, check=CHECK)
    await vapi.aclose()
    text = failed.value.text()
    assert f"Could not connect to Vapi at {base} (ConnectError)" in text and "Nothing was sent" in text


async def test_slow_answers_time_out_the_same_way(sandbox: Sandbox) -> None:
    sandbox.inject(Fault("GET", "/call", delay=2.0, then_pass=True))
    sandbox.inject(Fault("POST", "/call", delay=2.0, then_pass=True))
    async with on_loopback(sandbox.app) as base:
        vapi = VapiClient(base_url=base, api_key="sandbox-key", timeout=0.3, retry=FAST_RETRY)
        assert await vapi.get("/call") == []
        with as_the_guard(), pytest.raises(VapiError) as failed:
            await vapi.post("/call", CALL_BODY, check=CHECK)
        await vapi.aclose()
    assert len(sandbox.requests_to("GET", "/call")) == 2 and len(sandbox.requests_to("POST", "/call")) == 1
    assert "did not answer in time" in failed.value.text()
    unknown_outcome(failed.value.text())


async def test_vapi_errors_redirects_and_broken_encodings_mean_the_same(sandbox: Sandbox) -> None:
    sandbox.inject(Fault("GET", "/call", status=503, retry_after=0.05))
    sandbox.inject(Fault("POST", "/call", status=500))
    async with on_loopback(sandbox.app) as base:
        vapi = VapiClient(base_url=base, api_key="sandbox-key", retry=FAST_RETRY)
        assert await vapi.get("/call") == []
        with as_the_guard(), pytest.raises(VapiError) as failed:
            await vapi.post("/call", CALL_BODY, check=CHECK)
        await vapi.aclose()
    assert len(sandbox.requests_to("GET", "/call")) == 2 and len(sandbox.requests_to("POST", "/call")) == 1
    assert failed.value.status == 500
    unknown_outcome(failed.value.text())

    odd = OddVapi().then(302, b"{}", location="https://elsewhere.example/call").then(200, b"not gzip", content_encoding="gzip")
    async with on_loopback(odd) as base:
        vapi = VapiClient(base_url=base, api_key="sandbox-key", retry=FAST_RETRY)
        with pytest.raises(VapiError) as redirected:
            await vapi.get("/call")
        with pytest.raises(VapiError) as garbled:
            await vapi.get("/call")
        await vapi.aclose()
    assert "a redirect to elsewhere.example" in redirected.value.text() and len(odd.requests) == 2
    assert "could not be decoded" in garbled.value.text()


def test_a_client_dropped_without_closing_says_nothing_on_stderr() -> None:
    """stderr is the operator's log (and the host's, over stdio): no 'Unclosed client session' at exit."""
    script = textwrap.dedent(
        """
        import asyncio
        import vapi_mcp.transport  # loaded: the client takes the wire from its first request
        from vapi_mcp.client import VapiClient

        async def answer(reader, writer):
            await reader.readuntil(b"\\r\\n\\r\\n")
            writer.write(b"HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\n\\r\\n[]")
            await writer.drain()

        async def main():
            server = await asyncio.start_server(answer, "127.0.0.1", 0)
            vapi = VapiClient(base_url=f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", api_key="k")
            assert await vapi.get("/call") == [] and vapi._wire is not None
            print("ok")

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-W", "default", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr
    assert "Unclosed client session" not in done.stderr and "Unclosed connector" not in done.stderr, done.stderr


async def test_behind_an_environment_proxy_httpx2_sends_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert VapiClient(base_url="https://api.vapi.ai", api_key="k")._wants_wire
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert not VapiClient(base_url="https://api.vapi.ai", api_key="k")._wants_wire  # httpx2 routes it through the proxy, as before
    async with raw_vapi() as (vapi_side, base):
        monkeypatch.setenv("HTTP_PROXY", base)  # the "proxy" is the raw server: it sees the absolute URL httpx2 sends a proxy
        monkeypatch.setenv("NO_PROXY", "")
        vapi = production("http://vapi.internal")
        assert await vapi.get("/call") == [] and vapi._wire is None
        await vapi.aclose()
    assert vapi_side.requests[0].target == "http://vapi.internal/call"


def test_the_process_exits_while_the_wire_is_still_loading() -> None:
    """`vapi-mcp serve </dev/null` ends at once: exiting during the background import must not hang.
    (A daemon import thread frozen at exit holds the import lock; a warning formatted while the
    interpreter exits needs an import, and waited forever.)"""
    script = textwrap.dedent(
        """
        import socket
        from vapi_mcp.client import preload_wire

        preload_wire()
        leaked = socket.socket()  # its ResourceWarning is formatted while the interpreter exits
        print("ok")
        """
    )
    for _ in range(3):
        done = subprocess.run([sys.executable, "-W", "default", "-c", script], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0 and done.stdout == "ok\n", done.stderr
