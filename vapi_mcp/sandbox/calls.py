"""/call: create (phone, scheduled, batch), web calls, list, get, update, delete, live control.

A call's status is computed from the sandbox clock whenever it is read:
`scheduled` until `schedulePlan.earliestAt`, then `queued` → `ringing` → `in-progress` →
`ended` within `LIFETIME` seconds (a call from a free Vapi number, which takes inbound calls only,
ends at its start with `call.start.error-get-transport`), shaped like the OpenAPI `Call` (which repeats its transcript
in several places).

Its conversation comes from its assistant, by the conversation engine's rules (conversation.py).
When a call is created its assistant is kept on it as it is then (`_assistant`: the saved or
transient assistant, a squad's first member, or a transient workflow, with `assistantOverrides`
and the customer's own overrides applied; `_variables`: their `variableValues`), so a later
change to the assistant changes the next call, not this one. The first time the call is read
after it was answered, the conversation is played once and kept on the call (`_conversation`):
an outbound call (`outboundPhoneCall`) is the assistant calling the customer, who answers, and
hears `firstMessage` rendered ("Hi {{customer.name}}" → "Hi Jane"); any other call is inbound.
The customer's side is a caller without a script (conversation.Tester), or one following the
instructions a seeded call keeps (`_caller`). The messages are spread over the talking time; a
call hung up early stops mid-conversation. Its `analysis` is computed from the transcript spoken
(judging.analyse, with the assistant's `analysisPlan`) and kept for it, its structured outputs
too (judging.call_outputs); a response with a transcript says once that the conversation is
drawn by rule (conversation.NOTE_HEADER). Its `endedReason`, unless something else ended it (a
hang-up by live control, a campaign call's outcome), is the conversation's.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import phonenumbers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import artifacts, knowledge
from .assistants import ASSISTANT, ASSISTANT_OVERRIDES, SQUAD
from .clock import iso, parse_iso
from .conversation import Agent, Direction, Line, Tester, converse, note_headers, transcript_text, with_overrides
from .core import BASE_URL, DATE_FILTERS, ApiError, body_of, collection_routes, find, new_id, paginate, query_of, sandbox_of, stamp
from .judging import analyse, call_outputs, outputs_plan
from .phone_numbers import IMPORT_TWILIO
from .validation import OPEN, Any_, Arr, Bool, Num, Obj, Rule, Str, Tagged, number_problem

if TYPE_CHECKING:
    from . import Sandbox

LIST_QUERY = {
    "id": Str(),
    "assistantId": Str(),
    "phoneNumberId": Str(),
    "limit": Num(minimum=0, maximum=1000),
    **DATE_FILTERS,
}

OVERRIDES = ASSISTANT_OVERRIDES
CUSTOMER = Obj(
    {
        "numberE164CheckEnabled": Bool(),
        "extension": Str(max_len=10),
        "assistantOverrides": ASSISTANT_OVERRIDES,
        "squadOverrides": ASSISTANT_OVERRIDES,
        "number": Str(min_len=3, max_len=40),
        "sipUri": Str(),
        "name": Str(max_len=40),
        "email": Str(max_len=40),
        "externalId": Str(max_len=40),
    }
)
"""CreateCustomerDTO (its number is checked by `customer_error`, with the calling number in view)."""
SCHEDULE_PLAN = Obj({"earliestAt": Str(date_time=True), "latestAt": Str(date_time=True)}, required=("earliestAt",))
AUDIO_FORMAT = Obj(
    {"sampleRate": Num(minimum=0, maximum=192000), "format": Str(enum=("pcm_s16le", "mulaw")), "container": Str(enum=("raw",))},
    required=("sampleRate", "format"),
)
"""AudioFormat."""


def _transport(provider: str, **fields: Rule) -> Obj:
    return Obj({"conversationType": Str(enum=("voice",)), "provider": Str(enum=(provider,)), **fields}, required=("provider",))


TRANSPORT = Tagged(
    "provider",
    {
        "vapi.websocket": _transport("vapi.websocket", audioFormat=AUDIO_FORMAT),
        "vonage": _transport("vonage", conversationUUID=Str(), callUUID=Str()),
        "twilio": _transport("twilio", accountSid=Str(), callSid=Str(), callToken=Str(), forwardedFrom=Str()),
        "vapi.sip": _transport("vapi.sip", dialTimeout=Num(minimum=1, maximum=600), sbcCallSid=Str(), callSid=Str()),
        "telnyx": _transport("telnyx", callControlId=Str(), callLegId=Str(), callSessionId=Str()),
        "daily": _transport("daily", roomDeleteOnUserLeaveEnabled=Bool(), callUrl=Str(), callSipUri=Str()),
    },
)
"""CreateCallDTO.transport: Vapi{Websocket,Sip,WebCall}Transport, Vonage, Twilio and Telnyx transports."""
_CALLEE: dict[str, Rule] = {
    "assistantVersion": Str(nullable=True),
    "assistantId": Str(),
    "assistant": ASSISTANT,
    "assistantOverrides": ASSISTANT_OVERRIDES,
    "squadId": Str(),
    "squad": SQUAD,
    "squadOverrides": ASSISTANT_OVERRIDES,
    "workflowId": Str(),
    "workflow": Any_(),  # CreateWorkflowDTO: not modelled (the sandbox runs no workflows)
    "workflowOverrides": Obj({"variableValues": OPEN}),
}
"""Who answers a call: an assistant, a squad or a workflow, saved or transient, with overrides."""
CREATE_CALL = Obj(
    {
        **_CALLEE,
        "transport": TRANSPORT,
        "customers": Arr(CUSTOMER),
        "name": Str(max_len=40),
        "schedulePlan": SCHEDULE_PLAN,
        "phoneNumberId": Str(),
        "phoneNumber": IMPORT_TWILIO,
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

MAX_TURNS = 10
"""The caller's lines at most in one sandbox call."""

