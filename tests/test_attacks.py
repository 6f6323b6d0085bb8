"""The guard under attack: what a hostile or merely unusual argument, setting, answer or request does.

Each test is a route someone found around a rule (or a crash on the way), through a real MCP client
on the sandbox: it must be refused, asked about, or answered with a clear error, and nothing sent
that the human did not confirm.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.mcp_kit import connect, result_json, result_text
from tests.guard_kit import LA, LONDON, add_number, audit_lines, with_policy
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import Sandbox
from vapi_mcp.sandbox.core import stamp


def sent(sandbox: Sandbox, method: str = "POST") -> list[Any]:
    """The requests that changed something at the sandbox (reads left out)."""
    return [r for r in sandbox.requests if r.method == method]


def transfer_to(number: str, **fields: Any) -> dict[str, Any]:
    return {"type": "transferCall", "destinations": [{"type": "number", "number": number, **fields}]}


def assistant(sandbox: Sandbox) -> str:
    item = stamp(sandbox.clock, name="Riley", firstMessage="Hi.", model={"provider": "openai", "model": "gpt-4.1"})
    sandbox.store.assistants[item["id"]] = item
    return item["id"]


# numbers written without their country: every reading counts


@pytest.mark.parametrize(
    "given, denied",
    [
        ("4155550123", LA),  # a US SIP trunk dials it as +1 415 555 0123
        ("02079460958", LONDON),  # a UK trunk: 0 is the national prefix
        ("1415555CALL", "+14155552255"),  # letters as the keypad dials them
    ],
)
async def test_a_deny_listed_number_written_as_a_national_number_is_refused(
    given: str, denied: str, settings: Settings, sandbox: Sandbox
) -> None:
    """With `numberE164CheckEnabled: false` a SIP trunk dials plain digits as a national number of its own
    country, so a deny-listed number written without its country code is still that number."""
    policy = with_policy(settings, deny_numbers=(denied,))
    async with connect(policy, sandbox) as client:
        tool = await client.call_tool("create_tool", transfer_to(given, numberE164CheckEnabled=False))
        call = await client.call_tool(
            "create_call",
            {"assistantId": assistant(sandbox), "phoneNumberId": add_number(sandbox, "byo-phone-number"),
             "customer": {"number": given, "numberE164CheckEnabled": False}},
        )
    for result in (tool, call):
        assert result.is_error and "Refused by rule `deny_numbers`" in result_text(result), result_text(result)
        assert denied in result_text(result)
    assert sent(sandbox) == []
    assert [line["decision"] for line in audit_lines(policy)] == ["refused", "refused"]


async def test_plain_digits_never_pass_an_allow_list(settings: Settings, sandbox: Sandbox) -> None:
    """`33142685300` reads as the allowed +33 1 42 68 53 00 only when a trunk dials it internationally;
    a German trunk dials +49 33142685300. Only a number written with its country is on an allow list."""
    policy = with_policy(settings, allow_numbers=("+33142685300",))
    async with connect(policy, sandbox) as client:
        plain = await client.call_tool("create_tool", transfer_to("33142685300", numberE164CheckEnabled=False))
        written = await client.call_tool("create_tool", transfer_to("+33142685300", numberE164CheckEnabled=False))
    assert plain.is_error and "Refused by rule `allow_numbers`" in result_text(plain)
    assert "national number" in result_text(plain) and "+ country code" in result_text(plain)
    assert result_json(written)["confirmationRequired"] is True
    assert sent(sandbox) == []


# a customer's SIP address is a dial too


async def test_a_customers_sip_address_passes_the_number_policy_and_is_shown(settings: Settings, sandbox: Sandbox) -> None:
    """CreateCustomerDTO.sipUri: Vapi may dial the customer at that address (a trunk reaching any phone).
    It was neither checked nor shown: a +1 number on the question, a +44 SIP address dialled."""
    sip = "sip:+442079460958@trunk.example.com"
    body = {"assistantId": assistant(sandbox), "phoneNumberId": add_number(sandbox, "twilio"), "customer": {"number": LA, "sipUri": sip}}
    denied = with_policy(settings, deny_countries=("44",))
    async with connect(denied, sandbox) as client:
        refused = await client.call_tool("create_call", body)
    assert refused.is_error and "Refused by rule `deny_countries`" in result_text(refused) and sip in result_text(refused)
    async with connect(settings, sandbox) as client:
        preview = result_json(await client.call_tool("create_call", body))
    assert f"dials the SIP address \"{sip}\"" in preview["summary"]
    assert sent(sandbox) == []
    quiet = with_policy(settings, quiet_hours=True, quiet_start=0, quiet_end=24)  # any hour is a calling hour
    async with connect(quiet, sandbox) as client:
        unknown_time = await client.call_tool("create_call", body)
    assert "Refused by rule `quiet_hours`" in result_text(unknown_time) and "local time of" in result_text(unknown_time)


async def test_a_long_sip_address_is_shown_with_its_host(settings: Settings, sandbox: Sandbox) -> None:
    """A destination is a fact, not a name: a padded SIP address cut after 60 characters hid the host it routes to."""
    sip = "sip:+14155550123" + "0" * 80 + "@trunk.evil.example"
    async with connect(settings, sandbox) as client:
        preview = result_json(await client.call_tool("create_tool", {"type": "transferCall", "destinations": [{"type": "sip", "sipUri": sip}]}))
    assert "@trunk.evil.example" in preview["summary"]
    assert sent(sandbox) == []


# the MCP Apps view's Approve, where it cannot run what it approves


async def test_approve_on_a_replica_without_the_tool_is_refused_and_audited(settings: Settings, sandbox: Sandbox) -> None:
    """Replicas share pending actions through the state store; one that does not offer the tool (other
    toolsets) crashed with an internal error and wrote no line, after taking the pending action."""
    from dataclasses import replace

    from mcp import Client
    from mcp.client.extension import advertise

    from vapi_mcp.guard.app import APP_MIME_TYPE, EXTENSION_ID, META_KEY
    from vapi_mcp.server import build_server

    apps = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
    settings = replace(settings, confirm_secret="replicas-share-this-confirm-secret")  # as replicas must
    campaigns, first = build_server(settings, sandbox=sandbox)
    default, second = build_server(replace(settings, toolsets=("default",)), sandbox=sandbox)
    body = {"name": "Recall", "assistantId": assistant(sandbox), "phoneNumberId": add_number(sandbox, "twilio"), "customers": [{"number": LA}]}
    try:
        async with Client(campaigns, extensions=[apps]) as host, Client(default, extensions=[apps]) as other:
            preview = await host.call_tool("create_campaign", body)
            approved = await other.call_tool("approve_action", {"id": preview.meta[META_KEY]["id"]})
    finally:
        await first.aclose()
        await second.aclose()
    assert approved.is_error and "create_campaign is not a tool of this server; nothing was sent" in result_text(approved)
    assert [(line["tool"], line["decision"]) for line in audit_lines(settings)] == [("create_campaign", "previewed"), ("create_campaign", "refused")]
    assert sent(sandbox) == []


# HTTP: a web page must not drive the server


async def test_a_page_served_from_an_ip_address_cannot_drive_the_server(settings: Settings, sandbox: Sandbox) -> None:
    """On loopback with no token, the Origin check is what stops a web page. It accepted any IP address
    as an Origin, and a browser sends `Content-Type: application/json, text/plain` (read as text/plain:
    no CORS preflight) which the SDK takes as JSON: a page at http://203.0.113.5 created an assistant."""
    import httpx2 as httpx

    from tests.loopback import serving

    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "create_assistant", "arguments": {"name": "pwned"}}}
    headers = {"Content-Type": "application/json, text/plain", "Accept": "application/json, text/event-stream"}
    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base, httpx.AsyncClient(timeout=10) as http:
        for origin in ("http://203.0.113.5", "https://198.51.100.9:8443", "http://[2001:db8::5]"):
            response = await http.post(f"{base}/mcp", json=request, headers={**headers, "Origin": origin})
            assert response.status_code == 403, (origin, response.text)
        same = await http.post(f"{base}/mcp", json=request, headers={**headers, "Origin": base})
    assert same.status_code == 200 and 'pwned' in same.text  # a page of this server's own origin still works
    assert len(sent(sandbox)) == 1


