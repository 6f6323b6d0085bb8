"""Caps count what rings, on the UTC day it can ring (issue 17): every contact is a dial, a scheduled call counts on
the days of its window (not the day it was asked for), what certainly never rang is given back (on Vapi's word, never
the agent's), and no number rings more than `VAPI_MCP_PER_NUMBER_CAP` times a day."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.guard_kit import LA, NY, add_number, answering, audit_lines, serve, with_policy
from tests.mcp_kit import confirmed, result_json, result_text
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.core import stamp

D1 = datetime(2026, 11, 2, 16, 0, tzinfo=timezone.utc)
"""11:00 in New York: every number here may be called."""


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


@pytest.fixture
def world(sandbox: Sandbox, clock: ManualClock) -> dict[str, str]:
    clock.set(D1)
    riley = stamp(clock, name="Riley", firstMessage="Hi, Riley here.")
    sandbox.store.assistants[riley["id"]] = riley
    return {"assistantId": riley["id"], "phoneNumberId": add_number(sandbox, "twilio", "+14155550101")}


def call(world: dict[str, str], number: str = NY, **extra: Any) -> dict[str, Any]:
    return {**world, "customer": {"number": number}, **extra}


def at(when: datetime, until: datetime | None = None) -> dict[str, Any]:
    return {"schedulePlan": {"earliestAt": iso(when), **({"latestAt": iso(until)} if until else {})}}


def campaign(world: dict[str, str], numbers: list[str], **extra: Any) -> dict[str, Any]:
    return {"name": "Recall", **world, "customers": [{"number": n} for n in numbers], **extra}


def placed(sandbox: Sandbox) -> int:
    return len(sandbox.requests_to("POST", "/call"))


# every contact is a dial


async def test_a_campaign_grown_to_60_copies_of_one_number_counts_59_new_dials(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    """update_campaign counted new numbers, not new contacts: a 1-contact campaign grown to 60 copies of the same number
    was shown as "0 new contacts", 60 calls went out, the cap counted 1."""
    capped = with_policy(settings, daily_cap=10, per_number_cap=1000)
    yes, asked = answering("accept")
    async with serve(capped, sandbox, clock, elicitation_callback=yes) as client:
        created = result_json(await client.call_tool("create_campaign", campaign(world, [NY], **at(D1 + timedelta(hours=3)))))
        grown = await client.call_tool(
            "update_campaign", {"id": created["id"], "dialPlan": [{"phoneNumberId": world["phoneNumberId"], "customers": [{"number": NY}] * 60}]}
        )
    assert grown.is_error and "Refused by rule `daily_cap`: 1 of today's 10 guarded dials and texts" in result_text(grown), result_text(grown)
    assert "59 more" in result_text(grown)
    assert len(asked) == 1 and sandbox.requests_to("PATCH", f"/v2/campaign/{created['id']}") == []


async def test_one_number_sixty_times_passes_the_per_number_cap_of_3(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    yes, asked = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=yes) as client:  # the default cap: 3 a day
        refused = await client.call_tool("create_campaign", campaign(world, [NY] * 60))
    assert refused.is_error and "Refused by rule `per_number_cap`" in result_text(refused), result_text(refused)
    assert f"{NY} is counted 0 time(s) for today; 60 more would pass the cap of 3" in result_text(refused)
    assert asked == [] and sandbox.requests_to("POST", "/v2/campaign") == []


# the day a call can ring


async def test_scheduled_calls_count_on_the_day_they_ring_not_the_day_they_were_asked_for(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    """With a daily cap of 2, six phones rang on one day: calls scheduled on earlier days for that day counted on
    the days they were requested."""
    capped = with_policy(settings, daily_cap=2)
    d3 = D1 + timedelta(days=2, hours=1)
    async with serve(capped, sandbox, clock) as client:
        first = [await confirmed(client, "create_call", call(world, n, **at(d3))) for n in (NY, LA)]
        clock.advance(86400)  # the next day: its own cap is untouched, D3's is full
        later = await confirmed(client, "create_call", call(world, "+12125550124", **at(d3)))
        today = await confirmed(client, "create_call", call(world, "+12125550125"))
        clock.advance(86400 + 3600 + 60)  # D3, after the scheduled calls' time
        on_the_day = await confirmed(client, "create_call", call(world, "+12125550126"))
    assert not any(r.is_error for r in first), [result_text(r) for r in first]
    assert later.is_error and "Refused by rule `daily_cap`: 2 of the 2 guarded dials and texts on this Vapi account for 2026-11-04" in result_text(later)
    assert "a day the call can ring" in result_text(later)
    assert not today.is_error, result_text(today)
    assert on_the_day.is_error and "2 of today's 2" in result_text(on_the_day), result_text(on_the_day)
    assert placed(sandbox) == 3


async def test_a_window_over_midnight_counts_on_both_days(settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]) -> None:
    """The call may ring on either day, so it counts on both (UTC days)."""
    capped = with_policy(settings, daily_cap=1)
    start = D1.replace(hour=23, minute=30)
    async with serve(capped, sandbox, clock) as client:
        spanning = await confirmed(client, "create_call", call(world, **at(start, start + timedelta(hours=1))))
        tonight = await confirmed(client, "create_call", call(world, LA))
        tomorrow = await confirmed(client, "create_call", call(world, LA, **at(D1 + timedelta(days=1))))
    assert not spanning.is_error, result_text(spanning)
    assert tonight.is_error and "daily_cap" in result_text(tonight)
    assert tomorrow.is_error and "for 2026-11-03" in result_text(tomorrow), result_text(tomorrow)


# what never rang is given back


async def test_a_campaign_cancelled_before_it_dialled_gives_its_dials_back(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    """A campaign cancelled before it dialled still used its contacts' share of the day's cap."""
    capped = with_policy(settings, daily_cap=2)
    yes, _ = answering("accept")
    async with serve(capped, sandbox, clock, elicitation_callback=yes) as client:
        created = result_json(await client.call_tool("create_campaign", campaign(world, [NY, LA], **at(D1 + timedelta(hours=3)))))
        blocked = await client.call_tool("create_call", call(world, "+12125550124"))
        cancelled = result_json(await client.call_tool("cancel_campaign", {"id": created["id"]}))
        freed = await client.call_tool("create_call", call(world, "+12125550124"))
    assert blocked.is_error and "2 of today's 2" in result_text(blocked)
    assert cancelled["status"] == "cancelled" and cancelled["dialsGivenBack"] == 2
    assert not freed.is_error, result_text(freed)
    assert placed(sandbox) == 1


async def test_a_running_campaign_gives_back_only_the_contacts_vapi_skipped(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    """Vapi's contact statuses decide: what was dialled stays counted, what was skipped (never dialled) comes back."""
    numbers = [f"+1212555{1000 + i:04d}" for i in range(4)]
    yes, _ = answering("accept")
    async with serve(with_policy(settings, daily_cap=4), sandbox, clock, elicitation_callback=yes) as client:
        created = result_json(await client.call_tool("create_campaign", campaign(world, numbers, maxConcurrency=1)))
        clock.advance(1)  # one contact dialled (its call in progress), three waiting
        cancelled = result_json(await client.call_tool("cancel_campaign", {"id": created["id"]}))
        again = result_json(await client.call_tool("cancel_campaign", {"id": created["id"]}))
        three = [await client.call_tool("create_call", call(world, n)) for n in (LA, "+14155550124", "+14155550125")]
        fourth = await client.call_tool("create_call", call(world, "+14155550126"))
    assert cancelled["contacts"] == {"total": 4, "dispatched": 1, "skipped": 3}, cancelled
    assert cancelled.get("dialsGivenBack") == 3 and "dialsGivenBack" not in again, (cancelled, again)
    assert not any(r.is_error for r in three), [result_text(r) for r in three]
    assert fourth.is_error and "4 of today's 4" in result_text(fourth), result_text(fourth)


