"""/call: create (phone, scheduled, batch), web calls, list, get, update, delete, live control.

A call's status is computed from the sandbox clock whenever it is read:
`scheduled` until `schedulePlan.earliestAt`, then `queued` → `ringing` → `in-progress` →
`ended` within `LIFETIME` seconds (a call from a free Vapi number, which takes inbound calls only,
ends at its start with `call.start.error-get-transport`). An ended call carries a scripted 20-turn conversation,
shaped like the OpenAPI `Call` (which repeats its transcript in several places).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import phonenumbers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import artifacts
from .clock import iso, parse_iso
from .core import DATE_FILTERS, ApiError, body_of, collection_routes, find, new_id, paginate, query_of, stamp
from .extraction import call_outputs, outputs_plan
from .validation import Any_, Arr, Bool, Num, Obj, Str, number_problem

if TYPE_CHECKING:
    from . import Sandbox

LIST_QUERY = {
    "id": Str(),
    "assistantId": Str(),
    "phoneNumberId": Str(),
    "limit": Num(minimum=0, maximum=1000),
    **DATE_FILTERS,
}

OVERRIDES = Obj({"variableValues": Any_(), "metadata": Any_()}, open=True)
CUSTOMER = Obj(
    {
        "numberE164CheckEnabled": Bool(),
        "extension": Str(max_len=10),
        "assistantOverrides": OVERRIDES,
        "squadOverrides": Any_(),
        "number": Str(min_len=3, max_len=40),
        "sipUri": Str(),
        "name": Str(max_len=40),
        "email": Str(max_len=40),
        "externalId": Str(max_len=40),
    }
)
SCHEDULE_PLAN = Obj({"earliestAt": Str(date_time=True), "latestAt": Str(date_time=True)}, required=("earliestAt",))
_CALLEE = {
    "assistantVersion": Str(),
    "assistantId": Str(),
    "assistant": Obj({}, open=True),
    "assistantOverrides": OVERRIDES,
    "squadId": Str(),
    "squad": Obj({}, open=True),
    "squadOverrides": Any_(),
    "workflowId": Str(),
    "workflow": Obj({}, open=True),
    "workflowOverrides": Any_(),
}
CREATE_CALL = Obj(
    {
        **_CALLEE,
        "transport": Any_(),
        "customers": Arr(CUSTOMER),
        "name": Str(max_len=40),
        "schedulePlan": SCHEDULE_PLAN,
        "phoneNumberId": Str(),
        "phoneNumber": Obj({}, open=True),
        "customerId": Str(),
        "customer": CUSTOMER,
    }
)
CREATE_WEB_CALL = Obj({**_CALLEE, "roomDeleteOnUserLeaveEnabled": Bool()})
DELETE_CALL = Obj({"ids": Arr(Str())})
UPDATE_CALL = Obj({"name": Str(max_len=40)})
CONTROL = Obj({"type": Str(), "content": Any_(), "message": Any_()}, required=("type",), open=True)

QUEUED, RINGING, TALKING = 1.0, 1.0, 3.0
"""Seconds spent queued, ringing and talking: a sandbox call ends 5 s after it starts."""
LIFETIME = QUEUED + RINGING + TALKING

SCRIPT = (
    "Hi, yes, I'm calling about my appointment.",
    "Of course. Could you tell me your full name, please?",
    "It's Jordan Lee.",
    "Thanks, Jordan. I see you on Thursday at 10 AM. Would you like to keep it or change it?",
    "I'd like to move it to the afternoon if possible.",
    "Sure. I have 2 PM or 4:30 PM on Thursday. Which works better?",
    "2 PM works.",
    "Done: your appointment is now Thursday at 2 PM.",
    "Will I get a reminder?",
    "Yes, you'll get a text message the day before.",
    "Perfect. Do I need to bring anything?",
    "Just a photo ID and your insurance card.",
    "Okay, got it.",
    "Is there anything else I can help you with today?",
    "How long will the visit take?",
    "About forty-five minutes.",
    "Alright, thank you.",
    "You're welcome, Jordan. See you on Thursday.",
    "Bye.",
)
"""The customer's side and the assistant's answers after its firstMessage: 20 turns in all."""

NO_OUTBOUND = "call.start.error-get-transport"
"""How a call from a free Vapi number ends: Vapi's free numbers take inbound calls only, so it finds no transport to dial out."""

