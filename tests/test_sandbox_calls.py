"""The sandbox's /call and /chat over HTTP: Vapi's validation, lifecycle, batch, web calls, control."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest

from tests.openapi import assert_valid, schema
from vapi_mcp.sandbox import calls, chat
from vapi_mcp.sandbox.core import stamp

BASE = "http://sandbox.vapi.local"


@pytest.fixture
def ids(sandbox, clock) -> dict[str, str]:
    assistant = stamp(clock, name="Riley", firstMessage="Hi, this is Riley.")
    free = stamp(clock, provider="vapi", number="+14155550100", name="Free", status="active")
    twilio = stamp(clock, provider="twilio", number="+14155550101", name="Twilio", status="active")
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.phone_numbers.update({free["id"]: free, twilio["id"]: twilio})
    return {"assistantId": assistant["id"], "free": free["id"], "twilio": twilio["id"]}


def phone_call(ids: dict[str, str], number: str = "+14155550123", **extra: Any) -> dict[str, Any]:
    return {"assistantId": ids["assistantId"], "phoneNumberId": ids["twilio"], "customer": {"number": number}, **extra}


@pytest.mark.parametrize(
    ("rule", "name"),
    [
        (calls.CREATE_CALL, "CreateCallDTO"),
        (calls.CUSTOMER, "CreateCustomerDTO"),
        (calls.SCHEDULE_PLAN, "SchedulePlan"),
        (calls.CREATE_WEB_CALL, "CreateWebCallDTO"),
        (calls.DELETE_CALL, "DeleteCallDTO"),
        (calls.UPDATE_CALL, "UpdateCallDTO"),
        (chat.CREATE_CHAT, "CreateChatDTO"),
    ],
)
def test_each_dto_declares_the_documents_fields(rule, name):
    assert rule.names == set(schema(name)["properties"])
    assert set(getattr(rule, "required", ())) == set(schema(name).get("required", []))


async def test_create_call_validation_answers_vapis_400_shape(api, ids, sandbox):
    response = await api.post("/call", json=phone_call(ids, name="x" * 41, colour="blue"))
    assert response.status_code == 400
    assert response.json() == {
        "message": ["property colour should not exist", "name must be shorter than or equal to 40 characters"],
        "error": "Bad Request",
        "statusCode": 400,
    }
    assert not sandbox.store.calls


async def test_list_limit_over_1000_is_refused(api):
    response = await api.get("/call", params={"limit": 1001})
    assert response.status_code == 400
    assert response.json()["message"] == ["limit must not be greater than 1000"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (lambda i: {"phoneNumberId": i["free"], "customer": {"number": "+14155550123"}}, "Need Exactly One Of"),
        (lambda i: {"assistantId": i["assistantId"], "customer": {"number": "+14155550123"}}, "Need Either `phoneNumberId`"),
        (lambda i: {"assistantId": i["assistantId"], "phoneNumberId": i["free"]}, "Need Either `customerId`"),
        (lambda i: {**phone_call(i), "assistantId": i["free"]}, "Couldn't Get Assistant"),
        (lambda i: {**phone_call(i), "phoneNumberId": i["assistantId"]}, "Couldn't Get Phone Number"),
        (lambda i: phone_call(i, "+11234567890"), "E.164"),
    ],
)
async def test_a_phone_call_that_vapi_would_refuse_is_a_400(api, ids, sandbox, body, message):
    response = await api.post("/call", json=body(ids))
    assert response.status_code == 400
    assert message in str(response.json()["message"])
    assert not sandbox.store.calls


async def test_an_imported_number_may_call_abroad_and_the_e164_check_can_be_off(api, ids):
    abroad = await api.post("/call", json={**phone_call(ids, "+442071838750"), "phoneNumberId": ids["twilio"]})
    unchecked = await api.post("/call", json={**phone_call(ids), "customer": {"number": "14155550123", "numberE164CheckEnabled": False}})
    assert abroad.status_code == 201 and unchecked.status_code == 201


async def test_a_call_moves_through_its_lifecycle_on_the_clock(api, ids, clock):
    created = await api.post("/call", json=phone_call(ids))
    assert created.status_code == 201
    call = created.json()
    assert call["status"] == "queued" and call["type"] == "outboundPhoneCall"
    assert call["monitor"]["controlUrl"] == f"{BASE}/call/{call['id']}/control"
    seen = []
    for _ in range(6):
        seen.append((await api.get(f"/call/{call['id']}")).json()["status"])
        clock.advance(1)
    assert seen == ["queued", "ringing", "in-progress", "in-progress", "in-progress", "ended"]


async def test_an_ended_call_is_shaped_like_vapis_call_with_20_turns(api, ids, clock):
    call_id = (await api.post("/call", json=phone_call(ids))).json()["id"]
    clock.advance(calls.LIFETIME)
    call = (await api.get(f"/call/{call_id}")).json()
    assert_valid("Call", call)
    spoken = [m for m in call["messages"] if m["role"] in ("bot", "user")]
    assert len(spoken) == 20 and spoken[0] == {**spoken[0], "role": "bot", "message": "Hi, this is Riley."}
    assert call["artifact"]["messages"] == call["messages"]
    assert call["artifact"]["transcript"].startswith("AI: Hi, this is Riley.\nUser: ")
    assert call["artifact"]["recordingUrl"] and call["artifact"]["stereoRecordingUrl"]
    assert call["analysis"]["summary"] and call["analysis"]["successEvaluation"] == "true"
    assert call["cost"] == call["costBreakdown"]["total"] > 0
    assert call["endedReason"] == "customer-ended-call" and call["endedAt"] > call["startedAt"]


async def test_a_scheduled_call_waits_for_its_earliest_time(api, ids, clock):
    plan = {"earliestAt": "2026-11-03T15:00:00Z", "latestAt": "2026-11-03T16:00:00Z"}
    call = (await api.post("/call", json=phone_call(ids, schedulePlan=plan))).json()
    assert call["status"] == "scheduled"
    clock.advance(22 * 3600)
    assert (await api.get(f"/call/{call['id']}")).json()["status"] == "scheduled"
    clock.advance(2 * 3600)
    assert (await api.get(f"/call/{call['id']}")).json()["status"] == "ended"


@pytest.mark.parametrize("callee", ["+14155550123", "+442071838750"])
async def test_a_free_vapi_number_dials_no_one_its_call_ends_at_once_without_a_transport(api, ids, clock, callee):
    """Vapi's documentation: free Vapi numbers take inbound calls only; outbound needs an imported number. Vapi
    accepts the request and the call ends before it rings (`call.start.error-get-transport`), at home or abroad."""
    response = await api.post("/call", json={**phone_call(ids, callee), "phoneNumberId": ids["free"]})
    assert response.status_code == 201
    call = response.json()
    assert (call["status"], call["endedReason"], call["phoneCallProvider"]) == ("ended", "call.start.error-get-transport", "vapi")
    assert call["endedAt"] == call["createdAt"] and "startedAt" not in call and "messages" not in call
    clock.advance(60)
    assert (await api.get(f"/call/{call['id']}")).json()["endedReason"] == "call.start.error-get-transport"
    imported = (await api.post("/call", json=phone_call(ids, callee))).json()
    assert imported["status"] == "queued"


async def test_a_schedule_that_ends_before_it_starts_is_refused(api, ids):
    plan = {"earliestAt": "2026-11-03T15:00:00Z", "latestAt": "2026-11-03T14:00:00Z"}
    response = await api.post("/call", json=phone_call(ids, schedulePlan=plan))
    assert response.status_code == 400 and "latestAt" in response.json()["message"][0]


async def test_a_batch_answers_results_and_per_customer_errors(api, ids, sandbox):
    body = {
        "assistantId": ids["assistantId"],
        "phoneNumberId": ids["twilio"],
        "customers": [
            {"number": "+14155550123", "name": "Alice"},
            {"number": "+11234567890", "name": "Bob"},
            {"number": "+442071838750", "name": "Carol"},
        ],
    }
    response = await api.post("/call", json=body)
    assert response.status_code == 201
    batch = response.json()
    assert_valid("CallBatchResponse", batch)
    assert [c["customer"]["name"] for c in batch["results"]] == ["Alice", "Carol"]
    assert [(e["customer"]["name"], e["error"][:40]) for e in batch["errors"]] == [("Bob", "customer.number must be a valid phone nu")]
    assert len(sandbox.store.calls) == 2


async def test_a_web_call_has_a_web_call_url(api, ids):
    response = await api.post("/call/web", json={"assistantId": ids["assistantId"]})
    assert response.status_code == 201
    call = response.json()
    assert call["type"] == "webCall" and call["webCallUrl"] == f"{BASE}/web-call/{call['id']}"
    refused = await api.post("/call/web", json={"assistantId": ids["assistantId"], "customer": {"number": "+14155550123"}})
    assert refused.json()["message"] == ["property customer should not exist"]


async def test_list_filters_and_newest_first(api, ids, clock):
    first = (await api.post("/call", json=phone_call(ids))).json()
    clock.advance(60)
    second = (await api.post("/call", json={**phone_call(ids), "phoneNumberId": ids["free"]})).json()
    listed = (await api.get("/call")).json()
    assert [c["id"] for c in listed] == [second["id"], first["id"]]
    by_number = (await api.get("/call", params={"phoneNumberId": ids["twilio"]})).json()
    assert [c["id"] for c in by_number] == [first["id"]]
    since = (await api.get("/call", params={"createdAtGt": first["createdAt"]})).json()
    assert [c["id"] for c in since] == [second["id"]]


async def test_control_end_call_needs_no_key_and_ends_a_live_call(api, ids, clock, sandbox):
    call = (await api.post("/call", json=phone_call(ids))).json()
    clock.advance(3)
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport) as keyless:
        response = await keyless.post(call["monitor"]["controlUrl"], json={"type": "end-call"})
    assert response.status_code == 200
    ended = (await api.get(f"/call/{call['id']}")).json()
    assert ended["status"] == "ended" and ended["endedReason"] == "manually-canceled"
    assert ended["endedAt"] == "2026-11-02T16:00:03.000Z"
    assert_valid("Call", ended)


async def test_update_and_delete_follow_their_dtos(api, ids, sandbox):
    call_id = (await api.post("/call", json=phone_call(ids))).json()["id"]
    assert (await api.patch(f"/call/{call_id}", json={"name": "Renamed"})).json()["name"] == "Renamed"
    bad = await api.request("DELETE", f"/call/{call_id}", json={"id": call_id})
    assert bad.status_code == 400 and bad.json()["message"] == ["property id should not exist"]
    deleted = await api.request("DELETE", f"/call/{call_id}", json={})
    assert deleted.status_code == 200 and deleted.json()["id"] == call_id
    assert (await api.get(f"/call/{call_id}")).status_code == 404


async def test_chat_replies_deterministically_and_keeps_context(api, ids):
    first = await api.post("/chat", json={"assistantId": ids["assistantId"], "input": "Hello"})
    assert first.status_code == 200
    assert first.json()["output"] == [{"role": "assistant", "content": "Riley here (turn 1). You said: Hello"}]
    second = await api.post("/chat", json={"previousChatId": first.json()["id"], "input": "Thursday?"})
    assert second.json()["output"][0]["content"] == "Riley here (turn 2). You said: Thursday?"
    missing = await api.post("/chat", json={"assistantId": ids["assistantId"]})
    assert missing.status_code == 400 and missing.json()["message"] == ["input should not be empty"]