async def test_a_scheduled_call_deleted_before_its_time_gives_its_dial_back_and_a_call_that_rang_does_not(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    capped = with_policy(settings, daily_cap=1)
    yes, _ = answering("accept")
    async with serve(capped, sandbox, clock, elicitation_callback=yes) as client:
        scheduled = result_json(await client.call_tool("create_call", call(world, **at(D1 + timedelta(hours=2)))))
        deleted = result_json(await client.call_tool("delete_call", {"id": scheduled["id"]}))
        rang = result_json(await client.call_tool("create_call", call(world, LA)))
        clock.advance(600)
        gone = result_json(await client.call_tool("delete_call", {"id": rang["id"]}))
        after = await client.call_tool("create_call", call(world, "+12125550124"))
    assert deleted == {"deleted": scheduled["id"], "dialsGivenBack": 1, "sandbox": True}
    gone.pop("sandboxNote", None)  # the lookup before the delete read the call's conversation
    assert gone == {"deleted": rang["id"], "sandbox": True}
    assert after.is_error and "1 of today's 1" in result_text(after)
    assert placed(sandbox) == 2


# one number, a few rings a day


async def test_the_per_number_cap_counts_every_dial_to_one_number(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    async with serve(settings, sandbox, clock) as client:
        three = [await confirmed(client, "create_call", call(world, NY, name=f"try {i}")) for i in range(3)]
        fourth = await confirmed(client, "create_call", call(world, NY, name="try 4"))
        other = await confirmed(client, "create_call", call(world, LA))
        clock.advance(86400)
        next_day = await confirmed(client, "create_call", call(world, NY, name="try 5"))
    assert not any(r.is_error for r in three), [result_text(r) for r in three]
    assert fourth.is_error and f"Refused by rule `per_number_cap`: {NY} is counted 3 time(s) for today" in result_text(fourth), result_text(fourth)
    assert "VAPI_MCP_PER_NUMBER_CAP" in result_text(fourth) and "only the user" in result_text(fourth).lower()
    assert not other.is_error and not next_day.is_error
    refused = [line for line in audit_lines(settings) if line["decision"] == "refused"]
    assert [(line["rule"], line["rules"]["per_number_cap"]) for line in refused] == [("per_number_cap", "refused")]


async def test_a_smaller_campaign_gives_back_only_once_vapi_answered_the_change(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    """Found while fixing issue 17: counting a changed campaign again less what it held gave the difference back
    before the PATCH was sent; when the answer was lost (a 5xx: it may have been applied, or not), 4 dials came back
    for contacts that might still ring."""
    from vapi_mcp.sandbox import Fault

    numbers = [f"+1212555{1000 + i:04d}" for i in range(5)]
    capped = with_policy(settings, daily_cap=5)
    yes, _ = answering("accept")
    async with serve(capped, sandbox, clock, elicitation_callback=yes) as client:
        created = result_json(await client.call_tool("create_campaign", campaign(world, numbers, **at(D1 + timedelta(hours=3)))))
        shrink = {"id": created["id"], "dialPlan": [{"phoneNumberId": world["phoneNumberId"], "customers": [{"number": numbers[0]}]}]}
        sandbox.inject(Fault("PATCH", f"/v2/campaign/{created['id']}", status=502))
        unknown = await client.call_tool("update_campaign", shrink)
        still_full = await client.call_tool("create_call", call(world, LA))
        shrunk = await client.call_tool("update_campaign", shrink)
        freed = await client.call_tool("create_call", call(world, LA))
    assert unknown.is_error and "may or may not have taken effect" in result_text(unknown), result_text(unknown)
    assert still_full.is_error and "5 of today's 5" in result_text(still_full), result_text(still_full)
    assert not shrunk.is_error and not freed.is_error, (result_text(shrunk), result_text(freed))
