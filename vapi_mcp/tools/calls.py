"""Calls: place (phone, web, scheduled, batch), list, inspect, wait for, end and delete."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Awaitable, Callable, ClassVar, Literal

import anyio
from pydantic import Field

from ..client import vapi_id
from ..errors import InputError, VapiError, VapiMCPError
from ..guard import Callee
from .base import (
    Args,
    DeleteArgs,
    Guarded,
    IdArgs,
    Object,
    PassThrough,
    ToolContext,
    ToolGroup,
    delete_confirmed,
)

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from ..server import App

toolset = "calls"
tools = ToolGroup()

Timestamp = str
Part = Literal["transcript", "analysis", "recording", "cost", "raw"]
STATUSES = ("scheduled", "queued", "ringing", "in-progress", "forwarding", "ended")
"""A call's statuses in lifecycle order."""


class Customer(PassThrough):
    # CreateCustomerDTO: the typed fields are the common ones; email, externalId, sipUri... pass through.
    number: str | None = Field(None, description="E.164, e.g. +14155550123.")
    name: str | None = Field(None, max_length=40)
    numberE164CheckEnabled: bool | None = None
    extension: str | None = Field(None, max_length=10)


class SchedulePlan(Args):
    earliestAt: datetime
    latestAt: datetime | None = None


class CreateCallArgs(Guarded):
    assistantId: str | None = None
    assistant: Object | None = Field(None, description="Transient assistant: CreateAssistantDTO.")
    squadId: str | None = None
    squad: Object | None = None
    assistantOverrides: Object | None = None
    phoneNumberId: str | None = None
    customer: Customer | None = None
    customers: list[Customer] | None = None
    schedulePlan: SchedulePlan | None = None
    name: str | None = Field(None, max_length=40)
    metadata: Object | None = Field(None, description="Sent as assistantOverrides.metadata.")

    local_fields: ClassVar[frozenset[str]] = frozenset({"confirmToken", "metadata"})


class ListCallsArgs(Args):
    assistantId: str | None = None
    phoneNumberId: str | None = None
    createdAtGt: Timestamp | None = None
    createdAtLt: Timestamp | None = None
    createdAtGe: Timestamp | None = None
    createdAtLe: Timestamp | None = None
    updatedAtGt: Timestamp | None = None
    updatedAtLt: Timestamp | None = None
    updatedAtGe: Timestamp | None = None
    updatedAtLe: Timestamp | None = None
    limit: int = Field(20, ge=1, le=1000)


class GetCallArgs(Args):
    id: str
    include: list[Part] | None = Field(None, description="Only these parts; raw is Vapi's whole object.")

    local_fields: ClassVar[frozenset[str]] = frozenset({"include"})


class WaitForCallArgs(Args):
    id: str
    status: Literal["ringing", "in-progress", "ended"] = "ended"
    timeout: float = Field(120, ge=1, le=600, description="Seconds.")


def _seconds(call: dict[str, Any]) -> float | None:
    started, ended = call.get("startedAt"), call.get("endedAt")
    if not (started and ended):
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return round((parse(ended) - parse(started)).total_seconds(), 1)


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v not in (None, {}, [])}


def call_row(call: dict[str, Any]) -> dict[str, Any]:
    """One compact line per call for list results."""
    customer = call.get("customer") or {}
    return _compact(
        {
            "id": call.get("id"),
            "status": call.get("status"),
            "type": call.get("type"),
            "customer": customer.get("number") or customer.get("name"),
            "assistantId": call.get("assistantId"),
            "startedAt": call.get("startedAt"),
            "seconds": _seconds(call),
            "endedReason": call.get("endedReason"),
            "cost": call.get("cost"),
        }
    )


def transcript_turns(call: dict[str, Any]) -> list[str]:
    """The spoken turns once, as 'AI: ...' / 'User: ...' lines."""
    messages = call.get("messages") or (call.get("artifact") or {}).get("messages") or []
    speakers = {"bot": "AI", "assistant": "AI", "user": "User"}
    return [f"{speakers[m['role']]}: {m['message']}" for m in messages if m.get("role") in speakers and m.get("message")]


