"""Every transport, end to end on loopback: initialize, tools/list, one tool call that succeeds."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from vapi_mcp.cli import main
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import Sandbox

from .mcp_kit import result_json
from .loopback import on_loopback, serving

TOKEN = "test-auth-token-5b1f"


async def check_session(client: Client) -> dict[str, Any]:
    """tools/list shows the catalogue and list_calls succeeds on the sandbox."""
    names = {tool.name for tool in (await client.list_tools()).tools}
    assert {"list_calls", "get_call"} <= names
    result = await client.call_tool("list_calls", {"limit": 5})
    assert not result.is_error, result
    body = result_json(result)
    assert body["sandbox"] is True and body["calls"] == []
    return body


# stdio: a real subprocess, as Claude Code starts it


def stdio_params(tmp_path: Path) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    env["VAPI_MCP_AUDIT_LOG"] = str(tmp_path / "audit.jsonl")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # the fast start's handshake cache, per test
    return StdioServerParameters(command=sys.executable, args=["-m", "vapi_mcp", "serve", "--sandbox"], env=env)


async def test_stdio_subprocess(tmp_path: Path) -> None:
    async with Client(stdio_params(tmp_path)) as client:
        await check_session(client)


async def test_stdio_subprocess_legacy_handshake(tmp_path: Path) -> None:
    async with Client(stdio_params(tmp_path), mode="legacy") as client:
        assert client.server_info is not None and client.server_info.name == "vapi-mcp"
        assert "SANDBOX MODE" in (client.session.instructions or "")
        await check_session(client)


# SSE and streamable HTTP: the CLI's Starlette app served by uvicorn on a free loopback port


def http_client(token: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"} if token else None, timeout=10)


async def test_streamable_http(settings: Settings, sandbox: Sandbox) -> None:
    async with serving("--transport", "http", settings=settings, sandbox=sandbox) as base:
        async with Client(f"{base}/mcp") as client:
            await check_session(client)
    assert len(sandbox.requests_to("GET", "/call")) == 1


async def test_streamable_http_stateless(settings: Settings, sandbox: Sandbox) -> None:
    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
        for mode in ("auto", "legacy"):
            async with Client(f"{base}/mcp", mode=mode) as client:
                await check_session(client)
    assert len(sandbox.requests_to("GET", "/call")) == 2


async def test_sse(settings: Settings, sandbox: Sandbox) -> None:
    async with serving("--transport", "sse", settings=settings, sandbox=sandbox) as base:
        async with Client(sse_client(f"{base}/sse")) as client:
            await check_session(client)
    assert len(sandbox.requests_to("GET", "/call")) == 1


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_auth_token_is_required_on_every_request(settings: Settings, sandbox: Sandbox, transport: str) -> None:
    path = "/mcp" if transport == "http" else "/sse"
    async with serving("--transport", transport, "--auth-token", TOKEN, settings=settings, sandbox=sandbox) as base:
        async with http_client() as plain:
            for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN}):
                response = await plain.post(f"{base}{path}", json={}, headers=headers)
                assert response.status_code == 401, headers
                assert response.headers["www-authenticate"] == "Bearer"
                assert TOKEN not in response.text
        if transport == "http":
            async with http_client(TOKEN) as authed, Client(streamable_http_client(f"{base}/mcp", http_client=authed)) as client:
                await check_session(client)
        else:
            async with Client(sse_client(f"{base}/sse", headers={"Authorization": f"Bearer {TOKEN}"})) as client:
                await check_session(client)


async def test_dns_rebinding_protection_stays_on(settings: Settings, sandbox: Sandbox) -> None:
    async with serving("--transport", "http", settings=settings, sandbox=sandbox) as base, http_client() as plain:
        response = await plain.post(
            f"{base}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={"Host": "attacker.example", "Accept": "application/json, text/event-stream"},
        )
    assert response.status_code == 421
    assert sandbox.requests == []


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20"])
def test_off_loopback_without_token_refuses_to_start(host: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("VAPI_MCP_AUTH_TOKEN", raising=False)
    assert main(["serve", "--transport", "http", "--host", host]) == 2
    assert "VAPI_MCP_AUTH_TOKEN" in capsys.readouterr().err


async def test_off_loopback_accepts_only_the_allowed_hosts(settings: Settings, sandbox: Sandbox) -> None:
    flags = ("--transport", "http", "--host", "0.0.0.0", "--allowed-hosts", "mcp.example.com", "--auth-token", TOKEN)
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    accept = "application/json, text/event-stream"
    async with serving(*flags, settings=settings, sandbox=sandbox) as base, http_client(TOKEN) as authed:
        named = await authed.post(f"{base}/mcp", json=ping, headers={"Host": "mcp.example.com", "Accept": accept})
        other = await authed.post(f"{base}/mcp", json=ping, headers={"Host": "attacker.example", "Accept": accept})
    assert named.status_code != 421
    assert other.status_code == 421


async def test_stateless_http_still_confirms_every_purchase(settings: Settings, sandbox: Sandbox) -> None:
    """No session to carry a mid-call question: a 2026-07-28 client is asked through input_required,
    an older one gets the confirm-token preview; neither buys anything unconfirmed."""
    from mcp_types import ElicitResult

    asked: list[str] = []

    async def accept(context: Any, request: Any) -> ElicitResult:
        asked.append(request.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
        async with Client(f"{base}/mcp", mode="auto", elicitation_callback=accept) as client:
            bought = result_json(await client.call_tool("buy_number", {"numberDesiredAreaCode": "415"}))
        assert bought["phoneNumber"]["number"].startswith("+1415") and len(asked) == 1
        async with Client(f"{base}/mcp", mode="legacy", elicitation_callback=accept) as client:
            preview = result_json(await client.call_tool("buy_number", {"numberDesiredAreaCode": "212"}))
            assert preview["confirmationRequired"] and len(sandbox.requests_to("POST", "/phone-number")) == 1
            arguments = {"numberDesiredAreaCode": "212", "confirmToken": preview["confirmToken"]}
            assert result_json(await client.call_tool("buy_number", arguments))["phoneNumber"]["number"].startswith("+1212")


async def test_each_http_request_may_carry_its_own_vapi_key(tmp_path: Path, sandbox: Sandbox) -> None:
    """A team behind one stateless deployment: `X-Vapi-Key` requests work on that key's account;
    requests without it stay on the server's own target (here the embedded sandbox)."""
    from vapi_mcp.sandbox.core import stamp

    vapi = Sandbox()  # stands in for api.vapi.ai, served on loopback
    assistant = stamp(vapi.clock, name="Team assistant")
    vapi.store.assistants[assistant["id"]] = assistant
    seen_keys: list[str] = []

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        seen_keys.extend(v.decode() for k, v in scope.get("headers", []) if k == b"authorization")
        await vapi.app(scope, receive, send)

    async with on_loopback(recording) as vapi_url:
        settings = Settings.load({}, base_url=vapi_url, audit_log=str(tmp_path / "a.jsonl"))
        async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
            async with httpx.AsyncClient(headers={"X-Vapi-Key": "team-key-5f2a9c"}, timeout=10) as http:
                async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                    keyed = result_json(await client.call_tool("list_assistants", {}))
            async with Client(f"{base}/mcp") as client:
                plain = result_json(await client.call_tool("list_assistants", {}))
    assert [a["name"] for a in keyed["assistants"]] == ["Team assistant"] and "sandbox" not in keyed
    assert seen_keys == ["Bearer team-key-5f2a9c"]
    assert plain["assistants"] == [] and plain["sandbox"] is True
