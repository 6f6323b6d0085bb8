"""The stdio fast start: the handshake is answered from the SDK's own earlier answers while the SDK loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import ElicitResult

from .conftest import result_json

HANDSHAKE = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_calls", "arguments": {"limit": 1}}},
]


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), VAPI_MCP_AUDIT_LOG=str(tmp_path / "audit.jsonl"), VAPI_MCP_NO_QUIET_HOURS="1")
    env.update(extra)
    return env


def raw_session(env: dict[str, str]) -> tuple[list[dict[str, Any]], str]:
    """Send the handshake and one tool call line by line; the answers and the server's stderr."""
    server = subprocess.Popen(
        [sys.executable, "-m", "vapi_mcp", "serve", "--sandbox", "--log-level", "DEBUG"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    answers = []
    try:
        for message in HANDSHAKE:
            server.stdin.write(json.dumps(message).encode() + b"\n")
            server.stdin.flush()
            if "id" in message:
                answers.append(json.loads(server.stdout.readline()))
    finally:
        server.stdin.close()
        server.wait(timeout=20)
    return answers, server.stderr.read().decode()


def test_second_start_answers_the_handshake_from_the_cache_with_the_sdks_own_answers(tmp_path):
    env = server_env(tmp_path)
    first, first_log = raw_session(env)
    assert "from the handshake cache" not in first_log
    assert list((tmp_path / "cache" / "vapi-mcp").glob("handshake-*.json")), "the first run fills the cache"
    second, second_log = raw_session(env)
    assert "answered initialize from the handshake cache" in second_log
    assert "answered tools/list from the handshake cache" in second_log
    assert second[:2] == first[:2]  # identical to what the SDK answered
    assert [a["id"] for a in second] == [1, 2, 3]  # the SDK's duplicate initialize answer is not on the wire
    assert not second[2]["result"]["isError"] and json.loads(second[2]["result"]["content"][0]["text"])["sandbox"]


def test_fast_start_can_be_turned_off(tmp_path):
    env = server_env(tmp_path, VAPI_MCP_FAST_START="0")
    raw_session(env)
    answers, log = raw_session(env)
    assert "handshake cache" not in log
    assert not (tmp_path / "cache" / "vapi-mcp").exists()
    assert [a["id"] for a in answers] == [1, 2, 3]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_cached_start_still_knows_the_client_can_elicit(tmp_path, mode):
    """The SDK is replayed the client's initialize, so the guard still asks the human through elicitation."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "vapi_mcp", "serve", "--sandbox"], env=server_env(tmp_path))
    asked: list[str] = []

    async def accept(context: Any, request: Any) -> ElicitResult:
        asked.append(request.message)
        return ElicitResult(action="accept", content={"confirm": True})

    for _ in range(2):  # the second session starts from the cache
        async with Client(params, mode=mode, elicitation_callback=accept) as client:
            created = result_json(await client.call_tool("create_assistant", {"name": "Riley"}))
            number = result_json(await client.call_tool("buy_number", {"assistantId": created["id"]}))["phoneNumber"]
            call = await client.call_tool(
                "create_call",
                {"assistantId": created["id"], "phoneNumberId": number["id"], "customer": {"number": "+14155550123"}},
            )
            assert not call.is_error and result_json(call)["status"] in ("queued", "ringing", "in-progress")
    assert len(asked) == 4 and all(q.endswith("Go ahead?") for q in asked)


def test_a_file_on_stdin_is_served_too(tmp_path):
    """stdin need not be a pipe (a file, as in `vapi-mcp < session.jsonl`)."""
    session = tmp_path / "session.jsonl"
    session.write_text("".join(json.dumps(m) + "\n" for m in HANDSHAKE))
    for _ in range(2):  # cold, then from the cache
        with session.open("rb") as stdin:
            done = subprocess.run(
                [sys.executable, "-m", "vapi_mcp", "serve", "--sandbox"],
                stdin=stdin, capture_output=True, env=server_env(tmp_path), timeout=30,
            )
        answers = [json.loads(line) for line in done.stdout.splitlines()]
        assert [a["id"] for a in answers] == [1, 2, 3], done.stderr.decode()[-2000:]
