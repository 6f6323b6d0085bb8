"""The guard's own state as evidence (issue 17): pending confirmations authenticated with the confirm secret, checked
before they are taken, no provider secret at rest in clear, the state file kept like the audit file, and a human's no
that wins even while the store cannot record it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from mcp import Client

from tests.apps_kit import APPS, one_server, pending_of
from tests.guard_kit import NY, audit_lines, posts, with_policy
from tests.ledger_kit import raw_bytes, sqlite_locked
from tests.loopback import on_loopback, serving
from tests.mcp_kit import result_json, result_text
from vapi_mcp.config import Settings
from vapi_mcp.guard.app import APPROVE_TOOL, DECLINE_TOOL
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.server import build_server

with_test_tools = pytest.mark.usefixtures("family")
TWILIO_SECRET = "tw-secret-at-rest-5f1e0d9c8b7a"
TWENTY = [{"number": f"+1212555{1000 + i:04d}"} for i in range(20)]


def dial_args(**extra: Any) -> dict[str, Any]:
    return {"customer": {"number": NY, "name": "Jane"}, **extra}


def decisions(settings: Settings) -> list[tuple[str, str | None]]:
    return [(line["decision"], line.get("rule")) for line in audit_lines(settings)]


# pending rows are evidence


@with_test_tools
@pytest.mark.parametrize("how", ["rewritten", "planted", "bit flipped"])
async def test_a_pending_row_written_by_anyone_but_this_server_is_refused(
    how: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    """Anyone who could write to the store (a Redis the replicas share, no confirm secret) rewrote the Approve of
    "Call Jane" into 20 dials, or planted an action nobody was asked about; both ran, audited as channel `app`."""
    server, app = build_server(settings, sandbox=stub_sandbox)
    app.guard.now = clock.now
    store = app.guard.store
    try:
        async with Client(server, extensions=[APPS]) as host:
            pending = pending_of(await host.call_tool("dial", dial_args()))
            account = audit_lines(settings)[0]["account"]
            row = {  # a row as the store used to hold them: plain JSON, as anyone reading the code would write it
                "tool": "dial", "arguments": {"customers": TWENTY}, "account": account, "tenant": "local",
                "expires": clock.now().timestamp() + 300, "token": None, "kind": "dial", "summary": "Call Jane now.", "request": None,
            }
            target = pending["id"] if how != "planted" else "planted-by-an-intruder-0123456789ab"
            if how == "bit flipped":
                sealed = store.take("pending:" + target)
                assert sealed is not None and "sealed" in sealed and NY not in str(sealed), "the row is sealed, nothing in clear"
                flipped = sealed["sealed"][:10] + ("A" if sealed["sealed"][10] != "A" else "B") + sealed["sealed"][11:]
                row = {**sealed, "sealed": flipped}
            else:
                store.take("pending:" + target)
            store.put("pending:" + target, row, time.time() + 300)
            approved = await host.call_tool(APPROVE_TOOL, {"id": target})
    finally:
        await app.aclose()
    assert approved.is_error and "Refused by rule `app`" in result_text(approved), result_text(approved)
    assert "integrity check" in result_text(approved)
    assert posts(stub_sandbox) == 0
    assert decisions(settings) == [("previewed", None), ("refused", "app")]


@with_test_tools
async def test_another_accounts_approve_leaves_the_owners_pending_action_alone(settings: Settings, stub_sandbox: Sandbox) -> None:
    """A wrong-account Approve took (deleted) the owner's pending row before the account was checked, so the owner's
    own Approve then failed: check first, take after."""
    import httpx2 as httpx
    from mcp.client.streamable_http import streamable_http_client

    async def session(key: str, tool: str, arguments: dict[str, Any]) -> Any:
        async with httpx.AsyncClient(headers={"X-Vapi-Key": key}, timeout=10) as http:
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http), extensions=[APPS]) as host:
                return await host.call_tool(tool, arguments)

    async with on_loopback(stub_sandbox.app, lifespan="on") as vapi:
        keyed = with_policy(settings, base_url=vapi)  # each X-Vapi-Key works on its own account at this "Vapi"
        async with serving("--transport", "http", "--stateless", settings=keyed, sandbox=stub_sandbox) as base:
            pending = pending_of(await session("team-a-key-1f2e3d", "destroy", {"id": "thing-1"}))
            refused = await session("team-b-key-9a8b7c", APPROVE_TOOL, {"id": pending["id"]})
            declined = await session("team-b-key-9a8b7c", DECLINE_TOOL, {"id": pending["id"]})
            approved = await session("team-a-key-1f2e3d", APPROVE_TOOL, {"id": pending["id"]})
    assert refused.is_error and "another Vapi account" in result_text(refused)
    assert declined.is_error and "another Vapi account" in result_text(declined)
    assert not approved.is_error, result_text(approved)
    assert len(stub_sandbox.requests_to("DELETE", "/thing/thing-1")) == 1


@with_test_tools
async def test_another_persons_approve_leaves_the_owners_pending_action_alone(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for a person signed in with OAuth (the tenant): mallory's Approve of alice's action must not take it."""
    from vapi_mcp.errors import Refused

    server, app = build_server(settings, sandbox=stub_sandbox)
    app.guard.now = clock.now
    try:
        async with Client(server, extensions=[APPS]) as host:
            pending = pending_of(await host.call_tool("destroy", {"id": "thing-1"}))
            monkeypatch.setattr("vapi_mcp.guard.app.offers_apps", lambda context: True)  # the guard asked directly, as a replica would be
            mallory = SimpleNamespace(vapi=app.vapi, mcp=None, tool=APPROVE_TOOL, tenant="oauth:mallory", approval=None, scopes=None)
            with pytest.raises(Refused, match="asked for by someone else"):
                app.guard.take_pending(pending["id"], mallory)
            monkeypatch.undo()
            approved = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
    finally:
        await app.aclose()
    assert not approved.is_error, result_text(approved)
    assert len(stub_sandbox.requests_to("DELETE", "/thing/thing-1")) == 1


