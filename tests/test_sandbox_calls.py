"""The sandbox's /call and /chat over HTTP: Vapi's validation, lifecycle, batch, web calls, control."""

from __future__ import annotations

import json
from typing import Any

import httpx2 as httpx
import pytest

from tests.openapi import assert_valid, schema
from tests.testing_kit import DEFAULT_TESTER
from vapi_mcp.sandbox import Sandbox, calls, chat
from vapi_mcp.sandbox.conversation import RULE_NOTE
from vapi_mcp.sandbox.core import stamp


@pytest.fixture
def sandbox(either_world: Sandbox) -> Sandbox:
    """Every test here runs on a world in memory and on one in an SQLite file."""
    return either_world


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


async def test_a_call_may_bring_its_own_twilio_number_instead_of_a_phone_number_id(api, ids, sandbox):
    """CreateCallDTO.phoneNumber (an ImportTwilioPhoneNumberDTO) instead of `phoneNumberId`: the call is made from
    it and nothing is imported; both at once, or neither, is Vapi's 400."""
    twilio = {"twilioPhoneNumber": "+14155550199", "twilioAccountSid": "AC0123", "twilioAuthToken": "secret"}
    created = await api.post("/call", json={"assistantId": ids["assistantId"], "phoneNumber": twilio, "customer": {"number": "+442071838750"}})
    assert created.status_code == 201, created.text
    call = created.json()
    assert call["phoneNumber"] == {"twilioPhoneNumber": "+14155550199", "twilioAccountSid": "AC0123"}, "its auth token is never answered"
    assert call["phoneCallProvider"] == "twilio" and "phoneNumberId" not in call
    assert "secret" not in str(sandbox.store.calls[call["id"]])
    assert call["customer"] == {"number": "+442071838750"}  # an imported number may call abroad
    assert len(sandbox.store.phone_numbers) == 2  # nothing was imported
    both = await api.post("/call", json={**phone_call(ids), "phoneNumber": twilio})
    assert both.status_code == 400 and both.json()["message"] == ["Need Either `phoneNumberId` Or `phoneNumber`, Not Both. For a web call, use POST /call/web."]
    assert len(sandbox.store.calls) == 1


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


async def test_an_ended_call_is_shaped_like_vapis_call_and_talks_from_its_assistant(api, ids, clock):
    """Riley has a first message and no prompt: it opens, cannot say why it calls, and the analysis says so."""
    call_id = (await api.post("/call", json=phone_call(ids))).json()["id"]
    clock.advance(calls.LIFETIME)
    response = await api.get(f"/call/{call_id}")
    call = response.json()
    assert_valid("Call", call)
    assert call["artifact"]["transcript"] == (
        "AI: Hi, this is Riley.\n"
        "User: Okay, what is this about?\n"
        "AI: I'm sorry, I don't have that information.\n"
        "User: Okay, thank you. Goodbye!\n"
        "AI: Thank you for your time. Goodbye!"
    ), "an outbound call: the customer answers and asks why it calls; the assistant invents nothing"
    spoken = [m for m in call["messages"] if m["role"] in ("bot", "user")]
    assert [m["message"] for m in spoken] == [line.split(": ", 1)[1] for line in call["artifact"]["transcript"].splitlines()]
    assert [m["role"] for m in spoken] == ["bot", "user", "bot", "user", "bot"]
    assert call["artifact"]["messages"] == call["messages"]
    assert call["artifact"]["recordingUrl"] and call["artifact"]["stereoRecordingUrl"]
    assert call["analysis"] == {
        "summary": 'The user asked "Okay, what is this about?". The assistant answered 0 of 1 from its prompt and said it did not have '
        "the information for 1. The conversation ended with a goodbye. Ended reason: customer-ended-call.",
        "successEvaluation": "false",
    }
    assert call["cost"] == call["costBreakdown"]["total"] > 0
    assert call["endedReason"] == "customer-ended-call" and call["endedAt"] > call["startedAt"]
    assert response.headers["x-sandbox-note"] == RULE_NOTE and "sandboxNote" not in call, "the note rides beside Vapi's body, once"
    queued = await api.post("/call", json=phone_call(ids))
    assert "x-sandbox-note" not in queued.headers, "nothing was said yet"


async def test_a_calls_conversation_is_played_once_and_kept_in_the_world(api, ids, sandbox, clock, monkeypatch):
    """Listing and reading calls again never plays them again: the conversation is kept on the call (JSON, in the world),
    and a later change to the assistant changes the next call, not this one."""
    played: list[str] = []
    real = calls.converse

    def counted(agent, tester, **kwargs):
        played.append(agent.opening() or "")
        return real(agent, tester, **kwargs)

    monkeypatch.setattr(calls, "converse", counted)
    first = (await api.post("/call", json=phone_call(ids))).json()["id"]
    second = (await api.post("/call", json=phone_call(ids, "+14155550124"))).json()["id"]
    sandbox.store.assistants[ids["assistantId"]] = {**sandbox.store.assistants[ids["assistantId"]], "firstMessage": "Hi, this is Riley again."}
    third = (await api.post("/call", json=phone_call(ids, "+14155550125"))).json()["id"]
    clock.advance(calls.LIFETIME)
    listed = [(await api.get("/call")).json() for _ in range(3)]
    got = [(await api.get(f"/call/{i}")).json() for i in (first, second, third)]
    assert sorted(played) == ["Hi, this is Riley again.", "Hi, this is Riley.", "Hi, this is Riley."], "three calls, three conversations"
    assert listed[0] == listed[2] and {c["id"]: c["artifact"]["transcript"] for c in listed[0]} == {c["id"]: c["artifact"]["transcript"] for c in got}
    kept = sandbox.store.calls[first]["_conversation"]
    assert json.loads(json.dumps(kept)) == kept and kept["lines"][0] == ["assistant", "Hi, this is Riley."]


