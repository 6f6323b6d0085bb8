"""One ledger for every stdio session of a user on a machine: real `python -m vapi_mcp serve` processes on one
SQLite store (the default, in $XDG_STATE_HOME/vapi-mcp/), all dialling the same `vapi-mcp sandbox` backend."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from mcp import Client

from tests.mcp_kit import confirmed, result_json, result_text
from tests.ledger_kit import CALLEE, CONFIRM_SECRET, call_args, calls_to, server_env, stdio_server
from vapi_mcp.guard.audit import attempts, read_lines


async def test_a_token_used_in_one_session_is_refused_in_another_and_after_a_restart(tmp_path: Path, vapi_backend: str) -> None:
    """Issue 10: with a shared confirm secret, one token dialled in session 1, again in session 2,
    and again in a restarted session 1 placed 3 calls. Exactly one now."""
    env = server_env(tmp_path, vapi_backend, VAPI_MCP_CONFIRM_SECRET=CONFIRM_SECRET)
    async with Client(stdio_server(env)) as one, Client(stdio_server(env)) as two:
        preview = result_json(await one.call_tool("create_call", call_args()))
        token = preview["confirmToken"]
        placed = await two.call_tool("create_call", call_args(confirmToken=token))
        assert not placed.is_error, result_text(placed)
        again = await one.call_tool("create_call", call_args(confirmToken=token))
        assert again.is_error and "already used" in result_text(again)
    async with Client(stdio_server(env)) as restarted:
        after_restart = await restarted.call_tool("create_call", call_args(confirmToken=token))
    assert after_restart.is_error and "already used" in result_text(after_restart)
    assert len(calls_to(vapi_backend)) == 1
    assert (tmp_path / "state" / "vapi-mcp" / "state.sqlite3").exists(), "the default store is in the user's state directory"


async def test_the_daily_cap_holds_across_sessions(tmp_path: Path, vapi_backend: str) -> None:
    """Issue 10: VAPI_MCP_DAILY_CAP=1 allowed 3 calls in 3 sessions on one day. One now, whatever the sessions."""
    env = server_env(tmp_path, vapi_backend, VAPI_MCP_DAILY_CAP="1")
    async with AsyncExitStack() as stack:
        sessions = [await stack.enter_async_context(Client(stdio_server(env))) for _ in range(3)]
        results = [await confirmed(session, "create_call", call_args()) for session in sessions]
    assert not results[0].is_error, result_text(results[0])
    for refused in results[1:]:
        assert refused.is_error and "Refused by rule `daily_cap`: 1 of today's 1" in result_text(refused)
    assert len(calls_to(vapi_backend)) == 1
    audit = tmp_path / "state" / "vapi-mcp" / "audit.jsonl"
    rows = attempts(read_lines([audit]))
    assert [row["decision"] for row in rows] == ["previewed", "sent", "refused", "refused"]
    assert rows[1]["target"] == vapi_backend and rows[1]["tenant"] == "local" and rows[1]["ids"] == [calls_to(vapi_backend)[0]["id"]]
    assert not (tmp_path / "state" / "vapi-mcp" / "audit-sandbox.jsonl").exists(), "real dials never go to the sandbox file"
    assert CALLEE in audit.read_text()
