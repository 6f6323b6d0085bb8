"""Red team, round five: the knowledge toolset (sessions, chats, files, knowledge bases) and texts against the caps.

Each test is an attack; those that broke through say so in their docstring ("Before: ..."), the others held and are
kept because they assert something no other test does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.guard_kit import NY, add_number, answering, serve, with_policy
from tests.knowledge_kit import PRICE_LIST, roots_of
from tests.mcp_kit import confirmed, connect, result_json, result_text
from vapi_mcp.config import Settings
from vapi_mcp.destinations import scan_request
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.core import stamp

MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
TWILIO = {"twilioPhoneNumber": "+14155550101", "twilioAccountSid": "AC0123", "twilioAuthToken": "token-0123456789"}


def riley(sandbox: Sandbox) -> str:
    item = stamp(sandbox.clock, name="Riley", model={"provider": "openai", "model": "gpt-4.1", "messages": [{"role": "system", "content": "Be kind."}]})
    sandbox.store.assistants[item["id"]] = item
    return str(item["id"])


def sms_session(sandbox: Sandbox, **fields: Any) -> dict[str, Any]:
    session = stamp(sandbox.clock, status="active", assistantId=riley(sandbox), messages=[], **fields)
    sandbox.store.sessions[session["id"]] = session
    return session


def posts(sandbox: Sandbox, path: str) -> list[Any]:
    return [r.body for r in sandbox.requests if r.method == "POST" and r.path == path]


# sessions that text


async def test_a_session_for_a_customer_id_texted_from_a_transient_number_asks_first(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    """Before: a session's `customerId` was a destination only beside a `phoneNumberId`; with the document's transient
    `phoneNumber` instead (or no number at all: chat_with_assistant treats a session with a customerId as texted), the
    session that texts that customer was made unasked."""
    async with serve(settings, sandbox, clock) as client:
        transient = await client.call_tool("create_session", {"assistantId": riley(sandbox), "customerId": MISSING, "phoneNumber": TWILIO})
        bare = await client.call_tool("create_session", {"assistantId": riley(sandbox), "customerId": MISSING})
    for result in (transient, bare):
        assert not result.is_error, result_text(result)
        view = result_json(result)
        assert view.get("confirmationRequired") is True and f"the customer with id {MISSING}" in view["summary"], view
    assert posts(sandbox, "/session") == []
    assert [f.role for f in scan_request("/session", {"customerId": MISSING, "phoneNumber": TWILIO}) if f.guarded] == ["sms-session"]


async def test_a_session_answer_whose_customer_is_not_an_object_makes_the_chat_a_guarded_text(settings: Settings, sandbox: Sandbox) -> None:
    """Before: a session answer whose `customer` was not an object (a bare number, as no document shape says) was read
    as no customer at all: the chat on it was sent unasked. What cannot be read is texted, not assumed away."""
    session = sms_session(sandbox, customer=NY)
    async with connect(with_policy(settings, deny_countries=("US",)), sandbox) as client:
        result = await client.call_tool("chat_with_assistant", {"sessionId": session["id"], "input": "Hi"})
    assert not result.is_error or "Refused" in result_text(result), result_text(result)
    if not result.is_error:
        assert result_json(result).get("confirmationRequired") is True, result_text(result)
    assert posts(sandbox, "/chat") == []


@pytest.mark.parametrize(
    ("customer", "rule"),
    [({"number": NY}, "do_not_call"), ({"number": "+19005550123"}, "premium_rate"), ({"sipUri": "sip:112@trunk.example.com"}, "emergency")],
)
async def test_a_session_for_a_listed_premium_or_emergency_customer_is_refused_before_anyone_is_asked(
    customer: dict[str, Any], rule: str, settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    """Held for a number; before, broke for a SIP address: a session's customer at `sip:112@trunk` was read as a text
    to a name (role sms-session), and the rules that read a SIP address's user part read only calls and transfers, so
    a session whose chats text emergency services was made (and each chat on it asked about, never refused)."""
    yes, asked = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=yes) as client:
        await client.call_tool("add_do_not_call", {"number": NY})
        result = await client.call_tool("create_session", {"assistantId": riley(sandbox), "phoneNumberId": add_number(sandbox, "twilio"), "customer": customer})
    assert result.is_error and f"Refused by rule `{rule}`" in result_text(result), result_text(result)
    assert asked == [] and posts(sandbox, "/session") == []


async def test_a_chat_on_a_session_whose_customer_is_a_sip_address_reads_its_user_part(settings: Settings, sandbox: Sandbox) -> None:
    """Before: the chat's text went to "the session's customer", a name no rule reads: an emergency number behind a SIP
    address was texted once the user said yes."""
    session = sms_session(sandbox, phoneNumberId=add_number(sandbox, "twilio", "+14155550101"), customer={"sipUri": "sip:911@trunk.example.com"})
    async with connect(settings, sandbox) as client:
        result = await client.call_tool("chat_with_assistant", {"sessionId": session["id"], "input": "Hi"})
    assert result.is_error and "Refused by rule `emergency`" in result_text(result), result_text(result)
    assert posts(sandbox, "/chat") == []


async def test_update_session_cannot_switch_whom_a_session_texts(client: Any, sandbox: Sandbox) -> None:
    """Held: update_session takes only the document's UpdateSessionDTO fields; a customer or a number is refused."""
    session = sms_session(sandbox)
    for extra in ({"customer": {"number": NY}}, {"phoneNumberId": MISSING}, {"customerId": MISSING}, {"phoneNumber": TWILIO}):
        result = await client.call_tool("update_session", {"id": session["id"], "name": "x", **extra})
        assert result.is_error and next(iter(extra)) in result_text(result), result_text(result)
    assert [r for r in sandbox.requests if r.method != "GET"] == []


