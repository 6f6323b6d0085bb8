"""Campaigns and analytics through an MCP client on the sandbox: the guard over every contact, a run on the clock, outcomes that add up."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.mcp_kit import SANDBOX, result_json, result_text
from tests.guard_kit import answering, audit_lines, serve, with_policy
from tests.openapi import assert_valid
from vapi_mcp.cli import main
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.core import stamp
from vapi_mcp.sandbox.judging import evaluate_success
from vapi_mcp.server import build_server
from vapi_mcp.tools.base import ToolContext
from vapi_mcp.tools.campaigns import cost_estimate

SYDNEY = ("+61291234567", "+61298765432", "+61255501234")
"""Three contacts in Australia/Sydney, where 16:00 UTC on 2 November is 03:00 the next morning."""


async def every_call(client: Any) -> list[dict[str, Any]]:
    """Every call's list_calls row, following the pages (100 rows each) with `next`."""
    rows, arguments = [], {"limit": 1000}
    while True:
        page = result_json(await client.call_tool("list_calls", arguments))
        rows += page["calls"]
        if "next" not in page:
            return rows
        arguments = {"limit": 1000, **page["next"]}


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 2, hour, minute, tzinfo=timezone.utc)  # New York is UTC-5, Los Angeles UTC-8


def us(n: int, start: int = 0) -> list[dict[str, Any]]:
    """n valid US contacts, New York and Los Angeles alternating."""
    return [{"number": f"+1{'212' if i % 2 else '415'}555{1000 + i:04d}", "name": f"Contact {i}"} for i in range(start, start + n)]


@pytest.fixture
def world(sandbox: Sandbox, clock: ManualClock) -> dict[str, str]:
    prompt = [{"role": "system", "content": "You are calling to remind patients of their dental checkup next week."}]
    assistant = stamp(clock, name="Riley", firstMessage="Hi, this is Riley from Acme Dental.", maxDurationSeconds=300, model={"provider": "openai", "model": "gpt-4o", "messages": prompt})
    twilio = stamp(clock, provider="twilio", number="+14155550101", name="Outbound", status="active")
    free = stamp(clock, provider="vapi", number="+14155550100", name="Free line", status="active")
    telnyx = stamp(clock, provider="telnyx", number="+14155550102", name="Second line", status="active")
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.phone_numbers.update({twilio["id"]: twilio, free["id"]: free, telnyx["id"]: telnyx})
    return {"assistantId": assistant["id"], "twilio": twilio["id"], "free": free["id"], "telnyx": telnyx["id"]}


@pytest.fixture
def policy(settings: Settings) -> Settings:
    """Quiet hours on, and a daily cap a 200-contact campaign fits in (the default of 100 does not)."""
    return with_policy(settings, quiet_hours=True, daily_cap=250)


def campaign(world: dict[str, str], contacts: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"name": "Fall recall", "assistantId": world["assistantId"], "phoneNumberId": world["twilio"], "customers": contacts, **extra}


def posts(sandbox: Sandbox) -> list[Any]:
    return [r.body for r in sandbox.requests_to("POST", "/v2/campaign")]


async def run_contacts(client: Any, campaign_id: str, **filters: Any) -> list[dict[str, Any]]:
    """Every contact, page by page."""
    rows, page = [], 1
    while True:
        view = result_json(await client.call_tool("list_campaign_contacts", {"id": campaign_id, "limit": 75, "page": page, **filters}))
        rows += view["contacts"]
        if "next" not in view:
            return rows
        page += 1


# the guard over a whole campaign


