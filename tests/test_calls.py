"""The calls family through an MCP client: every call type of Vapi's "create call" guide,
sent as the guide's own JSON body, plus list, get, wait, end, delete, resources and the prompt."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import anyio
import pytest

from tests.mcp_kit import confirmed, result_json, result_text
from tests.openapi import assert_valid
from vapi_mcp.sandbox import Fault
from vapi_mcp.sandbox.conversation import RULE_NOTE
from vapi_mcp.sandbox.core import stamp

CUSTOMER = "+14155550123"
OTHER = "+12125550123"
THIRD = "+13125550123"


PROMPT = (
    "You are Riley from Acme Dental. You are calling to remind patients of their cleaning tomorrow at 10 AM. "
    "Patients should arrive 10 minutes early. You can reschedule appointments."
)
REMINDER = [
    "AI: Hi, this is Riley from Acme Dental.",
    "User: Okay, what is this about?",
    "AI: I'm calling to remind you of your cleaning tomorrow at 10 AM.",
    "User: Okay, thank you. Goodbye!",
    "AI: Thank you for your time. Goodbye!",
]
"""An outbound call with Riley: the customer answers, asks why it calls, and hears the prompt's purpose."""


@pytest.fixture
def world(sandbox, clock) -> dict[str, str]:
    """An assistant and an imported (Twilio) number, put straight into the sandbox's store: free Vapi numbers take inbound calls only."""
    assistant = stamp(
        clock,
        name="Riley",
        firstMessage="Hi, this is Riley from Acme Dental.",
        model={"provider": "openai", "model": "gpt-4.1", "messages": [{"role": "system", "content": PROMPT}]},
    )
    number = stamp(clock, provider="twilio", number="+14155550100", name="Main line", assistantId=assistant["id"], status="active")
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.phone_numbers[number["id"]] = number
    return {"assistantId": assistant["id"], "phoneNumberId": number["id"]}


def sent(sandbox, method: str, path: str) -> list[Any]:
    return [r.body for r in sandbox.requests_to(method, path)]


# The guide's bodies, with its placeholder ids and numbers swapped for real sandbox ids and valid fictional numbers.


def outbound(w):
    return {
        "assistantId": w["assistantId"],
        "phoneNumberId": w["phoneNumberId"],
        "customer": {"number": CUSTOMER, "name": "John Doe", "numberE164CheckEnabled": True},
    }


def quick_start(w):
    return {"assistantId": w["assistantId"], "phoneNumberId": w["phoneNumberId"], "customer": {"number": CUSTOMER}}


def transient(w):
    return {
        "assistant": {
            "name": "Quick Test",
            "firstMessage": "Hello! This is a test call.",
            "model": {
                "provider": "openai",
                "model": "gpt-4.1",
                "messages": [
                    {"role": "system", "content": "You are a test assistant. Confirm the call is working and end politely."}
                ],
            },
            "voice": {"provider": "vapi", "voiceId": "Elliot"},
            "transcriber": {"provider": "deepgram", "model": "nova-3", "language": "en"},
        },
        "phoneNumberId": w["phoneNumberId"],
        "customer": {"number": CUSTOMER},
    }


def scheduled(w):
    # The guide's dates (2025-06-15) lie in the past; the same window a year after the sandbox clock's start.
    return {
        **quick_start(w),
        "schedulePlan": {"earliestAt": "2027-06-15T14:00:00Z", "latestAt": "2027-06-15T15:00:00Z"},
    }


def batch(w):
    return {
        "assistantId": w["assistantId"],
        "phoneNumberId": w["phoneNumberId"],
        "customers": [
            {"number": CUSTOMER, "name": "Alice"},
            {"number": OTHER, "name": "Bob"},
            {"number": THIRD, "name": "Carol"},
        ],
    }


def with_metadata(w):
    return {**quick_start(w), "metadata": {"orderId": "ORD-12345", "department": "billing"}}