def call_view(call: dict[str, Any], include: list[str] | None = None) -> dict[str, Any]:
    """The compact view of one call: its transcript once, as turns."""
    if include and "raw" in include:
        return {"call": call}
    parts = set(include or ("transcript", "analysis", "recording", "cost"))
    artifact = call.get("artifact") or {}
    analysis = call.get("analysis") or {}
    view = call_row(call) | _compact(
        {
            "name": call.get("name"),
            "createdAt": call.get("createdAt"),
            "endedAt": call.get("endedAt"),
            "phoneNumberId": call.get("phoneNumberId"),
            "squadId": call.get("squadId"),
            "earliestAt": (call.get("schedulePlan") or {}).get("earliestAt"),
            "metadata": (call.get("assistantOverrides") or {}).get("metadata"),
        }
    )
    if "transcript" in parts:
        view["transcript"] = transcript_turns(call)
    if "recording" in parts:
        view["recording"] = _compact(
            {
                "recordingUrl": artifact.get("recordingUrl"),
                "stereoRecordingUrl": artifact.get("stereoRecordingUrl") or (artifact.get("recording") or {}).get("stereoUrl"),
            }
        )
    if "analysis" in parts:
        view["analysis"] = _compact({k: analysis.get(k) for k in ("summary", "successEvaluation", "structuredData")})
    if "cost" in parts:
        view["costBreakdown"] = {k: v for k, v in (call.get("costBreakdown") or {}).items() if isinstance(v, int | float) and v}
    return _compact(view)


def _check_callee(args: CreateCallArgs) -> None:
    chosen = [name for name in ("assistantId", "assistant", "squadId", "squad") if getattr(args, name, None) is not None]
    if len(chosen) != 1:
        raise InputError("assistantId", "give exactly one of assistantId, assistant, squadId or squad")
    if chosen[0].endswith("Id"):
        vapi_id(getattr(args, chosen[0]), chosen[0])


def _create_call_body(args: CreateCallArgs) -> dict[str, Any]:
    """The CreateCallDTO body; the guide's top-level `metadata` moves to `assistantOverrides.metadata`."""
    body = args.body()
    if args.metadata is not None:
        overrides = body.setdefault("assistantOverrides", {})
        overrides["metadata"] = {**(overrides.get("metadata") or {}), **args.metadata}
    return body


def _who(customers: list[Customer]) -> str:
    named = [f"{c.name} ({c.number})" if c.name else str(c.number) for c in customers]
    if len(named) == 1:
        return named[0]
    return f"{len(named)} numbers: " + ", ".join(named[:5]) + (", ..." if len(named) > 5 else "")


def _with(args: CreateCallArgs, name: str | None = None) -> str:
    if args.assistant is not None:
        return f"transient assistant {args.assistant.get('name') or '(unnamed)'}"
    if args.squad is not None:
        return "a transient squad"
    kind, ident = ("squad", args.squadId) if args.squadId else ("assistant", args.assistantId)
    return f"{kind} {name} ({ident})" if name else f"{kind} {ident}"


def _when(args: CreateCallArgs) -> str:
    plan = args.schedulePlan
    return f"not before {plan.earliestAt.isoformat()}." if plan else "now."


def _describer(args: CreateCallArgs, customers: list[Customer]) -> Callable[[ToolContext], Awaitable[str]]:
    """The summary a human confirms, with the calling number and the assistant by name."""

    async def describe(call: ToolContext) -> str:
        phone = await call.vapi.get(f"/phone-number/{args.phoneNumberId}")
        caller = phone.get("number") or args.phoneNumberId
        if phone.get("name"):
            caller += f" ({phone['name']})"
        named_id = args.squadId or args.assistantId
        name = None
        if named_id:
            owner = await call.vapi.get(f"/{'squad' if args.squadId else 'assistant'}/{named_id}")
            name = owner.get("name")
        return f"Call {_who(customers)} from {caller} with {_with(args, name)}, {_when(args)}"

    return describe


def _check_hint() -> str:
    """How to see whether a create that got no clear answer went through: calls since this attempt."""
    attempt = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"Check with list_calls createdAtGe={attempt} before trying again."


def _check_phone_call(args: CreateCallArgs) -> list[Customer]:
    """The customers of a phone call, after the rules Vapi would enforce; raises on a broken one."""
    if args.customer is not None and args.customers is not None:
        raise InputError("customers", "give either customer or customers, not both")
    customers = args.customers if args.customers is not None else [args.customer] if args.customer else []
    if not customers:
        raise InputError("customer", "is required with phoneNumberId (customers for a batch)")
    if args.phoneNumberId is None:
        raise InputError("phoneNumberId", "is required to call a phone (the Vapi number that places the call)")
    vapi_id(args.phoneNumberId, "phoneNumberId")
    for i, customer in enumerate(customers):
        if not customer.number:
            field = "customer.number" if args.customers is None else f"customers.{i}.number"
            raise InputError(field, "is required (E.164, e.g. +14155550123)")
    return customers