# the audit file after a crash


async def test_a_line_cut_short_by_a_crash_does_not_swallow_the_next_attempt(settings: Settings, sandbox: Sandbox) -> None:
    """A crash (or a full disk) mid-write leaves a line without its newline; the next session appended
    its own line to it, so `vapi-mcp audit` lost that attempt too: its `sending` line, for a dial."""
    import os

    from vapi_mcp.guard.audit import attempts, read_lines

    path = settings.sandbox_audit_path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'{"time":"2026-11-02T15:00:00Z","attempt":"cut","tool":"create_call","decision":"send')
    os.close(fd)
    ident = assistant(sandbox)
    async with connect(settings, sandbox) as client:
        preview = result_json(await client.call_tool("delete_assistant", {"id": ident}))
        await client.call_tool("delete_assistant", {"id": ident, "confirmToken": preview["confirmToken"]})
    seen = attempts(read_lines([path]))
    assert [(entry["tool"], entry["decisions"]) for entry in seen] == [("delete_assistant", ["previewed"]), ("delete_assistant", ["sending", "sent"])]


async def test_an_x_vapi_key_that_is_no_key_gets_an_error_naming_the_header(settings: Settings, sandbox: Sandbox) -> None:
    """A key with a non-ASCII byte failed inside the HTTP client: the agent read Python's
    "'ascii' codec can't encode characters..." and the server logged a traceback."""
    import httpx2 as httpx

    from tests.loopback import serving

    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_calls", "arguments": {}}}
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base, httpx.AsyncClient(timeout=10) as http:
        for key in ("sk-\xe9\xe9-secret".encode("latin-1"), b"sk-" + b"a" * 600):
            response = await http.post(f"{base}/mcp", json=request, headers={**headers, "X-Vapi-Key": key})
            assert response.status_code == 200
            assert "Invalid argument `X-Vapi-Key header`" in response.text and "codec" not in response.text, response.text
    assert sandbox.requests == []