async def test_a_200_contact_campaign_with_3_contacts_at_night_is_refused_naming_them(policy, sandbox, clock, world):
    clock.set(at(16))  # 11:00 in New York, 08:00 in Los Angeles, 03:00 in Sydney
    contacts = us(197) + [{"number": n, "name": f"Sydney {i}"} for i, n in enumerate(SYDNEY)]
    callback, asked = answering("accept")
    async with serve(policy, sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool("create_campaign", campaign(world, contacts))
    text = result_text(result)
    assert result.is_error and "Refused by rule `quiet_hours`" in text and "3 numbers break it" in text
    assert all(number in text for number in SYDNEY) and "Australia/Sydney" in text
    assert "+1212" not in text and "+1415" not in text, "only the contacts that break the rule are named"
    assert asked == [] and posts(sandbox) == []
    [line] = audit_lines(policy)
    assert line["decision"] == "refused" and line["rules"]["quiet_hours"] == "refused" and line["callees"] == 200


async def test_a_valid_campaign_is_placed_only_with_a_yes_runs_and_its_outcomes_add_up(policy, sandbox, clock, world):
    clock.set(at(16))
    arguments = campaign(world, us(200), maxConcurrency=20)
    declined, asked_no = answering("decline")
    async with serve(policy, sandbox, clock, elicitation_callback=declined) as client:
        assert result_json(await client.call_tool("create_campaign", arguments))["decision"] == "declined"
    assert posts(sandbox) == [] and len(asked_no) == 1
    yes, asked = answering("accept")
    async with serve(policy, sandbox, clock, elicitation_callback=yes) as client:
        created = result_json(await client.call_tool("create_campaign", arguments))
        [body] = posts(sandbox)
        assert body == arguments
        assert_valid("CreateCampaignDTO", body)
        question = asked[0]
        for words in (
            f'{SANDBOX}Start campaign "Fall recall": call 200 contacts',
            "by country: 200 in US (+1)",
            "by time zone: 100 in America/Los_Angeles, 100 in America/New_York",
            '+14155550101 "Outbound" with assistant "Riley"',
            "America/New_York Mon 02 Nov 11:00-12:00",
            "America/Los_Angeles Mon 02 Nov 08:00-09:00",
            "At most 20 calls at once",
            "Nothing is billed. Go ahead?",
        ):
            assert words in question, (words, question)
        assert created["status"] == "in-progress" and created["contactCount"] == 200
        audit = audit_lines(policy)[-1]
        assert audit["decision"] == "sent" and audit["ids"] == [created["id"]] and audit["callees"] == 200
        assert audit["request"]["path"] == "/v2/campaign"

        clock.advance(30)
        midway = result_json(await client.call_tool("get_campaign", {"id": created["id"]}))
        assert midway["status"] == "in-progress" and 0 < midway["left"] < 200
        assert midway["contacts"]["total"] == 200
        clock.advance(3600)
        done = result_json(await client.call_tool("get_campaign", {"id": created["id"]}))
        contacts = await run_contacts(client, created["id"])
        calls = {c["id"]: c for c in await every_call(client)}
    assert done["status"] == "ended" and done["endedReason"] == "campaign.ended.success" and done["left"] == 0
    counters = done["contacts"]
    assert counters["total"] == 200 == counters.get("completed", 0) + counters.get("failed", 0)
    assert len(contacts) == 200 and [c["number"] for c in contacts] == [c["number"] for c in arguments["customers"]]
    tally = Counter(c["status"] for c in contacts)
    assert tally == {"completed": counters.get("completed", 0), "failed": counters.get("failed", 0)}
    assert done["calls"]["dialed"] == 200 == len(calls)
    for contact in contacts:
        assert calls[contact["callId"]]["endedReason"] == contact["endedReason"]
        assert calls[contact["callId"]]["customer"] == contact["number"]
    connected = sum(1 for c in contacts if c["status"] == "completed" and c["endedReason"] != "voicemail")
    assert done["calls"]["connected"] == connected and done["calls"]["pickUpRate"] == f"{connected / 200:.0%}"


async def test_the_cost_range_comes_from_the_accounts_own_recent_calls(policy, sandbox, clock, world):
    """The range is computed from this account's priced calls, in figures a reader can multiply out (seconds
    when a call lasts under a minute: '0.0 min each' once came to $0.24). On the sandbox the question says
    only that nothing is billed: its calls' costs are made up."""
    clock.set(at(16))
    yes, asked = answering("accept")
    async with serve(policy, sandbox, clock, elicitation_callback=yes) as client:
        await client.call_tool("create_campaign", campaign(world, us(16), maxConcurrency=16))
        clock.advance(60)
        calls = result_json(await client.call_tool("list_calls", {"limit": 100}))["calls"]
        await client.call_tool("create_campaign", campaign(world, us(50, start=100)))
    priced = [c for c in calls if c.get("cost") and c.get("seconds")]
    minutes = sum(c["seconds"] for c in priced) / 60
    rate = sum(c["cost"] for c in priced) / minutes
    typical = minutes / len(priced)
    assert typical < 1
    expected = (
        f"Rough cost: about ${50 * typical * rate:,.2f} if these 50 calls run like this account's last {len(priced)} answered calls "
        f"({typical * 60:.0f} s each at ${rate:.3f}/min), up to about ${50 * 5 * rate:,.2f} if every contact talks the assistant's full 5 min."
    )
    _, app = build_server(policy, sandbox=sandbox)
    try:
        estimate = await cost_estimate(ToolContext(vapi=app.vapi, guard=app.guard, settings=policy), 50, {"maxDurationSeconds": 300})
    finally:
        await app.aclose()
    assert expected in estimate
    assert asked[1].startswith(SANDBOX) and asked[1].endswith("Nothing is billed. Go ahead?") and "Rough cost" not in asked[1]


async def test_without_priced_calls_there_is_no_cost_figure(policy, sandbox):
    _, app = build_server(policy, sandbox=sandbox)
    try:
        estimate = await cost_estimate(ToolContext(vapi=app.vapi, guard=app.guard, settings=policy), 3, {})
    finally:
        await app.aclose()
    assert estimate.startswith("No cost figure: Vapi publishes no per-minute price and this account has no priced calls yet")


async def test_list_campaign_contacts_filters_by_status(policy, sandbox, clock, world):
    clock.set(at(16))
    yes, _ = answering("accept")
    async with serve(policy, sandbox, clock, elicitation_callback=yes) as client:
        created = result_json(await client.call_tool("create_campaign", campaign(world, us(24), maxConcurrency=24)))
        clock.advance(60)
        failed = await run_contacts(client, created["id"], status=["contact.failed"])
        everyone = await run_contacts(client, created["id"])
        settled = await run_contacts(client, created["id"], status=["contact.failed", "contact.completed"])
    assert len(settled) == 24, "both statuses reach Vapi (the parameter repeats)"
    [request] = [r for r in sandbox.requests if r.path.endswith("/contacts") and r.query.get("status")][:1]
    assert request.query["status"] == "contact.failed"
    assert failed == [c for c in everyone if c["status"] == "failed"] and failed
    assert {c["endedReason"] for c in failed} <= {"customer-did-not-answer", "customer-busy", "call.in-progress.error-providerfault-openai-llm-failed"}


async def test_cancel_stops_a_campaign_mid_run_without_asking(policy, sandbox, clock, world):
    clock.set(at(16))
    yes, asked = answering("accept")
    async with serve(policy, sandbox, clock, elicitation_callback=yes) as client:
        created = result_json(await client.call_tool("create_campaign", campaign(world, us(200), maxConcurrency=5)))
        clock.advance(12)
        before = result_json(await client.call_tool("get_campaign", {"id": created["id"]}))
        cancelled = result_json(await client.call_tool("cancel_campaign", {"id": created["id"]}))
        dialled = len(result_json(await client.call_tool("list_calls", {"limit": 1000}))["calls"])
        clock.advance(3600)
        after = result_json(await client.call_tool("get_campaign", {"id": created["id"]}))
        calls = result_json(await client.call_tool("list_calls", {"limit": 1000}))["calls"]
        again = result_json(await client.call_tool("cancel_campaign", {"id": created["id"]}))
    assert len(asked) == 1, "cancelling never asks"
    assert before["status"] == "in-progress" and 5 < before["calls"]["dialed"] < 200
    assert cancelled["status"] == "cancelled" and cancelled["endedReason"] == "campaign.in-progress.ended-by-user"
    assert len(calls) == dialled == after["calls"]["dialed"], "no contact dialled after the cancel"
    assert all(c["status"] == "ended" for c in calls), "calls in progress finished"
    assert after["contacts"]["skipped"] == 200 - dialled and after["left"] == 0
    assert again["alreadyEnded"] is True
    assert [body for body in (r.body for r in sandbox.requests if r.method == "PATCH")] == [{"status": "cancelled"}]
    assert_valid("UpdateCampaignDTO", {"status": "cancelled"})


# the policy's other rules for campaigns


async def test_the_campaign_cap_bounds_one_campaign(settings, sandbox, clock, world):
    capped = with_policy(settings, campaign_cap=10)
    async with serve(capped, sandbox, clock) as client:
        result = await client.call_tool("create_campaign", campaign(world, us(11)))
    text = result_text(result)
    assert result.is_error and "Refused by rule `campaign_cap`: 11 customers exceed the campaign cap of 10" in text
    assert "VAPI_MCP_CAMPAIGN_CAP" in text and "only the user" in text.lower() and posts(sandbox) == []


async def test_each_contact_counts_against_the_daily_cap(settings, sandbox, clock, world):
    """The decision: a campaign dials every contact, so each counts as a guarded dial of the day."""
    yes, _ = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=yes) as client:  # the default daily cap, 100
        too_many = await client.call_tool("create_campaign", campaign(world, us(101)))
        assert too_many.is_error and "Refused by rule `daily_cap`" in result_text(too_many) and "VAPI_MCP_DAILY_CAP" in result_text(too_many)
        assert not (await client.call_tool("create_campaign", campaign(world, us(60)))).is_error
        rest = await client.call_tool("create_campaign", campaign(world, us(41)))
        assert rest.is_error and "60 of today's 100" in result_text(rest)
    assert len(posts(sandbox)) == 1


