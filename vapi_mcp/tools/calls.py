"""Calls: place (phone, web, scheduled, batch), list, inspect, wait for, end and delete."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from mcp.server.mcpserver import Context  # at run time: resource functions get it by their annotation
from pydantic import Field, ValidationError, model_validator

from ..errors import InputError, VapiError, VapiMCPError
from ..guard import CallContext, Callee, target_of
from ..guard.facts import local_window, quoted, utc, who
from ..guard.policy import aware
from ..ids import VapiId, vapi_id
from . import ended_reasons, forensics
from .assistants import AssistantOverrides, Overrides, TransientAssistant, TransientSquad, nested_errors
from .base import (
    Args,
    DeleteArgs,
    Guarded,
    Host,
    IdArgs,
    Linked,
    Object,
    PassThrough,
    ToolContext,
    ToolGroup,
    check_created_since,
    delete_confirmed,
    lookup,
    non_empty,
    poll,
)

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

toolset = "calls"
tools = ToolGroup()

Timestamp = str
Part = Literal["transcript", "analysis", "recording", "cost", "logs", "latency", "pcap", "raw"]
PAGE_ROWS = 100
"""Rows in one list_calls page: ~25 KB of text at most, however large `limit` is."""
STATUSES = ("scheduled", "queued", "ringing", "in-progress", "forwarding", "ended")
"""A call's statuses in lifecycle order."""


class Customer(PassThrough):
    # CreateCustomerDTO: the typed fields are the common ones; email, externalId, sipUri... pass through.
    number: str | None = Field(None, description="E.164, e.g. +14155550123.")
    name: str | None = Field(None, max_length=40)
    numberE164CheckEnabled: bool | None = None
    extension: str | None = Field(None, max_length=10)

    @model_validator(mode="after")
    def _overrides(self) -> Customer:
        """A customer's assistantOverrides (CreateCustomerDTO) are checked like every AssistantOverrides (not listed:
        tools/list stays small)."""
        overrides = (self.model_extra or {}).get("assistantOverrides")
        if overrides is not None:
            try:
                Overrides.model_validate(overrides)
            except ValidationError as exc:
                raise ValueError(f"assistantOverrides: {nested_errors(exc)}") from None
        return self


class SchedulePlan(Args):
    earliestAt: datetime
    latestAt: datetime | None = None


class CreateCallArgs(Guarded):
    assistantId: VapiId | None = None
    assistant: TransientAssistant | None = Field(None, description="Transient assistant: CreateAssistantDTO.")
    squadId: VapiId | None = None
    squad: TransientSquad | None = None
    assistantOverrides: AssistantOverrides | None = None
    phoneNumberId: VapiId | None = None
    customer: Customer | None = None
    customers: list[Customer] | None = None
    schedulePlan: SchedulePlan | None = None
    name: str | None = Field(None, max_length=40)
    metadata: Object | None = Field(None, description="Sent as assistantOverrides.metadata.")

    local_fields: ClassVar[frozenset[str]] = frozenset({"confirmToken", "metadata"})


class ListCallsArgs(Args):
    assistantId: VapiId | None = None
    phoneNumberId: VapiId | None = None
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
    id: VapiId
    include: list[Part] | None = Field(None, description="Only these parts; raw is Vapi's whole object.")

    local_fields: ClassVar[frozenset[str]] = frozenset({"include"})


class WaitForCallArgs(Args):
    id: VapiId
    status: Literal["ringing", "in-progress", "ended"] = "ended"
    timeout: float = Field(120, ge=1, le=600, description="Seconds.")


def duration(call: dict[str, Any]) -> float | None:
    """Seconds from `startedAt` to `endedAt`; None until the call has both."""
    started, ended = call.get("startedAt"), call.get("endedAt")
    if not (started and ended):
        return None
    parse = lambda s: datetime.fromisoformat(str(s).replace("Z", "+00:00"))  # noqa: E731
    return (parse(ended) - parse(started)).total_seconds()