# secrets at rest


async def test_a_pending_import_holds_no_provider_secret_in_clear_not_even_in_the_wal(
    settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    """The pending import_number row held twilioAuthToken in clear in the state store, and after Decline the secret
    stayed in SQLite's -wal file."""
    body = {"provider": "twilio", "number": "+14155550199", "twilioAccountSid": "AC" + "0" * 32, "twilioAuthToken": TWILIO_SECRET}
    state = Path(settings.state_url.split("://", 1)[1])
    async with one_server(settings, sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        preview = await host.call_tool("import_number", body)
        assert not preview.is_error, result_text(preview)
        assert TWILIO_SECRET.encode() not in raw_bytes(state), "in clear in the state store after the preview"
        declined = await host.call_tool(DECLINE_TOOL, {"id": pending_of(preview)["id"]})
        assert result_json(declined)["decision"] == "declined"
    assert TWILIO_SECRET.encode() not in raw_bytes(state), "in clear in the state store after Decline"
    assert sandbox.requests_to("POST", "/phone-number") == []


def test_a_state_file_others_can_read_stops_the_start_with_the_fix(tmp_path: Path) -> None:
    """The state file was used even when it was already world-readable (the audit file is refused in that case)."""
    state = tmp_path / "state.sqlite3"
    state.write_bytes(b"")
    state.chmod(0o644)
    started = subprocess.run(
        [sys.executable, "-m", "vapi_mcp", "serve", "--sandbox", "--transport", "http", "--port", "0"],
        env={**os.environ, "VAPI_MCP_STATE_URL": f"sqlite://{state}", "VAPI_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl")},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )
    assert started.returncode == 2, started.stderr
    assert "VAPI_MCP_STATE_URL" in started.stderr and f"chmod 600 {state}" in started.stderr and "0644" in started.stderr
    assert stat.S_IMODE(state.stat().st_mode) == 0o644, "the server changes nothing itself"


@with_test_tools
async def test_a_state_file_others_can_read_refuses_guarded_actions_at_run_time(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    """Made readable while the server runs (or by a server that skipped the start check): refused, with the fix."""
    state = Path(settings.state_url.split("://", 1)[1])
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_bytes(b"")
    state.chmod(0o604)
    async with one_server(settings, stub_sandbox, clock) as server, Client(server) as client:
        refused = await client.call_tool("dial", dial_args())
    assert refused.is_error and "Refused by rule `state`" in result_text(refused) and f"chmod 600 {state}" in result_text(refused)
    assert posts(stub_sandbox) == 0


# a human's no always wins


@with_test_tools
async def test_a_decline_while_the_sqlite_store_cannot_be_written_still_wins(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    """Issue 17: a Decline during a store outage failed as an internal error, wrote no audit line, spent no token and
    left the pending row; once the store was back, the agent's token placed the call the user declined."""
    shared = with_policy(settings, confirm_secret="a-secret-the-sessions-share-1")
    server, app = build_server(shared, sandbox=stub_sandbox)
    app.guard.now = clock.now
    try:
        async with Client(server, extensions=[APPS]) as host:
            preview = await host.call_tool("dial", dial_args())
            token, pending = result_json(preview)["confirmToken"], pending_of(preview)["id"]
            with sqlite_locked(app.guard.store):
                declined = await host.call_tool(DECLINE_TOOL, {"id": pending})
                approved_during = await host.call_tool(APPROVE_TOOL, {"id": pending})
            by_token = await host.call_tool("dial", dial_args(confirmToken=token))
            approved_after = await host.call_tool(APPROVE_TOOL, {"id": pending})
        async with one_server(shared, stub_sandbox, clock) as other, Client(other) as second_session:
            elsewhere = await second_session.call_tool("dial", dial_args(confirmToken=token))
    finally:
        await app.aclose()
    assert not declined.is_error, result_text(declined)
    said = result_json(declined)
    assert said["decision"] == "declined" and said["recorded"] is False and "could not be recorded" in said["message"]
    assert approved_during.is_error and approved_after.is_error
    assert by_token.is_error and "declined" in result_text(by_token), result_text(by_token)
    assert elsewhere.is_error and ("already used" in result_text(elsewhere) or "declined" in result_text(elsewhere)), result_text(elsewhere)
    assert posts(stub_sandbox) == 0
    lines = audit_lines(shared)
    declines = [line for line in lines if line["decision"] == "declined"]
    assert len(declines) == 1 and "could not be recorded in the state store" in declines[0]["error"]
    assert [line["decision"] for line in lines].count("sent") == 0


@with_test_tools
async def test_an_approve_that_cannot_be_recorded_says_so_and_runs_nothing(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    server, app = build_server(settings, sandbox=stub_sandbox)
    app.guard.now = clock.now
    try:
        async with Client(server, extensions=[APPS]) as host:
            pending = pending_of(await host.call_tool("dial", dial_args()))["id"]
            with sqlite_locked(app.guard.store):
                approved = await host.call_tool(APPROVE_TOOL, {"id": pending})
            later = await host.call_tool(APPROVE_TOOL, {"id": pending})
    finally:
        await app.aclose()
    assert approved.is_error and "Refused by rule `state`" in result_text(approved) and "cannot be recorded" in result_text(approved)
    assert "crashed" not in result_text(approved) and "inside vapi-mcp" not in result_text(approved)
    assert not later.is_error, "the pending action waits until the store answers"
    assert posts(stub_sandbox) == 1


@with_test_tools
async def test_a_decline_of_a_rewritten_row_still_spends_the_agents_token(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    """Found while fixing issue 17: a Decline that refused a row which no longer opened (rewritten in the store) left the
    token the agent holds valid, so the agent's yes followed the human's no. Only the view knows the pending id: its
    Decline spends that use whatever became of the row."""
    server, app = build_server(settings, sandbox=stub_sandbox)
    app.guard.now = clock.now
    try:
        async with Client(server, extensions=[APPS]) as host:
            preview = await host.call_tool("dial", dial_args())
            token, pending = result_json(preview)["confirmToken"], pending_of(preview)["id"]
            app.guard.store.put("pending:" + pending, {"tool": "dial", "arguments": {"customers": TWENTY}}, time.time() + 300)
            declined = await host.call_tool(DECLINE_TOOL, {"id": pending})
            relayed = await host.call_tool("dial", dial_args(confirmToken=token))
    finally:
        await app.aclose()
    assert not declined.is_error and result_json(declined)["decision"] == "declined", result_text(declined)
    assert relayed.is_error and "already used" in result_text(relayed), result_text(relayed)
    assert posts(stub_sandbox) == 0
    assert "rewritten" in audit_lines(settings)[1]["error"]