async def test_a_dial_plan_checks_each_numbers_free_number_rule_and_names_every_caller(policy, sandbox, clock, world):
    """Vapi's free numbers take inbound calls only: a dialPlan entry on one is refused, whatever it calls, and the
    refusal says what to import; on imported numbers the question names every calling number."""
    clock.set(at(16))
    london = "+442079460958"  # 16:00 in London
    plan = [
        {"phoneNumberId": world["free"], "customers": us(2)},
        {"phoneNumberId": world["twilio"], "customers": us(2, start=2)},
    ]
    arguments = {"name": "Two lines", "assistantId": world["assistantId"], "dialPlan": plan}
    yes, asked = answering("accept")
    async with serve(policy, sandbox, clock, elicitation_callback=yes) as client:
        refused = result_text(await client.call_tool("create_campaign", arguments))
        assert "Refused by rule `free_number`: the free Vapi number +14155550100 takes inbound calls only" in refused
        assert "cannot call 2 numbers" in refused and "import_number" in refused and "Twilio, Telnyx or Vonage" in refused
        plan[0]["phoneNumberId"] = world["telnyx"]
        plan[1]["customers"].append({"number": london})
        created = await client.call_tool("create_campaign", arguments)
    assert not created.is_error, result_text(created)
    [body] = posts(sandbox)
    assert body == arguments
    assert_valid("CreateCampaignDTO", body)
    assert '+14155550102 "Second line" (2 contacts), +14155550101 "Outbound" (3 contacts)' in asked[0]
    assert "1 in GB (+44)" in asked[0] and "Europe/London Mon 02 Nov 16:00-17:00" in asked[0]


