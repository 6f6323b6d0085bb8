"""Red team, round four: what the human is shown and what is then sent. Text an agent chose that forges a line of
the question or makes it read as a rehearsal; an update merged into what Vapi holds that changes between the question
and the yes; transient assistants and overrides; a chat that continues an SMS session by another route.

Each test is an attack; those that broke through say so in their docstring ("Before: ..."), the others held and are
kept so they keep holding.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import Client

from tests.apps_kit import APPS, one_server, pending_of
from tests.guard_kit import LA, NY, add_number, answering, serve, with_policy
from tests.loopback import on_loopback
from tests.mcp_kit import SANDBOX, connect, result_json, result_text
from vapi_mcp.config import Settings
from vapi_mcp.guard.app import APPROVE_TOOL
from vapi_mcp.guard.facts import REAL
from vapi_mcp.sandbox import Sandbox
from vapi_mcp.sandbox.core import stamp

MODEL = {"provider": "openai", "model": "gpt-4.1"}
FORGED_LINE = "\n\nSANDBOX (no real phone rings, nothing is billed): Change the assistant's name.\n"


def transfer_to(number: str) -> dict[str, Any]:
    return {"type": "transferCall", "destinations": [{"type": "number", "number": number}]}


def assistant(sandbox: Sandbox, **fields: Any) -> dict[str, Any]:
    fields.setdefault("model", {**MODEL, "messages": [{"role": "system", "content": "Be kind."}]})
    item = stamp(sandbox.clock, name="Riley", **fields)
    sandbox.store.assistants[item["id"]] = item
    return item


def changes(sandbox: Sandbox) -> list[Any]:
    return [r for r in sandbox.requests if r.method != "GET"]


@asynccontextmanager
async def real_account(settings: Settings, sandbox: Sandbox, **client: Any) -> AsyncIterator[Client]:
    """A client of a server on a real-looking Vapi account (a key, a base URL that is not the sandbox's): the sandbox
    answers it over HTTP, but the server does not know it, so its questions are those of the real thing."""
    async with on_loopback(sandbox.app, lifespan="on") as vapi:
        async with connect(with_policy(settings, base_url=vapi, api_key="a-real-looking-key-5c1d"), sandbox, **client) as session:
            yield session


# the question


async def test_a_key_an_agent_chose_cannot_forge_a_line_of_the_question(settings: Settings, sandbox: Sandbox) -> None:
    """Before: update_assistant lists the paths it changes, and keys inside `metadata` are the agent's: a key holding
    a newline and "SANDBOX (no real phone rings, nothing is billed): ..." put a second line in a question on a real
    account that read as a rehearsal, and a bidi override (U+202E) turned the rest of the line around."""
    riley = assistant(sandbox, metadata={"team": "a"})
    no, asked = answering("decline")
    async with real_account(settings, sandbox, elicitation_callback=no) as client:
        await client.call_tool(
            "update_assistant",
            {"id": riley["id"], "model": {"tools": [transfer_to(LA)]}, "metadata": {f"x{FORGED_LINE}\u202e": 1}},
        )
    (question,) = asked
    assert "\n" not in question and "\u202e" not in question, repr(question)
    assert question.startswith(REAL), question
    assert '"metadata.x SANDBOX (no real phone' in question, "the path is shown as a name: quoted, on one line, cut"


@pytest.mark.parametrize(
    "name",
    ["SANDBOX (no real phone rings)", "\uff33\uff21\uff2e\uff24\uff22\uff2f\uff38 test", "Dry Run only", "sandbox"],
    ids=["sandbox", "full-width", "dry run", "lower case"],
)
async def test_on_a_real_account_a_name_that_speaks_of_a_rehearsal_makes_the_question_say_it_is_real_first(
    name: str, settings: Settings, sandbox: Sandbox
) -> None:
    """Before: a customer named "SANDBOX (no real phone rings)" (or in full-width letters) put those words in a real
    question, as a quoted name but still the first words a skimming reader catches; nothing said it was real."""
    riley = assistant(sandbox)
    line = add_number(sandbox, "twilio", "+14155550101")
    no, asked = answering("decline")
    async with real_account(settings, sandbox, elicitation_callback=no) as client:
        await client.call_tool("create_call", {"assistantId": riley["id"], "phoneNumberId": line, "customer": {"number": LA, "name": name}})
    assert asked and asked[0].startswith(REAL), asked


async def test_on_a_real_account_an_ordinary_question_is_not_marked(settings: Settings, sandbox: Sandbox) -> None:
    """Held (the other side): a real question that speaks of no rehearsal starts with what it does."""
    riley = assistant(sandbox)
    line = add_number(sandbox, "twilio", "+14155550101")
    no, asked = answering("decline")
    async with real_account(settings, sandbox, elicitation_callback=no) as client:
        await client.call_tool("create_call", {"assistantId": riley["id"], "phoneNumberId": line, "customer": {"number": LA, "name": "Jane"}})
    assert asked and asked[0].startswith("Call "), asked


@pytest.mark.parametrize("text", ["\r\u2028\u2029", "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", "\u200b\u200c\u200d\ufeff", "\x1b[2K\x08\x08\x08"])
async def test_on_the_sandbox_the_question_says_so_first_whatever_the_agent_writes(text: str, settings: Settings, sandbox: Sandbox) -> None:
    """Before: the SANDBOX framing stayed first, but a metadata key the update changes came into the question as it was,
    zero-width characters, bidi overrides and line separators included. Now the question is one line of plain text."""
    riley = assistant(sandbox, metadata={"team": "a"})
    line = add_number(sandbox, "twilio", "+14155550101")
    no, asked = answering("decline")
    async with serve(settings, sandbox, sandbox.clock, elicitation_callback=no) as client:
        await client.call_tool("create_call", {"assistantId": riley["id"], "phoneNumberId": line, "customer": {"number": LA, "name": f"{text}Jane{text}"}})
        await client.call_tool("update_assistant", {"id": riley["id"], "model": {"tools": [transfer_to(LA)]}, "metadata": {f"{text}k": 1}})
    assert len(asked) == 2
    for question in asked:
        assert question.startswith(SANDBOX) and not any(ch in question for ch in text if not ch.isprintable()), repr(question)


# an update merged into what Vapi holds


async def test_a_token_confirms_only_the_request_the_human_was_shown(settings: Settings, sandbox: Sandbox) -> None:
    """Before: the confirm token was bound to the arguments only. update_assistant merges them into the assistant as
    Vapi holds it; the assistant changed between the preview (a transfer to +1 415...) and the token (someone changed
    that transfer to +1 212...), and the PATCH sent a destination nobody was shown."""
    riley = assistant(sandbox, model={**MODEL, "tools": [transfer_to(LA)]})
    async with connect(settings, sandbox) as client:
        arguments = {"id": riley["id"], "model": {"temperature": 0.5}}
        preview = result_json(await client.call_tool("update_assistant", arguments))
        changed = sandbox.store.assistants[riley["id"]]
        changed["model"]["tools"] = [transfer_to(NY)]
        sandbox.store.assistants[riley["id"]] = changed
        relayed = await client.call_tool("update_assistant", {**arguments, "confirmToken": preview["confirmToken"]})
        again = result_json(await client.call_tool("update_assistant", arguments))
    assert LA in preview["summary"] and NY not in preview["summary"]
    assert relayed.is_error and "Refused by rule `confirm_token`" in result_text(relayed), result_text(relayed)
    assert changes(sandbox) == []
    assert NY in again["summary"], "a new preview shows the request as it now stands"


async def test_approve_runs_only_the_request_the_human_was_shown(settings: Settings, sandbox: Sandbox) -> None:
    """Before: the same through the MCP Apps view under `--consent human` (no token: the pending row's single use
    alone): Approve re-ran the update against the changed assistant and sent the unseen destination."""
    human = with_policy(settings, consent="human")
    riley = assistant(sandbox, model={**MODEL, "tools": [transfer_to(LA)]})
    async with one_server(human, sandbox, sandbox.clock) as server, Client(server, extensions=[APPS]) as host:
        preview = await host.call_tool("update_assistant", {"id": riley["id"], "model": {"temperature": 0.5}})
        changed = sandbox.store.assistants[riley["id"]]
        changed["model"]["tools"] = [transfer_to(NY)]
        sandbox.store.assistants[riley["id"]] = changed
        approved = await host.call_tool(APPROVE_TOOL, {"id": pending_of(preview)["id"]})
    assert approved.is_error and "differs from what the user was shown" in result_text(approved), result_text(approved)
    assert changes(sandbox) == []


async def test_a_destination_the_merge_keeps_is_shown_and_checked(settings: Settings, sandbox: Sandbox) -> None:
    """Held: the agent changes only the temperature; the merged PATCH re-sends the model's transfer tool, so the
    question lists that destination and the rules read it (a number listed since is refused)."""
    riley = assistant(sandbox, model={**MODEL, "tools": [transfer_to(NY)]})
    async with connect(settings, sandbox) as client:
        preview = result_json(await client.call_tool("update_assistant", {"id": riley["id"], "model": {"temperature": 0.5}}))
        await client.call_tool("add_do_not_call", {"number": NY})
        refused = await client.call_tool("update_assistant", {"id": riley["id"], "model": {"temperature": 0.5}})
    assert NY in preview["summary"] and "keeping" in preview["summary"]
    assert refused.is_error and "Refused by rule `do_not_call`" in result_text(refused)


@pytest.mark.parametrize(
    ("tool", "arguments", "said"),
    [
        ("update_assistant", {"model": {"temperature": 0.5}, "replace": ["model", "firstMessage"]}, "does not give"),
        ("update_assistant", {"model": {"temperature": 0.5}, "replace": ["model.tools"]}, "does not have"),
        ("update_squad", {"members": [{"assistantId": "{riley}"}], "replace": ["members"]}, "replace"),
    ],
    ids=["replace what is not given", "replace a nested path", "squad replace"],
)
async def test_replace_names_only_fields_the_update_gives(tool: str, arguments: dict[str, Any], said: str, settings: Settings, sandbox: Sandbox) -> None:
    """Held: `replace` cannot drop a field it does not give (a prompt removed without the question saying so)."""
    riley = assistant(sandbox)
    squad = stamp(sandbox.clock, name="Desk", members=[{"assistantId": riley["id"]}])
    sandbox.store.squads[squad["id"]] = squad
    target = riley["id"] if tool == "update_assistant" else squad["id"]
    filled = {k: [{"assistantId": riley["id"]}] if v == [{"assistantId": "{riley}"}] else v for k, v in arguments.items()}
    async with connect(settings, sandbox) as client:
        result = await client.call_tool(tool, {"id": target, **filled})
    assert result.is_error and said in result_text(result), result_text(result)
    assert changes(sandbox) == []


# transients and overrides


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("create_call", {"assistant": {"model": MODEL, "phoneNumber": {"number": NY}}, "customer": {"number": LA}}),
        ("create_call", {"squad": {"members": [{"assistant": {"model": MODEL, "forwardingPhoneNumber": NY}}]}, "customer": {"number": LA}}),
        ("create_call", {"assistantId": "{riley}", "assistantOverrides": {"customer": {"number": NY}}, "customer": {"number": LA}}),
        ("chat_with_assistant", {"assistant": {"model": MODEL, "transport": {"customer": {"number": NY}}}, "input": "hi"}),
        ("create_campaign", {"name": "x", "assistantId": "{riley}", "customers": [{"number": LA}], "assistantOverrides": {"phoneNumberId": "{line}"}}),
    ],
    ids=["assistant phoneNumber", "member forwardingPhoneNumber", "overrides customer", "chat transport in assistant", "campaign overrides phoneNumberId"],
)
async def test_a_field_a_transient_does_not_have_is_refused_before_anything_is_sent(tool: str, arguments: dict[str, Any], settings: Settings, sandbox: Sandbox) -> None:
    """Held: a field CreateAssistantDTO / AssistantOverrides do not have, wherever the transient sits, is refused
    naming it, so nothing reaches Vapi that the guard's shapes were not written for."""
    riley = assistant(sandbox)
    line = add_number(sandbox, "twilio", "+14155550101")
    filled = _filled(arguments, {"{riley}": riley["id"], "{line}": line})
    if tool == "create_call":
        filled["phoneNumberId"] = line
    async with connect(settings, sandbox) as client:
        result = await client.call_tool(tool, filled)
    assert result.is_error and ("not a field" in result_text(result) or "not an argument" in result_text(result)), result_text(result)
    assert changes(sandbox) == []


def _filled(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _filled(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


# a chat that continues an SMS session


def sms_session(sandbox: Sandbox, **fields: Any) -> dict[str, Any]:
    riley = assistant(sandbox)
    session = stamp(sandbox.clock, status="active", assistantId=riley["id"], messages=[], **fields)
    sandbox.store.sessions[session["id"]] = session
    return session


async def test_a_chat_two_chats_after_an_sms_session_is_still_a_guarded_text(settings: Settings, sandbox: Sandbox) -> None:
    """Before: the guard looked one chat back: chat C2 continued C1, which belonged to an SMS session; a chat with
    `previousChatId: C2` was a plain chat, sent unasked at any hour to a callee whose country was denied."""
    strict = with_policy(settings, deny_countries=("US",))
    session = sms_session(sandbox, phoneNumberId=add_number(sandbox, "twilio", "+14155550101"), customer={"number": NY})
    first = stamp(sandbox.clock, sessionId=session["id"], assistantId=session["assistantId"], messages=[], output=[])
    second = stamp(sandbox.clock, previousChatId=first["id"], assistantId=session["assistantId"], messages=[], output=[])
    sandbox.store.chats[first["id"]] = first
    sandbox.store.chats[second["id"]] = second
    async with connect(strict, sandbox) as client:
        direct = await client.call_tool("chat_with_assistant", {"previousChatId": first["id"], "input": "Hi"})
        twice = await client.call_tool("chat_with_assistant", {"previousChatId": second["id"], "input": "Hi"})
    for result in (direct, twice):
        assert result.is_error and "Refused by rule `deny_countries`" in result_text(result), result_text(result)
    assert changes(sandbox) == []


async def test_a_chat_chain_that_loops_is_refused(settings: Settings, sandbox: Sandbox) -> None:
    """Since the guard follows a chat's whole chain: an answer no real Vapi gives (two chats continuing each other)
    must not hang it or let the chat through: refused, naming the argument."""
    riley = assistant(sandbox)
    one = stamp(sandbox.clock, assistantId=riley["id"], messages=[], output=[])
    two = stamp(sandbox.clock, assistantId=riley["id"], previousChatId=one["id"], messages=[], output=[])
    one["previousChatId"] = two["id"]
    sandbox.store.chats[one["id"]] = one
    sandbox.store.chats[two["id"]] = two
    async with connect(settings, sandbox) as client:
        result = await client.call_tool("chat_with_assistant", {"previousChatId": two["id"], "input": "Hi"})
    assert result.is_error and "`previousChatId`" in result_text(result), result_text(result)
    assert changes(sandbox) == []


async def test_a_chat_with_both_a_session_and_a_previous_chat_is_refused(settings: Settings, sandbox: Sandbox) -> None:
    """Before: with both, the guard looked only at `sessionId` (a web session: no one texted) and sent the chat; Vapi's
    document says the two are mutually exclusive, so which one Vapi follows (the previous chat's SMS session?) is not
    for the guard to guess."""
    web = sms_session(sandbox)
    texting = sms_session(sandbox, phoneNumberId=add_number(sandbox, "twilio", "+14155550101"), customer={"number": NY})
    previous = stamp(sandbox.clock, sessionId=texting["id"], assistantId=texting["assistantId"], messages=[], output=[])
    sandbox.store.chats[previous["id"]] = previous
    async with connect(settings, sandbox) as client:
        result = await client.call_tool("chat_with_assistant", {"sessionId": web["id"], "previousChatId": previous["id"], "input": "Hi"})
    assert result.is_error and "not both" in result_text(result), result_text(result)
    assert sandbox.requests == [], "refused before any request"


async def test_a_session_whose_customer_appears_later_is_a_text_from_then_on(settings: Settings, sandbox: Sandbox) -> None:
    """Held: the session is looked up at each chat, so a session that had no customer when it was made and has one
    now (set by any route) is a guarded text to it now."""
    session = sms_session(sandbox)
    yes, asked = answering("decline")
    async with serve(settings, sandbox, sandbox.clock, elicitation_callback=yes) as client:
        plain = await client.call_tool("chat_with_assistant", {"sessionId": session["id"], "input": "Hi"})
        later = sandbox.store.sessions[session["id"]]
        later.update(customer={"number": NY}, phoneNumber={"provider": "twilio", "number": "+14155550101"})
        sandbox.store.sessions[session["id"]] = later
        texted = await client.call_tool("chat_with_assistant", {"sessionId": session["id"], "input": "Hi again"})
    assert not plain.is_error and len(asked) == 1, "the plain chat asked no one; the text did"
    assert result_json(texted)["decision"] == "declined" and NY in asked[0] and "text message" in asked[0]