@pytest.mark.parametrize("guide_body", [quick_start, outbound, transient])
async def test_a_phone_call_from_the_guide_is_sent_as_a_valid_create_call_dto(client, sandbox, world, guide_body):
    arguments = guide_body(world)
    result = await confirmed(client, "create_call", arguments)
    assert not result.is_error, result_text(result)
    view = result_json(result)
    assert view["status"] == "queued" and view["type"] == "outboundPhoneCall" and view["customer"] == CUSTOMER
    [body] = sent(sandbox, "POST", "/call")
    assert body == arguments
    assert_valid("CreateCallDTO", body)
    if guide_body is not transient:
        assert_valid("CreateCallDTO", body)
    assert view["id"] in sandbox.store.calls


async def test_a_web_call_from_the_guide_goes_to_call_web_without_confirmation(client, sandbox, world):
    result = await client.call_tool("create_call", {"assistantId": world["assistantId"]})
    view = result_json(result)
    assert view["type"] == "webCall"
    assert view["webCallUrl"].endswith(view["id"])
    assert "confirmToken" not in view
    [body] = sent(sandbox, "POST", "/call/web")
    assert body == {"assistantId": world["assistantId"]}
    assert_valid("CreateWebCallDTO", body)
    assert not sent(sandbox, "POST", "/call")


async def test_a_scheduled_call_stays_scheduled_until_its_earliest_time(client, sandbox, clock, world):
    arguments = scheduled(world)
    view = result_json(await confirmed(client, "create_call", arguments))
    assert view["status"] == "scheduled" and view["earliestAt"] == "2027-06-15T14:00:00Z"
    [body] = sent(sandbox, "POST", "/call")
    assert body == arguments
    assert_valid("CreateCallDTO", body)
    clock.advance(200 * 24 * 3600)  # 2027-05-21
    assert result_json(await client.call_tool("get_call", {"id": view["id"]}))["status"] == "scheduled"
    clock.set(clock.now().replace(year=2027, month=6, day=15, hour=14, minute=0, second=10))
    assert result_json(await client.call_tool("get_call", {"id": view["id"]}))["status"] == "ended"


async def test_a_batch_from_the_guide_places_one_call_per_customer(client, sandbox, world):
    arguments = batch(world)
    result = await confirmed(client, "create_call", arguments)
    view = result_json(result)
    assert view["placed"] == 3 and view["errors"] == []
    assert [c["customer"] for c in view["calls"]] == [CUSTOMER, OTHER, THIRD]
    [body] = sent(sandbox, "POST", "/call")
    assert body == arguments
    assert_valid("CreateCallDTO", body)
    assert len(sandbox.store.calls) == 3


async def test_the_guides_top_level_metadata_is_sent_as_assistant_overrides_metadata(client, sandbox, world):
    arguments = with_metadata(world)
    view = result_json(await confirmed(client, "create_call", arguments))
    [body] = sent(sandbox, "POST", "/call")
    assert "metadata" not in body
    assert body["assistantOverrides"] == {"metadata": {"orderId": "ORD-12345", "department": "billing"}}
    assert_valid("CreateCallDTO", body)
    shown = result_json(await client.call_tool("get_call", {"id": view["id"]}))
    assert shown["metadata"] == {"orderId": "ORD-12345", "department": "billing"}


async def test_variable_values_and_a_name_reach_vapi(client, sandbox, world):
    arguments = {**quick_start(world), "name": "Reminder for Jane", "assistantOverrides": {"variableValues": {"day": "Thursday"}}}
    assert not (await confirmed(client, "create_call", arguments)).is_error
    [body] = sent(sandbox, "POST", "/call")
    assert body["assistantOverrides"] == {"variableValues": {"day": "Thursday"}} and body["name"] == "Reminder for Jane"
    assert_valid("CreateCallDTO", body)


async def test_the_guides_placeholder_number_is_refused(client, sandbox, world):
    """+11234567890 (the guide's placeholder) is no valid number: the guard's `e164` rule refuses it unsent."""
    arguments = {**quick_start(world), "customer": {"number": "+11234567890"}}
    result = await confirmed(client, "create_call", arguments)
    assert result.is_error
    assert "`e164`" in result_text(result)
    assert not sent(sandbox, "POST", "/call")


