"""The do-not-call list and the per-number cap in the ledger (issue 17): checked by every dial, text, transfer and
campaign contact before anyone is asked, managed by the user (`vapi-mcp dnc`), grown (never shrunk) by an agent, and
shared by every session on SQLite and every replica on Redis."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.guard_kit import LA, NY, add_number, answering, audit_lines, serve
from tests.ledger_kit import AUTH_TOKEN, CALLEE, CONFIRM_SECRET, call_args, calls_to, http_replicas, server_env, stdio_server
from tests.mcp_kit import confirmed, result_json, result_text
from vapi_mcp.cli import main
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.core import stamp
from vapi_mcp.server import tool_specs


@pytest.fixture
def world(sandbox: Sandbox, clock: ManualClock) -> dict[str, str]:
    riley = stamp(clock, name="Riley")
    sandbox.store.assistants[riley["id"]] = riley
    return {"assistantId": riley["id"], "phoneNumberId": add_number(sandbox, "twilio", "+14155550101")}


def changes(sandbox: Sandbox) -> list[Any]:
    return [r for r in sandbox.requests if r.method != "GET"]


async def test_a_number_an_agent_listed_is_refused_everywhere_before_anyone_is_asked(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    yes, asked = answering("accept")
    byo = add_number(sandbox, "byo-phone-number", "+14155550102")
    session = stamp(clock, status="active", assistantId=world["assistantId"], phoneNumberId=world["phoneNumberId"], customer={"number": NY})
    sandbox.store.sessions[session["id"]] = session
    async with serve(settings, sandbox, clock, elicitation_callback=yes) as client:
        listed = result_json(await client.call_tool("add_do_not_call", {"number": "+1 (212) 555-0123", "note": "asked on the call"}))
        again = result_json(await client.call_tool("add_do_not_call", {"number": NY}))
        attempts = {
            "dial": await client.call_tool("create_call", {**world, "customer": {"number": NY}}),
            "national": await client.call_tool("create_call", {**world, "phoneNumberId": byo, "customer": {"number": "2125550123", "numberE164CheckEnabled": False}}),
            "campaign": await client.call_tool("create_campaign", {"name": "Recall", **world, "customers": [{"number": LA}, {"number": NY}]}),
            "text": await client.call_tool("chat_with_assistant", {"sessionId": session["id"], "input": "Hi"}),
            "transfer": await client.call_tool("create_tool", {"type": "transferCall", "destinations": [{"type": "number", "number": NY}]}),
            "sip": await client.call_tool("create_tool", {"type": "transferCall", "destinations": [{"type": "sip", "sipUri": f"sip:{NY}@trunk.example.com"}]}),
        }
        other = await client.call_tool("create_call", {**world, "customer": {"number": LA}})
    assert listed == {"number": NY, "added": True, "doNotCall": True, "sandbox": True} and again["added"] is False
    for route, result in attempts.items():
        assert result.is_error and "Refused by rule `do_not_call`" in result_text(result), (route, result_text(result))
        assert NY in result_text(result) and "asked on the call" in result_text(result)
    assert "2125550123 may be dialled as +12125550123" in result_text(attempts["national"])
    assert not other.is_error and len(asked) == 1, "nobody was asked about a listed number"
    assert [r.path for r in changes(sandbox)] == ["/call"]
    lines = audit_lines(settings)
    assert [(line["tool"], line["decision"]) for line in lines[:2]] == [("add_do_not_call", "added"), ("add_do_not_call", "already-listed")]
    refused = [line for line in lines if line["decision"] == "refused"]
    assert len(refused) == 6 and {line["rule"] for line in refused} == {"do_not_call"}

    monkeypatch.setenv("VAPI_MCP_AUDIT_LOG", str(settings.audit_log))
    assert main(["audit", "--only", "sandbox"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == len(lines) == 10, "one row per attempt (the dial that was asked is two: asked, then sent)"
    assert sum(bool(re.search(r"refused\s+do_not_call\s", row)) for row in rows) == 6


def test_an_agent_can_add_but_never_remove() -> None:
    names = {spec.name for spec in tool_specs()}
    assert "add_do_not_call" in names
    assert not {name for name in names if "do_not_call" in name or "dnc" in name} - {"add_do_not_call"}


async def test_an_agent_cannot_list_a_number_that_is_no_number(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    async with serve(settings, sandbox, clock) as client:
        result = await client.call_tool("add_do_not_call", {"number": "call me maybe"})
    assert result.is_error and "`number`" in result_text(result) and "nothing was added" in result_text(result)


async def test_the_user_manages_the_list_from_the_command_line(
    tmp_path: Path, settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    store = ["--state-url", settings.state_url]
    csv = tmp_path / "dnc.csv"
    csv.write_text("phone,name\n+1 212 555 0123,Jane\n+442079460958,Bob\nnot a number,Eve\n")
    assert main(["dnc", "add", LA, "--note", "complaint", *store]) == 0
    assert main(["dnc", "import", str(csv), *store]) == 1, "a row without a number is reported"
    err = capsys.readouterr().err
    assert "2 added, 0 already listed, 1 row(s) without a valid number" in err and "line 4" in err
    assert main(["dnc", "add", "4155550123", *store]) == 2
    assert "+ and country code" in capsys.readouterr().err
    assert main(["dnc", "list", *store]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == ["+12125550123", "+14155550123", "+442079460958"]
    yes, _ = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=yes) as client:
        refused = await client.call_tool("create_call", {**world, "customer": {"number": LA}})
        assert refused.is_error and "complaint" in result_text(refused)
        assert main(["dnc", "remove", LA, *store]) == 0
        placed = await client.call_tool("create_call", {**world, "customer": {"number": LA}})
    assert not placed.is_error, result_text(placed)


# across sessions and replicas


async def test_both_lists_hold_across_two_stdio_sessions_on_sqlite(tmp_path: Path, vapi_backend: str) -> None:
    env = server_env(tmp_path, vapi_backend, VAPI_MCP_PER_NUMBER_CAP="1")
    other = "+12125550142"
    async with AsyncExitStack() as stack:
        one, two = [await stack.enter_async_context(Client(stdio_server(env))) for _ in range(2)]
        listed = await one.call_tool("add_do_not_call", {"number": CALLEE})
        refused = await confirmed(two, "create_call", call_args())
        first = await confirmed(one, "create_call", call_args(other))
        second = await confirmed(two, "create_call", call_args(other))
    assert not listed.is_error, result_text(listed)
    assert refused.is_error and "Refused by rule `do_not_call`" in result_text(refused)
    assert not first.is_error, result_text(first)
    assert second.is_error and "Refused by rule `per_number_cap`" in result_text(second)
    assert calls_to(vapi_backend) == [] and len(calls_to(vapi_backend, other)) == 1


async def test_both_lists_hold_across_two_replicas_on_redis(tmp_path: Path, vapi_backend: str, redis_url: str) -> None:
    import httpx2 as httpx
    from mcp.client.streamable_http import streamable_http_client

    env = server_env(
        tmp_path, vapi_backend, VAPI_MCP_STATE_URL=redis_url, VAPI_MCP_CONFIRM_SECRET=CONFIRM_SECRET,
        VAPI_MCP_AUTH_TOKEN=AUTH_TOKEN, VAPI_MCP_PER_NUMBER_CAP="1",
    )
    other = "+12125550142"
    with http_replicas(env) as urls:
        async with AsyncExitStack() as stack:
            replicas = []
            for url in urls:
                http = await stack.enter_async_context(httpx.AsyncClient(headers={"Authorization": f"Bearer {AUTH_TOKEN}"}, timeout=30))
                replicas.append(await stack.enter_async_context(Client(streamable_http_client(url, http_client=http))))
            listed = await replicas[0].call_tool("add_do_not_call", {"number": CALLEE})
            refused = await confirmed(replicas[1], "create_call", call_args())
            first = await confirmed(replicas[0], "create_call", call_args(other))
            second = await confirmed(replicas[1], "create_call", call_args(other))
    assert not listed.is_error, result_text(listed)
    assert refused.is_error and "Refused by rule `do_not_call`" in result_text(refused)
    assert not first.is_error, result_text(first)
    assert second.is_error and "Refused by rule `per_number_cap`" in result_text(second)
    assert calls_to(vapi_backend) == [] and len(calls_to(vapi_backend, other)) == 1
    assert main(["dnc", "list", "--state-url", redis_url]) == 0

