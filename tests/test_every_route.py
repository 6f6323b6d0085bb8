"""Every route to an emergency or premium-rate number, whatever carries it (issue 17): every destination role, the
user part of every SIP address, numbers written without their country; a transfer whose number is chosen later; a chat
that continues an SMS session."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from tests.guard_kit import NY, add_number, audit_lines, serve, with_policy
from tests.mcp_kit import connect, result_json, result_text
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.core import stamp


def changes(sandbox: Sandbox) -> list[Any]:
    """Every request that changed something at the sandbox."""
    return [r for r in sandbox.requests if r.method != "GET"]


def assistant(sandbox: Sandbox) -> str:
    item = stamp(sandbox.clock, name="Riley", firstMessage="Hi.", model={"provider": "openai", "model": "gpt-4.1"})
    sandbox.store.assistants[item["id"]] = item
    return item["id"]


def as_given(number: str) -> dict[str, Any]:
    return {"type": "number", "number": number, "numberE164CheckEnabled": False}


def transfer_tool(destination: dict[str, Any]) -> dict[str, Any]:
    return {"type": "transferCall", "destinations": [destination]}


def routes(sandbox: Sandbox, destination: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """The same destination in each role a request can give it."""
    phone = add_number(sandbox, "twilio")
    inline = {"name": "Riley", "model": {"provider": "openai", "model": "gpt-4.1", "tools": [transfer_tool(destination)]}}
    return {
        "transfer tool": ("create_tool", transfer_tool(destination)),
        "inline assistant's transfer": ("create_assistant", inline),
        "fallbackDestination": ("update_phone_number", {"id": phone, "fallbackDestination": destination}),
        "hook transfer": ("update_phone_number", {"id": phone, "hooks": [{"on": "call.ringing", "do": [{"type": "transfer", "destination": destination}]}]}),
        "transient assistant on a call": (
            "create_call",
            {"assistant": inline, "phoneNumberId": phone, "customer": {"number": NY}},
        ),
    }


ROLES = ["transfer tool", "inline assistant's transfer", "fallbackDestination", "hook transfer", "transient assistant on a call"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("destination", [as_given("911"), as_given("112"), as_given("999"), {"type": "sip", "sipUri": "sip:911@trunk.example.com"}], ids=["911", "112", "999", "sip:911@trunk"])
async def test_an_emergency_number_is_refused_in_every_destination_role(
    role: str, destination: dict[str, Any], settings: Settings, sandbox: Sandbox
) -> None:
    """911/112/999 as a transfer destination, an inline assistant's transfer, a fallbackDestination, or sip:911@trunk
    were previewed as ordinary destinations and sent once confirmed."""
    tool, arguments = routes(sandbox, destination)[role]
    async with connect(settings, sandbox) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error and "Refused by rule `emergency`" in result_text(result), result_text(result)
    assert "emergency number" in result_text(result)
    assert changes(sandbox) == [] and audit_lines(settings)[-1]["rule"] == "emergency"


@pytest.mark.parametrize(
    ("destination", "shown"),
    [
        (as_given("9005550123"), "9005550123"),
        (as_given("09098790000"), "09098790000"),
        ({"type": "sip", "sipUri": "sip:+19005550123@trunk.example.com"}, "+19005550123"),
        ({"type": "sip", "sipUri": "sip:9005550123@trunk.example.com"}, "9005550123"),
    ],
    ids=["US national", "UK national", "sip +1 900", "sip national"],
)
async def test_a_premium_rate_number_written_without_its_country_is_refused_as_a_destination(
    destination: dict[str, Any], shown: str, settings: Settings, sandbox: Sandbox
) -> None:
    """With the E.164 check off, 9005550123 and 09098790000 passed the premium-rate rule (the deny list already read
    national spellings); a SIP address's user part was never read at all."""
    async with connect(settings, sandbox) as client:
        result = await client.call_tool("create_tool", transfer_tool(destination))
    assert result.is_error and "Refused by rule `premium_rate`" in result_text(result), result_text(result)
    assert shown in result_text(result) and "premium-rate" in result_text(result)
    assert changes(sandbox) == []


@pytest.mark.parametrize("number", ["9005550123", "09098790000"])
async def test_a_premium_rate_number_written_without_its_country_is_refused_as_a_callee(number: str, settings: Settings, sandbox: Sandbox) -> None:
    body = {"assistantId": assistant(sandbox), "phoneNumberId": add_number(sandbox, "byo-phone-number"), "customer": {"number": number, "numberE164CheckEnabled": False}}
    async with connect(settings, sandbox) as client:
        dial = await client.call_tool("create_call", body)
        sip = await client.call_tool("create_call", {**body, "customer": {"number": NY, "sipUri": f"sip:{number}@trunk.example.com"}})
    for result in (dial, sip):
        assert result.is_error and "Refused by rule `premium_rate`" in result_text(result), result_text(result)
    assert changes(sandbox) == []


async def test_an_ordinary_number_written_without_its_country_still_passes(settings: Settings, sandbox: Sandbox) -> None:
    """Reading national spellings refuses only what is premium rate somewhere, not every plain number."""
    async with connect(settings, sandbox) as client:
        result = await client.call_tool("create_tool", transfer_tool(as_given("4155550123")))
    assert result_json(result)["confirmationRequired"] is True, result_text(result)


# a transfer whose number is chosen later


