"""Sessions through a real MCP client: a session is a conversation's memory across chats; one that carries a
customer and a phone number makes every chat on it a text to that customer, so making it passes the guard
(the number rules and the human's yes; no quiet hours, since nothing is sent until a chat is)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from mcp import Client

from tests.guard_kit import NY, add_number, audit_lines, serve, with_policy
from tests.knowledge_kit import assistant
from tests.mcp_kit import confirmed, result_json, result_text
from tests.openapi import assert_valid
from vapi_mcp.config import Settings
from vapi_mcp.destinations import scan_request
from vapi_mcp.sandbox import ManualClock, Sandbox

PROMPT = "You are Riley, the receptionist at Sunny Paws grooming. A nail trim is $15."
MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def sent(sandbox: Sandbox, method: str) -> list[Any]:
    return [r.body for r in sandbox.requests if r.method == method and r.path.startswith("/session")]


async def test_a_session_without_a_customer_is_made_without_asking_and_remembers_its_chats(
    client: Client, settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    riley = assistant(sandbox, PROMPT)
    made = await client.call_tool("create_session", {"name": "Nail trims", "assistantId": riley, "expirationSeconds": 3600})
    assert not made.is_error, result_text(made)
    session = result_json(made)
    assert session["name"] == "Nail trims" and session["status"] == "active" and "texts" not in session
    [body] = sent(sandbox, "POST")
    assert body == {"name": "Nail trims", "assistantId": riley, "expirationSeconds": 3600}
    assert_valid("CreateSessionDTO", body)
    reply = result_json(await client.call_tool("chat_with_assistant", {"sessionId": session["id"], "input": "How much is a nail trim?"}))
    got = result_json(await client.call_tool("get_session", {"id": session["id"]}))
    assert got["turns"] == ["User: How much is a nail trim?", f"AI: {reply['reply']}"] and got["messages"] == 2
    clock.advance(5)
    await client.call_tool("create_session", {"name": "Baths", "assistantId": assistant(sandbox, "You are Max.")})
    listed = result_json(await client.call_tool("list_sessions", {"assistantId": riley}))
    assert [row["id"] for row in listed["sessions"]] == [session["id"]] and listed["total"] == 1
    changed = result_json(await client.call_tool("update_session", {"id": session["id"], "status": "completed", "name": "Done"}))
    assert changed["status"] == "completed" and changed["changed"] == ["name", "status"]
    assert_valid("UpdateSessionDTO", sent(sandbox, "PATCH")[0])
    assert audit_lines(settings) == []  # nothing guarded ran


async def test_a_session_that_texts_a_customer_asks_the_user_first_naming_who_answers_and_from_which_number(
    settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    riley = assistant(sandbox, PROMPT)
    phone = add_number(sandbox, "twilio", "+14155550100")
    arguments = {"name": "Reminders", "assistantId": riley, "phoneNumberId": phone, "customer": {"number": "+1 (212) 555-0123", "name": "Ada"}}
    clock.set(datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc))  # 03:00 in New York: no text is sent now, so quiet hours do not apply
    async with serve(with_policy(settings, quiet_hours=True), sandbox, clock) as client:
        preview = result_json(await client.call_tool("create_session", arguments))
        assert sent(sandbox, "POST") == []
        made = result_json(await confirmed(client, "create_session", arguments))
    summary = preview["summary"]
    assert preview["confirmationRequired"] is True
    assert 'the assistant "Riley"' in summary and "+14155550100" in summary and f"Every chat on it texts the session's customer, {NY}" in summary
    [body] = sent(sandbox, "POST")
    assert body["customer"]["number"] == NY  # sent normalized, as the human was shown
    assert_valid("CreateSessionDTO", body)
    assert made["customer"] == NY and made["phoneNumberId"] == phone and "each one asks the user first" in made["texts"]
    lines = audit_lines(settings)
    assert [(line["kind"], line["decision"]) for line in lines] == [("route", "previewed"), ("route", "previewed"), ("route", "sent")]


@pytest.mark.parametrize(
    ("customer", "policy", "rule"),
    [
        ({"number": "911", "numberE164CheckEnabled": False}, {}, "emergency"),
        ({"number": NY}, {"deny_countries": ("US",)}, "deny_countries"),
        ({"number": "+11234567890"}, {}, "e164"),
    ],
)
async def test_a_session_customer_passes_the_number_rules(
    customer: dict[str, Any], policy: dict[str, Any], rule: str, settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    phone = add_number(sandbox, "twilio")
    async with serve(with_policy(settings, **policy), sandbox, clock) as client:
        result = await client.call_tool("create_session", {"assistantId": assistant(sandbox), "phoneNumberId": phone, "customer": customer})
    assert result.is_error and f"Refused by rule `{rule}`" in result_text(result), result_text(result)
    assert sent(sandbox, "POST") == []


async def test_an_unknown_assistant_is_refused_before_the_user_is_asked(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    phone = add_number(sandbox, "twilio")
    async with serve(settings, sandbox, clock) as client:
        result = await client.call_tool("create_session", {"assistantId": MISSING, "phoneNumberId": phone, "customer": {"number": NY}})
    assert result.is_error and "Refused by rule `unknown_id`" in result_text(result) and "assistantId" in result_text(result)
    assert sent(sandbox, "POST") == []


def test_the_scanner_reads_a_sessions_customer_as_texted_not_dialled() -> None:
    """Before, a session's customer was found as a dial: creating a session ran the dial rules (quiet hours, daily caps)."""
    found = scan_request("/session", {"customer": {"number": NY}, "phoneNumberId": MISSING})
    assert [(f.role, f.where, f.number) for f in found] == [("sms-session", "customer.number", NY)]
    by_id = scan_request("/session", {"customerId": MISSING, "phoneNumberId": MISSING})
    assert [(f.role, f.detail) for f in by_id] == [("sms-session", f"the customer with id {MISSING}")]
    assert [f.role for f in scan_request("/call", {"customer": {"number": NY}})] == ["call"]


