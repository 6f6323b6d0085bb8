"""The sandbox seeds: shaped like Vapi's objects, and usable through the tools."""

from __future__ import annotations

import httpx2
import pytest

from tests.mcp_kit import connect, result_json
from tests.openapi import errors, schema
from vapi_mcp.sandbox import Sandbox
from vapi_mcp.sandbox.seed import RICH_CALL_ID, seed


def schema_errors(name: str, body: dict) -> list[str]:
    """Strict errors, minus the document's own ambiguities (overlapping `oneOf` branches)."""
    return [e for e in errors(name, body) if "is valid under each of" not in e]


async def served(sandbox: Sandbox, path: str) -> object:
    """What the sandbox answers on GET `path`, as Vapi's clients see it."""
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        response = await http.get(path, headers={"Authorization": "Bearer test"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def seeded(sandbox: Sandbox) -> Sandbox:
    seed(sandbox, "bench")
    return sandbox


def test_bench_seed_has_the_documented_counts_and_stable_ids(seeded: Sandbox, clock) -> None:
    store = seeded.store
    assert (len(store.calls), len(store.assistants), len(store.phone_numbers)) == (25, 5, 3)
    again = Sandbox(clock=clock)
    seed(again, "bench")
    assert list(again.store.calls) == list(store.calls)
    assert RICH_CALL_ID in store.calls


def test_demo_seed_is_a_smaller_slice(sandbox: Sandbox) -> None:
    seed(sandbox, "demo")
    assert 0 < len(sandbox.store.calls) < 25
    assert RICH_CALL_ID in sandbox.store.calls


def test_unknown_seed_name_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="bench"):
        seed(sandbox, "nope")


async def test_seeded_objects_follow_the_openapi_schemas(seeded: Sandbox) -> None:
    calls = await served(seeded, "/call?limit=100")
    assert len(calls) == 25 and {c["status"] for c in calls} == {"ended"}
    for call in calls:
        assert schema_errors("Call", call) == [], call["id"]
    for number in seeded.store.phone_numbers.values():
        name = {"vapi": "VapiPhoneNumber", "twilio": "TwilioPhoneNumber"}[number["provider"]]
        assert schema_errors(name, number) == [], number["id"]
    known = set(schema("Assistant")["properties"])
    for assistant in seeded.store.assistants.values():
        assert set(assistant) <= known


async def test_rich_call_repeats_its_transcript_like_a_real_call(seeded: Sandbox) -> None:
    call = await served(seeded, f"/call/{RICH_CALL_ID}")
    turns = [m for m in call["messages"] if m["role"] in ("bot", "user")]
    assert len(turns) == 13, "a booking and three questions, each answered from Riley's prompt"
    assert call["artifact"]["messages"] == call["messages"]
    assert call["artifact"]["transcript"] == "\n".join(f"{'AI' if t['role'] == 'bot' else 'User'}: {t['message']}" for t in turns)
    said = [t["message"] for t in turns if t["role"] == "bot"]
    assert "You're booked for Thursday, November 5 at 1:00 PM. Is there anything else I can help you with?" in said
    assert ["Cleaning: $120.", "We accept most dental insurance plans.", "Cleaning: about 45 minutes."] == said[3:6]  # a list item says what it is about
    assert call["artifact"]["recording"]["stereoUrl"]
    assert call["analysis"]["summary"].startswith('The user asked "Could you tell me how much a cleaning costs?"')
    assert "answered 3 of 3 from its prompt. A booking was confirmed for Thursday, November 5 at 1:00 PM." in call["analysis"]["summary"]
    assert call["analysis"]["successEvaluation"] == "true"
    assert call["costBreakdown"]["total"] == call["cost"] > 0


async def test_tools_read_the_seeded_data(seeded: Sandbox, settings) -> None:
    async with connect(settings, seeded) as client:
        listed = result_json(await client.call_tool("list_calls", {}))
        view = result_json(await client.call_tool("get_call", {"id": RICH_CALL_ID}))
    assert listed["count"] == 20 and listed["calls"][0]["id"] == RICH_CALL_ID
    assert len(view["transcript"]) == 13 and view["transcript"][0].startswith("AI: Thank you for calling Bright Smile Dental")
    assert view["analysis"]["summary"] and view["recording"] and view["costBreakdown"]
    assert [r.path for r in seeded.requests] == ["/call", f"/call/{RICH_CALL_ID}"]