def call_row(call: dict[str, Any]) -> dict[str, Any]:
    """One compact line per call for list results."""
    customer = call.get("customer") or {}
    seconds = duration(call)
    return non_empty(
        {
            "id": call.get("id"),
            "status": call.get("status"),
            "type": call.get("type"),
            "customer": customer.get("number") or customer.get("name"),
            "assistantId": call.get("assistantId"),
            "startedAt": call.get("startedAt"),
            "seconds": None if seconds is None else round(seconds, 1),
            "endedReason": call.get("endedReason"),
            "cost": call.get("cost"),
        }
    )


def transcript_turns(call: dict[str, Any]) -> list[str]:
    """The spoken turns once, as 'AI: ...' / 'User: ...' lines."""
    messages = call.get("messages") or (call.get("artifact") or {}).get("messages") or []
    speakers = {"bot": "AI", "assistant": "AI", "user": "User"}
    return [f"{speakers[m['role']]}: {m['message']}" for m in messages if m.get("role") in speakers and m.get("message")]


def call_view(call: dict[str, Any], include: Sequence[str] | None = None) -> dict[str, Any]:
    """The compact view of one call: its transcript once, as turns."""
    if include and "raw" in include:
        return {"call": call}
    parts = set(include or ("transcript", "analysis", "recording", "cost"))
    artifact = call.get("artifact") or {}
    analysis = call.get("analysis") or {}
    view = call_row(call) | ended_reasons.describe(call.get("endedReason"), call.get("phoneCallProvider")) | non_empty(
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
        view["recording"] = non_empty(
            {
                "recordingUrl": artifact.get("recordingUrl"),
                "stereoRecordingUrl": artifact.get("stereoRecordingUrl") or (artifact.get("recording") or {}).get("stereoUrl"),
            }
        )
    if "analysis" in parts:
        view["analysis"] = non_empty({k: analysis.get(k) for k in ("summary", "successEvaluation", "structuredData")})
        view.update(outputs_view(artifact))
    if "cost" in parts:
        view["costBreakdown"] = {k: v for k, v in (call.get("costBreakdown") or {}).items() if isinstance(v, int | float) and v}
    return non_empty(view)


def outputs_view(artifact: dict[str, Any]) -> dict[str, Any]:
    """`artifact.structuredOutputs` as name -> value, and `artifact.scorecards` as name -> its score (scoreNormalized of
    100), the scorecard that produced it (`scorecardId`: get_scorecard shows it) and each metric's points by the name of
    the structured output it read."""

    def named(entries: dict[str, Any], value: Callable[[str, dict[str, Any]], Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for ident, entry in entries.items() if isinstance(entries, dict) else ():
            if isinstance(entry, dict):
                name = entry.get("name") or ident
                out[name if name not in out else f"{name} ({ident})"] = value(ident, entry)
        return out

    extracted = artifact.get("structuredOutputs") or {}
    outputs = named(extracted, lambda _, e: e.get("result"))

    def output_name(ident: str) -> str:
        entry = extracted.get(ident) if isinstance(extracted, dict) else None
        return str(entry.get("name") or ident) if isinstance(entry, dict) else ident

    def scored(ident: str, entry: dict[str, Any]) -> dict[str, Any]:
        points = entry.get("metricPoints")
        return non_empty(
            {
                "score": entry.get("score"),
                "scoreNormalized": entry.get("scoreNormalized"),
                "scorecardId": ident,
                "points": {output_name(k): v for k, v in points.items()} if isinstance(points, dict) else None,
            }
        )

    scorecards = named(artifact.get("scorecards") or {}, scored)
    return non_empty({"structuredOutputs": outputs, "scorecards": scorecards})


def _check_callee(args: CreateCallArgs) -> None:
    chosen = [name for name in ("assistantId", "assistant", "squadId", "squad") if getattr(args, name, None) is not None]
    if len(chosen) != 1:
        raise InputError("assistantId", "give exactly one of assistantId, assistant, squadId or squad")


def _create_call_body(args: CreateCallArgs) -> dict[str, Any]:
    """The CreateCallDTO body; the guide's top-level `metadata` moves to `assistantOverrides.metadata`."""
    body = args.body()
    if args.metadata is not None:
        overrides = body.setdefault("assistantOverrides", {})
        overrides["metadata"] = {**(overrides.get("metadata") or {}), **args.metadata}
    return body


def _callees(customers: list[Customer]) -> list[Callee]:
    return [Callee(c.number or "", c.numberE164CheckEnabled is not False, c.name) for c in customers]


def _with(args: CreateCallArgs, name: str | None = None) -> str:
    if args.assistant is not None:
        named = args.assistant.get("name")
        return f"transient assistant {quoted(named) if named else '(unnamed)'}"
    if args.squad is not None:
        return "a transient squad"
    kind, ident = ("squad", args.squadId) if args.squadId else ("assistant", args.assistantId)
    return f"{kind} {quoted(name)} ({ident})" if name else f"{kind} {ident}"


def _when(args: CreateCallArgs, customers: list[Customer]) -> str:
    """'now.', or the window in UTC and in each callee's own local time (as campaigns show it)."""
    plan = args.schedulePlan
    if plan is None:
        return "now."
    earliest = aware(plan.earliestAt)
    until = f" and not after {utc(aware(plan.latestAt))}" if plan.latestAt else ""
    local = local_window((c.number or "" for c in customers), earliest, aware(plan.latestAt) if plan.latestAt else None)
    whose = "the callee's" if len(customers) == 1 else "the callees'"
    return f"not before {utc(earliest)}{until} ({whose} local time: {local})."


def _describer(args: CreateCallArgs, customers: list[Customer]) -> Callable[[CallContext], Awaitable[str]]:
    """The summary a human confirms: the calling number and the assistant by name (quoted: names are agent text)."""

    async def describe(call: CallContext) -> str:
        phone_id = str(args.phoneNumberId)
        phone = await lookup(call, f"/phone-number/{phone_id}", "phoneNumberId", phone_id, "phone number", "list_phone_numbers")
        caller = str(phone.get("number") or phone.get("sipUri") or phone_id)
        if phone.get("name"):
            caller += f" ({quoted(phone['name'])})"
        named_id = args.squadId or args.assistantId
        name = None
        if named_id:
            what, field = ("squad", "squadId") if args.squadId else ("assistant", "assistantId")
            owner = await lookup(call, f"/{what}/{named_id}", field, named_id, what, f"list_{what}s")
            name = owner.get("name")
        return f"Call {who(_callees(customers))} from {caller} with {_with(args, name)}, {_when(args, customers)}"

    return describe


def _check_hint() -> str:
    """How to see whether a create that got no clear answer went through: calls since this attempt."""
    return check_created_since("list_calls", datetime.now(UTC))


def _check_phone_call(args: CreateCallArgs) -> list[Customer]:
    """The customers of a phone call, after the rules Vapi would enforce; raises on a broken one."""
    if args.customer is not None and args.customers is not None:
        raise InputError("customers", "give either customer or customers, not both")
    customers = args.customers if args.customers is not None else [args.customer] if args.customer else []
    if not customers:
        raise InputError("customer", "is required with phoneNumberId (customers for a batch)")
    if args.phoneNumberId is None:
        raise InputError("phoneNumberId", "is required to call a phone (the Vapi number that places the call)")
    for i, customer in enumerate(customers):
        if not customer.number:
            field = "customer.number" if args.customers is None else f"customers.{i}.number"
            raise InputError(field, "is required (E.164, e.g. +14155550123)")
    return customers


@tools.tool(
    title="Create call",
    read_only=False,
    sends=("POST /call", "POST /call/web", "GET /phone-number/{id}", "GET /assistant/{id}", "GET /squad/{id}"),
)
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
        summary=f"Call {who(_callees(customers))} from phone number {args.phoneNumberId} with {_with(args)}, {_when(args, customers)}",
        describe=_describer(args, customers),
        method="POST",
        path="/call",
        body=body,
        callees=_callees(customers),
        phone_number_id=args.phoneNumberId,
        when=plan.earliestAt if plan else None,
        latest=plan.latestAt if plan else None,
    )
    data = await call.send_guarded(
        action,
        check=_check_hint(),
        ids=lambda answer: [c["id"] for c in _placed(args, answer) if c.get("id")],
        numbers=lambda answer: {c["id"]: str((c.get("customer") or {}).get("number")) for c in _placed(args, answer) if c.get("id")},
    )
    created = _placed(args, data)
    if args.customers is None:
        return call_view(data)
    errors = [{"customer": (e.get("customer") or {}).get("number"), "error": e.get("error")} for e in data.get("errors") or []]
    return {"calls": [call_row(c) for c in created], "errors": errors, "placed": len(created)}


def _placed(args: CreateCallArgs, answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The calls a create placed: a batch answers `results`, a single call is the answer itself."""
    return answer.get("results", []) if args.customers is not None else [answer]


async def _create_web_call(args: CreateCallArgs, call: ToolContext) -> dict[str, Any]:
    """A browser call (POST /call/web, CreateWebCallDTO): it rings no phone, so no confirmation."""
    for field in ("name", "schedulePlan"):
        if getattr(args, field) is not None:
            raise InputError(field, "applies to phone calls only (give phoneNumberId and customer); a web call has none")
    body = _create_call_body(args)
    summary = f"Start a web call (no phone rings) with {_with(args)}."
    data = await call.send("POST", "/call/web", body, args=args, summary=summary, check=_check_hint())
    return {**call_view(data), "webCallUrl": data.get("webCallUrl")}


@tools.tool(title="List calls", read_only=True, sends=("GET /call",))
async def list_calls(args: ListCallsArgs, call: ToolContext) -> dict[str, Any]:
    """Recent calls, newest first, one row each (status, customer, seconds, endedReason, cost...),
    100 per page at most (`next` pages on). Filters: assistantId, phoneNumberId, createdAt/updatedAt
    bounds (ISO 8601). get_call has the transcript."""
    page = min(args.limit, PAGE_ROWS)
    calls = await call.vapi.get("/call", params={**args.body(), "limit": page + 1}, expect=list)  # one more: do more follow?
    shown, cursor = _page(calls, page)
    view: dict[str, Any] = {"calls": [call_row(c) for c in shown], "count": len(shown)}
    if cursor:
        (bound, value), = cursor.items()
        view["next"] = cursor
        view["more"] = (
            f"Older calls follow{f' (a page holds at most {PAGE_ROWS})' if args.limit > page else ''}: "
            f"repeat list_calls with the same filters and {bound}={value}."
        )
    return view


def _page(calls: list[dict[str, Any]], page: int) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """The rows to show and the bound that gives the next page, from one row more than a page.

    Usually `createdAtLt` of the last row shown. When the first row left out was created at the
    same instant, those tied rows move to the next page (`createdAtLe`): no call is skipped or repeated.
    """
    if len(calls) <= page:
        return calls, None
    shown, last = calls[:page], calls[page - 1].get("createdAt")
    if not last:
        return shown, None
    if calls[page].get("createdAt") != last:
        return shown, {"createdAtLt": last}
    newer = [c for c in shown if c.get("createdAt") != last]
    if not newer:  # a whole page created at one instant: go on past it
        return shown, {"createdAtLt": last}
    return newer, {"createdAtLe": last}


@tools.tool(title="Get call", read_only=True, sends=("GET /call/{id}", "GET /call/{id}/call-logs", "GET /call/{id}/pcap"))
async def get_call(args: GetCallArgs, call: ToolContext) -> dict[str, Any] | Linked:
    """One call: status, endedReason explained, transcript (once, as turns), recordings, analysis
    (with structured outputs and scorecards), costs, metadata; `include` narrows it; logs, latency
    and pcap (why it failed) only on request."""
    data = await call.vapi.get(f"/call/{args.id}")
    return await forensics.add(call_view(data, args.include), data, args.include, call)


@tools.tool(title="Wait for call", read_only=True, sends=("GET /call/{id}", "GET /sandbox/clock"))
async def wait_for_call(args: WaitForCallArgs, call: ToolContext) -> dict[str, Any]:
    """Wait until a call reaches a status (default ended) or times out, with progress
    notifications; returns the get_call view (timedOut: true on timeout)."""
    path = f"/call/{args.id}"
    target = STATUSES.index(args.status)
    answers = [await call.vapi.get(path)]
    later = await _starts_after(call, answers[0], args.timeout)
    if later is not None:  # a scheduled call that cannot start in time: say when, at once
        return later

    def reached(data: dict[str, Any]) -> bool:
        status = data.get("status")
        return status not in STATUSES or STATUSES.index(status) >= target

    async def fetch() -> dict[str, Any]:
        return answers.pop() if answers else await call.vapi.get(path)

    data, finished = await poll(call, fetch, reached, lambda d: f"status: {d.get('status')}", args.timeout)
    return call_view(data) if finished else {**call_view(data), "timedOut": True}


async def _starts_after(call: ToolContext, data: dict[str, Any], timeout: float) -> dict[str, Any] | None:
    """The view of a scheduled call that cannot start within `timeout` seconds, with when it starts
    (and, on the sandbox, how to move its clock there); None when waiting can see it start."""
    earliest = (data.get("schedulePlan") or {}).get("earliestAt")
    if data.get("status") != "scheduled" or not isinstance(earliest, str):
        return None
    try:
        starts = datetime.fromisoformat(earliest.replace("Z", "+00:00"))
    except ValueError:
        return None
    sandbox = target_of(call.vapi) == "sandbox"
    now = await _sandbox_now(call) if sandbox else datetime.now(UTC)
    seconds = (starts if starts.tzinfo else starts.replace(tzinfo=UTC)) - now
    if seconds.total_seconds() <= timeout:
        return None
    note = f"Call {data.get('id')} is scheduled to start at {earliest}, {_span(seconds.total_seconds())} from now: after this wait's {timeout:g} s, so nothing was waited for."
    if sandbox:
        note += f' On the sandbox, move its clock there with advance_sandbox_clock {{"to": "{earliest}"}} (or `vapi-mcp sandbox --advance {earliest}`), then wait again.'
    else:
        note += " Wait for it again once it is due."
    return {**call_view(data), "startsAt": earliest, "startsInSeconds": round(seconds.total_seconds()), "note": note}


async def _sandbox_now(call: ToolContext) -> datetime:
    """The sandbox's time (its clock may have been moved forward); this machine's if it cannot be read."""
    try:
        return datetime.fromisoformat(str((await call.vapi.get("/sandbox/clock"))["now"]).replace("Z", "+00:00"))
    except (VapiError, KeyError, TypeError, ValueError):
        return datetime.now(UTC)


def _span(seconds: float) -> str:
    """In 3 h 5 min, in 2 d 4 h: the two largest units."""
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "min")) if n][:2]
    return "in " + (" ".join(parts) or f"{seconds:.0f} s")


@tools.tool(title="End call", read_only=False, destructive=False, idempotent=True, sends=("GET /call/{id}", "POST <controlUrl>"))
async def end_call(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """Hang up a live call (Vapi live call control); an ended call is left as is. Scheduled
    calls: delete_call."""
    path = f"/call/{args.id}"
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


@tools.tool(title="Delete call", read_only=False, sends=("GET /call/{id}", "DELETE /call/{id}"))
async def delete_call(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a call (or cancel a scheduled one) with its transcript and recordings. Needs the
    user's confirmation."""
    path = f"/call/{args.id}"
    data = await call.vapi.get(path)
    customer = (data.get("customer") or {}).get("number") or data.get("type")
    summary = f"Delete the call to {customer} ({data.get('status')}, created {data.get('createdAt')}; id {args.id}) with its transcript and recordings."
    never_rings = _before_its_time(data, call)
    await delete_confirmed(call, args, path, summary, body={})
    later = call.guard.now() + timedelta(seconds=START_MARGIN)  # and the guard's own count agrees: not Vapi's word alone
    given = call.guard.give_back(call, args.id, starting_after=later) if never_rings else 0
    return {"deleted": args.id, **({"dialsGivenBack": given} if given else {})}


START_MARGIN = 60
"""Seconds before its earliestAt a scheduled call must be deleted to count as never rung (Vapi's clock and ours may differ)."""


def _before_its_time(data: dict[str, Any], call: ToolContext) -> bool:
    """Whether Vapi says the call is still scheduled, to start later than a minute from now: deleted now, it certainly never rings."""
    earliest = (data.get("schedulePlan") or {}).get("earliestAt")
    if data.get("status") != "scheduled" or not isinstance(earliest, str):
        return False
    try:
        start = datetime.fromisoformat(earliest.replace("Z", "+00:00"))
    except ValueError:
        return False
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    return (start - call.guard.now()).total_seconds() > START_MARGIN


CALL_RESOURCES = "vapi://calls/"
"""The call resources read what `get_call` reads: they follow it (listed and readable only where it is offered)."""


class DoNotCallArgs(Args):
    number: str = Field(description="E.164, e.g. +14155550123.")
    note: str | None = Field(None, max_length=200, description="Why, e.g. 'asked on the call of 2 Nov'.")


@tools.tool(title="Add to do-not-call list", read_only=False, idempotent=True, open_world=False, sends=(), ledger=True)
async def add_do_not_call(args: DoNotCallArgs, call: ToolContext) -> dict[str, Any]:
    """Put a number on the do-not-call list when a callee asks not to be called: every dial, text and
    campaign contact to it is refused from then on. Agents can add, never remove (only the user can)."""
    return call.guard.add_do_not_call(call, args.number, args.note)


def register_extras(server: MCPServer, host: Host) -> None:
    """Resources vapi://calls/{id} and vapi://calls/{id}/transcript, when get_call is offered (the test-assistant prompt is the testing toolset's)."""
    if "get_call" not in host.offered:  # --tools list_assistants, --read-only without calls...: no back door to calls
        return
    host.follows(CALL_RESOURCES, "get_call")
    from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

    from ..redact import redact, scrubber

    async def read(call_id: str, ctx: Context[Any, Any], render: Callable[[dict[str, Any]], Any]) -> Any:
        """A rendering of the call, read with the same account as the request's tools (its `X-Vapi-Key`, if any)."""
        with host.request_scope(ctx):
            try:
                vapi, _ = host.client_for(ctx)
                call = await vapi.get(f"/call/{vapi_id(call_id)}")
            except VapiError as exc:
                error = ResourceNotFoundError if exc.status == 404 else ResourceError
                raise error(scrubber.scrub(exc.text())) from None
            except VapiMCPError as exc:
                raise ResourceNotFoundError(scrubber.scrub(exc.text())) from None
            return redact(render(call))

    @server.resource("vapi://calls/{id}", name="call", title="Vapi call", mime_type="application/json")
    async def call_resource(id: str, ctx: Context[Any, Any]) -> str:
        """A call's compact view (as get_call returns it)."""
        return json.dumps(await read(id, ctx, call_view), separators=(",", ":"))

    @server.resource("vapi://calls/{id}/transcript", name="call-transcript", title="Call transcript", mime_type="text/plain")
    async def transcript_resource(id: str, ctx: Context[Any, Any]) -> str:
        """A call's transcript, one 'AI: ...' / 'User: ...' line per turn."""
        return "\n".join(await read(id, ctx, transcript_turns))