@tools.tool(title="Create call")
async def create_call(args: CreateCallArgs, call: ToolContext) -> dict[str, Any]:
    """Place a call (Vapi's POST /call body). Phone: phoneNumberId + customer (customers: batch),
    optional schedulePlan; it rings a real phone, so the user confirms. No phone fields: a web call,
    no confirmation, returns webCallUrl. One of assistantId/assistant/squadId/squad. metadata goes
    to assistantOverrides.metadata."""
    _check_callee(args)
    if args.customer is None and args.customers is None and args.phoneNumberId is None:
        return await _create_web_call(args, call)
    customers = _check_phone_call(args)
    body = _create_call_body(args)
    plan = args.schedulePlan
    action = args.action(
        call,
        kind="dial",
        summary=f"Call {_who(customers)} from phone number {args.phoneNumberId} with {_with(args)}, {_when(args)}",
        describe=_describer(args, customers),
        method="POST",
        path="/call",
        body=body,
        callees=[Callee(c.number or "", c.numberE164CheckEnabled is not False, c.name) for c in customers],
        phone_number_id=args.phoneNumberId,
        when=plan.earliestAt if plan else None,
    )
    check = _check_hint()
    async with call.guard.guarded(action, call) as record:
        data = await call.vapi.post("/call", body, check=check)
        created = data.get("results", []) if args.customers is not None else [data]
        record.ids = [c["id"] for c in created if c.get("id")]
    if args.customers is None:
        return call_view(data)
    errors = [{"customer": (e.get("customer") or {}).get("number"), "error": e.get("error")} for e in data.get("errors") or []]
    return {"calls": [call_row(c) for c in created], "errors": errors, "placed": len(created)}


async def _create_web_call(args: CreateCallArgs, call: ToolContext) -> dict[str, Any]:
    """A browser call (POST /call/web, CreateWebCallDTO): it rings no phone, so no confirmation."""
    for field in ("name", "schedulePlan"):
        if getattr(args, field) is not None:
            raise InputError(field, "applies to phone calls only (give phoneNumberId and customer); a web call has none")
    body = _create_call_body(args)
    data = await call.vapi.post("/call/web", body, check=_check_hint())
    return {**call_view(data), "webCallUrl": data.get("webCallUrl")}


@tools.tool(title="List calls", read_only=True)
async def list_calls(args: ListCallsArgs, call: ToolContext) -> dict[str, Any]:
    """Recent calls, newest first, one row each (status, customer, seconds, endedReason, cost...).
    Filters: assistantId, phoneNumberId, createdAt/updatedAt bounds (ISO 8601). get_call has the transcript."""
    for name in ("assistantId", "phoneNumberId"):
        if getattr(args, name):
            vapi_id(getattr(args, name), name)
    calls = await call.vapi.get("/call", params=args.body())
    return {"calls": [call_row(c) for c in calls], "count": len(calls)}


@tools.tool(title="Get call", read_only=True)
async def get_call(args: GetCallArgs, call: ToolContext) -> dict[str, Any]:
    """One call: status, endedReason, transcript (once, as turns), recording URLs, summary/analysis,
    cost breakdown, metadata; `include` narrows it."""
    data = await call.vapi.get(f"/call/{vapi_id(args.id)}")
    return call_view(data, args.include)


@tools.tool(title="Wait for call", read_only=True)
async def wait_for_call(args: WaitForCallArgs, call: ToolContext) -> dict[str, Any]:
    """Wait until a call reaches a status (default ended) or times out, with progress
    notifications; returns the get_call view (timedOut: true on timeout)."""
    path = f"/call/{vapi_id(args.id)}"
    target = STATUSES.index(args.status)
    deadline = anyio.current_time() + args.timeout
    interval, polls = 0.5, 0
    while True:
        data = await call.vapi.get(path)
        status = data.get("status")
        polls += 1
        await call.progress(polls, None, f"status: {status}")
        if status not in STATUSES or STATUSES.index(status) >= target:
            return call_view(data)
        remaining = deadline - anyio.current_time()
        if remaining <= 0:
            return {**call_view(data), "timedOut": True}
        await anyio.sleep(min(interval, remaining))
        interval = min(interval * 1.6, 5.0)