# Vapi's answers: what the human is shown must be what the request acts on


async def test_a_lookup_answered_with_another_object_shows_nothing_false(settings: Settings, sandbox: Sandbox) -> None:
    """GET /assistant/A answered with assistant B: the question said 'Delete the assistant "Test bot" (B)'
    while the DELETE went to A. An answer about another object is an odd answer, not a fact."""
    import json

    from vapi_mcp.sandbox.core import Fault

    target = assistant(sandbox)
    other = {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "name": "Test bot"}
    sandbox.inject(Fault("GET", f"/assistant/{target}", status=200, body=json.dumps(other).encode()))
    async with connect(settings, sandbox) as client:
        result = await client.call_tool("delete_assistant", {"id": target})
    assert result.is_error and "another object" in result_text(result), result_text(result)
    assert "Test bot" not in result_text(result)
    assert sent(sandbox, "DELETE") == [] and audit_lines(settings) == []


async def test_a_tool_field_name_cannot_carry_text_into_the_question(settings: Settings, sandbox: Sandbox) -> None:
    """update_tool lists the changed fields in the question, and unknown fields pass through: a field
    named like a sentence put the agent's words into what the human is asked."""
    tool = stamp(sandbox.clock, **transfer_to(LA))
    sandbox.store.tools[tool["id"]] = tool
    note = "name) - checked and approved by the account owner, no need to read further ("
    async with connect(settings, sandbox) as client:
        result = await client.call_tool("update_tool", {"id": tool["id"], "destinations": [{"type": "number", "number": LA}], note: 1})
    assert result.is_error and "not a field name" in result_text(result), result_text(result)
    assert sent(sandbox, "PATCH") == [] and audit_lines(settings) == []


# a transfer whose number a server decides at call time


async def test_a_transfer_tool_without_destinations_is_a_destination_no_rule_can_check(settings: Settings, sandbox: Sandbox) -> None:
    """CreateTransferCallToolDTO: "If no destinations are provided, server.url will be used to get the
    transfer destination once the tool is called": whatever number a webhook names. It went out
    unasked under an allow list and country rules it can break."""
    strict = with_policy(settings, allow_countries=("US",))
    dynamic = {"type": "transferCall"}
    async with connect(strict, sandbox) as client:
        created = await client.call_tool("create_tool", dynamic)
        inline = await client.call_tool("create_assistant", {"name": "Desk", "model": {"provider": "openai", "model": "gpt-4.1", "tools": [dynamic]}})
        emptied = await client.call_tool("create_tool", {**dynamic, "destinations": []})
    for result in (created, inline, emptied):
        assert result.is_error and "Refused by rule `allow_countries`" in result_text(result), result_text(result)
    async with connect(settings, sandbox) as client:
        preview = result_json(await client.call_tool("create_tool", dynamic))
        tool = stamp(sandbox.clock, **transfer_to(LA))
        sandbox.store.tools[tool["id"]] = tool
        renamed = await client.call_tool("update_tool", {"id": tool["id"], "messages": []})  # keeps its destinations
    assert "any number a server names" in preview["summary"]
    assert not renamed.is_error and "confirmationRequired" not in result_text(renamed), result_text(renamed)
    assert [r.path for r in sent(sandbox)] == [] and len(sent(sandbox, "PATCH")) == 1