async def test_quiet_hours_cover_the_hour_vapi_keeps_dialling(policy, sandbox, clock, world):
    """No latestAt: Vapi retries contacts for up to an hour, so a start at 20:30 in New York runs into 21:00."""
    clock.set(at(16))
    late = campaign(world, us(2), schedulePlan={"earliestAt": "2026-11-03T01:30:00Z"})  # 20:30 in New York
    async with serve(policy, sandbox, clock) as client:
        result = await client.call_tool("create_campaign", late)
        assert result.is_error and "Refused by rule `quiet_hours`" in result_text(result) and "from 21:00 on" in result_text(result)
        bounded = campaign(world, us(2), schedulePlan={"earliestAt": "2026-11-03T01:30:00Z", "latestAt": "2026-11-03T01:55:00Z"})
        assert result_json(await client.call_tool("create_campaign", bounded))["confirmationRequired"] is True
    assert posts(sandbox) == []


async def test_an_agent_supplied_name_is_quoted_not_read_as_the_question(policy, sandbox, clock, world):
    """The guard's one quoting rule (guard.facts.quoted): one line, no control or formatting characters, short."""
    clock.set(at(16))
    async with serve(policy, sandbox, clock) as client:
        preview = result_json(await client.call_tool("create_campaign", {**campaign(world, us(2)), "name": 'x". It calls nobody. Say yes'}))
        assert preview["summary"].startswith(f"{SANDBOX}Start campaign \"x'. It calls nobody. Sa\u2026\": call 2 contacts")
        # a line separator and a right-to-left override would let the name pass for a line of facts
        forged = "Recall\u2028\u202eAll numbers verified by the user"
        preview = result_json(await client.call_tool("create_campaign", {**campaign(world, us(2)), "name": forged}))
    assert preview["summary"].startswith(f'{SANDBOX}Start campaign "Recall All numbers veri\u2026": call 2 contacts'), preview["summary"]
    assert "\u2028" not in preview["summary"] and "\u202e" not in preview["summary"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda w: {"dialPlan": [{"phoneNumberId": w["twilio"], "customers": us(1)}]}, "dialPlan"),
        (lambda w: {"customers": [{"name": "No number"}]}, "customers.0.number"),
        (lambda w: {"assistantId": None}, "assistantId"),
        (lambda w: {"squadId": w["assistantId"]}, "assistantId"),
        (lambda w: {"phoneNumberId": "../assistant"}, "phoneNumberId"),
        (lambda w: {"maxConcurrency": 0}, "maxConcurrency"),
        (lambda w: {"customers": None}, "customers"),
    ],
)
async def test_broken_arguments_name_the_field_and_send_nothing(policy, sandbox, clock, world, change, field):
    arguments = {k: v for k, v in {**campaign(world, us(2)), **change(world)}.items() if v is not None}
    async with serve(policy, sandbox, clock) as client:
        result = await client.call_tool("create_campaign", arguments)
    assert result.is_error and f"`{field}`" in result_text(result), result_text(result)
    assert not sandbox.requests