@tools.tool(title="End call", destructive=True, idempotent=True)
async def end_call(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """Hang up a live call (Vapi live call control); an ended call is left as is. Scheduled
    calls: delete_call."""
    path = f"/call/{vapi_id(args.id)}"
    data = await call.vapi.get(path)
    status = data.get("status")
    if status == "ended":
        return {**call_row(data), "alreadyEnded": True}
    if status == "scheduled":
        raise VapiMCPError(f"Call {args.id} is scheduled, not live, so there is nothing to end.", hint="Cancel it with delete_call.")
    control_url = (data.get("monitor") or {}).get("controlUrl")
    if not control_url:
        raise VapiError(
            f"Call {args.id} ({status}) has no live control URL (monitor.controlUrl).",
            hint="Vapi adds it when the assistant's monitorPlan.controlEnabled is true; end the call from the dashboard.",
        )
    await call.vapi.control(control_url, {"type": "end-call"})
    return call_row(await call.vapi.get(path))


@tools.tool(title="Delete call", destructive=True, idempotent=True)
async def delete_call(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a call (or cancel a scheduled one) with its transcript and recordings. Needs the
    user's confirmation."""
    path = f"/call/{vapi_id(args.id)}"
    data = await call.vapi.get(path)
    customer = (data.get("customer") or {}).get("number") or data.get("type")
    summary = f"Delete call {args.id} ({customer}, {data.get('status')}, created {data.get('createdAt')}) with its transcript and recordings."
    await delete_confirmed(call, args, path, summary, body={})
    return {"deleted": args.id}


PROMPT_TOOLS = frozenset({"chat_with_assistant", "create_call", "wait_for_call", "get_call"})
"""The tools the test-assistant prompt walks an agent through."""


def register_extras(server: MCPServer, app: App) -> None:
    """Resources vapi://calls/{id} and vapi://calls/{id}/transcript, and the test-assistant prompt."""
    from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

    from ..redact import scrubber

    async def fetch(call_id: str) -> dict[str, Any]:
        try:
            return await app.vapi.get(f"/call/{vapi_id(call_id)}")
        except VapiError as exc:
            error = ResourceNotFoundError if exc.status == 404 else ResourceError
            raise error(scrubber.scrub(exc.text())) from None
        except VapiMCPError as exc:
            raise ResourceNotFoundError(scrubber.scrub(exc.text())) from None

    @server.resource("vapi://calls/{id}", name="call", title="Vapi call", mime_type="application/json")
    async def call_resource(id: str) -> str:
        """A call's compact view (as get_call returns it)."""
        return json.dumps(call_view(await fetch(id)), separators=(",", ":"))

    @server.resource("vapi://calls/{id}/transcript", name="call-transcript", title="Call transcript", mime_type="text/plain")
    async def transcript_resource(id: str) -> str:
        """A call's transcript, one 'AI: ...' / 'User: ...' line per turn."""
        return "\n".join(transcript_turns(await fetch(id)))

    if not PROMPT_TOOLS <= app.offered:
        return  # the walk-through chats, places a call and reads it: only where all those tools are offered

    @server.prompt(name="test-assistant", title="Test a Vapi assistant")
    def test_assistant(assistantId: str, phoneNumberId: str = "", testNumber: str = "") -> str:
        """Chat test, then a confirmed test call, then a transcript review."""
        dial = (
            f"call {testNumber or 'a number the user gives you (their own phone, E.164)'} from phone number "
            f"{phoneNumberId or '(ask which, or use list_phone_numbers)'}"
        )
        return (
            f"Test the Vapi assistant {assistantId}.\n"
            f"1. Chat: use chat_with_assistant with assistantId {assistantId} and a realistic opening line, then "
            "continue with previousChatId for 2-3 turns. Report anything off (tone, wrong facts, no answer).\n"
            "2. Ask the user whether to place a real test call; only if they agree, use create_call to "
            f"{dial}. The call rings a real phone: confirm it with the user (pass the confirmToken only after "
            "they say yes).\n"
            "3. Use wait_for_call on the new call id until it ends.\n"
            "4. Review it with get_call: read the transcript, endedReason, analysis summary and cost; say what "
            "went well, what went wrong, and which assistant settings (firstMessage, prompt, voice) to change."
        )