NO_OUTBOUND = "call.start.error-get-transport"
"""How a call from a free Vapi number ends: Vapi's free numbers take inbound calls only, so it finds no transport to dial out."""

RATES = {"transport": 0.01, "stt": 0.01, "llm": 0.02, "tts": 0.036, "vapi": 0.05}
"""USD per minute for the cost breakdown."""


def public(call: dict[str, Any]) -> dict[str, Any]:
    """The call as Vapi returns it (the sandbox's private bookkeeping removed)."""
    return {k: v for k, v in call.items() if not k.startswith("_")}


def links(call: dict[str, Any]) -> dict[str, Any]:
    """`monitor` (and a web call's `webCallUrl`) on the sandbox that serves the call, unless the call keeps its own."""
    base = BASE_URL.get()
    out: dict[str, Any] = {}
    if "monitor" not in call:
        out["monitor"] = {"listenUrl": base.replace("http", "ws", 1) + f"call/{call['id']}/listen", "controlUrl": base + f"call/{call['id']}/control"}
    if call.get("type") == "webCall" and "webCallUrl" not in call:
        out["webCallUrl"] = base + f"web-call/{call['id']}"
    return out


def live(call: dict[str, Any], now: datetime, *, full: bool = True) -> dict[str, Any]:
    """The call as it stands at `now` on the sandbox clock (`full=False`: its status and times, without what it said)."""
    start: datetime = call["_start"]
    ended_at: datetime | None = call.get("_ended_at")
    if ended_at is not None and ended_at > now:
        ended_at = None  # an end still to come (a campaign call's outcome)
    out = {**public(call), **links(call)}
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
    reason = call.get("_ended_reason") or conversation(call)["endedReason"]
    out.update(status="ended", endedReason=reason, endedAt=iso(end), updatedAt=iso(max(end, parse_iso(out["updatedAt"]))))
    if not full:
        return out
    if end > answered:
        out.update(_artifacts(call, answered, end, reason))
    return artifacts.decorate(out, call, now)


def answer(views: list[dict[str, Any]], status_code: int = 200, body: Any = None) -> JSONResponse:
    """The response, saying once that the conversation is drawn by rule when one of `views` has a transcript."""
    spoke = any((v.get("artifact") or {}).get("transcript") for v in views)
    return JSONResponse(views[0] if body is None else body, status_code=status_code, headers=note_headers(spoke))


def direction_of(call: Mapping[str, Any]) -> Direction:
    """Outbound when the assistant called the customer; a web call or an inbound call is inbound."""
    return "outbound" if call.get("type") == "outboundPhoneCall" else "inbound"