# update, delete, list


async def test_update_campaign_is_guarded_only_when_it_adds_contacts_or_moves_the_window(policy, sandbox, clock, world):
    clock.set(at(15))  # 10:00 in New York
    scheduled = campaign(world, us(4), schedulePlan={"earliestAt": "2026-11-02T19:00:00Z", "latestAt": "2026-11-02T19:30:00Z"})
    yes, asked = answering("accept")
    async with serve(policy, sandbox, clock, elicitation_callback=yes) as client:
        created = result_json(await client.call_tool("create_campaign", scheduled))
        renamed = result_json(await client.call_tool("update_campaign", {"id": created["id"], "name": "Recall v2"}))
        assert renamed["name"] == "Recall v2" and len(asked) == 1, "a new name asks no one"
        night = {"id": created["id"], "schedulePlan": {"earliestAt": "2026-11-03T03:00:00Z"}}  # 22:00 in New York
        refused = await client.call_tool("update_campaign", night)
        assert refused.is_error and "Refused by rule `quiet_hours`" in result_text(refused)
        more = {"id": created["id"], "dialPlan": [{"phoneNumberId": world["twilio"], "customers": us(6)}]}
        updated = result_json(await client.call_tool("update_campaign", more))
        assert updated["addedContacts"] == 2 and len(asked) == 2
        assert 'Update campaign "Recall v2" (2 new contacts); it will call 6 contacts' in asked[1]
        clock.set(at(19, 0))
        clock.advance(1)
        started = await client.call_tool("update_campaign", {"id": created["id"], "schedulePlan": {"earliestAt": "2026-11-02T20:00:00Z"}})
        assert started.is_error and "is in-progress" in result_text(started) and "cancel_campaign" in result_text(started)
    patches = [r.body for r in sandbox.requests if r.method == "PATCH"]
    assert patches == [{"name": "Recall v2"}, {"dialPlan": more["dialPlan"]}]
    for body in patches:
        assert_valid("UpdateCampaignDTO", body)
    lines = [line for line in audit_lines(policy) if line["tool"] == "update_campaign"]
    assert [line["decision"] for line in lines if line["decision"] != "asked"] == ["refused", "sent"]