BROKEN = [
    (lambda w: {**quick_start(w), "squadId": w["assistantId"]}, "assistantId"),
    (lambda w: {"customer": {"number": CUSTOMER}}, "assistantId"),
    (lambda w: {"assistantId": w["assistantId"], "customer": {"number": CUSTOMER}}, "phoneNumberId"),
    (lambda w: {"assistantId": w["assistantId"], "phoneNumberId": w["phoneNumberId"]}, "customer"),
    (lambda w: {**quick_start(w), "customers": [{"number": OTHER}]}, "customers"),
    (lambda w: {**batch(w), "customers": [{"name": "Bob"}]}, "customers.0.number"),
    (lambda w: {**quick_start(w), "name": "x" * 41}, "name"),
    (lambda w: {**quick_start(w), "customer": {"number": CUSTOMER, "extension": "12345678901"}}, "customer.extension"),
    (lambda w: {**quick_start(w), "phoneNumberId": "../assistant"}, "phoneNumberId"),
    (lambda w: {"assistantId": w["assistantId"], "schedulePlan": {"earliestAt": "2027-06-15T14:00:00Z"}}, "schedulePlan"),
    (lambda w: {**quick_start(w), "foo": 1}, "foo"),
]


@pytest.mark.parametrize(("arguments", "field"), BROKEN)
async def test_broken_create_call_arguments_name_the_field_and_send_nothing(client, sandbox, world, arguments, field):
    result = await client.call_tool("create_call", arguments(world))
    assert result.is_error
    assert f"`{field}`" in result_text(result), result_text(result)
    assert not [r for r in sandbox.requests if r.path.startswith("/call")]


async def test_an_ambiguous_create_failure_is_not_retried_and_says_how_to_check(client, sandbox, world):
    sandbox.inject(Fault("POST", "/call", status=502, times=5))
    result = await confirmed(client, "create_call", quick_start(world))
    assert result.is_error
    assert re.search(r"list_calls createdAtGe=\d{4}-\d\d-\d\dT", result_text(result))
    assert len(sent(sandbox, "POST", "/call")) == 1


async def test_list_calls_sends_vapis_filters_and_keeps_rows_small(client, sandbox, clock, world):
    for _ in range(3):
        await confirmed(client, "create_call", outbound(world))
    clock.advance(10)
    arguments = {"assistantId": world["assistantId"], "createdAtGe": "2026-11-02T00:00:00Z", "limit": 2}
    view = result_json(await client.call_tool("list_calls", arguments))
    assert view["count"] == 2
    # One row more than asked for: it tells whether a next page exists.
    assert sandbox.requests_to("GET", "/call")[-1].query == {k: str(v) for k, v in {**arguments, "limit": 3}.items()}
    for row in view["calls"]:
        assert row["status"] == "ended" and row["endedReason"] and row["seconds"] == 3.0
        assert len(json.dumps(row, separators=(",", ":"))) <= 300


async def test_list_calls_refuses_a_limit_over_1000_unsent(client, sandbox):
    result = await client.call_tool("list_calls", {"limit": 1001})
    assert result.is_error and "`limit`" in result_text(result)
    assert not sandbox.requests


async def test_get_call_shows_the_transcript_once_in_a_small_view(client, sandbox, clock, world):
    call_id = result_json(await confirmed(client, "create_call", outbound(world)))["id"]
    clock.advance(10)
    result = await client.call_tool("get_call", {"id": call_id})
    view = result_json(result)
    raw = result_json(await client.call_tool("get_call", {"id": call_id, "include": ["raw"]}))["call"]
    assert view["transcript"] == REMINDER
    text = json.dumps(view)
    assert text.count("I'm calling to remind you of your cleaning") == 1
    assert json.dumps(raw).count("I'm calling to remind you of your cleaning") >= 3
    assert view["recording"]["recordingUrl"] and view["recording"]["stereoRecordingUrl"]
    assert view["analysis"]["summary"] and view["costBreakdown"]["total"] == view["cost"]
    assert view["sandboxNote"] == RULE_NOTE and result_text(result).count(RULE_NOTE) == 1
    view_size, raw_size = len(json.dumps(view, separators=(",", ":"))), len(json.dumps(raw, separators=(",", ":")))
    print(f"get_call view {view_size} bytes, raw Call {raw_size} bytes ({view_size / raw_size:.0%})")
    assert view_size < 0.4 * raw_size