async def test_the_knowledge_hook_feeds_every_conversation(api, ids, sandbox, clock, monkeypatch):
    """`knowledge.documents_for` is the one place knowledge-base texts come from: chat, eval runs and simulations
    answer from what it gives, and a call keeps what it was given when it was made."""
    from vapi_mcp.sandbox import knowledge

    faq = [{"name": "faq.txt", "text": "We groom cats on Wednesdays only."}]
    monkeypatch.setattr(knowledge, "documents_for", lambda sb, assistant: faq if assistant.get("name") == "Riley" else [])
    question = "Do you groom cats?"
    chat = (await api.post("/chat", json={"assistantId": ids["assistantId"], "input": question})).json()
    assert chat["output"][0]["content"] == "We groom cats on Wednesdays only."
    checkpoint = {"role": "assistant", "judgePlan": {"type": "regex", "content": "Wednesdays only"}}
    messages = [{"role": "user", "content": question}, checkpoint]
    target = {"type": "assistant", "assistantId": ids["assistantId"]}
    run = (await api.post("/eval/run", json={"type": "eval", "eval": {"type": "chat.mockConversation", "messages": messages}, "target": target})).json()
    scenario = {"name": "Cats", "instructions": f'Ask "{question}"', "evaluations": []}
    simulation = (await api.post("/eval/simulation/run", json={"simulations": [{"type": "simulation", "scenario": scenario, "personalityId": DEFAULT_TESTER}], "target": target})).json()
    call = (await api.post("/call", json=phone_call(ids))).json()
    clock.advance(60)
    assert (await api.get(f"/eval/run/{run['id']}")).json()["results"][0]["status"] == "pass"
    item = (await api.get(f"/eval/simulation/run/{simulation['id']}/item")).json()[0]
    assert "AI: We groom cats on Wednesdays only." in item["metadata"]["call"]["transcript"]
    monkeypatch.setattr(knowledge, "documents_for", lambda sb, assistant: [])
    assert sandbox.store.calls[call["id"]]["_documents"] == faq, "the call answers from the texts it was made with"


async def test_a_call_stored_before_calls_kept_their_assistant_still_talks(api, sandbox, clock):
    """A world written by the previous version keeps a call's first message and prompt only: it is served from those."""
    old = stamp(clock, type="webCall", _start=clock.now(), _first_message="Hi, this is Riley.", _system_prompt="We are open 9am to 5pm.")
    sandbox.store.calls[old["id"]] = old
    clock.advance(calls.LIFETIME)
    call = (await api.get(f"/call/{old['id']}")).json()
    assert call["artifact"]["transcript"].startswith("AI: Hi, this is Riley.\nUser: Hi, what can you help me with?\n")
    assert call["messages"][0] == {**call["messages"][0], "role": "system", "message": "We are open 9am to 5pm."}


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


RECEPTIONIST = {
    "name": "Riley",
    "model": {
        "provider": "openai",
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": "You are Riley from Bright Smile Dental. We are open Monday to Friday, 9am to 5pm. You can book cleanings."}],
    },
}


async def test_chat_replies_from_the_prompt_deterministically_and_keeps_context(api, ids):
    first = await api.post("/chat", json={"assistant": RECEPTIONIST, "input": "Hello"})
    assert first.status_code == 200 and first.headers["x-sandbox-note"] == RULE_NOTE
    assert first.json()["output"] == [{"role": "assistant", "content": "Hello, this is Riley from Bright Smile Dental. How can I help you today?"}]
    asked = {"previousChatId": first.json()["id"], "input": "Can I book a cleaning on Thursday afternoon?"}
    second = await api.post("/chat", json=asked)
    offer = "I can book that for you. How about Thursday, November 5 at 1:00 PM?"
    assert second.json()["output"][0]["content"] == offer, "the first free half hour of that afternoon, inside the prompt's hours"
    assert (await api.post("/chat", json=asked)).json()["output"][0]["content"] == offer, "the same inputs, the same reply"
    third = await api.post("/chat", json={"previousChatId": second.json()["id"], "input": "Yes please"})
    assert third.json()["output"][0]["content"] == "You're booked for Thursday, November 5 at 1:00 PM. Is there anything else I can help you with?"
    alone = await api.post("/chat", json={"assistant": RECEPTIONIST, "input": "Yes please"})
    assert "booked" not in alone.json()["output"][0]["content"], "without the earlier turns there is nothing to confirm"
    missing = await api.post("/chat", json={"assistantId": ids["assistantId"]})
    assert missing.status_code == 400 and missing.json()["message"] == ["input should not be empty"]
