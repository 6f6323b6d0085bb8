"""The question a human approves: a rehearsal says so first, things are named, times are local too, counts add up.

Each test reproduces a question (or refusal) that once read wrong (issue 18), through a real MCP client.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.guard_kit import NY, add_number, answering, serve
from tests.mcp_kit import SANDBOX, confirmed, result_json, result_text
from tests.testing_kit import DEFAULT_TESTER
from vapi_mcp.config import Settings
from vapi_mcp.guard import GuardedAction
from vapi_mcp.guard.consent import question
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.clock import parse_iso
from vapi_mcp.sandbox.core import stamp

ALASKA = "+19075550123"
"""A number of two time zones (America/Adak, America/Anchorage)."""


@pytest.fixture
def riley(sandbox: Sandbox, clock: ManualClock) -> str:
    assistant = stamp(clock, name="Riley", firstMessage="Hi, this is Riley.")
    sandbox.store.assistants[assistant["id"]] = assistant
    return assistant["id"]


def action(kind: Any = "dial", **fields: Any) -> GuardedAction:
    return GuardedAction(tool="create_call", kind=kind, summary=f"Call {NY} now.", method="POST", path="/call", body={}, arguments={}, **fields)


# a rehearsal says so first


def test_on_a_real_account_the_question_says_what_vapi_bills() -> None:
    assert question(action()) == f"Call {NY} now. Vapi bills every minute of the call to your account. Go ahead?"
    dry = question(replace(action(), rehearsal="dry-run", summary=f"DRY RUN (nothing will be sent): Call {NY} now."))
    assert dry.startswith("DRY RUN (nothing will be sent): ") and "If it were sent for real: vapi bills every minute" in dry


async def test_on_the_sandbox_the_question_says_sandbox_first_and_bills_nothing(settings, sandbox, clock, riley) -> None:
    """Before: 'Call ... now. Vapi bills every minute of the call to your account.' on the sandbox, where nothing is billed."""
    line = add_number(sandbox, "twilio")
    callback, asked = answering("decline")
    async with serve(settings, sandbox, clock, elicitation_callback=callback) as client:
        await client.call_tool("create_call", {"assistantId": riley, "phoneNumberId": line, "customer": {"number": NY}})
        await client.call_tool("buy_number", {"numberDesiredAreaCode": "415"})
    call, buy = asked
    assert call.startswith(SANDBOX + "Call ") and call.endswith("Nothing is billed. Go ahead?") and "bills" not in call
    assert buy.startswith(SANDBOX + "Buy a Vapi phone number in area code 415") and "charge" not in buy


async def test_a_dry_run_on_the_sandbox_says_both_first(settings, sandbox, clock, riley) -> None:
    """Before: under --dry-run a purchase read exactly as a real one."""
    callback, asked = answering("accept")
    async with serve(replace(settings, dry_run=True), sandbox, clock, elicitation_callback=callback) as client:
        result = result_json(await client.call_tool("buy_number", {"numberDesiredAreaCode": "415"}))
    assert asked[0].startswith("DRY RUN on the SANDBOX (nothing will be sent, no real phone rings): Buy a Vapi phone number")
    assert result["dryRun"] is True and result["summary"].startswith("DRY RUN on the SANDBOX")


# names, not bare ids


async def test_buying_a_number_for_an_assistant_names_the_assistant(client, sandbox, riley) -> None:
    """Before: 'answered by assistant 54d41957-...'."""
    preview = result_json(await client.call_tool("buy_number", {"numberDesiredAreaCode": "415", "assistantId": riley}))
    assert f'answered by assistant "Riley" ({riley})' in preview["summary"]
    assert "inbound calls only" in preview["summary"]


# local time beside UTC


async def test_a_scheduled_call_shows_the_callees_local_time_beside_utc(settings, sandbox, clock, riley) -> None:
    """Before: 'not before 2026-12-07T14:05:00+00:00' and nothing else."""
    line = add_number(sandbox, "twilio")
    clock.set(parse_iso("2026-12-07T12:00:00Z"))
    callback, asked = answering("decline")
    async with serve(settings, sandbox, clock, elicitation_callback=callback) as client:
        plan = {"earliestAt": "2026-12-07T14:05:00Z", "latestAt": "2026-12-07T15:05:00Z"}
        await client.call_tool("create_call", {"assistantId": riley, "phoneNumberId": line, "customer": {"number": NY}, "schedulePlan": plan})
    [asked_once] = asked
    assert "not before 2026-12-07 14:05 UTC and not after 2026-12-07 15:05 UTC" in asked_once
    assert "(the callee's local time: America/New_York Mon 07 Dec 09:05-10:05)" in asked_once


async def test_a_night_window_is_said_to_be_at_night_when_quiet_hours_are_off(settings, sandbox, clock, riley) -> None:
    """Before: a campaign window at 00:56 local time was shown with no word that it is the middle of the night there."""
    line = add_number(sandbox, "twilio")
    clock.set(parse_iso("2026-12-07T05:56:00Z"))  # 00:56 in New York
    arguments = {"name": "Night", "assistantId": riley, "phoneNumberId": line, "customers": [{"number": NY}, {"number": "+12125550124"}]}
    preview = result_json(await serve_and_call(settings, sandbox, clock, "create_campaign", arguments))
    assert "America/New_York Mon 07 Dec 00:56-01:56 (at night there: outside 08:00-21:00)" in preview["summary"]
    clock.set(parse_iso("2026-12-07T15:00:00Z"))  # 10:00 in New York
    preview = result_json(await serve_and_call(settings, sandbox, clock, "create_campaign", arguments))
    assert "America/New_York Mon 07 Dec 10:00-11:00." in preview["summary"] and "at night" not in preview["summary"]


async def serve_and_call(settings: Settings, sandbox: Sandbox, clock: ManualClock, tool: str, arguments: dict[str, Any]) -> Any:
    async with serve(settings, sandbox, clock) as client:
        return await client.call_tool(tool, arguments)


# counts that add up, words that agree


async def test_a_number_of_two_zones_is_counted_in_words_that_read(settings, sandbox, clock, riley) -> None:
    """Before: '1 2 zones (America/Adak, ...)' and 'and 1 more in 1 others'."""
    line = add_number(sandbox, "twilio")
    clock.set(parse_iso("2026-12-07T20:00:00Z"))
    cities = ["+12125550100", "+13125550100", "+14155550100", "+16025550100", "+13035550100", "+18085550100"]
    abroad = ["+442079460958", "+33142685300", "+81312345678"]
    customers = [{"number": ALASKA}, {"number": "+19075550124"}, *({"number": n} for n in cities + abroad)]
    arguments = {"name": "Zones", "assistantId": riley, "phoneNumberId": line, "customers": customers}
    summary = result_json(await serve_and_call(settings, sandbox, clock, "create_campaign", arguments))["summary"]
    assert "by time zone: 2 in one of 2 zones (America/Adak, America/Anchorage), 1 in " in summary
    assert "by country: 8 in US (+1), 1 in FR (+33), 1 in GB (+44), 1 in JP (+81);" in summary
    assert "and 2 more in 2 other zones" in summary, summary
    assert " 1 others" not in summary and " 1 2 zones" not in summary


async def test_a_voice_simulation_says_how_many_of_its_calls_start_now(client, sandbox, riley) -> None:
    """Before: '5 can start now ... the rest wait' for a run of 3 calls."""
    scenario = {"name": "Book", "instructions": "Ask to book.", "evaluations": [{"structuredOutput": {"name": "ok", "schema": {"type": "boolean"}}, "comparator": "=", "value": True}]}
    entry = {"scenario": scenario, "personalityId": DEFAULT_TESTER}
    arguments = {"simulations": [entry] * 3, "target": {"assistantId": riley}, "transport": {"provider": "vapi.websocket"}, "wait": 0}
    summary = result_json(await client.call_tool("run_simulation", arguments))["summary"]
    assert "Run 3 voice simulations (3 simulations x 1 iteration)" in summary
    assert "All of them can start now (0 of 10 call slots in use)." in summary and "the rest wait" not in summary


async def test_vapis_own_full_stop_is_not_doubled(client) -> None:
    """Before: 'Vapi says: numberDesiredAreaCode 123 is not available. Try another US area code..'"""
    text = result_text(await confirmed(client, "buy_number", {"numberDesiredAreaCode": "123"}))
    assert "Try another US area code." in text and ".." not in text


async def test_a_free_vapi_numbers_limits_are_said_the_same_everywhere(client, sandbox) -> None:
    """Before: the description said 'free', the question 'a recurring charge', the result 'international calls'."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert "free" not in (tools["buy_number"].description or "").lower()
    preview = result_json(await client.call_tool("buy_number", {}))
    bought = result_json(await client.call_tool("buy_number", {"confirmToken": preview["confirmToken"]}))
    assert "inbound calls only" in bought["limits"] and "international" not in bought["limits"]


def test_the_real_cost_note_of_a_vapi_number_says_one_is_free() -> None:
    from vapi_mcp.tools.numbers import VAPI_NUMBER_COST

    note = action("spend", cost=VAPI_NUMBER_COST).cost_note
    assert note.startswith("Vapi gives each account one free number") and "monthly charge" in note