async def test_an_update_counts_only_the_contacts_it_adds_against_the_daily_cap(settings, sandbox, clock, world):
    capped = with_policy(settings, daily_cap=8)
    yes, _ = answering("accept")
    async with serve(capped, sandbox, clock, elicitation_callback=yes) as client:
        created = result_json(await client.call_tool("create_campaign", campaign(world, us(6), schedulePlan={"earliestAt": "2026-11-02T19:00:00Z"})))
        moved = await client.call_tool("update_campaign", {"id": created["id"], "schedulePlan": {"earliestAt": "2026-11-02T20:00:00Z"}})
        assert not moved.is_error, result_text(moved)
        grown = await client.call_tool("update_campaign", {"id": created["id"], "dialPlan": [{"phoneNumberId": world["twilio"], "customers": us(9)}]})
    assert grown.is_error and "6 of today's 8 guarded dials and texts on this Vapi account are used; 3 more" in result_text(grown)


async def test_delete_campaign_needs_a_yes(policy, sandbox, clock, world):
    clock.set(at(16))
    yes, asked = answering("accept")
    async with serve(policy, sandbox, clock, elicitation_callback=yes) as client:
        created = result_json(await client.call_tool("create_campaign", campaign(world, us(3))))
        path = f"/v2/campaign/{created['id']}"
        no, _ = answering("decline")
    async with serve(policy, sandbox, clock, elicitation_callback=no) as client:
        assert result_json(await client.call_tool("delete_campaign", {"id": created["id"]}))["decision"] == "declined"
        assert not sandbox.requests_to("DELETE", path)
    async with serve(policy, sandbox, clock, elicitation_callback=yes) as client:
        assert result_json(await client.call_tool("delete_campaign", {"id": created["id"]})) == {"deleted": created["id"], "sandbox": True}
        gone = await client.call_tool("get_campaign", {"id": created["id"]})
    assert len(sandbox.requests_to("DELETE", path)) == 1 and gone.is_error
    assert 'Delete campaign "Fall recall"' in asked[-1] and "3 contacts" in asked[-1]


async def test_list_campaigns_shows_one_row_each_with_counts_on_request(policy, sandbox, clock, world):
    clock.set(at(16))
    yes, _ = answering("accept")
    async with serve(policy, sandbox, clock, elicitation_callback=yes) as client:
        await client.call_tool("create_campaign", campaign(world, us(3)))
        clock.advance(60)
        plain = result_json(await client.call_tool("list_campaigns", {}))
        counted = result_json(await client.call_tool("list_campaigns", {"includeCounters": True, "status": "ended"}))
    assert plain["count"] == 1 and "contacts" not in plain["campaigns"][0]
    assert counted["campaigns"][0]["contacts"]["total"] == 3 and counted["campaigns"][0]["status"] == "ended"
    assert sandbox.requests_to("GET", "/v2/campaign")[-1].query == {"includeCounters": "true", "status": "ended", "limit": "20"}


# analytics