# texts count like dials


async def test_texts_to_one_person_count_against_the_per_number_cap(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    """Before: a text sent now (a chat on an SMS session) was never counted: with consent `any` an agent relaying its
    own tokens could text the same person without end, past the per-number cap (3 a day) that stops a fourth call."""
    session = sms_session(sandbox, phoneNumberId=add_number(sandbox, "twilio", "+14155550101"), customer={"number": NY})
    async with serve(settings, sandbox, clock) as client:
        for turn in range(3):
            sent = await confirmed(client, "chat_with_assistant", {"sessionId": session["id"], "input": f"Hi {turn}"})
            assert not sent.is_error, result_text(sent)
        fourth = await client.call_tool("chat_with_assistant", {"sessionId": session["id"], "input": "Hi again"})
    assert fourth.is_error and "Refused by rule `per_number_cap`" in result_text(fourth) and NY in result_text(fourth), result_text(fourth)
    assert "dials and texts to one number a day" in result_text(fourth)  # a text reached it: the refusal does not say "dials" alone
    assert len(posts(sandbox, "/chat")) == 3


async def test_texts_count_against_the_daily_cap_with_the_dials(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    """Before: texts were outside the account's daily cap: a cap of 1 stopped the second call, never a text."""
    session = sms_session(sandbox, phoneNumberId=add_number(sandbox, "twilio", "+14155550101"), customer={"number": NY})
    async with serve(with_policy(settings, daily_cap=1), sandbox, clock) as client:
        first = await confirmed(client, "chat_with_assistant", {"sessionId": session["id"], "input": "Hi"})
        second = await client.call_tool("chat_with_assistant", {"sessionId": session["id"], "input": "Hi again"})
    assert not first.is_error, result_text(first)
    assert second.is_error and "Refused by rule `daily_cap`" in result_text(second), result_text(second)
    assert "guarded dials and texts" in result_text(second)
    assert len(posts(sandbox, "/chat")) == 1


async def test_a_plain_chat_counts_against_no_cap(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    """Held, and must keep holding once texts count: a chat that texts no one is not a text (testing stays usable)."""
    assistant = riley(sandbox)
    async with serve(with_policy(settings, daily_cap=0), sandbox, clock) as client:
        for turn in range(3):
            result = await client.call_tool("chat_with_assistant", {"assistantId": assistant, "input": f"Hi {turn}"})
            assert not result.is_error, result_text(result)


# what a question shows of Vapi's answers


async def test_delete_session_shows_a_customers_name_as_a_name_not_as_whom_it_texts(client: Any, sandbox: Sandbox) -> None:
    """Before: a session whose customer had no number showed its customer's name (the agent's text) bare in the delete
    question, where a number stands: `whose chats text +14155550123` for a customer named so."""
    session = sms_session(sandbox, phoneNumberId=add_number(sandbox, "twilio"), customer={"name": "+12125550199 SANDBOX"})
    preview = result_json(await client.call_tool("delete_session", {"id": session["id"]}))
    assert "whose chats text +12125550199" not in preview["summary"] and '"+12125550199 SANDBOX"' in preview["summary"], preview["summary"]


async def test_an_answer_nested_past_the_encoders_limit_is_shown_cut_and_a_delete_says_it_was_done(client: Any, sandbox: Sandbox) -> None:
    """Before: a Vapi answer nesting a field 600 levels deep (orjson encodes 255) made the result fail with the bare
    error "Recursion limit reached", after the request had been sent: a delete (or a create) that went through read
    as a failure, inviting a retry. The result is shown with the deep part cut."""
    deep: Any = "x"
    for _ in range(600):
        deep = {"a": deep}
    session = stamp(sandbox.clock, status="active", name=deep, messages=[])
    sandbox.store.sessions[session["id"]] = session
    got = await client.call_tool("get_session", {"id": session["id"]})
    deleted = await confirmed(client, "delete_session", {"id": session["id"]})
    for result in (got, deleted):
        assert not result.is_error, result_text(result)
        assert "nested deeper than 64 levels: not shown" in result_text(result)
    assert result_json(deleted)["deleted"]["id"] == session["id"] and session["id"] not in sandbox.store.sessions


# upload_file: reach


async def test_paths_that_only_look_inside_are_refused(settings: Settings, sandbox: Sandbox, tmp_path: Path) -> None:
    """Held: `//`, /proc/self/root, /dev/fd and a root given with `..` or percent-encoding all resolve to where they
    lead; a file:// URI of another host shares nothing."""
    inside = tmp_path / "shop"
    inside.mkdir()
    (inside / "prices.txt").write_text(PRICE_LIST)
    (tmp_path / "secret.txt").write_text("the safe's combination is 12-34-56\n")
    fd = os.open(tmp_path / "secret.txt", os.O_RDONLY)
    try:
        async with connect(settings, sandbox, list_roots_callback=roots_of(inside)) as client:
            tried = [
                await client.call_tool("upload_file", {"path": path})
                for path in (
                    f"/{tmp_path}/secret.txt",
                    f"/proc/self/root{tmp_path}/secret.txt",
                    f"/dev/fd/{fd}",
                    f"{inside}/../secret.txt",
                )
            ]
        dotted = inside.as_uri() + "/%2e%2e"
        async with connect(settings, sandbox, list_roots_callback=roots_of(dotted, "file://elsewhere/" + str(tmp_path))) as client:
            tried.append(await client.call_tool("upload_file", {"path": str(tmp_path / "secret.txt")}))
            tried.append(await client.call_tool("upload_file", {"path": str(inside / "prices.txt")}))
    finally:
        os.close(fd)
    for result in tried[:4]:
        assert result.is_error and "combination" not in result_text(result), result_text(result)
    # the root `shop/..` is the folder above: the user shared it, so its files are in reach (and only they)
    assert not tried[4].is_error and not tried[5].is_error
    assert len(posts(sandbox, "/file")) == 2