RATES = {"transport": 0.01, "stt": 0.01, "llm": 0.02, "tts": 0.036, "vapi": 0.05}
"""USD per minute for the cost breakdown."""


def public(call: dict[str, Any]) -> dict[str, Any]:
    """The call as Vapi returns it (the sandbox's private bookkeeping removed)."""
    return {k: v for k, v in call.items() if not k.startswith("_")}


def live(call: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The call as it stands at `now` on the sandbox clock."""
    start: datetime = call["_start"]
    ended_at: datetime | None = call.get("_ended_at")
    if ended_at is not None and ended_at > now:
        ended_at = None  # an end still to come (a campaign call's outcome)
    out = public(call)
    if now < start and ended_at is None:
        return {**out, "status": "scheduled"}
    elapsed = (min(now, ended_at) if ended_at else now) - start
    seconds = elapsed.total_seconds()
    if ended_at is None and seconds < QUEUED:
        return {**out, "status": "queued"}
    if ended_at is None and seconds < QUEUED + RINGING:
        return {**out, "status": "ringing"}
    answered = start + timedelta(seconds=QUEUED + RINGING)
    if seconds >= QUEUED + RINGING:
        out["startedAt"] = iso(answered)
    if ended_at is None and seconds < LIFETIME:
        return {**out, "status": "in-progress"}
    end = ended_at or start + timedelta(seconds=LIFETIME)
    reason = call.get("_ended_reason") or ("customer-ended-call" if call["type"] != "webCall" else "assistant-ended-call")
    out.update(status="ended", endedReason=reason, endedAt=iso(end), updatedAt=iso(max(end, parse_iso(out["updatedAt"]))))
    if end > answered:
        out.update(_artifacts(call, answered, end))
    return artifacts.decorate(out, call, now)


def _artifacts(call: dict[str, Any], answered: datetime, end: datetime) -> dict[str, Any]:
    """Messages, artifact, analysis and costs of a call that talked from `answered` to `end`."""
    talk = (end - answered).total_seconds()
    lines = (call["_first_message"], *SCRIPT)
    step = max(talk, TALKING) / len(lines)  # a call hung up early stops mid-script
    t0 = answered.timestamp() * 1000
    messages: list[dict[str, Any]] = [{"role": "system", "message": call["_system_prompt"], "time": t0, "secondsFromStart": 0}]
    for i, text in enumerate(lines):
        at = i * step
        if at >= talk:
            break
        turn = {"message": text, "time": t0 + at * 1000, "endTime": t0 + (at + step * 0.9) * 1000, "secondsFromStart": at, "duration": step * 900}
        if i % 2 == 0:
            messages.append({"role": "bot", **turn, "source": ""})
        else:
            messages.append({"role": "user", **turn, "isFiltered": False})
    spoken = [m for m in messages if m["role"] != "system"]
    transcript = "\n".join(f"{'AI' if m['role'] == 'bot' else 'User'}: {m['message']}" for m in spoken)
    minutes = talk / 60
    breakdown = {k: round(rate * minutes, 6) for k, rate in RATES.items()}
    total = round(sum(breakdown.values()), 6)
    recording = f"https://storage.vapi.ai/sandbox/{call['id']}"
    outputs = call_outputs(call, transcript, [m["message"] for m in spoken if m["role"] == "bot"])
    return {
        "messages": messages,
        "artifact": {
            "messages": messages,
            "messagesOpenAIFormatted": [
                {"role": "assistant" if m["role"] == "bot" else m["role"], "content": m["message"]} for m in messages
            ],
            "transcript": transcript,
            "recordingUrl": f"{recording}-mono.wav",
            "stereoRecordingUrl": f"{recording}-stereo.wav",
            "recording": {"stereoUrl": f"{recording}-stereo.wav", "mono": {"combinedUrl": f"{recording}-mono.wav"}},
            **outputs,
        },
        "analysis": {
            "summary": "The customer moved their appointment to Thursday at 2 PM and was told what to bring.",
            "successEvaluation": call.get("_success", "true"),
        },
        "cost": total,
        "costBreakdown": {
            **breakdown,
            "total": total,
            "llmPromptTokens": 180 * len(spoken),
            "llmCompletionTokens": 22 * len(spoken),
            "ttsCharacters": sum(len(m["message"]) for m in spoken if m["role"] == "bot"),
        },
        "costs": [
            {"type": "transport", "provider": "vapi.sip" if call["type"] != "webCall" else "daily", "minutes": minutes, "cost": breakdown["transport"]},
            {"type": "vapi", "subType": "normal", "minutes": minutes, "cost": breakdown["vapi"]},
        ],
    }


def _valid_number(number: str) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def routes(sb: Sandbox) -> list[Route]:
    def assistant_of(body: dict[str, Any]) -> dict[str, Any]:
        """The assistant side of a call (for its name, firstMessage and prompt); 400 if unknown."""
        chosen = [k for k in ("assistantId", "assistant", "squadId", "squad", "workflowId", "workflow") if body.get(k) is not None]
        if len(chosen) != 1:
            raise ApiError(400, ["Need Exactly One Of `assistantId`, `assistant`, `squadId`, `squad`, `workflowId`, `workflow`."])
        key = chosen[0]
        if key == "assistantId":
            assistant = sb.store.assistants.get(body[key])
            if assistant is None:
                raise ApiError(400, f"Couldn't Get Assistant. `assistantId` {body[key]} Not Found.")
            return assistant
        if key == "squadId" and body[key] not in sb.store.squads:
            raise ApiError(400, f"Couldn't Get Squad. `squadId` {body[key]} Not Found.")
        return body[key] if key == "assistant" else {}

    def new_call(request: Request, body: dict[str, Any], assistant: dict[str, Any], call_type: str, **fields: Any) -> dict[str, Any]:
        now = sb.clock.now()
        call = stamp(sb.clock, type=call_type, **{k: v for k, v in body.items() if k not in ("customers",)}, **fields)
        earliest = (body.get("schedulePlan") or {}).get("earliestAt")
        call["_start"] = max(now, parse_iso(earliest)) if earliest else now
        name = assistant.get("name") or "the assistant"
        call["_first_message"] = assistant.get("firstMessage") or f"Hello, this is {name}. How can I help you today?"
        messages = (assistant.get("model") or {}).get("messages") or []
        call["_system_prompt"] = next((m.get("content") for m in messages if m.get("role") == "system"), f"You are {name}.")
        call["_outputs_plan"] = outputs_plan(assistant.get("artifactPlan"), sb.store.structured_outputs, new_id)
        base = call["_base"] = str(request.base_url)
        call["monitor"] = {
            "listenUrl": base.replace("http", "ws", 1) + f"call/{call['id']}/listen",
            "controlUrl": base + f"call/{call['id']}/control",
        }
        sb.store.calls[call["id"]] = call
        return call

    def customer_error(customer: dict[str, Any], phone_number: dict[str, Any]) -> str | None:
        """Why Vapi would not dial this customer, or None."""
        number = customer.get("number")
        if number is None:
            return None if customer.get("sipUri") else "customer.number should not be empty"
        problem = number_problem(number, customer.get("numberE164CheckEnabled") is not False, "customer.number")
        if problem:
            return problem
        return None

    def outbound(request: Request, body: dict[str, Any], assistant: dict[str, Any], phone_number: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """An outbound phone call; from a free Vapi number (inbound only) it ends at its start, never dialled."""
        call = new_call(request, body, assistant, "outboundPhoneCall", **fields)
        if phone_number.get("provider") == "vapi":
            call.update(_ended_at=call["_start"], _ended_reason=NO_OUTBOUND)
        return call

    async def create_call(request: Request) -> JSONResponse:
        body = await body_of(request, CREATE_CALL)
        assistant = assistant_of(body)
        plan = body.get("schedulePlan")
        if plan and plan.get("latestAt") and parse_iso(plan["latestAt"]) < parse_iso(plan["earliestAt"]):
            raise ApiError(400, ["schedulePlan.latestAt must be after schedulePlan.earliestAt"])
        if body.get("customer") is not None and body.get("customers") is not None:
            raise ApiError(400, ["Need Either `customer` Or `customers`, Not Both."])
        if body.get("phoneNumberId") is None:
            raise ApiError(400, ["Need Either `phoneNumberId` Or `phoneNumber`. For a web call, use POST /call/web."])
        phone_number = sb.store.phone_numbers.get(body["phoneNumberId"])
        if phone_number is None:
            raise ApiError(400, f"Couldn't Get Phone Number. `phoneNumberId` {body['phoneNumberId']} Not Found.")
        fields = {"phoneCallProvider": phone_number.get("provider"), "phoneCallTransport": "pstn"}
        if body.get("customers") is not None:
            results, errors = [], []
            for customer in body["customers"]:
                error = customer_error(customer, phone_number)
                if error:
                    errors.append({"customer": customer, "error": error})
                else:
                    one = {**body, "customer": customer}
                    results.append(live(outbound(request, one, assistant, phone_number, **fields), sb.clock.now()))
            return JSONResponse({"results": results, "errors": errors}, status_code=201)
        if body.get("customer") is None and body.get("customerId") is None:
            raise ApiError(400, ["Need Either `customerId` Or `customer` Or `customers`."])
        error = body.get("customer") and customer_error(body["customer"], phone_number)
        if error:
            raise ApiError(400, [error])
        call = outbound(request, body, assistant, phone_number, **fields)
        return JSONResponse(live(call, sb.clock.now()), status_code=201)

    async def create_web_call(request: Request) -> JSONResponse:
        body = await body_of(request, CREATE_WEB_CALL)
        call = new_call(request, body, assistant_of(body), "webCall")
        call["webCallUrl"] = str(request.base_url) + f"web-call/{call['id']}"
        return JSONResponse(live(call, sb.clock.now()), status_code=201)

    async def list_calls(request: Request) -> JSONResponse:
        query = query_of(request, LIST_QUERY)
        calls = list(sb.store.calls.values())
        for key in ("id", "assistantId", "phoneNumberId"):
            if key in query:
                calls = [c for c in calls if c.get(key) == query[key]]
        now = sb.clock.now()
        return JSONResponse([live(c, now) for c in paginate(calls, query)])

    async def get_call(request: Request) -> JSONResponse:
        return JSONResponse(live(find(sb.store.calls, request, "Call"), sb.clock.now()))

    async def update_call(request: Request) -> JSONResponse:
        call = find(sb.store.calls, request, "Call")
        call.update(await body_of(request, UPDATE_CALL), updatedAt=iso(sb.clock.now()))
        return JSONResponse(live(call, sb.clock.now()))

    async def delete_call(request: Request) -> JSONResponse:
        call = find(sb.store.calls, request, "Call")
        body = await body_of(request, DELETE_CALL)
        now = sb.clock.now()
        for call_id in body.get("ids") or [call["id"]]:
            sb.store.calls.pop(call_id, None)
        return JSONResponse(live(call, now))

    async def control(request: Request) -> JSONResponse:
        """Live call control (`monitor.controlUrl`): Vapi serves it without the API key."""
        call = find(sb.store.calls, request, "Call")
        body = await body_of(request, CONTROL)
        if body["type"] != "end-call":
            raise ApiError(400, [f"type {body['type']} is not supported by the sandbox (only end-call)"])
        now = sb.clock.now()
        status = live(call, now)["status"]
        if status == "scheduled":
            raise ApiError(400, "Call has not started yet. Delete it to cancel a scheduled call.")
        if status != "ended":
            call.update(_ended_at=now, _ended_reason="manually-canceled", updatedAt=iso(now))
        return JSONResponse({"status": "ok"})

    return [
        *collection_routes("/call", create_call, list_calls, get_call, update_call, delete_call),
        Route("/call/web", create_web_call, methods=["POST"]),
        Route("/call/{id}/control", control, methods=["POST"]),
    ]