async def test_delete_asks_first_naming_the_session_and_whom_it_texts(client: Client, sandbox: Sandbox) -> None:
    riley = assistant(sandbox, PROMPT)
    phone = add_number(sandbox, "twilio")
    made = result_json(await confirmed(client, "create_session", {"name": "Reminders", "assistantId": riley, "phoneNumberId": phone, "customer": {"number": NY}}))
    preview = result_json(await client.call_tool("delete_session", {"id": made["id"]}))
    assert preview["confirmToken"] and '"Reminders"' in preview["summary"] and f"whose chats text {NY}" in preview["summary"]
    assert made["id"] in sandbox.store.sessions
    deleted = result_json(await confirmed(client, "delete_session", {"id": made["id"]}))
    assert deleted["deleted"]["id"] == made["id"] and made["id"] not in sandbox.store.sessions


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("create_session", {"name": "x" * 41}, "`name`"),
        ("create_session", {"expirationSeconds": 10}, "`expirationSeconds`"),
        ("create_session", {"assistantId": "riley"}, "`assistantId` must be a Vapi id"),
        ("list_sessions", {"limit": 500}, "`limit`"),
        ("update_session", {"id": MISSING}, "give at least one of"),
        ("update_session", {"id": MISSING, "status": "paused"}, "`status`"),
        ("delete_session", {"id": "1"}, "`id` must be a Vapi id"),
    ],
)
async def test_bad_input_is_refused_before_any_request(client: Client, sandbox: Sandbox, name: str, arguments: dict[str, Any], says: str) -> None:
    result = await client.call_tool(name, arguments)
    assert result.is_error and says in result_text(result)
    assert sandbox.requests == []


async def test_a_transient_twilio_number_is_named_in_the_question_and_its_token_never_shown(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    token = "twilio-auth-token-1234567890"
    twilio = {"provider": "twilio", "number": "+14155550100", "twilioAccountSid": "AC0123", "twilioAuthToken": token}
    async with serve(settings, sandbox, clock) as client:
        preview = await client.call_tool("create_session", {"assistantId": assistant(sandbox), "customer": {"number": NY}, "phoneNumber": twilio})
    view = result_json(preview)
    assert "texting from +14155550100 (its transient phoneNumber)" in view["summary"]
    assert view["wouldSend"]["body"]["phoneNumber"]["twilioAuthToken"] == "***" and token not in result_text(preview)
    assert all(token not in str(line) for line in audit_lines(settings))
