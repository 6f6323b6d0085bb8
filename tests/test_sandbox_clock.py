"""The sandbox's clock moves forward when the user (or the agent, on the sandbox only) says so, and due work then happens:
a call scheduled for tomorrow starts and ends, a campaign dials, a simulation finishes. `wait_for_call` on a call that
cannot start within its timeout says at once when it will."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.loopback import on_loopback
from tests.mcp_kit import confirmed, connect, result_json, result_text
from tests.testing_kit import DEFAULT_TESTER
from vapi_mcp.cli import main
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import ManualClock, Sandbox, calls
from vapi_mcp.sandbox.clock import iso, parse_iso
from vapi_mcp.sandbox.core import stamp

CLOCK = "/sandbox/clock"
CUSTOMER = {"number": "+14155550123"}


@pytest.fixture
def sandbox(either_world: Sandbox) -> Sandbox:
    """Every sandbox-level test here runs on a world in memory and on one in an SQLite file."""
    return either_world


@pytest.fixture
def world(sandbox: Sandbox, clock: ManualClock) -> dict[str, str]:
    assistant = stamp(clock, name="Riley", firstMessage="Hi, this is Riley.")
    number = stamp(clock, provider="twilio", number="+14155550101", name="Outbound", status="active")
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.phone_numbers[number["id"]] = number
    return {"assistantId": assistant["id"], "phoneNumberId": number["id"]}


def tomorrow(clock: ManualClock, hours: float = 24) -> str:
    return iso(clock.now() + timedelta(hours=hours))


async def test_a_call_scheduled_for_tomorrow_starts_and_ends_when_the_clock_moves(api: httpx.AsyncClient, clock: ManualClock, world: dict[str, str]) -> None:
    earliest = tomorrow(clock)
    call = (await api.post("/call", json={**world, "customer": CUSTOMER, "schedulePlan": {"earliestAt": earliest}})).json()
    assert call["status"] == "scheduled"
    assert (await api.get(CLOCK)).json()["scheduled"] == [{"type": "call", "id": call["id"], "at": earliest}]
    moved = (await api.post(CLOCK, json={"to": earliest})).json()
    assert moved["now"] == earliest and moved["movedSeconds"] == 86400 and moved["started"] == [{"type": "call", "id": call["id"], "at": earliest}]
    assert moved["scheduled"] == []
    assert (await api.get(f"/call/{call['id']}")).json()["status"] == "queued"  # its lifecycle runs from its start, on the clock
    clock.advance(calls.LIFETIME)
    ended = (await api.get(f"/call/{call['id']}")).json()
    assert ended["status"] == "ended" and ended["startedAt"] > earliest and ended["artifact"]["transcript"].startswith("AI: Hi, this is Riley.")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"to": "2026-11-01T00:00:00Z"}, "the sandbox clock only moves forward: it is 2026-11-02T16:00:00.000Z there, so 2026-11-01T00:00:00.000Z has passed"),
        ({"advanceSeconds": -5}, "advanceSeconds must not be less than 0"),
        ({"advanceSeconds": 60, "to": "2026-11-03T00:00:00Z"}, "Need Either `advanceSeconds` Or `to`, Not Both."),
        ({}, "Need Either `advanceSeconds` Or `to`, Not Both."),
        ({"to": "tomorrow"}, "to must be a valid ISO 8601 date string"),
        ({"advanceSeconds": 3661 * 86400}, "advanceSeconds must not be greater than 316224000"),
        ({"to": "2040-01-01T00:00:00Z"}, "the sandbox clock moves at most 3660 days at once"),
    ],
)
async def test_the_clock_never_moves_back_and_says_why(api: httpx.AsyncClient, sandbox: Sandbox, body: dict[str, Any], message: str) -> None:
    response = await api.post(CLOCK, json=body)
    assert response.status_code == 400 and response.json()["message"] == [message]
    assert sandbox.store.clock_offset == 0


async def test_a_scheduled_campaign_dials_when_the_clock_moves(api: httpx.AsyncClient, clock: ManualClock, world: dict[str, str]) -> None:
    customers = [{"number": f"+1212555{1000 + i:04d}"} for i in range(3)]
    earliest = tomorrow(clock, 3)
    created = (await api.post("/v2/campaign", json={"name": "Recall", **world, "customers": customers, "schedulePlan": {"earliestAt": earliest}})).json()
    assert created["status"] == "scheduled"
    moved = (await api.post(CLOCK, json={"advanceSeconds": 3 * 3600 + 60})).json()
    assert {"type": "campaign", "id": created["id"], "at": earliest} in moved["started"]
    campaign = (await api.get(f"/v2/campaign/{created['id']}", params={"includeCounters": "true"})).json()
    assert campaign["status"] == "ended" and campaign["callMetrics"]["dialed"] == 3


async def test_a_simulation_run_finishes_when_the_clock_moves(api: httpx.AsyncClient, world: dict[str, str]) -> None:
    scenario = {"name": "Book", "instructions": "Ask for a cleaning.", "evaluations": [{"structuredOutput": {"name": "any", "schema": {"type": "boolean"}}, "comparator": "=", "value": True}]}
    body = {"simulations": [{"type": "simulation", "scenario": scenario, "personalityId": DEFAULT_TESTER}], "target": {"type": "assistant", "assistantId": world["assistantId"]}}
    run = (await api.post("/eval/simulation/run", json=body)).json()
    assert run["status"] == "queued"
    await api.post(CLOCK, json={"advanceSeconds": 60})
    assert (await api.get(f"/eval/simulation/run/{run['id']}")).json()["status"] == "ended"


async def test_the_moved_clock_is_the_worlds(tmp_path: Path, clock: ManualClock) -> None:
    """Every process on the world sees the clock where the last move left it, and so does the next process."""
    path = tmp_path / "sandbox.sqlite3"
    one, other = Sandbox(clock=clock, world=path), Sandbox(clock=clock, world=path)
    one.advance_clock(seconds=3600)
    assert other.now() == clock.now() + timedelta(hours=1)
    other.advance_clock(to=clock.now() + timedelta(days=1))
    assert Sandbox(clock=clock, world=path).now() == one.now() == clock.now() + timedelta(days=1)


def test_the_command_line_moves_the_clock_and_says_what_started(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sandbox.sqlite3"
    sandbox = Sandbox(world=path)
    with sandbox.store.transaction():
        call = stamp(sandbox, type="outboundPhoneCall", _start=sandbox.now() + timedelta(hours=5), _assistant={"firstMessage": "Hi"})
        sandbox.store.calls[call["id"]] = call
    assert main(["sandbox", "--world", str(path), "--advance", "1d"]) == 0
    said = capsys.readouterr().out
    assert "clock moved forward 1 d" in said and f"started: call {call['id']}" in said
    assert Sandbox(world=path).store.clock_offset == 86400
    assert main(["sandbox", "--world", str(path), "--advance", "yesterday"]) == 2
    assert "--advance: must be a span like 30m, 3h, 1d" in capsys.readouterr().err


# Through an MCP client: the tool, and wait_for_call


def scheduled_call(world: dict[str, str], earliest: str) -> dict[str, Any]:
    return {**world, "customer": CUSTOMER, "schedulePlan": {"earliestAt": earliest}}


async def test_wait_for_call_says_at_once_when_a_scheduled_call_starts_and_the_clock_tool_runs_it(client: Any, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]) -> None:
    earliest = tomorrow(clock, 3)
    call_id = result_json(await confirmed(client, "create_call", scheduled_call(world, earliest)))["id"]
    before = len(sandbox.requests)
    view = result_json(await client.call_tool("wait_for_call", {"id": call_id, "timeout": 600}))
    assert [(r.method, r.path) for r in sandbox.requests[before:]] == [("GET", f"/call/{call_id}"), ("GET", CLOCK)]  # one look, no polling
    starts = view["earliestAt"]  # as sent: 2026-11-02T19:00:00Z
    assert parse_iso(starts) == parse_iso(earliest) and view["startsAt"] == starts
    assert view["status"] == "scheduled" and view["startsInSeconds"] == 3 * 3600 and "timedOut" not in view
    assert f"scheduled to start at {starts}, in 3 h from now" in view["note"]
    assert f'advance_sandbox_clock {{"to": "{starts}"}}' in view["note"]
    moved = result_json(await client.call_tool("advance_sandbox_clock", {"to": starts}))
    assert moved["started"] == [{"type": "call", "id": call_id, "at": earliest}] and moved["sandbox"] is True
    clock.advance(calls.LIFETIME)
    ended = result_json(await client.call_tool("wait_for_call", {"id": call_id, "timeout": 5}))
    assert ended["status"] == "ended" and ended["transcript"]


async def test_wait_for_call_waits_for_a_call_that_starts_within_its_timeout(client: Any, clock: ManualClock, world: dict[str, str]) -> None:
    call_id = result_json(await confirmed(client, "create_call", scheduled_call(world, iso(clock.now() + timedelta(seconds=30)))))["id"]
    seen: list[str] = []

    async def look(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message or "")
        clock.advance(20)  # the sandbox's time passes between two looks

    view = result_json(await client.call_tool("wait_for_call", {"id": call_id, "timeout": 60}, progress_callback=look))
    assert view["status"] == "ended" and "note" not in view and seen[0] == "status: scheduled"  # it waited, and saw it start and end


async def test_on_a_real_vapi_wait_for_call_says_when_and_nothing_of_a_clock(tmp_path: Path) -> None:
    """With a key, the server talks to Vapi (here a sandbox on loopback standing in for it): the clock tool does
    not exist, and wait_for_call reads the time from this machine, never from /sandbox/clock."""
    vapi = Sandbox()  # real time
    assistant, number = stamp(vapi, name="Riley"), stamp(vapi, provider="twilio", number="+14155550101", status="active")
    vapi.store.assistants[assistant["id"]] = assistant
    vapi.store.phone_numbers[number["id"]] = number
    async with on_loopback(vapi.app) as base, httpx.AsyncClient(headers={"Authorization": "Bearer k"}) as direct:
        earliest = iso(vapi.now() + timedelta(hours=5))
        body = scheduled_call({"assistantId": assistant["id"], "phoneNumberId": number["id"]}, earliest)
        call_id = (await direct.post(f"{base}/call", json=body)).json()["id"]
        settings = Settings.load({"VAPI_API_KEY": "k", "VAPI_BASE_URL": base}, audit_log=str(tmp_path / "a.jsonl"), toolsets=("all",))
        async with connect(settings, Sandbox()) as client:
            assert "advance_sandbox_clock" not in {t.name for t in (await client.list_tools()).tools}
            view = result_json(await client.call_tool("wait_for_call", {"id": call_id, "timeout": 60}))
    assert view["startsAt"] == earliest and ("in 4 h 59 min" in view["note"] or "in 5 h" in view["note"]), view
    assert "clock" not in view["note"] and "sandbox" not in view and not vapi.requests_to("GET", CLOCK)


@pytest.mark.parametrize("selection", [{}, {"toolsets": ("all",)}, {"tools": ("advance_sandbox_clock", "get_call")}])
def test_the_clock_tool_exists_on_the_sandbox_only(tmp_path: Path, selection: dict[str, Any]) -> None:
    from vapi_mcp.toolsets import offered

    sandboxed = Settings.load({}, audit_log=str(tmp_path / "a.jsonl"), **selection)
    keyed = Settings.load({"VAPI_API_KEY": "k"}, audit_log=str(tmp_path / "a.jsonl"), **selection)
    forced = Settings.load({"VAPI_API_KEY": "k"}, audit_log=str(tmp_path / "a.jsonl"), force_sandbox=True, **selection)
    assert "advance_sandbox_clock" in {spec.name for _, spec in offered(sandboxed)}
    assert "advance_sandbox_clock" in {spec.name for _, spec in offered(forced)}
    assert "advance_sandbox_clock" not in {spec.name for _, spec in offered(keyed)}


async def test_a_request_on_a_real_account_cannot_move_any_clock(tmp_path: Path) -> None:
    """Over HTTP a request may bring its own Vapi key to a sandbox server: the tool then sends nothing."""
    from vapi_mcp.client import VapiClient
    from vapi_mcp.errors import VapiMCPError
    from vapi_mcp.tools.base import ToolContext
    from vapi_mcp.tools.sandbox_clock import AdvanceClockArgs, advance_sandbox_clock

    vapi = VapiClient(base_url="https://api.vapi.ai", api_key="k", transport=httpx.MockTransport(lambda request: pytest.fail(f"sent {request.url}")))
    context = ToolContext(vapi=vapi, guard=None, settings=Settings.load({}))  # type: ignore[arg-type]
    with pytest.raises(VapiMCPError, match="whose clock nobody can move. Nothing was sent."):
        await advance_sandbox_clock(AdvanceClockArgs(advanceSeconds=60), context)
    await vapi.aclose()


async def test_the_tool_takes_one_move(client: Any, sandbox: Sandbox) -> None:
    for arguments in ({}, {"advanceSeconds": 5, "to": "2026-11-03T00:00:00Z"}):
        result = await client.call_tool("advance_sandbox_clock", arguments)
        assert result.is_error and "give either advanceSeconds or to" in result_text(result)
    backwards = await client.call_tool("advance_sandbox_clock", {"to": "2026-01-01T00:00:00Z"})
    assert backwards.is_error and "only moves forward" in result_text(backwards)
    assert not sandbox.requests_to("GET", CLOCK) and sandbox.store.clock_offset == 0
    assert parse_iso(result_json(await client.call_tool("advance_sandbox_clock", {"advanceSeconds": 90}))["now"]) == sandbox.now()