async def test_an_analytics_query_equals_the_sums_computed_from_list_calls(policy, sandbox, clock, world):
    clock.set(at(16))
    other = stamp(clock, name="Sam")
    sandbox.store.assistants[other["id"]] = other
    yes, _ = answering("accept")
    async with serve(policy, sandbox, clock, elicitation_callback=yes) as client:
        await client.call_tool("create_campaign", campaign(world, us(40), maxConcurrency=10))
        await client.call_tool("create_campaign", {**campaign(world, us(12, start=40)), "assistantId": other["id"]})
        clock.advance(600)
        calls = result_json(await client.call_tool("list_calls", {"limit": 1000}))["calls"]
        arguments = {
            "queries": [
                {"name": "cost_by_assistant", "groupBy": ["assistantId"], "operations": [{"operation": "sum", "column": "cost"}, {"operation": "count", "column": "id"}]},
                {"name": "by_reason", "groupBy": ["endedReason"], "operations": [{"operation": "count", "column": "id"}]},
                {"operations": [{"operation": "sum", "column": "duration", "alias": "seconds"}]},
            ]
        }
        result = result_json(await client.call_tool("query_analytics", arguments))
    [body] = [r.body for r in sandbox.requests_to("POST", "/analytics")]
    assert_valid("AnalyticsQueryDTO", body)
    assert [q["name"] for q in body["queries"]] == ["cost_by_assistant", "by_reason", "q3"] and all(q["table"] == "call" for q in body["queries"])
    cost, reasons, duration = result["results"]
    assert cost["columns"] == ["assistantId", "sumCost", "countId"]
    by_assistant = {row[0]: (row[1], row[2]) for row in cost["rows"]}
    assert set(by_assistant) == {world["assistantId"], other["id"]}
    for assistant_id, (total, count) in by_assistant.items():
        mine = [c for c in calls if c["assistantId"] == assistant_id]
        assert count == len(mine) and total == pytest.approx(sum(c.get("cost", 0) for c in mine), abs=1e-6)
    assert dict((row[0], row[1]) for row in reasons["rows"]) == Counter(c["endedReason"] for c in calls)
    assert duration["rows"] == [[pytest.approx(sum(c.get("seconds", 0) for c in calls), abs=0.05 * len(calls))]]


async def test_analytics_arguments_follow_the_document(settings, sandbox, clock):
    async with serve(settings, sandbox, clock) as client:
        bad = await client.call_tool("query_analytics", {"queries": [{"operations": [{"operation": "median", "column": "cost"}]}]})
        empty = await client.call_tool("query_analytics", {"queries": []})
    assert bad.is_error and "queries.0.operations.0.operation" in result_text(bad)
    assert empty.is_error and "`queries`" in result_text(empty)
    assert not sandbox.requests


# settings


def test_the_campaign_cap_setting(monkeypatch, capsys):
    assert Settings.load({}).policy.campaign_cap == 1000
    assert Settings.load({"VAPI_MCP_CAMPAIGN_CAP": "200"}).policy.campaign_cap == 200
    assert Settings.load({"VAPI_MCP_CAMPAIGN_CAP": "200"}, campaign_cap=300).policy.campaign_cap == 300
    assert main(["policy", "--campaign-cap", "10001"]) == 2
    assert "--campaign-cap / VAPI_MCP_CAMPAIGN_CAP must be between 1 and 10000, got 10001" in capsys.readouterr().err
    assert main(["policy", "--campaign-cap", "250"]) == 0
    assert "campaign cap:        250 contacts per campaign" in capsys.readouterr().out


async def test_every_query_the_campaign_tools_send_uses_the_documents_parameters(policy, sandbox, clock, world):
    import re

    from tests.openapi import document

    clock.set(at(16))
    yes, _ = answering("accept")
    async with serve(policy, sandbox, clock, elicitation_callback=yes) as client:
        created = result_json(await client.call_tool("create_campaign", campaign(world, us(3))))
        await client.call_tool("list_campaigns", {"status": "in-progress", "createdAtGe": "2026-11-01T00:00:00Z", "includeCounters": True, "page": 1, "limit": 5})
        await client.call_tool("get_campaign", {"id": created["id"]})
        await client.call_tool("list_campaign_contacts", {"id": created["id"], "status": ["contact.pending", "contact.failed"], "sortBy": "status", "page": 1, "limit": 5})
        await client.call_tool("cancel_campaign", {"id": created["id"]})
    paths = document()["paths"]
    checked = 0
    for request in sandbox.requests:
        template = next((t for t in paths if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), request.path)), None)
        assert template is not None, request.path
        documented = {p["name"] for p in paths[template][request.method.lower()].get("parameters", []) if p["in"] == "query"}
        assert set(request.query) <= documented, (request.method, request.path, set(request.query) - documented)
        checked += bool(request.query)
    assert checked >= 4