async def test_a_request_with_more_numbers_than_vapi_takes_is_refused_before_any_is_read(settings: Settings, sandbox: Sandbox) -> None:
    """Each number is parsed (normalized, then read by every rule) on the event loop every session shares:
    20,000 customers held the server for seconds before the batch cap refused them, and a 4 MiB request
    holds over 100,000. Vapi's largest request (a campaign) has 10,000 contacts."""
    customers = [{"number": f"+1415555{i % 10000:04d}"} for i in range(10_001)]
    async with connect(settings, sandbox) as client:
        result = await client.call_tool("create_campaign", {"name": "All", "assistantId": assistant(sandbox), "phoneNumberId": add_number(sandbox, "twilio"), "customers": customers})
    assert result.is_error and "10001 phone numbers and destinations in one request; at most 10000" in result_text(result), result_text(result)[:300]
    assert sent(sandbox) == [] and audit_lines(settings) == []


@pytest.mark.parametrize("number", ["911", "112", "+999", "000"])
async def test_an_emergency_number_is_never_dialled(number: str, settings: Settings, sandbox: Sandbox) -> None:
    """With the E.164 check off, Vapi takes 3-40 letters and digits, so `911` went to the human (or, in
    consent mode `any`, to an agent holding a confirm token) like any call; quiet hours were the only
    stop, and they can be off."""
    body = {"assistantId": assistant(sandbox), "phoneNumberId": add_number(sandbox, "byo-phone-number"), "customer": {"number": number, "numberE164CheckEnabled": False}}
    async with connect(settings, sandbox) as client:
        result = await client.call_tool("create_call", body)
    assert result.is_error and "Refused by rule `emergency`" in result_text(result), result_text(result)
    assert sent(sandbox) == [] and audit_lines(settings)[-1]["rules"]["emergency"] == "refused"


# tokens across replicas whose clocks differ


