"""Issue 16 through a real MCP client: on the sandbox, chat, evals, simulations and calls talk from the
assistant's own configuration, its checks pass only what the transcript supports, and every result
that carries such a conversation says so once."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.engine_kit import SUNNY_PROMPT
from tests.guard_kit import answering, serve
from tests.mcp_kit import confirmed, result_json, result_text
from tests.stdio_kit import server_env
from tests.testing_kit import DEFAULT_TESTER, tick_on_reads
from vapi_mcp.client import CONVERSATION_NOTE, NOTE_HEADER
from vapi_mcp.sandbox import Sandbox, calls, conversation
from vapi_mcp.sandbox.conversation import RULE_NOTE
from vapi_mcp.sandbox.core import stamp
from vapi_mcp.sandbox.judging import evaluate_success, summarise

PARKING_RULE = '- If a caller asks about parking, say "There is free parking behind the salon."\n'
PROMPT = SUNNY_PROMPT.format(nail_trim="$15", booking="You can book grooming appointments.").replace(PARKING_RULE, "")
"""Issue 16's Sunny Paws receptionist, without a word about parking."""
WITH_PARKING = PROMPT.replace("## Rules", "## Parking\nThere is free parking behind the salon.\n\n## Rules")
"""The agent's fix: a parking section."""
PARKING_JUDGE = {
    "type": "ai",
    "model": {"provider": "openai", "model": "gpt-4.1", "messages": [{"role": "system", "content": 'Pass if the reply says "free parking".'}]},
}
PARKING_EVAL = {"messages": [{"role": "user", "content": "Is there parking?"}, {"role": "assistant", "judgePlan": PARKING_JUDGE}]}


def receptionist(prompt: str = PROMPT, **fields: Any) -> dict[str, Any]:
    """create_assistant's arguments for the receptionist."""
    return {
        "name": "Sunny Paws Receptionist",
        "firstMessage": "Hi {{customer.name | default: 'there'}}, thanks for calling Sunny Paws! How can I help?",
        "model": {"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": prompt}]},
        **fields,
    }


def says_once(result: Any) -> bool:
    """The tool result carries the sandbox's rule note, once."""
    return result_json(result).get(CONVERSATION_NOTE) == RULE_NOTE and result_text(result).count(RULE_NOTE) == 1


def add_number(sandbox: Sandbox) -> str:
    phone = stamp(sandbox.clock, provider="twilio", number="+14155550101", name="Front desk", status="active")
    sandbox.store.phone_numbers[phone["id"]] = phone
    return phone["id"]


async def ended_call(client: Client, sandbox: Sandbox, arguments: dict[str, Any]) -> dict[str, Any]:
    """get_call's view of a call placed with `arguments` (confirmed as a user would), once it has ended."""
    placed = await confirmed(client, "create_call", arguments)
    assert not placed.is_error, result_text(placed)
    sandbox.clock.advance(calls.LIFETIME)  # type: ignore[attr-defined]  # the ManualClock of the tests
    result = await client.call_tool("get_call", {"id": result_json(placed)["id"]})
    assert says_once(result), result_text(result)
    return result_json(result)


async def test_a_changed_prompt_is_seen_in_the_next_chat_eval_and_call(client: Client, sandbox: Sandbox, clock: Any) -> None:
    """Issue 16: an agent adds a parking section to the receptionist's prompt; the next chat, eval and call show it.
    The call is a web call, as a user tries a receptionist (an inbound call: the caller asks what it can help with)."""
    made = result_json(await client.call_tool("create_assistant", receptionist()))
    tick_on_reads(sandbox, clock, "/eval/run/", 10)
    call = {"assistantId": made["id"]}

    async def try_it() -> tuple[str, dict[str, Any], list[str]]:
        chat = await client.call_tool("chat_with_assistant", {"assistantId": made["id"], "input": "Is there parking?"})
        run = await client.call_tool("run_eval", {"eval": PARKING_EVAL, "target": {"assistantId": made["id"]}})
        assert says_once(chat) and says_once(run), (result_text(chat), result_text(run))
        return result_json(chat)["reply"], result_json(run), (await ended_call(client, sandbox, call))["transcript"]

    reply, run, transcript = await try_it()
    assert reply == "I'm sorry, I don't have that information.", "nothing in the prompt answers it, and nothing is invented"
    assert run["result"] == "fail" and run["checkpoints"][0]["reason"] == 'The reply does not contain "free parking".'
    assert transcript[2] == "AI: I can help with services and prices, and hours. I can also book appointments."

    changed = await client.call_tool("update_assistant", {"id": made["id"], "model": receptionist(WITH_PARKING)["model"]})
    assert not changed.is_error, result_text(changed)
    reply, run, transcript = await try_it()
    assert reply == "There is free parking behind the salon."
    assert run["result"] == "pass" and run["checkpoints"] == [{"turn": 2, "status": "pass"}]
    assert transcript == [
        "AI: Hi there, thanks for calling Sunny Paws! How can I help?",
        "User: Hi, what can you help me with?",
        "AI: I can help with services and prices, hours, and parking. I can also book appointments.",
        "User: Okay, thank you. Goodbye!",
        "AI: Thank you for calling. Goodbye!",
    ], "the firstMessage rendered (no customer: its default); the new section among what it can help with"