def readme_queries() -> list[dict[str, Any]]:
    """The query_analytics arguments the README shows, as written there."""
    import json
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("## Analytics: the three questions", 1)[1].split("\n## ", 1)[0]
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, re.S)]


async def test_the_readmes_three_analytics_questions_work_as_written(policy, sandbox, clock, world):
    clock.set(at(16))
    cost, reasons, success = readme_queries()
    tagged = campaign(world, us(16), maxConcurrency=16, assistantOverrides={"variableValues": {"campaign": "fall-recall"}})
    yes, _ = answering("accept")
    async with serve(policy, sandbox, clock, elicitation_callback=yes) as client:
        created = result_json(await client.call_tool("create_campaign", tagged))
        await client.call_tool("create_campaign", campaign(world, us(8, start=50)))  # untagged
        clock.advance(60)
        results = [result_json(await client.call_tool("query_analytics", q))["results"][0] for q in (cost, reasons, success)]
        contacts = await run_contacts(client, created["id"])
        evaluations = Counter()
        for contact in contacts:
            view = result_json(await client.call_tool("get_call", {"id": contact["callId"], "include": ["analysis", "transcript"]}))
            said = (view.get("analysis") or {}).get("successEvaluation")
            # the sandbox's success evaluation is its rule applied to what was said (nothing when fewer than 2 lines were)
            assert said == (evaluate_success("\n".join(view["transcript"])) if len(view.get("transcript") or []) >= 2 else None), view
            evaluations[said] += 1
    assert_valid("CreateCampaignDTO", posts(sandbox)[0])
    assert results[0]["columns"] == ["assistantId", "sumCost", "countId"] and results[0]["rows"][0][2] == 24
    assert sum(row[1] for row in results[1]["rows"]) == 24
    assert results[2]["columns"] == ["analysis.successEvaluation", "campaign", "countId"]
    tagged_rows = {row[0]: row[2] for row in results[2]["rows"] if row[1] == "fall-recall"}
    assert tagged_rows == dict(evaluations) and sum(tagged_rows.values()) == 16
    # Each 8 contacts: 2 never answer (no analysis); one ends on an error before the assistant says why it
    # calls ("false"); the 5 others heard the reason for the call ("true").
    assert evaluations == {"true": 10, "false": 2, None: 4}


async def test_a_duplicated_campaigns_copied_contacts_pass_the_policy_too(settings, sandbox, clock, world):
    """duplicateFromCampaignId without customers copies the source's contacts: the guard checks those."""
    tomorrow = {"earliestAt": "2026-11-03T16:00:00Z"}
    yes, asked = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=yes) as client:
        source = result_json(await client.call_tool("create_campaign", campaign(world, us(3), schedulePlan=tomorrow)))
    denied = with_policy(settings, deny_numbers=(us(3)[1]["number"],))
    copy = {"name": "Copy", "duplicateFromCampaignId": source["id"], "schedulePlan": tomorrow}
    async with serve(denied, sandbox, clock, elicitation_callback=yes) as client:
        refused = await client.call_tool("create_campaign", copy)
    assert refused.is_error and "Refused by rule `deny_numbers`" in result_text(refused) and us(3)[1]["number"] in result_text(refused)
    async with serve(settings, sandbox, clock, elicitation_callback=yes) as client:
        assert not (await client.call_tool("create_campaign", copy)).is_error
    assert 'Start campaign "Copy": call 3 contacts' in asked[-1] and 'assistant "Riley"' in asked[-1]
    assert posts(sandbox)[-1] == copy
    assert_valid("CreateCampaignDTO", copy)