async def test_a_hook_transfer_without_a_destination_is_guarded_like_a_transfer_tool_without_one(settings: Settings, sandbox: Sandbox) -> None:
    """A phone-number hook action {"type": "transfer"} with no destination was sent under --consent human with no
    question and no audit line."""
    phone = add_number(sandbox, "twilio")
    hooks = {"id": phone, "hooks": [{"on": "call.ringing", "do": [{"type": "transfer"}]}]}
    async with connect(with_policy(settings, consent="human"), sandbox) as client:
        human_only = await client.call_tool("update_phone_number", hooks)
    async with connect(with_policy(settings, allow_countries=("1",)), sandbox) as client:
        by_country = await client.call_tool("update_phone_number", hooks)
    async with connect(settings, sandbox) as client:
        asked = result_json(await client.call_tool("update_phone_number", hooks))
    assert human_only.is_error and "Refused by rule `consent`" in result_text(human_only), result_text(human_only)
    assert by_country.is_error and "Refused by rule `allow_countries`" in result_text(by_country), result_text(by_country)
    assert asked["confirmationRequired"] is True and "chosen when the hook runs" in asked["summary"]
    assert changes(sandbox) == []
    assert [line["decision"] for line in audit_lines(settings)] == ["refused", "refused", "previewed"]


# a chat that continues an SMS session


@pytest.fixture
def sms_session(sandbox: Sandbox) -> dict[str, str]:
    """A session Vapi made for an SMS chat: its customer (New York) is texted by every chat that continues it."""
    riley = assistant(sandbox)
    phone = add_number(sandbox, "twilio", "+14155550100")
    session = stamp(sandbox.clock, status="active", assistantId=riley, phoneNumberId=phone, customer={"number": NY}, messages=[])
    sandbox.store.sessions[session["id"]] = session
    chat = stamp(sandbox.clock, assistantId=riley, sessionId=session["id"], messages=[], output=[])
    sandbox.store.chats[chat["id"]] = chat
    return {"sessionId": session["id"], "previousChatId": chat["id"], "assistantId": riley}


@pytest.mark.parametrize("continues", ["sessionId", "previousChatId"])
async def test_a_chat_that_continues_an_sms_session_is_a_guarded_text(
    continues: str, settings: Settings, sandbox: Sandbox, clock: ManualClock, sms_session: dict[str, str]
) -> None:
    """chat_with_assistant {sessionId} (or previousChatId) went out unguarded, even under --consent human at 03:00
    callee time with the callee's country denied: Vapi's document says a session without transport fields reuses
    the session's transport."""
    chat = {continues: sms_session[continues], "input": "Your appointment is confirmed."}
    clock.set(datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc))  # 03:00 in New York
    night = with_policy(settings, quiet_hours=True, consent="human")
    async with serve(night, sandbox, clock) as client:
        at_night = await client.call_tool("chat_with_assistant", chat)
    clock.set(datetime(2026, 11, 2, 16, 0, tzinfo=timezone.utc))  # 11:00 in New York
    async with serve(with_policy(settings, deny_countries=("US",)), sandbox, clock) as client:
        denied = await client.call_tool("chat_with_assistant", chat)
    async with serve(with_policy(settings, consent="human"), sandbox, clock) as client:
        no_human = await client.call_tool("chat_with_assistant", chat)
    async with serve(settings, sandbox, clock) as client:
        preview = result_json(await client.call_tool("chat_with_assistant", chat))
    assert at_night.is_error and "Refused by rule `quiet_hours`" in result_text(at_night), result_text(at_night)
    assert denied.is_error and "Refused by rule `deny_countries`" in result_text(denied), result_text(denied)
    assert no_human.is_error and "Refused by rule `consent`" in result_text(no_human), result_text(no_human)
    assert preview["confirmationRequired"] is True and f"sends a text message to {NY}" in preview["summary"]
    assert sandbox.requests_to("POST", "/chat") == []
    assert [(line["kind"], line["decision"], line.get("rule")) for line in audit_lines(settings)] == [
        ("text", "refused", "quiet_hours"), ("text", "refused", "deny_countries"), ("text", "refused", "consent"), ("text", "previewed", None)
    ]


async def test_a_chat_in_a_session_without_a_customer_is_a_plain_chat(settings: Settings, sandbox: Sandbox) -> None:
    riley = assistant(sandbox)
    session = stamp(sandbox.clock, status="active", assistantId=riley, messages=[])
    sandbox.store.sessions[session["id"]] = session
    async with connect(with_policy(settings, consent="human"), sandbox) as client:
        reply = await client.call_tool("chat_with_assistant", {"sessionId": session["id"], "assistantId": riley, "input": "Hi"})
    assert not reply.is_error and "Riley" in result_json(reply)["reply"], result_text(reply)
    assert audit_lines(settings) == []


async def test_a_chat_whose_session_does_not_exist_is_refused_before_anything_is_sent(settings: Settings, sandbox: Sandbox) -> None:
    async with connect(settings, sandbox) as client:
        result = await client.call_tool("chat_with_assistant", {"sessionId": "0b6ea4a3-9c5f-4bd6-8a2d-3f1c2b7e9d10", "input": "Hi"})
    assert result.is_error and "Refused by rule `unknown_id`" in result_text(result) and "sessionId" in result_text(result)
    assert sandbox.requests_to("POST", "/chat") == []