async def test_get_call_include_narrows_the_view(client, clock, world):
    call_id = result_json(await confirmed(client, "create_call", outbound(world)))["id"]
    clock.advance(10)
    view = result_json(await client.call_tool("get_call", {"id": call_id, "include": ["transcript"]}))
    assert view["transcript"] == REMINDER
    assert not {"recording", "analysis", "costBreakdown"} & set(view)


async def test_wait_for_call_reports_progress_and_returns_when_the_clock_ends_the_call(client, clock, world):
    call_id = result_json(await confirmed(client, "create_call", outbound(world)))["id"]
    statuses: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        statuses.append(message or "")

    async def move_clock() -> None:
        while True:
            await anyio.sleep(0.2)
            clock.advance(1)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(move_clock)
        with anyio.fail_after(20):
            result = await client.call_tool("wait_for_call", {"id": call_id, "timeout": 30}, progress_callback=on_progress)
        tasks.cancel_scope.cancel()
    view = result_json(result)
    assert view["status"] == "ended" and view["transcript"] == REMINDER and "timedOut" not in view
    assert statuses[0] == "status: queued" and statuses[-1] == "status: ended"
    assert len(statuses) >= 2


async def test_wait_for_call_times_out_with_the_current_view(client, world):
    call_id = result_json(await confirmed(client, "create_call", outbound(world)))["id"]
    with anyio.fail_after(10):
        view = result_json(await client.call_tool("wait_for_call", {"id": call_id, "timeout": 1}))
    assert view["timedOut"] is True and view["status"] == "queued"


async def test_end_call_hangs_up_through_live_control_and_is_idempotent(client, sandbox, clock, world):
    call_id = result_json(await confirmed(client, "create_call", outbound(world)))["id"]
    clock.advance(3)  # answered, talking
    view = result_json(await client.call_tool("end_call", {"id": call_id}))
    assert view["status"] == "ended" and view["endedReason"] == "manually-canceled"
    [control] = sandbox.requests_to("POST", f"/call/{call_id}/control")
    assert control.body == {"type": "end-call"}
    again = result_json(await client.call_tool("end_call", {"id": call_id}))
    assert again["alreadyEnded"] is True
    assert len(sandbox.requests_to("POST", f"/call/{call_id}/control")) == 1
    transcript = result_json(await client.call_tool("get_call", {"id": call_id}))["transcript"]
    assert transcript == REMINDER[: len(transcript)] and 0 < len(transcript) < len(REMINDER)  # hung up mid-conversation


async def test_end_call_on_a_scheduled_call_points_to_delete_call(client, world):
    call_id = result_json(await confirmed(client, "create_call", scheduled(world)))["id"]
    result = await client.call_tool("end_call", {"id": call_id})
    assert result.is_error and "delete_call" in result_text(result)


async def test_delete_call_is_confirmed_and_sends_a_valid_delete_call_dto(client, sandbox, clock, world):
    call_id = result_json(await confirmed(client, "create_call", outbound(world)))["id"]
    clock.advance(10)
    preview = await client.call_tool("delete_call", {"id": call_id})
    assert not sent(sandbox, "DELETE", f"/call/{call_id}"), "a deletion waits for the user's yes"
    assert "confirmToken" in result_json(preview)
    result = await confirmed(client, "delete_call", {"id": call_id})
    assert result_json(result)["deleted"] == call_id
    [body] = sent(sandbox, "DELETE", f"/call/{call_id}")
    assert_valid("DeleteCallDTO", body)
    gone = await client.call_tool("get_call", {"id": call_id})
    assert gone.is_error and "Not found" in result_text(gone)