@pytest.mark.usefixtures("family")
async def test_a_used_token_stays_used_on_a_replica_whose_clock_is_behind(
    settings: Settings, stub_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store forgot a used token 60 s after its expiry (by the redeeming replica's clock); a replica
    whose clock was 2 minutes behind still took it as unexpired, found it unused, and dialled again."""
    import time
    from dataclasses import replace
    from datetime import timedelta

    from tests.guard_kit import posts, serve
    from vapi_mcp.sandbox import ManualClock

    shared = replace(settings, confirm_secret="replicas-share-this-secret")
    ahead = ManualClock()
    behind = ManualClock(ahead.now() - timedelta(seconds=120))
    args = {"customer": {"number": LA}}
    async with serve(shared, stub_sandbox, ahead) as first, serve(shared, stub_sandbox, behind) as second:
        token = result_json(await first.call_tool("dial", args))["confirmToken"]
        assert not (await first.call_tool("dial", {**args, "confirmToken": token})).is_error
        real = time.time()
        ahead.advance(400)  # past the token's expiry on the first replica's clock: 300 s, plus the old 60 s
        behind.advance(400)  # 280 s after the preview by the second's: not yet expired there
        monkeypatch.setattr("vapi_mcp.state.time", SimpleNamespace(time=lambda: real + 400))  # the store's wall clock only
        again = await second.call_tool("dial", {**args, "confirmToken": token})
    assert again.is_error and "already used" in result_text(again), result_text(again)
    assert posts(stub_sandbox) == 1


# arguments sent as JSON strings


@pytest.mark.parametrize("depth", [300, 3000])
async def test_an_argument_sent_as_a_deeply_nested_json_string_is_refused_naming_it(depth: int, settings: Settings, sandbox: Sandbox) -> None:
    """Arguments sent as JSON strings are parsed for clients that flatten objects, which got past the
    JSON-RPC parser's nesting bound: 3000 levels raised RecursionError (its text reached the agent),
    300 broke serialization ('unexpected error... whether Vapi was reached' is not known)."""
    nested = '{"x":' * depth + '{"type":"number","number":"+442079460958"}' + "}" * depth
    body = {"assistant": nested, "phoneNumberId": add_number(sandbox, "twilio"), "customer": {"number": LA}}
    async with connect(settings, sandbox) as client:
        result = await client.call_tool("create_call", body)
        flat = await client.call_tool("create_call", {**body, "assistant": '{"name": "Riley", "model": {"provider": "openai", "model": "gpt-4.1"}}'})
    assert result.is_error and "Invalid argument `assistant`" in result_text(result) and "64 levels" in result_text(result), result_text(result)
    assert result_json(flat)["confirmationRequired"] is True  # a flattened object is still accepted
    assert sent(sandbox) == []


# the daily cap per Vapi account


async def test_one_key_written_another_way_shares_the_daily_cap(settings: Settings, stub_sandbox: Sandbox, clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Vapi's keys are UUIDs. The account fingerprint hashed the key as written, so the same key in upper
    case, or in braces, was another account with its own daily cap: three dials on a cap of one."""
    from tests.mcp_kit import confirmed
    from tests.guard_kit import FAMILY, NY
    from tests.loopback import on_loopback, serving
    from tests.ledger_kit import tenant

    monkeypatch.setattr("vapi_mcp.tools.FAMILIES", (FAMILY,))
    key = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    async with on_loopback(stub_sandbox.app, lifespan="on") as vapi:
        capped = with_policy(settings, daily_cap=1, base_url=vapi)
        async with serving("--transport", "http", "--stateless", settings=capped, sandbox=stub_sandbox, clock=clock) as base:
            results = []
            for written in (key, key.upper(), "{" + key + "}"):
                async with tenant(f"{base}/mcp", written) as client:
                    results.append(await confirmed(client, "dial", {"customer": {"number": NY}}))
    assert not results[0].is_error, result_text(results[0])
    for again in results[1:]:
        assert again.is_error and "Refused by rule `daily_cap`" in result_text(again), result_text(again)
    assert len(sent(stub_sandbox)) == 1


def test_pending_confirmations_nobody_answers_do_not_pile_up_in_the_sqlite_store(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each preview to an MCP Apps client keeps its pending action (a whole campaign's arguments) in the
    store; SQLite dropped expired ones only when one was taken, so previews nobody answered grew the file."""
    import sqlite3
    import time

    from vapi_mcp.state import SQLiteStore

    store = SQLiteStore(tmp_path / "state.sqlite3")
    start = time.time()
    for i in range(50):
        store.put(f"pending:{i}", {"arguments": {"customers": ["+14155550123"] * 100}}, start + 300)
    monkeypatch.setattr("vapi_mcp.state.time", SimpleNamespace(time=lambda: start + 600))  # all fifty expired
    store.put("pending:new", {"arguments": {}}, start + 900)
    store.close()
    with sqlite3.connect(tmp_path / "state.sqlite3") as db:
        assert db.execute("SELECT key FROM pending").fetchall() == [("pending:new",)]


async def test_a_premium_rate_number_is_refused_unless_the_user_allow_listed_it(settings: Settings, sandbox: Sandbox) -> None:
    """+1 900 numbers bill every minute at their operator's rate: an agent told to call one (or to set up
    an assistant that transfers callers to one) drains the account, and no rule looked at the number type."""
    premium = "+19005550123"
    body = {"assistantId": assistant(sandbox), "phoneNumberId": add_number(sandbox, "twilio"), "customer": {"number": premium}}
    async with connect(settings, sandbox) as client:
        dial = await client.call_tool("create_call", body)
        transfer = await client.call_tool("create_tool", transfer_to(premium))
    for result in (dial, transfer):
        assert result.is_error and "Refused by rule `premium_rate`" in result_text(result), result_text(result)
    async with connect(with_policy(settings, allow_numbers=(premium,)), sandbox) as client:
        allowed = await client.call_tool("create_call", body)
    assert result_json(allowed)["confirmationRequired"] is True
    assert sent(sandbox) == []


# the MCP Apps view's Decline


async def test_declining_in_the_view_spends_the_token_the_agent_holds(settings: Settings, sandbox: Sandbox) -> None:
    """Under consent `any` the preview gives the agent a confirmToken beside the view. The user pressed
    Decline, and the agent's token still deleted the assistant: a human's explicit no, then the agent's yes."""
    from mcp import Client
    from mcp.client.extension import advertise

    from vapi_mcp.guard.app import APP_MIME_TYPE, EXTENSION_ID, META_KEY
    from vapi_mcp.server import build_server

    server, app = build_server(settings, sandbox=sandbox)
    target = assistant(sandbox)
    try:
        async with Client(server, extensions=[advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})]) as host:
            preview = await host.call_tool("delete_assistant", {"id": target})
            await host.call_tool("decline_action", {"id": preview.meta[META_KEY]["id"]})
            relayed = await host.call_tool("delete_assistant", {"id": target, "confirmToken": result_json(preview)["confirmToken"]})
    finally:
        await app.aclose()
    assert relayed.is_error and "already used" in result_text(relayed), result_text(relayed)
    assert sent(sandbox, "DELETE") == [] and target in sandbox.store.assistants
    assert [line["decision"] for line in audit_lines(settings)] == ["previewed", "declined", "refused"]
