"""Red team, round four: the guard's own state. Pending confirmations moved, replayed or raced; a human's no that
comes after the agent's yes; dials given back on an answer the guard cannot check; the do-not-call list against
every spelling of a number and every route an agent has to it; the sandbox's world file beside the guard's ledger.

Each test is an attack; those that broke through say so in their docstring ("Before: ..."), the others held and are
kept so they keep holding.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.apps_kit import APPS, one_server, pending_of
from tests.guard_kit import LA, NY, add_number, answering, audit_lines, posts, serve, with_policy
from tests.mcp_kit import result_json, result_text
from vapi_mcp.cli import main
from vapi_mcp.config import Settings
from vapi_mcp.guard.app import APPROVE_TOOL, DECLINE_TOOL
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.core import Fault, stamp
from vapi_mcp.server import build_server, tool_specs

with_test_tools = pytest.mark.usefixtures("family")


def riley(sandbox: Sandbox) -> str:
    item = stamp(sandbox.clock, name="Riley", firstMessage="Hi.", model={"provider": "openai", "model": "gpt-4.1"})
    sandbox.store.assistants[item["id"]] = item
    return item["id"]


def changes(sandbox: Sandbox) -> list[Any]:
    return [r for r in sandbox.requests if r.method != "GET"]


# a human's no, and the agent's yes


async def test_a_decline_after_the_agents_token_ran_the_action_says_it_came_too_late(settings: Settings, sandbox: Sandbox) -> None:
    """Before: under consent `any` the agent relayed the token at once (unasked) and the assistant was deleted; the
    user then pressed Decline and the view said "Declined. Nothing was sent." ("nothing was placed, bought or
    deleted"): the person believed they had stopped what had already happened."""
    target = riley(sandbox)
    async with one_server(settings, sandbox, sandbox.clock) as server, Client(server, extensions=[APPS]) as host:
        preview = await host.call_tool("delete_assistant", {"id": target})
        relayed = await host.call_tool("delete_assistant", {"id": target, "confirmToken": result_json(preview)["confirmToken"]})
        declined = await host.call_tool(DECLINE_TOOL, {"id": pending_of(preview)["id"]})
    assert not relayed.is_error and target not in sandbox.store.assistants
    assert declined.is_error, result_text(declined)  # the view shows "Not done: ..." for an error, never "Nothing was sent"
    assert "too late" in result_text(declined) and "may have been sent" in result_text(declined)
    assert "nothing was placed" not in result_text(declined).lower()
    lines = audit_lines(settings)
    assert [line["decision"] for line in lines] == ["previewed", "sent", "declined"]
    assert "too late" in lines[-1]["error"]


@with_test_tools
async def test_an_approve_then_a_decline_of_the_same_action_runs_it_once_and_the_decline_says_so(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    """Before: two views of one confirmation (two windows of a host), Approve in one then Decline in the other: the
    call was placed, and the Decline answered "nothing was placed"."""
    async with one_server(settings, stub_sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        pending = pending_of(await host.call_tool("dial", {"customer": {"number": NY}}))["id"]
        approved = await host.call_tool(APPROVE_TOOL, {"id": pending})
        declined = await host.call_tool(DECLINE_TOOL, {"id": pending})
    assert not approved.is_error and posts(stub_sandbox) == 1
    assert declined.is_error and "already answered" in result_text(declined), result_text(declined)


@with_test_tools
async def test_a_decline_before_the_approve_wins_and_the_approve_runs_nothing(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    """Held: the other order of the race: the no is recorded first, the Approve finds nothing to run."""
    async with one_server(settings, stub_sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        preview = await host.call_tool("dial", {"customer": {"number": NY}})
        pending = pending_of(preview)["id"]
        declined = await host.call_tool(DECLINE_TOOL, {"id": pending})
        approved = await host.call_tool(APPROVE_TOOL, {"id": pending})
        relayed = await host.call_tool("dial", {"customer": {"number": NY}, "confirmToken": result_json(preview)["confirmToken"]})
    assert not declined.is_error and result_json(declined)["decision"] == "declined"
    assert approved.is_error and relayed.is_error and posts(stub_sandbox) == 0


@with_test_tools
async def test_a_pending_row_moved_to_another_id_does_not_open(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    """Held: whoever can write the store copied the sealed row of "call +1 212..." under the id of a confirmation the
    user is about to approve ("delete thing-1"); the seal is bound to its id, so the Approve is refused, audited."""
    server, app = build_server(settings, sandbox=stub_sandbox)
    app.guard.now = clock.now
    try:
        async with Client(server, extensions=[APPS]) as host:
            dial = pending_of(await host.call_tool("dial", {"customer": {"number": NY}}))["id"]
            harmless = pending_of(await host.call_tool("destroy", {"id": "thing-1"}))["id"]
            sealed = app.guard.store.get("pending:" + dial)
            app.guard.store.take("pending:" + harmless)
            app.guard.store.put("pending:" + harmless, sealed or {}, time.time() + 300)
            approved = await host.call_tool(APPROVE_TOOL, {"id": harmless})
    finally:
        await app.aclose()
    assert approved.is_error and "integrity check" in result_text(approved)
    assert posts(stub_sandbox) == 0 and stub_sandbox.requests_to("DELETE", "/thing/thing-1") == []


@with_test_tools
async def test_a_token_from_before_the_state_file_was_replaced_is_refused(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    """Held: the SQLite state file was deleted (or restored from a backup) between the preview and the token: a new
    file is a new epoch, and a token of the old one is refused instead of being used a second time."""
    shared = with_policy(settings, confirm_secret="a-secret-the-sessions-share-2")
    state = Path(settings.state_url.split("://", 1)[1])
    async with one_server(shared, stub_sandbox, clock) as server, Client(server) as client:
        token = result_json(await client.call_tool("dial", {"customer": {"number": NY}}))["confirmToken"]
    for suffix in ("", "-wal", "-shm"):
        Path(f"{state}{suffix}").unlink(missing_ok=True)
    async with one_server(shared, stub_sandbox, clock) as server, Client(server) as client:
        replayed = await client.call_tool("dial", {"customer": {"number": NY}, "confirmToken": token})
    assert replayed.is_error and "lost its memory" in result_text(replayed), result_text(replayed)
    assert posts(stub_sandbox) == 0


# what is given back to the daily caps


async def test_a_call_that_rang_now_is_not_given_back_on_an_answer_that_says_it_is_scheduled(settings: Settings, sandbox: Sandbox) -> None:
    """Before: a call placed now (counted today), then deleted while the GET before the delete answered "scheduled,
    earliestAt tomorrow" (a hostile or stale base URL, a caching proxy): the guard gave the dial back to today's cap,
    and with a daily cap of 1 a second phone rang the same day. What is given back follows the guard's own record of
    when the call could ring, not only the answer."""
    capped = with_policy(settings, daily_cap=1)
    yes, _ = answering("accept")
    line = add_number(sandbox, "twilio", "+14155550101")
    arguments = {"assistantId": riley(sandbox), "phoneNumberId": line, "customer": {"number": LA}}
    async with serve(capped, sandbox, sandbox.clock, elicitation_callback=yes) as client:
        placed = result_json(await client.call_tool("create_call", arguments))
        forged = {**sandbox.store.calls[placed["id"]], "status": "scheduled", "schedulePlan": {"earliestAt": (sandbox.clock.now() + timedelta(days=1)).isoformat()}}
        sandbox.inject(Fault("GET", f"/call/{placed['id']}", status=200, times=5, body=json.dumps(forged, default=str).encode()))
        deleted = result_json(await client.call_tool("delete_call", {"id": placed["id"]}))
        second = await client.call_tool("create_call", {**arguments, "customer": {"number": NY}})
    assert "dialsGivenBack" not in deleted, deleted
    assert second.is_error and "Refused by rule `daily_cap`" in result_text(second), result_text(second)
    assert len(sandbox.requests_to("POST", "/call")) == 1


async def test_a_scheduled_call_deleted_before_its_time_is_given_back_once(settings: Settings, sandbox: Sandbox) -> None:
    """Held: the give-back itself (a call scheduled for tomorrow, deleted today) happens once, however often the
    delete is repeated."""
    capped = with_policy(settings, daily_cap=1)
    yes, _ = answering("accept")
    line = add_number(sandbox, "twilio", "+14155550101")
    tomorrow = (sandbox.clock.now() + timedelta(days=1)).replace(hour=17, minute=0, second=0, microsecond=0)
    arguments = {"assistantId": riley(sandbox), "phoneNumberId": line, "customer": {"number": LA}, "schedulePlan": {"earliestAt": tomorrow.isoformat()}}
    async with serve(capped, sandbox, sandbox.clock, elicitation_callback=yes) as client:
        placed = result_json(await client.call_tool("create_call", arguments))
        deleted = result_json(await client.call_tool("delete_call", {"id": placed["id"]}))
        again = await client.call_tool("delete_call", {"id": placed["id"]})
        rebooked = await client.call_tool("create_call", arguments)
    assert deleted.get("dialsGivenBack") == 1, deleted
    assert again.is_error and not rebooked.is_error, result_text(rebooked)


# the do-not-call list: every spelling, every route


@pytest.mark.parametrize(
    "customer",
    [
        {"number": "tel:+1-212-555-0123"},
        {"number": "+1 (212) 555-0123"},
        {"number": "+1 212 JKL 0123"},  # keypad letters
        {"number": "\uff0b\uff11\uff12\uff11\uff12\uff15\uff15\uff15\uff10\uff11\uff12\uff13"},  # full-width
        {"number": "+12125550123;ext=9"},
        {"number": "2125550123", "numberE164CheckEnabled": False},  # national, as a US trunk dials it
        {"number": "12125550123", "numberE164CheckEnabled": False},
        {"number": "0012125550123", "numberE164CheckEnabled": False},
        {"number": "01112125550123", "numberE164CheckEnabled": False},
        {"number": "212JKL0123", "numberE164CheckEnabled": False},
        {"number": "001112125550123", "numberE164CheckEnabled": False},  # Australia's international prefix 0011
        {"number": "01012125550123", "numberE164CheckEnabled": False},  # Japan's 010
        {"number": "81012125550123", "numberE164CheckEnabled": False},  # Russia's 8~10
        {"number": "000012125550123", "numberE164CheckEnabled": False},  # leading zeros
    ],
    ids=["tel", "parens", "keypad", "full-width", "ext", "national", "plain", "00", "011", "keypad national", "0011", "010", "810", "zeros"],
)
async def test_a_listed_number_is_refused_however_it_is_spelled(customer: dict[str, Any], settings: Settings, sandbox: Sandbox) -> None:
    """Before (the last four): with the E.164 check off, digits after another country's international prefix (a trunk
    in Australia dials 0011 1 212..., Japan 010, Russia 8 10) or after extra zeros were read as no number at all,
    and a number on the do-not-call list rang. Held: every other spelling."""
    line = add_number(sandbox, "byo-phone-number", "+14155550101")
    async with serve(settings, sandbox, sandbox.clock) as client:
        await client.call_tool("add_do_not_call", {"number": NY})
        called = await client.call_tool("create_call", {"assistantId": riley(sandbox), "phoneNumberId": line, "customer": customer})
        transfer = await client.call_tool("create_tool", {"type": "transferCall", "destinations": [{"type": "number", **customer}]})
    for result in (called, transfer):
        assert result.is_error and "Refused by rule `do_not_call`" in result_text(result), result_text(result)
    assert changes(sandbox) == []


@pytest.mark.parametrize(
    "uri",
    [
        "sip:+12125550123@trunk.example.com",
        "sip:2125550123@trunk.example.com",
        "sips:+1-212-555-0123@trunk.example.com;user=phone",
        "SIP:%2B12125550123@trunk.example.com",
        "sip:+12125550123:secret@trunk.example.com",
        "sip:trunk.example.com?To=%2B12125550123",  # no user part: the number in a header the trunk routes by
        "sip:desk@trunk.example.com;user=phone?X-Dial=12125550123",
        "sip:desk@trunk.example.com;phone-context=+12125550123",
    ],
    ids=["user", "national user", "dashes", "escaped", "password", "to header", "x header", "param"],
)
async def test_a_listed_number_in_a_sip_address_is_refused_wherever_the_address_holds_it(uri: str, settings: Settings, sandbox: Sandbox) -> None:
    """Before (the last three): the number rules read only the user part of a SIP address, so a listed number in one
    of its headers (`?To=`, which a trunk may route by) or parameters was set up as a transfer destination."""
    async with serve(settings, sandbox, sandbox.clock) as client:
        await client.call_tool("add_do_not_call", {"number": NY})
        transfer = await client.call_tool("create_tool", {"type": "transferCall", "destinations": [{"type": "sip", "sipUri": uri}]})
    assert transfer.is_error and "Refused by rule `do_not_call`" in result_text(transfer), result_text(transfer)
    assert changes(sandbox) == []


def _transfer(number: str) -> dict[str, Any]:
    return {"type": "transferCall", "destinations": [{"type": "number", "number": number}]}


async def test_a_listed_number_is_refused_on_every_route_an_agent_has_to_it(settings: Settings, sandbox: Sandbox) -> None:
    """Held: transient squads' membersOverrides, `tools:append`, a customer's own assistantOverrides, a chat's
    transient assistant, a campaign's dialPlan, a squad member's destinations, a transient assistant's hook, a
    destination inside a tool's message."""
    assistant, line = riley(sandbox), add_number(sandbox, "twilio", "+14155550101")
    model = {"provider": "openai", "model": "gpt-4.1"}
    routes = {
        "squad membersOverrides": ("create_call", {"squad": {"members": [{"assistantId": assistant}], "membersOverrides": {"model": {"tools": [_transfer(NY)]}}}, "phoneNumberId": line, "customer": {"number": LA}}),
        "tools:append": ("create_call", {"assistantId": assistant, "assistantOverrides": {"tools:append": [_transfer(NY)]}, "phoneNumberId": line, "customer": {"number": LA}}),
        "customer's overrides": ("create_call", {"assistantId": assistant, "phoneNumberId": line, "customer": {"number": LA, "assistantOverrides": {"model": {**model, "tools": [_transfer(NY)]}}}}),
        "chat's transient assistant": ("chat_with_assistant", {"assistant": {"model": {**model, "tools": [_transfer(NY)]}}, "input": "hi"}),
        "dialPlan": ("create_campaign", {"name": "Plan", "assistantId": assistant, "dialPlan": [{"phoneNumberId": line, "customers": [{"number": NY}]}]}),
        "squad member destinations": ("create_squad", {"members": [{"assistantId": assistant, "assistantDestinations": [{"type": "number", "number": NY}]}]}),
        "transient hook": ("create_call", {"assistant": {"hooks": [{"on": "call.ending", "do": [{"type": "transfer", "destination": {"type": "number", "number": NY}}]}]}, "phoneNumberId": line, "customer": {"number": LA}}),
        "tool message": ("create_assistant", {"name": "Desk", "model": {**model, "tools": [{"type": "transferCall", "messages": [{"type": "request-start", "content": "x", "destination": {"type": "number", "number": NY}}]}]}}),
    }
    async with serve(settings, sandbox, sandbox.clock) as client:
        await client.call_tool("add_do_not_call", {"number": NY})
        results = {name: await client.call_tool(tool, arguments) for name, (tool, arguments) in routes.items()}
    for name, result in results.items():
        assert result.is_error and "Refused by rule `do_not_call`" in result_text(result), (name, result_text(result))
    assert changes(sandbox) == []


async def test_a_duplicated_campaign_brings_the_destinations_of_the_one_it_copies_to_the_rules(settings: Settings, sandbox: Sandbox) -> None:
    """Before: `create_campaign {duplicateFromCampaignId}` copies the source campaign's assistantOverrides (a transfer
    to +1 212..., set up before that callee asked not to be called): the new campaign was asked about and started
    with neither the do-not-call rule nor the question seeing that transfer."""
    yes, asked = answering("accept")
    assistant, line = riley(sandbox), add_number(sandbox, "twilio", "+14155550101")
    async with serve(settings, sandbox, sandbox.clock, elicitation_callback=yes) as client:
        first = result_json(await client.call_tool("create_campaign", {
            "name": "Recall", "assistantId": assistant, "phoneNumberId": line, "customers": [{"number": LA}],
            "assistantOverrides": {"tools:append": [_transfer(NY)]},
        }))
        await client.call_tool("cancel_campaign", {"id": first["id"]})
        await client.call_tool("add_do_not_call", {"number": NY})
        again = await client.call_tool("create_campaign", {"name": "Recall again", "duplicateFromCampaignId": first["id"]})
    assert again.is_error and "Refused by rule `do_not_call`" in result_text(again), result_text(again)
    assert len(sandbox.requests_to("POST", "/v2/campaign")) == 1 and len(asked) == 1


async def test_no_tool_takes_a_number_off_the_list_and_adding_again_changes_nothing(settings: Settings, sandbox: Sandbox) -> None:
    """Held: no tool of the whole catalogue (whatever its name) writes the list but add_do_not_call, which sends
    nothing to Vapi; adding a listed number again (with another note) neither removes nor rewrites its entry."""
    ledger_tools = [spec.name for spec in tool_specs() if spec.ledger]
    assert ledger_tools == ["add_do_not_call"]
    async with serve(settings, sandbox, sandbox.clock) as client:
        await client.call_tool("add_do_not_call", {"number": NY, "note": "asked on the call"})
        again = result_json(await client.call_tool("add_do_not_call", {"number": "+1 212 555 0123", "note": "changed my mind, call me"}))
        refused = await client.call_tool("add_do_not_call", {"number": "2125550123"})
    assert again["added"] is False
    assert refused.is_error and "do-not-call" not in result_text(refused).lower().replace("add_do_not_call", "")
    from vapi_mcp.state import open_store

    entry = open_store(settings.state_url).dnc_find([NY])[NY]
    assert entry["note"] == "asked on the call"


async def test_the_do_not_call_list_shows_an_agents_note_as_text(settings: Settings, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: `vapi-mcp dnc list` printed the note an agent wrote as it was: a newline forged entries of the list,
    and a terminal escape cleared the screen of the user reading it."""
    async with serve(settings, sandbox, sandbox.clock) as client:
        await client.call_tool("add_do_not_call", {"number": NY, "note": "asked\n+14155550123  2026-01-01  user (vapi-mcp dnc)\x1b[2J"})
    monkeypatch.setenv("VAPI_MCP_STATE_URL", settings.state_url)
    assert main(["dnc", "list"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1 and "\x1b" not in printed and "\\n+14155550123" in printed, printed


# the sandbox's world beside the guard's ledger


def test_the_sandbox_refuses_a_world_file_that_is_the_guards_ledger(tmp_path: Path) -> None:
    """Before: `VAPI_MCP_SANDBOX_WORLD` named the guard's state file (a slip of one setting): the sandbox wrote its
    objects into it, and `vapi-mcp sandbox --reset` emptied the table both use for their own bookkeeping, deleting the
    guard's epoch, so every confirmation in flight died. A file holding tables that are not the sandbox's is another
    program's database: refused, never changed."""
    from vapi_mcp.sandbox import WorldUnusable
    from vapi_mcp.state import SQLiteStore

    path = tmp_path / "state.sqlite3"
    ledger = SQLiteStore(path)
    epoch = ledger.epoch()
    ledger.dnc_add({NY: {"added": "2026-11-02"}})
    ledger.close()
    sandbox = Sandbox(world=path)
    try:
        with pytest.raises(WorldUnusable, match="not a sandbox world"):
            sandbox.store.reset()
    finally:
        sandbox.close()
    ledger = SQLiteStore(path)
    assert ledger.epoch() == epoch and NY in ledger.dnc_list()


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_the_sandbox_refuses_a_world_whose_sqlite_side_files_others_can_read(suffix: str, tmp_path: Path) -> None:
    """Before: the world file was checked (0600, no link, the user's own) but SQLite's `-wal` beside it was not: one
    left readable by others (or planted by them in a shared directory) received every object written."""
    from vapi_mcp.sandbox import WorldUnusable

    world = tmp_path / "world.sqlite3"
    side = Path(f"{world}{suffix}")
    side.write_bytes(b"")
    os.chmod(side, 0o644)
    sandbox = Sandbox(world=world)
    try:
        with pytest.raises(WorldUnusable, match=f"chmod 600 {side}"):
            sandbox.store.counts()
    finally:
        sandbox.close()


def test_the_sandbox_world_is_never_opened_through_a_link(tmp_path: Path) -> None:
    """Held: a symbolic link in place of the world file is refused (the guard's state file could be behind it)."""
    from vapi_mcp.sandbox import WorldUnusable

    target = tmp_path / "state.sqlite3"
    target.write_bytes(b"")
    os.chmod(target, 0o600)
    (tmp_path / "world.sqlite3").symlink_to(target)
    sandbox = Sandbox(world=tmp_path / "world.sqlite3")
    try:
        with pytest.raises(WorldUnusable, match="symbolic link"):
            sandbox.store.counts()
    finally:
        sandbox.close()
    assert target.read_bytes() == b""


# the per-person cap


def test_people_whose_subjects_look_alike_each_have_their_own_cap(tmp_path: Path) -> None:
    """Held: the per-person counter is named by the whole tenant and ends with the day, so no subject (one that ends
    like a day, another's in another case, `local` signed in) shares or spends another person's count."""
    from dataclasses import replace

    from vapi_mcp.errors import Refused
    from vapi_mcp.guard import Callee, GuardedAction
    from vapi_mcp.guard.ledger import Ledger
    from vapi_mcp.state import SQLiteStore

    store = SQLiteStore(tmp_path / "state.sqlite3")
    policy = replace(Settings.load({}).policy, daily_cap_per_person=1, daily_cap=100, per_number_cap=100)
    ledger = Ledger(store, policy)
    now = datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
    day = now.date().isoformat()
    tenants = ["oauth:alice", f"oauth:alice:{day}", "oauth:Alice", "oauth:local", "local", "oauth:alice:", f"oauth:{day}"]

    def dial(i: int) -> GuardedAction:
        number = f"+1212555{1000 + i:04d}"
        return GuardedAction(tool="create_call", kind="dial", summary="x", method="POST", path="/call", body={}, arguments={}, callees=[Callee(number)])

    for i, tenant in enumerate(tenants):
        ledger.reserve(dial(i), now, tenant, "acct", store.epoch())  # each person's first dial of the day: allowed
    for i, tenant in enumerate(tenants):
        with pytest.raises(Refused, match="VAPI_MCP_DAILY_CAP_PER_PERSON"):
            ledger.reserve(dial(100 + i), now, tenant, "acct", store.epoch())
    store.close()