async def test_a_malformed_call_id_is_refused_before_any_request(client, sandbox):
    for tool in ("get_call", "wait_for_call", "end_call", "delete_call"):
        result = await client.call_tool(tool, {"id": "../phone-number"})
        assert result.is_error and "`id`" in result_text(result)
    assert not sandbox.requests


async def test_call_resources_show_the_view_and_the_transcript(client, clock, world):
    call_id = result_json(await confirmed(client, "create_call", outbound(world)))["id"]
    clock.advance(10)
    view = json.loads((await client.read_resource(f"vapi://calls/{call_id}")).contents[0].text)
    assert view["id"] == call_id and view["status"] == "ended"
    transcript = (await client.read_resource(f"vapi://calls/{call_id}/transcript")).contents[0].text
    lines = transcript.splitlines()
    assert lines == REMINDER


async def test_reading_an_unknown_call_resource_is_a_clear_error(client, world):
    from mcp.shared.exceptions import MCPError

    with pytest.raises(MCPError, match="Not found"):
        await client.read_resource(f"vapi://calls/{world['assistantId']}")
    with pytest.raises(MCPError, match="Vapi id"):
        await client.read_resource("vapi://calls/not-an-id")


async def test_the_test_assistant_prompt_walks_through_chat_call_wait_review(client, world):
    prompts = {p.name for p in (await client.list_prompts()).prompts}
    assert "test-assistant" in prompts
    result = await client.get_prompt("test-assistant", {"assistantId": world["assistantId"]})
    text = result.messages[0].content.text
    steps = [text.index(tool) for tool in ("chat_with_assistant", "create_call", "wait_for_call", "get_call")]
    assert steps == sorted(steps) and world["assistantId"] in text and "confirmToken" in text


async def test_cancelling_wait_for_call_stops_the_polling(client, sandbox, world):
    call_id = result_json(await confirmed(client, "create_call", outbound(world)))["id"]
    polls = lambda: len(sandbox.requests_to("GET", f"/call/{call_id}"))  # noqa: E731
    with anyio.move_on_after(1.2):
        await client.call_tool("wait_for_call", {"id": call_id, "timeout": 60})
    after_cancel = polls()
    assert after_cancel >= 2
    await anyio.sleep(2.5)
    assert polls() == after_cancel


# What agents read stays lean


def stored_calls(sandbox, world, created: list) -> list[str]:
    """Ended calls created at these instants, put straight into the store; their ids."""
    from vapi_mcp.sandbox import seed

    assistant = sandbox.store.assistants[world["assistantId"]]
    ids = []
    for i, when in enumerate(created):
        item = {**seed.call(i, when, assistant, 1), "id": str(uuid.uuid4()), "phoneNumberId": world["phoneNumberId"]}
        sandbox.store.calls[item["id"]] = item
        ids.append(item["id"])
    return ids


async def test_list_calls_pages_hold_at_most_100_rows_and_the_cursor_misses_nothing(client, sandbox, clock, world):
    """limit: 1000 over 250 calls used to return all 250 rows (~64 KB of text; 1000 rows ~258 KB)."""
    now = clock.now()
    created = [now - timedelta(minutes=1 + i) for i in range(250)]
    created[96:106] = [created[96]] * 10  # ten calls created at one instant, across a page boundary
    ids = stored_calls(sandbox, world, created)
    seen: list[str] = []
    pages = []
    arguments: dict[str, Any] = {"limit": 1000, "phoneNumberId": world["phoneNumberId"]}
    while True:
        result = await client.call_tool("list_calls", arguments)
        text = result_text(result)
        view = json.loads(text)
        pages.append((len(view["calls"]), len(text)))
        seen += [row["id"] for row in view["calls"]]
        if "next" not in view:
            break
        assert "repeat list_calls with the same filters and createdAtL" in view["more"]
        arguments = {"limit": 1000, "phoneNumberId": world["phoneNumberId"], **view["next"]}
    assert seen == ids  # newest first, each call once: none skipped, none repeated
    assert all(rows <= 100 and size < 30_000 for rows, size in pages), pages
    assert pages[0][0] == 96  # the tied calls moved whole to the second page
    assert {r.query["limit"] for r in sandbox.requests_to("GET", "/call")} == {"101"}