def conversation(call: dict[str, Any]) -> dict[str, Any]:
    """The call's conversation, played once from its assistant and kept on the call:
    `{"system": rendered prompt, "lines": [[role, text], ...], "endedReason": ...}`."""
    kept = call.get("_conversation")
    if kept is not None:
        return kept
    direction = direction_of(call)
    customer: dict[str, Any] = call["customer"] if isinstance(call.get("customer"), dict) else {}
    agent = Agent(
        _assistant_of(call),
        now=call["_start"] + timedelta(seconds=QUEUED + RINGING),
        direction=direction,
        variables=call.get("_variables"),
        customer=customer,
        documents=call.get("_documents") or (),
    )
    caller = Tester(str(call.get("_caller") or ""), direction=direction, name=customer.get("name"))
    played = converse(agent, caller, max_turns=MAX_TURNS)
    kept = {"system": agent.prompt_text, "lines": [[line.role, line.text] for line in played.lines], "endedReason": played.ended_reason}
    call["_conversation"] = kept
    return kept


def _assistant_of(call: Mapping[str, Any]) -> dict[str, Any]:
    """The assistant the call keeps (a call stored before calls kept one has only its first message and prompt)."""
    if isinstance(call.get("_assistant"), dict):
        return call["_assistant"]
    legacy: dict[str, Any] = {}
    if call.get("_first_message"):
        legacy["firstMessage"] = call["_first_message"]
    if call.get("_system_prompt"):
        legacy["model"] = {"messages": [{"role": "system", "content": call["_system_prompt"]}]}
    return legacy


def _artifacts(call: dict[str, Any], answered: datetime, end: datetime, reason: str) -> dict[str, Any]:
    """Messages, artifact, analysis and costs of a call that talked from `answered` to `end`."""
    talk = (end - answered).total_seconds()
    played = conversation(call)
    lines = played["lines"]
    step = max(talk, TALKING) / max(len(lines), 1)  # a call hung up early stops mid-conversation
    t0 = answered.timestamp() * 1000
    messages: list[dict[str, Any]] = []
    if played["system"]:
        messages.append({"role": "system", "message": played["system"], "time": t0, "secondsFromStart": 0})
    spoken: list[Line] = []
    for i, (role, text) in enumerate(lines):
        at = i * step
        if at >= talk:
            break
        turn = {"message": text, "time": t0 + at * 1000, "endTime": t0 + (at + step * 0.9) * 1000, "secondsFromStart": at, "duration": step * 900}
        if role == "assistant":
            messages.append({"role": "bot", **turn, "source": ""})
        else:
            messages.append({"role": "user", **turn, "isFiltered": False})
        spoken.append(Line(role, text))
    transcript = transcript_text(spoken)
    minutes = talk / 60
    breakdown = {k: round(rate * minutes, 6) for k, rate in RATES.items()}
    total = round(sum(breakdown.values()), 6)
    recording = f"https://storage.vapi.ai/sandbox/{call['id']}"
    outputs = call_outputs(call, spoken, now=answered, seconds=talk, ended_reason=reason)
    said = [line for line in spoken if line.role == "assistant"]
    out: dict[str, Any] = {
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
        "cost": total,
        "costBreakdown": {
            **breakdown,
            "total": total,
            "llmPromptTokens": 180 * len(spoken),
            "llmCompletionTokens": 22 * len(spoken),
            "ttsCharacters": sum(len(line.text) for line in said),
        },
        "costs": [
            {"type": "transport", "provider": "vapi.sip" if call["type"] != "webCall" else "daily", "minutes": minutes, "cost": breakdown["transport"]},
            {"type": "vapi", "subType": "normal", "minutes": minutes, "cost": breakdown["vapi"]},
        ],
    }
    analysis = _analysis(call, spoken, played["system"], reason, answered)
    if analysis:
        out["analysis"] = analysis
    return out


def _analysis(call: dict[str, Any], spoken: list[Line], system: str, reason: str, answered: datetime) -> dict[str, Any]:
    """`analysis` of the conversation spoken, computed once for what was spoken and why it ended, and kept on the call."""
    key = [len(spoken), reason]
    kept = call.get("_analysis")
    if kept is None or kept.get("key") != key:
        plan = _assistant_of(call).get("analysisPlan")
        kept = {"key": key, "analysis": analyse(spoken, plan if isinstance(plan, Mapping) else None, system_prompt=system, ended_reason=reason, now=answered)}
        call["_analysis"] = kept
    return copy.deepcopy(kept["analysis"])