async def test_an_eval_the_prompt_satisfies_passes_and_one_it_does_not_fails(client: Client, sandbox: Sandbox, clock: Any) -> None:
    made = result_json(await client.call_tool("create_assistant", receptionist()))
    tick_on_reads(sandbox, clock, "/eval/run/", 10)
    price = {"role": "user", "content": "How much is a nail trim?"}
    satisfied = [price, {"role": "assistant", "judgePlan": {"type": "regex", "content": r"\$15\b"}}]
    unsatisfied = [price, {"role": "assistant", "judgePlan": {"type": "regex", "content": r"\$12\b"}}]
    passed = result_json(await client.call_tool("run_eval", {"eval": {"messages": satisfied}, "target": {"assistantId": made["id"]}}))
    failed = result_json(await client.call_tool("run_eval", {"eval": {"messages": unsatisfied}, "target": {"assistantId": made["id"]}}))
    assert passed["result"] == "pass" and failed["result"] == "fail"
    assert failed["checkpoints"][0]["actual"] == "Nail trim: $15.", "the answer comes from the prompt, not from the eval"
    forbidden = [
        {"role": "user", "content": "What should I bring?"},
        {"role": "assistant", "judgePlan": {"type": "ai", "model": {**PARKING_JUDGE["model"], "messages": [{"role": "system", "content": "Fail if it mentions ID or insurance cards."}]}}},
    ]
    kept = result_json(await client.call_tool("run_eval", {"eval": {"messages": forbidden}, "target": {"assistantId": made["id"]}}))
    assert kept["result"] == "pass", "the prompt's own rule keeps ID and insurance cards out of the reply"


BOOKING = {
    "name": "Book a nail trim",
    "instructions": "You want to book a nail trim for your dog Max on Tuesday afternoon. Your name is Jane.",
    "evaluations": [
        {
            "structuredOutput": {"name": "booked", "description": "true if the appointment was booked", "schema": {"type": "boolean"}},
            "comparator": "=",
            "value": True,
        }
    ],
}


@pytest.mark.parametrize(
    ("booking", "booked"),
    [("You cannot book appointments; take a message instead.", False), ("You can book grooming appointments.", True)],
)
async def test_a_simulation_reports_booked_only_when_the_assistant_confirmed_a_booking(client, sandbox, clock, booking, booked):
    """Issue 16's false pass: `booked` came back true while the assistant only echoed. It is true only when the
    transcript shows the assistant confirming the booking the tester asked for."""
    prompt = SUNNY_PROMPT.format(nail_trim="$15", booking=booking)
    made = result_json(await client.call_tool("create_assistant", receptionist(prompt)))
    tick_on_reads(sandbox, clock, "/eval/simulation/run", 5)
    arguments = {"simulations": [{"scenario": BOOKING, "personalityId": DEFAULT_TESTER}], "target": {"assistantId": made["id"]}}
    result = await client.call_tool("run_simulation", arguments)
    view = result_json(result)
    [item] = view["items"]
    assert item["evaluations"][0]["extracted"] is booked and item["status"] == ("passed" if booked else "failed")
    assert says_once(result)
    run = sandbox.store.simulation_runs[view["id"]]
    said = run["_items"][0]["_call"]["transcript"]
    assert said.splitlines()[1] == "User: Hi, I'd like to book a nail trim for my dog Max on Tuesday afternoon."
    if booked:
        assert "AI: You're booked for Tuesday, November 3 at 1:00 PM." in said
    else:
        assert "AI: I'm sorry, I can't book appointments." in said and "booked for" not in said


