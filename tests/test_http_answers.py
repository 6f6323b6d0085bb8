"""Streamable HTTP answers: one JSON body where the stream could carry nothing else, the stream where it can."""

from __future__ import annotations

from typing import Any

import anyio
import httpx2 as httpx
import orjson
import pytest
from mcp import Client

from vapi_mcp.config import Settings
from vapi_mcp.sandbox import Sandbox
from vapi_mcp.sandbox.core import stamp

from .http_kit import MODERN, tools_call
from .loopback import serving

def answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC answer in a response, whether one JSON body or an SSE stream."""
    if response.headers["content-type"].startswith("application/json"):
        return orjson.loads(response.content)
    events = [orjson.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:") and line[5:].strip()]
    return next(e for e in events if e.get("id") == 7)


@pytest.mark.parametrize("protocol", ["2025-06-18", "2025-11-25", MODERN])
async def test_a_stateless_call_is_answered_in_one_json_body(settings: Settings, sandbox: Sandbox, protocol: str) -> None:
    body, headers = tools_call(protocol, "list_calls", {"limit": 5})
    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(f"{base}/mcp", json=body, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json", response.headers
    result = orjson.loads(response.content)["result"]
    assert not result.get("isError") and orjson.loads(result["content"][0]["text"])["calls"] == []


async def test_a_stateful_session_keeps_its_stream(settings: Settings, sandbox: Sandbox) -> None:
    """A session's stream may carry the server's questions (the guard asks the human by elicitation)."""
    async with serving("--transport", "http", settings=settings, sandbox=sandbox) as base:
        async with httpx.AsyncClient(timeout=10) as http:
            opened = await http.post(
                f"{base}/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}}, "clientInfo": {"name": "t", "version": "1"}}},
                headers={"Accept": "application/json, text/event-stream"},
            )
            session = {"Mcp-Session-Id": opened.headers["mcp-session-id"]}
            await http.post(f"{base}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers={"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18", **session})
            body, headers = tools_call("2025-06-18", "list_calls", {"limit": 5})
            response = await http.post(f"{base}/mcp", json=body, headers=headers | session)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert orjson.loads(answer(response)["result"]["content"][0]["text"])["calls"] == []


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_call_that_asks_for_progress_still_gets_it_over_stateless_http(settings: Settings, sandbox: Sandbox, mode: str) -> None:
    call = stamp(sandbox.clock, status="queued", type="outboundPhoneCall", _start=sandbox.clock.now())  # queued while the clock stands
    sandbox.store.calls[call["id"]] = call
    seen: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message or "")

    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
        async with Client(f"{base}/mcp", mode=mode) as client:
            with anyio.fail_after(20):
                result = await client.call_tool("wait_for_call", {"id": call["id"], "timeout": 1}, progress_callback=on_progress)
    assert not result.is_error and orjson.loads(result.content[0].text)["timedOut"] is True
    assert seen and seen[0] == "status: queued"


@pytest.mark.parametrize("protocol", ["2025-06-18", MODERN])
async def test_the_json_answers_keep_every_check(settings: Settings, sandbox: Sandbox, protocol: str) -> None:
    """The Host check (DNS rebinding) and the body limit hold for the requests answered in JSON too."""
    body, headers = tools_call(protocol, "list_calls", {"limit": 5})
    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
        async with httpx.AsyncClient(timeout=10) as http:
            rebound = await http.post(f"{base}/mcp", json=body, headers=headers | {"Host": "attacker.example"})
            huge = await http.post(
                f"{base}/mcp", content=orjson.dumps({**body, "pad": "x" * (5 * 1024 * 1024)}), headers=headers | {"Content-Type": "application/json"}
            )
            streamed = await http.post(f"{base}/mcp", content=_chunks(orjson.dumps(body)), headers=headers | {"Content-Type": "application/json"})
    assert rebound.status_code == 421 and huge.status_code == 413
    assert streamed.status_code == 200 and not answer(streamed)["result"].get("isError")
    assert sandbox.requests_to("GET", "/call") and len(sandbox.requests_to("GET", "/call")) == 1


async def _chunks(data: bytes) -> Any:
    """A body in small pieces (chunked transfer): the router must read it whole before choosing."""
    for i in range(0, len(data), 16):
        yield data[i : i + 16]