def _valid_number(number: str) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def assistant_of(sb: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """Who speaks for the call: the assistant, a squad's first member, or a transient workflow; 400 if unknown."""
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
    if key in ("squadId", "squad"):
        return first_member(sb, sb.store.squads[body[key]] if key == "squadId" else body[key])
    return body[key] if key in ("assistant", "workflow") else {}


def first_member(sb: Sandbox, squad: Mapping[str, Any]) -> dict[str, Any]:
    """The assistant a squad's call starts with: its first member's (inline, or saved by id), its overrides applied."""
    members = squad["members"] if isinstance(squad.get("members"), list) else []
    first = members[0] if members and isinstance(members[0], dict) else {}
    assistant: dict[str, Any] = first["assistant"] if isinstance(first.get("assistant"), dict) else sb.store.assistants.get(first.get("assistantId") or "") or {}
    return with_overrides(assistant, first.get("assistantOverrides") if isinstance(first.get("assistantOverrides"), dict) else None)[0]


def outbound(sb: Sandbox, body: dict[str, Any], assistant: dict[str, Any], phone_number: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    """An outbound phone call; from a free Vapi number (inbound only) it ends at its start, never dialled."""
    call = new_call(sb, body, assistant, "outboundPhoneCall", **fields)
    if phone_number.get("provider") == "vapi":
        call.update(_ended_at=call["_start"], _ended_reason=NO_OUTBOUND)
    return call


def merged_overrides(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """`assistantOverrides` layered (a call's, then its customer's): a later object field is merged into an earlier one."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            out[key] = {**out[key], **value} if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def keep_assistant(sb: Sandbox, call: dict[str, Any], assistant: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> None:
    """Keep on `call` the assistant it talks with, as it is now (overrides applied), its variableValues and documents."""
    configured, variables = with_overrides(copy.deepcopy(dict(assistant)), copy.deepcopy(dict(overrides or {})))
    call["_assistant"] = configured
    if variables:
        call["_variables"] = variables
    documents = knowledge.documents_for(sb, configured)
    if documents:
        call["_documents"] = documents


def new_call(sb: Sandbox, body: dict[str, Any], assistant: dict[str, Any], call_type: str, **fields: Any) -> dict[str, Any]:
    """Store a call made now (or scheduled by `schedulePlan.earliestAt`) with the assistant it talks with."""
    now = sb.now()
    call = stamp(sb, type=call_type, **{k: v for k, v in body.items() if k not in ("customers",)}, **fields)
    earliest = (body.get("schedulePlan") or {}).get("earliestAt")
    call["_start"] = max(now, parse_iso(earliest)) if earliest else now
    customer: dict[str, Any] = body["customer"] if isinstance(body.get("customer"), dict) else {}
    keep_assistant(sb, call, assistant, merged_overrides(body.get("assistantOverrides"), customer.get("assistantOverrides")))
    call["_outputs_plan"] = outputs_plan(call["_assistant"].get("artifactPlan"), sb.store.structured_outputs, new_id, sb.store.scorecards)
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


TWILIO_SECRETS = ("twilioAuthToken", "twilioApiKey", "twilioApiSecret")
"""What a call's transient Twilio number is never answered with (Vapi's SDK models it as TransientTwilioPhoneNumber, without them)."""


def calling_number(sb: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """The number a phone call is made from: a saved one (`phoneNumberId`), or a Twilio number given with the
    call (`phoneNumber`, an ImportTwilioPhoneNumberDTO that is not saved)."""
    if (body.get("phoneNumberId") is None) == (body.get("phoneNumber") is None):
        both = body.get("phoneNumberId") is not None
        raise ApiError(400, [f"Need Either `phoneNumberId` Or `phoneNumber`{', Not Both' if both else ''}. For a web call, use POST /call/web."])
    if body.get("phoneNumber") is not None:
        transient = body["phoneNumber"]
        return {"provider": "twilio", "number": transient["twilioPhoneNumber"], **{k: v for k, v in transient.items() if k != "twilioPhoneNumber"}}
    phone_number = sb.store.phone_numbers.get(body["phoneNumberId"])
    if phone_number is None:
        raise ApiError(400, f"Couldn't Get Phone Number. `phoneNumberId` {body['phoneNumberId']} Not Found.")
    return phone_number


async def create_call(request: Request) -> JSONResponse:
    """A phone call, now or scheduled, to one customer or (`customers`) a batch."""
    sb = sandbox_of(request)
    body = await body_of(request, CREATE_CALL)
    assistant = assistant_of(sb, body)
    plan = body.get("schedulePlan")
    if plan and plan.get("latestAt") and parse_iso(plan["latestAt"]) < parse_iso(plan["earliestAt"]):
        raise ApiError(400, ["schedulePlan.latestAt must be after schedulePlan.earliestAt"])
    if body.get("customer") is not None and body.get("customers") is not None:
        raise ApiError(400, ["Need Either `customer` Or `customers`, Not Both."])
    phone_number = calling_number(sb, body)
    if body.get("phoneNumber") is not None:  # a transient number is answered without its credentials (TransientTwilioPhoneNumber)
        body = {**body, "phoneNumber": {k: v for k, v in body["phoneNumber"].items() if k not in TWILIO_SECRETS}}
    fields = {"phoneCallProvider": phone_number.get("provider"), "phoneCallTransport": "pstn"}
    if body.get("customers") is not None:
        results, errors = [], []
        for customer in body["customers"]:
            error = customer_error(customer, phone_number)
            if error:
                errors.append({"customer": customer, "error": error})
            else:
                one = {**body, "customer": customer}
                results.append(live(outbound(sb, one, assistant, phone_number, **fields), sb.now()))
        return answer(results, 201, body={"results": results, "errors": errors})
    if body.get("customer") is None and body.get("customerId") is None:
        raise ApiError(400, ["Need Either `customerId` Or `customer` Or `customers`."])
    error = body.get("customer") and customer_error(body["customer"], phone_number)
    if error:
        raise ApiError(400, [error])
    call = outbound(sb, body, assistant, phone_number, **fields)
    return answer([live(call, sb.now())], 201)


async def create_web_call(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    body = await body_of(request, CREATE_WEB_CALL)
    call = new_call(sb, body, assistant_of(sb, body), "webCall")
    return answer([live(call, sb.now())], 201)


async def list_calls(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    query = query_of(request, LIST_QUERY)
    found = sb.store.calls.values()
    for key in ("id", "assistantId", "phoneNumberId"):
        if key in query:
            found = [c for c in found if c.get(key) == query[key]]
    now = sb.now()
    views = [live(c, now) for c in paginate(found, query)]
    return answer(views, body=views)


async def get_call(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    return answer([live(find(sb.store.calls, request, "Call"), sb.now())])


async def update_call(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    call = find(sb.store.calls, request, "Call")
    call.update(await body_of(request, UPDATE_CALL), updatedAt=iso(sb.now()))
    return answer([live(call, sb.now())])


async def delete_call(request: Request) -> JSONResponse:
    """Delete a call (cancelling it if scheduled); `ids` deletes several."""
    sb = sandbox_of(request)
    call = find(sb.store.calls, request, "Call")
    body = await body_of(request, DELETE_CALL)
    now = sb.now()
    for call_id in body.get("ids") or [call["id"]]:
        sb.store.calls.pop(call_id, None)
    return JSONResponse(live(call, now))  # what was deleted, not a conversation anyone reads: no note


async def control(request: Request) -> JSONResponse:
    """Live call control (`monitor.controlUrl`): Vapi serves it without the API key."""
    sb = sandbox_of(request)
    call = find(sb.store.calls, request, "Call")
    body = await body_of(request, CONTROL)
    if body["type"] != "end-call":
        raise ApiError(400, [f"type {body['type']} is not supported by the sandbox (only end-call)"])
    now = sb.now()
    status = live(call, now, full=False)["status"]
    if status == "scheduled":
        raise ApiError(400, "Call has not started yet. Delete it to cancel a scheduled call.")
    if status != "ended":
        call.update(_ended_at=now, _ended_reason="manually-canceled", updatedAt=iso(now))
    return JSONResponse({"status": "ok"})


def upcoming(sb: Sandbox, now: datetime) -> list[tuple[str, str, datetime]]:
    """Calls waiting for their `schedulePlan.earliestAt`: ("call", id, when it starts)."""
    return [("call", call["id"], call["_start"]) for call in sb.store.calls.values() if call["_start"] > now and call.get("_ended_at") is None]


routes = [
    *collection_routes("/call", create_call, list_calls, get_call, update_call, delete_call),
    Route("/call/web", create_web_call, methods=["POST"]),
    Route("/call/{id}/control", control, methods=["POST"]),
]
BODIES: dict[tuple[str, str], Rule] = {
    ("POST", "/call"): CREATE_CALL,
    ("POST", "/call/web"): CREATE_WEB_CALL,
    ("PATCH", "/call/{id}"): UPDATE_CALL,
    ("DELETE", "/call/{id}"): DELETE_CALL,
}
"""The request bodies this module validates, by route (the tests compare each with the document; /call/web's
body is the document's CreateWebCallDTO, a route its paths do not list)."""