async def test_a_page_that_is_not_full_has_no_cursor(client, sandbox, clock, world):
    stored_calls(sandbox, world, [clock.now() - timedelta(minutes=i + 1) for i in range(5)])
    view = result_json(await client.call_tool("list_calls", {"limit": 5}))
    assert view["count"] == 5 and "next" not in view
    view = result_json(await client.call_tool("list_calls", {"limit": 4}))
    assert view["count"] == 4 and view["next"]["createdAtLt"]


async def test_results_are_sent_once_as_json_text(client, sandbox, clock, world):
    """The text is the whole result; no structuredContent copy doubles the response line."""
    stored_calls(sandbox, world, [clock.now() - timedelta(minutes=5)])
    for tool, arguments in (("list_calls", {}), ("get_assistant", {"id": world["assistantId"]})):
        result = await client.call_tool(tool, arguments)
        assert not result.is_error and result.structured_content is None
        assert len(result.content) == 1 and json.loads(result_text(result))["sandbox"] is True


# wait_for_call (and every other wait: eval and simulation runs) polls with jitter and a short tail


def test_wait_for_call_poll_delays_are_jittered_capped_and_never_in_lockstep():
    import random

    from vapi_mcp.tools.base import POLL_CAP, POLL_FIRST, POLL_JITTER, poll_delays

    def schedule(seed: int, n: int = 40) -> list[float]:
        delays = poll_delays(random.Random(seed))
        return [next(delays) for _ in range(n)]

    assert schedule(1) == schedule(1)  # deterministic for a given source
    first = [schedule(seed)[0] for seed in range(200)]
    assert POLL_FIRST * (1 - POLL_JITTER) <= min(first) < max(first) <= POLL_FIRST * (1 + POLL_JITTER)
    longest = POLL_CAP * (1 + POLL_JITTER)
    assert longest <= 2.5  # the tail: a wait returns at most ~2.5 s after the call ended (it was 5 s)
    for seed in range(200):
        delays = schedule(seed)
        assert max(delays) <= longest and min(delays[6:]) >= POLL_CAP * (1 - POLL_JITTER)
    # 50 waits started together: by their 10th poll they are spread over more than a second.
    tenth = sorted(sum(schedule(seed)[:10]) for seed in range(50))
    assert tenth[-1] - tenth[0] > 1.0
    assert len({round(t, 3) for t in tenth}) == 50


async def test_wait_for_call_takes_its_jitter_from_the_injected_source(client, sandbox, clock, world, monkeypatch):
    import random

    from vapi_mcp.tools import base

    class Recording(random.Random):
        """Records each draw, and moves the sandbox clock one second per pause (no real waiting)."""

        def __init__(self) -> None:
            super().__init__(7)
            self.draws: list[tuple[float, float]] = []

        def uniform(self, a: float, b: float) -> float:
            self.draws.append((a, b))
            clock.advance(1)
            return super().uniform(a, b)

    rng = Recording()
    monkeypatch.setattr(base, "POLL_RANDOM", rng)
    monkeypatch.setattr(base, "POLL_FIRST", 0.001)
    monkeypatch.setattr(base, "POLL_CAP", 0.002)
    call_id = result_json(await confirmed(client, "create_call", outbound(world)))["id"]
    with anyio.fail_after(10):
        view = result_json(await client.call_tool("wait_for_call", {"id": call_id, "timeout": 60}))
    polls = len(sandbox.requests_to("GET", f"/call/{call_id}"))
    assert view["status"] == "ended"
    assert len(rng.draws) == polls - 1 >= 4  # one jittered pause between each two polls
    assert set(rng.draws) == {(1 - base.POLL_JITTER, 1 + base.POLL_JITTER)}