async def test_an_outbound_campaign_call_is_outbound_with_the_customers_name_and_analysed_from_its_transcript(settings, sandbox, clock):
    """Issue 16: a campaign call played an inbound script ("I'm calling about my appointment") and said
    "Hi {{customer.name}}" with the braces; its analysis was canned."""
    assistant = stamp(
        clock,
        name="Riley",
        firstMessage="Hi {{customer.name}}, this is Riley from Sunny Paws.",
        model={"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": "You are calling to confirm Max's grooming appointment tomorrow at 10 AM."}]},
        analysisPlan={"successEvaluationPlan": {"rubric": "NumericScale"}},
    )
    sandbox.store.assistants[assistant["id"]] = assistant
    phone = add_number(sandbox)
    arguments = {"name": "Confirmations", "assistantId": assistant["id"], "phoneNumberId": phone, "customers": [{"number": "+14155550123", "name": "Jane"}]}
    yes, _ = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=yes) as client:
        created = await client.call_tool("create_campaign", arguments)
        assert not created.is_error, result_text(created)
        clock.advance(60)
        [contact] = result_json(await client.call_tool("list_campaign_contacts", {"id": result_json(created)["id"]}))["contacts"]
        result = await client.call_tool("get_call", {"id": contact["callId"]})
    view = result_json(result)
    assert view["type"] == "outboundPhoneCall" and says_once(result)
    assert view["transcript"] == [
        "AI: Hi Jane, this is Riley from Sunny Paws.",
        "User: Okay, what is this about?",
        "AI: I'm calling to confirm Max's grooming appointment tomorrow at 10 AM.",
        "User: Okay, thank you. Goodbye!",
        "AI: Thank you for your time. Goodbye!",
    ]
    lines = "\n".join(view["transcript"])
    assert view["analysis"]["summary"] == summarise(lines, ended_reason=view["endedReason"])
    assert view["analysis"]["summary"].startswith('The user asked "Okay, what is this about?". The assistant answered 1 of 1 from its prompt.')
    assert view["analysis"]["successEvaluation"] == evaluate_success(lines, {"rubric": "NumericScale"}) == "10"


async def test_every_result_that_carries_sandbox_conversation_says_so_once(client: Client, sandbox: Sandbox, clock: Any) -> None:
    made = result_json(await client.call_tool("create_assistant", receptionist()))
    assert CONVERSATION_NOTE not in result_json(await client.call_tool("list_assistants", {})), "no conversation, no note"
    web = await client.call_tool("create_call", {"assistantId": made["id"]})
    assert CONVERSATION_NOTE not in result_json(web), "a call that has not talked yet carries none"
    clock.advance(calls.LIFETIME)
    tick_on_reads(sandbox, clock, "/eval/", 10)
    chat = await client.call_tool("chat_with_assistant", {"assistantId": made["id"], "input": "How much is a bath?"})
    run = await client.call_tool("run_eval", {"eval": PARKING_EVAL, "target": {"assistantId": made["id"]}, "wait": 0})
    later = await client.call_tool("get_eval_run", {"id": result_json(run)["id"], "wait": 30})
    simulation = await client.call_tool(
        "run_simulation", {"simulations": [{"scenario": BOOKING, "personalityId": DEFAULT_TESTER}], "target": {"assistantId": made["id"]}}
    )
    got = await client.call_tool("get_call", {"id": result_json(web)["id"]})
    waited = await client.call_tool("wait_for_call", {"id": result_json(web)["id"], "timeout": 5})
    output = await client.call_tool("create_structured_output", {"name": "price", "schema": {"type": "number"}, "description": "the price of a bath"})
    preview = await client.call_tool("run_structured_output", {"structuredOutputId": result_json(output)["id"], "callIds": [result_json(web)["id"]]})
    for result in (chat, later, simulation, got, waited, preview):
        assert not result.is_error and says_once(result), result_text(result)


def test_the_servers_note_header_is_the_sandboxes() -> None:
    assert NOTE_HEADER == conversation.NOTE_HEADER.lower() and CONVERSATION_NOTE == conversation.NOTE_KEY


