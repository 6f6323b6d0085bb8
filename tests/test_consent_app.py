"""The MCP Apps consent channel through SDK clients: the view, the app-only tools, execute-once, refusals."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.apps_kit import APPS, one_server, pending_of
from tests.mcp_kit import SANDBOX, result_json, result_text
from tests.guard_kit import NY, add_number, audit_lines, posts, with_policy
from tests.loopback import serving
from tests.openapi import assert_valid
from vapi_mcp.config import Settings
from vapi_mcp.guard.app import APP_MIME_TYPE, APPROVE_TOOL, DECLINE_TOOL, VIEW_URI
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.core import stamp
from vapi_mcp.server import build_server

def dial_args(**extra: Any) -> dict[str, Any]:
    return {"customer": {"number": NY, "name": "Jane"}, **extra}


def decisions(settings: Settings) -> list[tuple[str, str | None]]:
    return [(line["decision"], line["channel"]) for line in audit_lines(settings)]


# what each kind of client is offered


@pytest.mark.usefixtures("family")
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_apps_clients_see_guarded_tools_bound_to_the_view_and_others_see_no_change(
    mode: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    async with one_server(settings, stub_sandbox, clock) as server:
        async with Client(server, mode=mode) as plain, Client(server, mode=mode, extensions=[APPS]) as host:
            plain_tools = {t.name: t for t in (await plain.list_tools()).tools}
            host_tools = {t.name: t for t in (await host.list_tools()).tools}
            plain_resources = [str(r.uri) for r in (await plain.list_resources()).resources]
            host_resources = [str(r.uri) for r in (await host.list_resources()).resources]
            [view] = (await host.read_resource(VIEW_URI)).contents
    assert set(plain_tools) == {"dial", "destroy"} and all(t.meta is None for t in plain_tools.values())
    assert set(host_tools) == {"dial", "destroy", APPROVE_TOOL, DECLINE_TOOL}
    for name in ("dial", "destroy"):
        assert host_tools[name].meta == {"ui": {"resourceUri": VIEW_URI}}
        assert host_tools[name].input_schema == plain_tools[name].input_schema
    for name in (APPROVE_TOOL, DECLINE_TOOL):
        assert host_tools[name].meta == {"ui": {"resourceUri": VIEW_URI, "visibility": ["app"]}}
    assert VIEW_URI not in plain_resources and VIEW_URI in host_resources
    assert view.mime_type == APP_MIME_TYPE and "<script src" not in view.text and "innerHTML" not in view.text
    assert "http://" not in view.text and "https://" not in view.text  # nothing to fetch: no network


async def test_a_cached_stdio_start_gives_an_apps_host_its_own_tools_list(tmp_path) -> None:
    """The stdio fast start answers tools/list from a cache of an earlier answer: an apps host's never
    becomes a plain client's, and a plain client's is never an apps host's."""
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "VAPI_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "PATH": "/usr/bin:/bin"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "vapi_mcp", "serve", "--sandbox"], env=env)
    listings: list[dict[str, Any]] = []
    for extensions in ([APPS], [], [APPS], []):  # the cache is empty, then filled by the plain session
        async with Client(params, mode="legacy", extensions=extensions) as client:
            listings.append({t.name: t for t in (await client.list_tools()).tools})
    first_host, first_plain, host, plain = listings
    assert APPROVE_TOOL not in first_plain and set(first_host) == set(first_plain) | {APPROVE_TOOL, DECLINE_TOOL}
    assert set(host) == set(first_host) and set(plain) == set(first_plain)
    assert host["create_call"].meta == {"ui": {"resourceUri": VIEW_URI}} and plain["create_call"].meta is None


# the preview


