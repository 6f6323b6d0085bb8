"""Routes to a phone go through the guard, whichever tool carries them: number policy, the human's yes, an audit line.

Each case sets up a transfer to a phone the way one tool can (a number's fallbackDestination or
hooks, a transferCall tool, an assistant's inline tools or hooks, a squad, a transient assistant or
overrides on a call, a transient assistant in a chat): refused when the number breaks the policy,
previewed and sent exactly once after a yes otherwise. The client itself refuses a destination that
no guard block cleared, and dry-run mode sends nothing at all.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable

import pytest

from tests.mcp_kit import result_json, result_text
from tests.guard_kit import LONDON, NY, add_number, audit_lines, serve, with_policy
from tests.openapi import assert_valid
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.core import stamp
from vapi_mcp.tools.base import Args, Guarded, ToolContext, ToolGroup

MODEL = {"provider": "openai", "model": "gpt-4.1"}


def transfer_tool(number: str) -> dict[str, Any]:
    return {"type": "transferCall", "destinations": [{"type": "number", "number": number}]}


@pytest.fixture
def world(sandbox: Sandbox, clock: ManualClock) -> dict[str, str]:
    assistant = stamp(clock, name="Riley", firstMessage="Hi.", model=MODEL)
    tool = stamp(clock, **transfer_tool(NY))
    squad = stamp(clock, name="Desk", members=[{"assistantId": assistant["id"]}])
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.tools[tool["id"]] = tool
    sandbox.store.squads[squad["id"]] = squad
    return {"assistant": assistant["id"], "number": add_number(sandbox, "twilio"), "tool": tool["id"], "squad": squad["id"]}


Case = tuple[str, Callable[[dict[str, str], str], dict[str, Any]], str, Callable[[dict[str, str]], str]]

ROUTES: dict[str, Case] = {
    "update_phone_number fallbackDestination": (
        "update_phone_number",
        lambda w, n: {"id": w["number"], "fallbackDestination": {"type": "number", "number": n}},
        "PATCH",
        lambda w: f"/phone-number/{w['number']}",
    ),
    "update_phone_number hook transfer": (
        "update_phone_number",
        lambda w, n: {"id": w["number"], "hooks": [{"on": "call.ringing", "do": [{"type": "transfer", "destination": {"type": "number", "number": n}}]}]},
        "PATCH",
        lambda w: f"/phone-number/{w['number']}",
    ),
    "buy_number fallbackDestination": (
        "buy_number",
        lambda w, n: {"fallbackDestination": {"type": "number", "number": n}},
        "POST",
        lambda w: "/phone-number",
    ),
    "import_number hook transfer": (
        "import_number",
        lambda w, n: {
            "provider": "vonage",
            "number": "+14155550109",
            "credentialId": "c0ffee00-0000-4000-8000-000000000001",
            "hooks": [{"on": "call.ending", "do": {"type": "transfer", "destination": {"type": "number", "number": n}}}],
        },
        "POST",
        lambda w: "/phone-number",
    ),
    "create_tool transferCall": ("create_tool", lambda w, n: transfer_tool(n), "POST", lambda w: "/tool"),
    "update_tool destinations": (
        "update_tool",
        lambda w, n: {"id": w["tool"], "destinations": [{"type": "number", "number": n}]},
        "PATCH",
        lambda w: f"/tool/{w['tool']}",
    ),
    "create_assistant model.tools": (
        "create_assistant",
        lambda w, n: {"name": "Desk", "model": {**MODEL, "tools": [transfer_tool(n)]}},
        "POST",
        lambda w: "/assistant",
    ),
    "update_assistant hook tool": (
        "update_assistant",
        lambda w, n: {"id": w["assistant"], "hooks": [{"on": "call.ending", "do": [{"type": "tool", "tool": transfer_tool(n)}]}]},
        "PATCH",
        lambda w: f"/assistant/{w['assistant']}",
    ),
    "create_squad transient member": (
        "create_squad",
        lambda w, n: {"members": [{"assistant": {"name": "Desk", "model": {**MODEL, "tools": [transfer_tool(n)]}}}]},
        "POST",
        lambda w: "/squad",
    ),
    "update_squad membersOverrides": (
        "update_squad",
        lambda w, n: {"id": w["squad"], "members": [{"assistantId": w["assistant"]}], "membersOverrides": {"tools:append": [transfer_tool(n)]}},
        "PATCH",
        lambda w: f"/squad/{w['squad']}",
    ),
    "create_call transient assistant": (
        "create_call",
        lambda w, n: {"assistant": {"name": "Desk", "model": {**MODEL, "tools": [transfer_tool(n)]}}, "phoneNumberId": w["number"], "customer": {"number": NY}},
        "POST",
        lambda w: "/call",
    ),
    "create_call assistantOverrides": (
        "create_call",
        lambda w, n: {"assistantId": w["assistant"], "assistantOverrides": {"tools:append": [transfer_tool(n)]}, "phoneNumberId": w["number"], "customer": {"number": NY}},
        "POST",
        lambda w: "/call",
    ),
    "create_call web call": (
        "create_call",
        lambda w, n: {"assistant": {"name": "Desk", "model": {**MODEL, "tools": [transfer_tool(n)]}}},
        "POST",
        lambda w: "/call/web",
    ),
    "chat_with_assistant transient assistant": (
        "chat_with_assistant",
        lambda w, n: {"assistant": {"name": "Desk", "model": {**MODEL, "tools": [transfer_tool(n)]}}, "input": "Hi"},
        "POST",
        lambda w: "/chat",
    ),
}


def mutations(sandbox: Sandbox, method: str, path: str) -> list[Any]:
    return [r.body for r in sandbox.requests_to(method, path)]


@pytest.mark.parametrize("case", list(ROUTES))
async def test_a_destination_in_a_denied_country_is_refused_by_every_tool(
    case: str, settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    tool, arguments, method, path = ROUTES[case]
    denied = with_policy(settings, deny_countries=("44",))
    async with serve(denied, sandbox, clock) as client:
        result = await client.call_tool(tool, arguments(world, LONDON))
    text = result_text(result)
    assert result.is_error and "Refused by rule `deny_countries`" in text and LONDON in text, text
    assert mutations(sandbox, method, path(world)) == []
    line = audit_lines(denied)[-1]
    assert line["decision"] == "refused" and line["rules"]["deny_countries"] == "refused"
    assert {"role": "transfer", "number": LONDON, "country": "+44 GB"}.items() <= line["destinations"][0].items()


@pytest.mark.parametrize("case", list(ROUTES))
async def test_a_destination_is_confirmed_by_the_human_and_sent_exactly_once(
    case: str, settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    tool, arguments, method, path = ROUTES[case]
    args = arguments(world, "+44 20 7946 0958")  # sent normalized, confirmed as sent
    async with serve(settings, sandbox, clock) as client:
        preview = await client.call_tool(tool, args)
        shown = result_json(preview)
        assert shown.get("confirmationRequired") is True, result_text(preview)
        assert f"It can transfer calls to {LONDON} (+44 GB)." in shown["summary"]
        assert mutations(sandbox, method, path(world)) == []
        done = await client.call_tool(tool, {**args, "confirmToken": shown["confirmToken"]})
        assert not done.is_error, result_text(done)
    [body] = mutations(sandbox, method, path(world))
    assert LONDON in str(body) and "+44 20" not in str(body)
    previewed, sent = audit_lines(settings)[-2:]
    assert (previewed["decision"], sent["decision"], sent["channel"]) == ("previewed", "sent", "agent-relayed")
    assert sent["destinations"][0]["number"] == LONDON


async def test_a_call_question_lists_the_transfers_it_carries(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    from tests.guard_kit import answering

    callback, asked = answering("accept")
    _, arguments, _, _ = ROUTES["create_call transient assistant"]
    async with serve(settings, sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool("create_call", arguments(world, LONDON))
    assert not result.is_error, result_text(result)
    [question] = asked
    assert f"Call {NY} from +14155550100 with transient assistant \"Desk\"" in question
    assert f"It can transfer calls to {LONDON} (+44 GB)." in question
    [body] = mutations(sandbox, "POST", "/call")
    assert_valid("CreateCallDTO", body)


async def test_an_sms_tool_is_a_guarded_destination(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    arguments = {"name": "Texter", "model": {**MODEL, "tools": [{"type": "sms"}]}}
    async with serve(settings, sandbox, clock) as client:
        preview = result_json(await client.call_tool("create_assistant", arguments))
        chat = result_json(await client.call_tool("chat_with_assistant", {"assistant": arguments, "input": "Hi"}))
    for shown in (preview, chat):
        assert shown["confirmationRequired"] is True and "SMS tool" in shown["summary"]
    assert mutations(sandbox, "POST", "/assistant") == [] and mutations(sandbox, "POST", "/chat") == []
    assert [line["decision"] for line in audit_lines(settings)] == ["previewed", "previewed"]


async def test_a_destination_with_a_broken_number_is_refused_and_says_where(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    async with serve(settings, sandbox, clock) as client:
        result = await client.call_tool("update_phone_number", {"id": world["number"], "fallbackDestination": {"type": "number", "number": "12"}})
    text = result_text(result)
    assert result.is_error and "Refused by rule `e164`: fallbackDestination.number: '12' has no + and country code" in text, text
    assert mutations(sandbox, "PATCH", f"/phone-number/{world['number']}") == []


# the choke point: the client refuses what no guard block cleared

leaky = ToolGroup()


class LeakArgs(Args):
    id: str
    number: str


@leaky.tool(title="Leak (test)", read_only=False, sends=("PATCH /phone-number/{id}",))
async def leak(args: LeakArgs, call: ToolContext) -> Any:
    """Test only: a tool that forgets the guard and PATCHes a fallback destination directly."""
    return await call.vapi.patch(f"/phone-number/{args.id}", {"fallbackDestination": {"type": "number", "number": args.number}})


class TextArgs(Guarded):
    assistantId: str
    number: str


@leaky.tool(title="Text (test)", read_only=False, sends=("POST /chat",))
async def text(args: TextArgs, call: ToolContext) -> Any:
    """Test only: a chat whose answer is texted to a phone, sent through ToolContext.send."""
    body = {"assistantId": args.assistantId, "input": "Your table is ready.", "transport": {"type": "twilio.sms", "customer": {"number": args.number}}}
    return await call.send("POST", "/chat", body, args=args, summary="Text a reminder.")


@pytest.fixture
def leaky_family(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vapi_mcp.tools.FAMILIES", (SimpleNamespace(tools=leaky, toolset="calls"),))


@pytest.mark.usefixtures("leaky_family")
async def test_the_client_refuses_a_destination_no_guard_block_cleared(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    async with serve(settings, sandbox, clock) as client:
        result = await client.call_tool("leak", {"id": world["number"], "number": NY})
    text_ = result_text(result)
    assert result.is_error and "did not pass the confirmation guard" in text_ and "fallbackDestination.number" in text_, text_
    assert mutations(sandbox, "PATCH", f"/phone-number/{world['number']}") == []


@pytest.mark.usefixtures("leaky_family")
async def test_a_text_sent_now_keeps_quiet_hours_and_is_sent_once_after_a_yes(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    from datetime import datetime, timezone

    quiet = with_policy(settings, quiet_hours=True)
    arguments = {"assistantId": world["assistant"], "number": NY}
    async with serve(quiet, sandbox, clock) as client:
        clock.set(datetime(2026, 11, 2, 3, tzinfo=timezone.utc))  # 22:00 in New York
        night = await client.call_tool("text", arguments)
        assert night.is_error and "Refused by rule `quiet_hours`" in result_text(night)
        clock.set(datetime(2026, 11, 2, 16, tzinfo=timezone.utc))  # 11:00 in New York
        preview = result_json(await client.call_tool("text", arguments))
        assert f"It sends a text message to {NY} (+1 US) now." in preview["summary"] and preview["cost"] == "Nothing is billed."
        sent = await client.call_tool("text", {**arguments, "confirmToken": preview["confirmToken"]})
        assert not sent.is_error, result_text(sent)
    [body] = mutations(sandbox, "POST", "/chat")
    assert_valid("CreateChatDTO", body)
    assert [(line["kind"], line["decision"]) for line in audit_lines(quiet)] == [("text", "refused"), ("text", "previewed"), ("text", "sent")]


# dry run: nothing that changes anything leaves


DRY: dict[str, tuple[str, Callable[[dict[str, str]], dict[str, Any]], str, Callable[[dict[str, str]], str]]] = {
    "update_phone_number": ("update_phone_number", lambda w: {"id": w["number"], "name": "Desk"}, "PATCH", lambda w: f"/phone-number/{w['number']}"),
    "assign_assistant": ("assign_assistant", lambda w: {"id": w["number"], "assistantId": w["assistant"]}, "PATCH", lambda w: f"/phone-number/{w['number']}"),
    "web call": ("create_call", lambda w: {"assistantId": w["assistant"]}, "POST", lambda w: "/call/web"),
    "create_assistant": ("create_assistant", lambda w: {"name": "Sam", "server": {"url": "https://example.com", "headers": {"Authorization": "Bearer s3cr3t-value"}}}, "POST", lambda w: "/assistant"),
    "update_assistant": ("update_assistant", lambda w: {"id": w["assistant"], "firstMessage": "Hello"}, "PATCH", lambda w: f"/assistant/{w['assistant']}"),
    "create_squad": ("create_squad", lambda w: {"members": [{"assistantId": w["assistant"]}]}, "POST", lambda w: "/squad"),
    "update_tool": ("update_tool", lambda w: {"id": w["tool"], "messages": []}, "PATCH", lambda w: f"/tool/{w['tool']}"),
    "chat": ("chat_with_assistant", lambda w: {"assistantId": w["assistant"], "input": "Hi"}, "POST", lambda w: "/chat"),
}


@pytest.mark.parametrize("case", list(DRY))
async def test_dry_run_sends_nothing_that_changes_anything(
    case: str, settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    tool, arguments, method, path = DRY[case]
    async with serve(with_policy(settings, dry_run=True), sandbox, clock) as client:
        result = await client.call_tool(tool, arguments(world))
    shown = result_json(result)
    assert not result.is_error and shown["dryRun"] is True, result_text(result)
    assert (shown["wouldSend"]["method"], shown["wouldSend"]["path"]) == (method, path(world))
    assert "s3cr3t-value" not in result_text(result)
    assert [r for r in sandbox.requests if r.method not in ("GET", "HEAD")] == []


async def test_an_imported_number_is_sent_normalized(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    arguments = {"provider": "vonage", "number": "tel:+1-415-555-0109", "credentialId": "c0ffee00-0000-4000-8000-000000000001"}
    async with serve(settings, sandbox, clock) as client:
        preview = result_json(await client.call_tool("import_number", arguments))
        assert preview["wouldSend"]["body"]["number"] == "+14155550109" and "+14155550109" in preview["summary"]
        done = await client.call_tool("import_number", {**arguments, "confirmToken": preview["confirmToken"]})
    assert not done.is_error, result_text(done)
    [body] = mutations(sandbox, "POST", "/phone-number")
    assert body["number"] == "+14155550109"
    assert_valid("CreateVonagePhoneNumberDTO", body)