async def test_a_call_scheduled_for_tomorrow_runs_after_the_clock_moves_and_talks_from_its_assistant(client, sandbox, clock):
    reminder = PROMPT.replace("## Services", "You are calling to remind customers of their dog's grooming appointment.\n\n## Services")
    made = result_json(await client.call_tool("create_assistant", receptionist(reminder, firstMessage="Hi {{customer.name}}, this is Riley from Sunny Paws.")))
    phone = add_number(sandbox)
    tomorrow = "2026-11-03T16:00:00Z"
    arguments = {"assistantId": made["id"], "phoneNumberId": phone, "customer": {"number": "+14155550123", "name": "Jane"}, "schedulePlan": {"earliestAt": tomorrow}}
    placed = result_json(await confirmed(client, "create_call", arguments))
    assert placed["status"] == "scheduled"
    waited = result_json(await client.call_tool("wait_for_call", {"id": placed["id"], "timeout": 5}))
    assert waited["startsAt"] == tomorrow and "advance_sandbox_clock" in waited["note"]
    moved = result_json(await client.call_tool("advance_sandbox_clock", {"to": tomorrow}))
    assert {"type": "call", "id": placed["id"], "at": "2026-11-03T16:00:00.000Z"} in moved["started"]
    result = await client.call_tool("advance_sandbox_clock", {"advanceSeconds": 60})
    assert not result.is_error
    ended = await client.call_tool("wait_for_call", {"id": placed["id"], "timeout": 5})
    view = result_json(ended)
    assert view["status"] == "ended" and says_once(ended)
    assert view["transcript"] == [
        "AI: Hi Jane, this is Riley from Sunny Paws.",
        "User: Okay, what is this about?",
        "AI: I'm calling to remind you of your dog's grooming appointment.",
        "User: Okay, thank you. Goodbye!",
        "AI: Thank you for your time. Goodbye!",
    ]
    assert view["startedAt"] == "2026-11-03T16:00:02.000Z", "it talked when the moved clock reached its time"


# Through a stdio server process, as an agent's client starts it; the world shared by every process.


def stdio(env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "vapi_mcp", "serve", "--sandbox"], env=env)


async def test_over_stdio_a_changed_prompt_changes_the_next_reply_and_a_call_reads_the_same_in_every_process(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    async with Client(stdio(env), mode="legacy") as client:
        made = result_json(await client.call_tool("create_assistant", receptionist()))
        before = await client.call_tool("chat_with_assistant", {"assistantId": made["id"], "input": "Is there parking?"})
        await client.call_tool("update_assistant", {"id": made["id"], "model": receptionist(WITH_PARKING)["model"]})
        after = await client.call_tool("chat_with_assistant", {"assistantId": made["id"], "input": "Is there parking?"})
        web = result_json(await client.call_tool("create_call", {"assistantId": made["id"]}))
        assert not (await client.call_tool("advance_sandbox_clock", {"advanceSeconds": 60})).is_error
    assert result_json(before)["reply"] == "I'm sorry, I don't have that information." and says_once(before)
    assert result_json(after)["reply"] == "There is free parking behind the salon." and says_once(after)
    async with Client(stdio(env), mode="legacy") as client:  # a new process plays the call's conversation, and keeps it
        first = result_json(await client.call_tool("get_call", {"id": web["id"], "include": ["transcript", "analysis"]}))
    world = tmp_path / "state" / "vapi-mcp" / "sandbox.sqlite3"
    stored = Sandbox(world=world).store.calls[web["id"]]
    kept = stored.pop("_conversation")
    stored.pop("_analysis")
    assert calls.conversation(stored) == kept, "played again from the same inputs in this process: the same words"
    async with Client(stdio(env), mode="legacy") as client:
        again = result_json(await client.call_tool("get_call", {"id": web["id"], "include": ["transcript", "analysis"]}))
    assert first["transcript"] == again["transcript"] == [f"{'AI' if role == 'assistant' else 'User'}: {text}" for role, text in kept["lines"]]
    assert first["transcript"][2] == "AI: I can help with services and prices, hours, and parking. I can also book appointments."
    assert first["analysis"] == again["analysis"] and json.dumps(first).count(RULE_NOTE) == 1