@pytest.mark.usefixtures("family")
@pytest.mark.parametrize("consent", ["any", "human"])
async def test_the_preview_names_the_pending_action_for_the_view_only(
    consent: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    strict = with_policy(settings, consent=consent)
    async with one_server(strict, stub_sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        result = await host.call_tool("dial", dial_args())
    assert not result.is_error, result_text(result)
    pending = pending_of(result)
    assert pending["summary"] == f"{SANDBOX}Call {NY} now." and pending["tool"] == "dial" and pending["cost"] == "Nothing is billed."
    # what the model reads: the text content (and, in some hosts, structuredContent), never the id
    assert pending["id"] not in result_text(result) and pending["id"] not in json.dumps(result.structured_content)
    view = result_json(result)
    assert view["decision"] == "previewed" and view["channel"] == "app" and "press Approve" in view["message"]
    assert ("confirmToken" in view) is (consent == "any")
    assert posts(stub_sandbox) == 0
    assert decisions(strict) == [("previewed", None)]


# Approve and Decline


@pytest.mark.usefixtures("family")
@pytest.mark.parametrize("consent", ["any", "human"])
async def test_approve_runs_the_pending_action_exactly_once(
    consent: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    strict = with_policy(settings, consent=consent)
    async with one_server(strict, stub_sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        pending = pending_of(await host.call_tool("dial", dial_args()))
        approved = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
        assert not approved.is_error, result_text(approved)
        assert "id" in result_json(approved) and posts(stub_sandbox) == 1
        replayed = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
    assert replayed.is_error and "no pending action has this id" in result_text(replayed)
    assert posts(stub_sandbox) == 1
    assert decisions(strict) == [("previewed", None), ("sent", "app"), ("refused", None)]
    sent = audit_lines(strict)[1]
    assert (sent["tool"], sent["ids"]) == ("dial", [result_json(approved)["id"]])


@pytest.mark.usefixtures("family")
async def test_the_agents_token_and_the_view_cannot_both_run_it(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    async with one_server(settings, stub_sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        first = await host.call_tool("dial", dial_args())
        by_token = await host.call_tool("dial", dial_args(confirmToken=result_json(first)["confirmToken"]))
        assert not by_token.is_error, result_text(by_token)
        approved = await host.call_tool(APPROVE_TOOL, {"id": pending_of(first)["id"]})
        assert approved.is_error and "already used" in result_text(approved)

        second = await host.call_tool("dial", dial_args())
        assert not (await host.call_tool(APPROVE_TOOL, {"id": pending_of(second)["id"]})).is_error
        late_token = await host.call_tool("dial", dial_args(confirmToken=result_json(second)["confirmToken"]))
        assert late_token.is_error and "already used" in result_text(late_token)
    assert posts(stub_sandbox) == 2
    assert decisions(settings) == [
        ("previewed", None), ("sent", "agent-relayed"), ("refused", None),
        ("previewed", None), ("sent", "app"), ("refused", None),
    ]


@pytest.mark.usefixtures("family")
async def test_decline_runs_nothing_and_is_audited(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    async with one_server(settings, stub_sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        pending = pending_of(await host.call_tool("destroy", {"id": "thing-1"}))
        declined = await host.call_tool(DECLINE_TOOL, {"id": pending["id"]})
        assert not declined.is_error and result_json(declined)["decision"] == "declined"
        approved = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
    assert approved.is_error and "no pending action has this id" in result_text(approved)
    assert stub_sandbox.requests == []
    assert decisions(settings) == [("previewed", None), ("declined", None), ("refused", None)]
    assert audit_lines(settings)[1]["tool"] == "destroy" and audit_lines(settings)[1]["summary"] == f"{SANDBOX}Delete thing thing-1."


@pytest.mark.usefixtures("family")
async def test_an_unknown_or_expired_pending_id_does_nothing(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    async with one_server(settings, stub_sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        guessed = await host.call_tool(APPROVE_TOOL, {"id": "user-said-yes"})
        pending = pending_of(await host.call_tool("dial", dial_args()))
        clock.advance(300)
        expired = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
    assert guessed.is_error and "no pending action has this id" in result_text(guessed)
    assert expired.is_error and "expired" in result_text(expired)
    assert posts(stub_sandbox) == 0
    assert decisions(settings) == [("refused", None), ("previewed", None), ("refused", None)]


@pytest.mark.usefixtures("family")
async def test_a_client_without_apps_cannot_use_the_app_only_tools(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    async with one_server(settings, stub_sandbox, clock) as server:
        async with Client(server, extensions=[APPS]) as host, Client(server) as plain:
            pending = pending_of(await host.call_tool("dial", dial_args()))
            refused = await plain.call_tool(APPROVE_TOOL, {"id": pending["id"]})
            assert refused.is_error and "declared no MCP Apps support" in result_text(refused)
            assert posts(stub_sandbox) == 0
            still = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})  # the refusal did not spend it
    assert not still.is_error and posts(stub_sandbox) == 1
    assert decisions(settings) == [("previewed", None), ("refused", None), ("sent", "app")]


@pytest.mark.usefixtures("family")
@pytest.mark.parametrize("change", ["tool", "arguments"])
async def test_a_pending_action_this_server_cannot_run_is_refused_and_audited(
    change: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    """A replica with other tools (or other code) than the one that previewed: Approve refuses, naming why,
    and writes its line; it used to crash (an unexpected error, no audit line). (The row is sealed by a server
    holding the shared confirm secret, as such a replica's would be.)"""
    server, app = build_server(settings, sandbox=stub_sandbox)
    app.guard.now = clock.now
    try:
        async with Client(server, extensions=[APPS]) as host:
            pending = pending_of(await host.call_tool("dial", dial_args()))
            stored = app.guard.pending.take(pending["id"])
            assert stored is not None
            altered = {**stored, "tool": "retired_tool"} if change == "tool" else {**stored, "arguments": {"customer": "+1 nobody"}}
            app.guard.pending.put(pending["id"], altered, time.time() + 300)
            refused = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
    finally:
        await app.aclose()
    assert refused.is_error and "Refused by rule `app`" in result_text(refused), result_text(refused)
    assert ("retired_tool is not a tool of this server" if change == "tool" else "Invalid arguments for dial") in result_text(refused)
    assert posts(stub_sandbox) == 0
    assert decisions(settings) == [("previewed", None), ("refused", None)]


@pytest.mark.usefixtures("family")
async def test_a_pending_action_of_another_vapi_account_does_nothing(settings: Settings, stub_sandbox: Sandbox) -> None:
    """Behind one HTTP deployment, a view's pending id approved with another team's key runs nothing."""
    import httpx2 as httpx

    async def session(key: str, tool: str, arguments: dict[str, Any]) -> Any:
        async with httpx.AsyncClient(headers={"X-Vapi-Key": key}, timeout=10) as http:
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http), extensions=[APPS]) as host:
                return await host.call_tool(tool, arguments)

    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=stub_sandbox) as base:
        pending = pending_of(await session("team-a-key-1f2e3d", "destroy", {"id": "thing-1"}))
        refused = await session("team-b-key-9a8b7c", APPROVE_TOOL, {"id": pending["id"]})
    assert refused.is_error and "another Vapi account" in result_text(refused)
    assert decisions(settings) == [("previewed", None), ("refused", None)]


# with the real tools: the approved request is exactly the previewed one


async def test_approving_a_real_call_sends_the_previewed_request_once(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    riley = stamp(sandbox.clock, name="Riley")
    sandbox.store.assistants[riley["id"]] = riley
    twilio = add_number(sandbox, "twilio", "+14155550100")
    args = {"assistantId": riley["id"], "phoneNumberId": twilio, "customer": {"number": NY, "name": "Jane"}, "metadata": {"ticket": "T-1"}}
    async with one_server(settings, sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        preview = await host.call_tool("create_call", args)
        pending = pending_of(preview)
        assert "Riley" in pending["summary"] and posts(sandbox) == 0
        approved = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
        bought = await host.call_tool("buy_number", {"numberDesiredAreaCode": "415"})
        bought = await host.call_tool(APPROVE_TOOL, {"id": pending_of(bought)["id"]})
    assert not approved.is_error and not bought.is_error, (result_text(approved), result_text(bought))
    [sent] = sandbox.requests_to("POST", "/call")
    assert_valid("CreateCallDTO", sent.body)
    assert sent.body == result_json(preview)["wouldSend"]["body"]
    assert len(sandbox.requests_to("POST", "/phone-number")) == 1
    assert decisions(settings) == [("previewed", None), ("sent", "app"), ("previewed", None), ("sent", "app")]


@pytest.mark.usefixtures("family")
async def test_approving_under_dry_run_still_sends_nothing(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    dry = with_policy(settings, dry_run=True)
    async with one_server(dry, stub_sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        pending = pending_of(await host.call_tool("dial", dial_args()))
        result = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
    assert result_json(result)["dryRun"] is True and stub_sandbox.requests == []
    assert decisions(dry) == [("previewed", None), ("dry-run", "app")]


# what the view says once Approve ran the action

CALL_ID = "1abd4377-4f9b-4c53-a7b3-5eba34e71652"


@pytest.mark.parametrize(
    ("tool", "result", "sentence"),
    [
        ("create_call", {"id": CALL_ID, "type": "outboundPhoneCall", "status": "queued", "customer": NY}, f"Approved: the call to {NY} was placed (call id {CALL_ID})."),
        ("create_call", {"id": CALL_ID, "type": "outboundPhoneCall", "status": "scheduled", "customer": NY}, f"Approved: the call to {NY} was scheduled (call id {CALL_ID})."),
        ("create_call", {"id": CALL_ID, "type": "webCall", "webCallUrl": "https://vapi.example/x"}, f"Approved: the web call was created (call id {CALL_ID})."),
        (
            "create_call",
            {"calls": [{"id": str(n), "customer": f"+1415555010{n}"} for n in range(5)], "errors": [{"customer": "+14155550199"}], "placed": 5},
            "Approved: 5 calls were placed (to +14155550100, call id 0; to +14155550101, call id 1; to +14155550102, call id 2, and 2 more). 1 could not be placed.",
        ),
        ("buy_number", {"phoneNumber": {"id": "n-1", "number": "+14155551000", "provider": "vapi"}}, "Approved: the number +14155551000 was bought (id n-1)."),
        ("import_number", {"phoneNumber": {"id": "n-2", "number": "+442079460958"}}, "Approved: the number +442079460958 was imported (id n-2)."),
        ("delete_assistant", {"deleted": {"id": "a-1", "name": "Riley"}}, 'Approved: the assistant "Riley" was deleted (id a-1).'),
        ("delete_phone_number", {"deleted": {"id": "n-3"}}, "Approved: the phone number was deleted (id n-3)."),
        ("create_campaign", {"id": "c-1", "status": "scheduled"}, "Approved: create_campaign was sent to Vapi and succeeded (id c-1)."),
        # Vapi's answer (or a name an agent chose) cannot add lines or markup to the sentence, or make it long
        (
            "delete_assistant",
            {"deleted": {"id": "a-2\nApproved: everything", "name": 'Riley"\n<b>now</b> and forever and ever'}},
            "Approved: the assistant \"Riley' <b>now</b> and f…\" was deleted (id a-2 Approved: everything).",
        ),
        ("create_call", {"id": "x" * 500, "type": "outboundPhoneCall", "customer": NY}, f"Approved: the call to {NY} was placed (call id {'x' * 47}…)."),
    ],
)
def test_after_approve_the_view_says_what_was_done_in_one_plain_sentence(tool: str, result: dict[str, Any], sentence: str) -> None:
    from vapi_mcp.guard.app import approved

    assert approved(tool, result) == sentence


@pytest.mark.usefixtures("family")
async def test_approves_result_carries_the_sentence_the_view_shows(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    """The result of Approve (for the view) adds `message` to the tool's own result: the view shows it, never the JSON."""
    async with one_server(settings, stub_sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        done = result_json(await host.call_tool(APPROVE_TOOL, {"id": pending_of(await host.call_tool("dial", dial_args()))["id"]}))
    assert done["message"] == f"Approved: dial was sent to Vapi and succeeded (id {done['id']})."
