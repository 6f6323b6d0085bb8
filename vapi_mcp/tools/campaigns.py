"""Campaigns: Vapi's outbound dialling at scale (/v2/campaign), every contact under the guard.

A campaign is one guarded action: every contact's number passes the number policy, quiet
hours hold for every contact over the whole dialling window in its own time zone, the
campaign cap bounds its size, and each contact counts against the daily caps of guarded dials
(a 200-contact campaign needs VAPI_MCP_DAILY_CAP of at least 200) on each UTC day of its window.
Vapi's document says a campaign dials from its start until every contact is placed, retrying for
up to an hour (or until `schedulePlan.latestAt`, whichever comes first), so that hour is the
window checked. What a campaign never dialled (cancelled or deleted first: Vapi's own contact
statuses say so) is given back to the caps.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..destinations import Found, scan
from ..errors import InputError, VapiMCPError
from ..guard import CallContext, Callee, GuardedAction
from ..guard.facts import local_window, plural, quoted, utc, zones_of
from ..guard.policy import aware
from ..ids import VapiId, vapi_id
from ..numbers import resolve
from .assistants import AssistantOverrides
from .base import Args, DeleteArgs, Guarded, IdArgs, Object, ToolContext, ToolGroup, check_created_since, delete_confirmed, lookup, non_null
from .calls import Customer, SchedulePlan, duration

toolset = "campaigns"
tools = ToolGroup()

RETRY_WINDOW = timedelta(hours=1)
"""Vapi's document: calls that could not be placed are retried for up to one hour, or until latestAt."""
DEFAULT_CONCURRENCY = 10
DEFAULT_MAX_SECONDS = 600
"""CreateAssistantDTO.maxDurationSeconds' documented default."""
OWNERS = ("assistantId", "workflowId", "squadId")
ENDED = ("ended", "cancelled", "archived")
NEVER_RANG = ["contact.skipped", "contact.predial-failed"]
"""Contact statuses of a campaign's contacts that were never dialled (with no call id): given back to the caps."""
START_MARGIN = timedelta(seconds=60)
"""A scheduled campaign deleted this long before its start certainly never dials (its clock and ours may differ a little)."""
ContactStatus = Literal["contact.pending", "contact.dispatched", "contact.completed", "contact.failed", "contact.skipped", "contact.predial-failed"]


class DialPlanEntry(Args):
    phoneNumberId: VapiId
    customers: list[Customer]


class CreateCampaignArgs(Guarded):
    name: str = Field(description="For your reference.")
    assistantId: VapiId | None = None
    workflowId: VapiId | None = None
    squadId: VapiId | None = None
    phoneNumberId: VapiId | None = Field(None, description="With customers; or give dialPlan.")
    customers: list[Customer] | None = None
    dialPlan: list[DialPlanEntry] | None = Field(None, description="Different numbers call different customers.")
    schedulePlan: SchedulePlan | None = None
    maxConcurrency: int | None = Field(None, ge=1, description="Calls at once (Vapi's default 10).")
    assistantOverrides: AssistantOverrides | None = None
    squadOverrides: AssistantOverrides | None = None
    server: Object | None = None
    serverMessages: list[str] | None = None
    predialPlan: Object | None = None
    duplicateFromCampaignId: VapiId | None = None


class UpdateCampaignArgs(Guarded):
    id: VapiId
    name: str | None = None
    assistantId: VapiId | None = None
    workflowId: VapiId | None = None
    squadId: VapiId | None = None
    phoneNumberId: VapiId | None = None
    dialPlan: list[DialPlanEntry] | None = Field(None, description="Replaces the contacts.")
    schedulePlan: SchedulePlan | None = None

    local_fields: ClassVar[frozenset[str]] = frozenset({"confirmToken", "id"})


class ListCampaignsArgs(Args):
    status: Literal["scheduled", "in-progress", "ended", "cancelled", "archived"] | None = None
    createdAtGe: str | None = None
    includeCounters: bool | None = Field(None, description="Add contact and call counts.")
    page: int | None = Field(None, ge=1)
    limit: int = Field(20, ge=1, le=1000)


class ListContactsArgs(Args):
    id: VapiId
    status: list[ContactStatus] | None = None
    sortBy: Literal["position", "status"] | None = None
    page: int | None = Field(None, ge=1)
    limit: int = Field(50, ge=1, le=1000)

    local_fields: ClassVar[frozenset[str]] = frozenset({"id"})


# what the human is shown


Plan = list[tuple[str, dict[str, Any]]]
"""(phoneNumberId, customer) for every contact, in upload (dial) order."""


def _zones(number: str) -> tuple[str, ...]:
    """The time zones of a number written in E.164, or ("unknown",)."""
    return zones_of(number) or ("unknown",)


def _tally(counts: dict[str, int], shown: int = 8, kind: str = "country") -> str:
    """'150 in US (+1), 50 in GB (+44), and 3 more in 2 other countries': every count with its place."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{n} in {k}" for k, n in ranked[:shown])
    rest = ranked[shown:]
    if rest:
        text += f", and {sum(n for _, n in rest)} more in {plural(len(rest), 'other ' + kind, 'other ' + kind + 's')}"
    return text


def by_country(plan: Plan) -> str:
    """How many contacts in each country, largest first: '150 in US (+1), 50 in GB (+44)'."""
    counts: dict[str, int] = {}
    for _, customer in plan:
        reading = resolve(customer.get("number") or "")
        key = f"{reading.region} (+{reading.calling_code})" if reading.region else "an unknown country"
        counts[key] = counts.get(key, 0) + 1
    return _tally(counts, kind="country")


def by_zone(plan: Plan) -> dict[str, int]:
    """How many contacts in each time zone; a number of several zones counts under them together."""
    counts: dict[str, int] = {}
    for _, customer in plan:
        zones = _zones(customer.get("number") or "")
        if zones == ("unknown",):
            key = "an unknown time zone"
        elif len(zones) == 1:
            key = zones[0]
        else:
            key = f"one of {len(zones)} zones ({', '.join(zones[:2])}{', ...' if len(zones) > 2 else ''})"
        counts[key] = counts.get(key, 0) + 1
    return counts


def window(schedule: SchedulePlan | None, now: datetime) -> tuple[datetime | None, datetime]:
    """(earliestAt, the last moment Vapi may place a call): up to an hour from the start, or latestAt if sooner."""
    earliest = aware(schedule.earliestAt) if schedule else None
    start = max(now, earliest) if earliest else now
    end = start + RETRY_WINDOW
    if schedule and schedule.latestAt:
        end = min(end, aware(schedule.latestAt))
    return earliest, end


def details(plan: Plan, start: datetime, end: datetime, concurrency: int | None, *, callers: str, owner: str) -> str:
    """What a campaign will do, for the human: who, from which numbers, with what, when (UTC and local), how fast."""
    at_once = concurrency or DEFAULT_CONCURRENCY
    pace = f"At most {at_once} calls at once{'' if concurrency else ' (Vapi default)'}."
    if at_once >= len(plan):
        pace = f"All {plural(len(plan), 'call')} may run at once (maxConcurrency {at_once}{'' if concurrency else ', Vapi default'})."
    return (
        f"call {plural(len(plan), 'contact')} (by country: {by_country(plan)}; by time zone: {_tally(by_zone(plan), kind='zone')}) "
        f"from {callers} with {owner}. "
        f"Dialling window {utc(start)} to {utc(end)} (Vapi dials for up to an hour from the start, or until latestAt), "
        f"local: {local_window((c.get('number') or '' for _, c in plan), start, end)}. "
        f"{pace}"
    )


async def _owner(call: CallContext, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The assistant, squad or workflow, named for the human, and the assistant object (for its maxDurationSeconds).

    `fields` may come from Vapi's answer (a duplicated or the current campaign), not only from `VapiId` arguments,
    so ids are checked here too (`vapi_id`), as in `_callers` and `plan_of`."""
    if fields.get("assistantId"):
        ident = vapi_id(fields["assistantId"], "assistantId")
        assistant = await lookup(call, f"/assistant/{ident}", "assistantId", ident, "assistant", "list_assistants")
        return f"assistant {quoted(assistant.get('name') or 'unnamed')} ({ident})", assistant
    if fields.get("squadId"):
        ident = vapi_id(fields["squadId"], "squadId")
        squad = await lookup(call, f"/squad/{ident}", "squadId", ident, "squad", "list_squads")
        return f"squad {quoted(squad.get('name') or 'unnamed')} ({ident})", {}
    return f"workflow {fields.get('workflowId')}", {}


async def _callers(call: CallContext, plan: Plan) -> str:
    shown = []
    for phone_id in dict.fromkeys(p for p, _ in plan):
        ident = vapi_id(phone_id, "phoneNumberId")
        phone = await lookup(call, f"/phone-number/{ident}", "phoneNumberId", ident, "phone number", "list_phone_numbers")
        count = sum(1 for p, _ in plan if p == phone_id)
        name = f" {quoted(phone['name'])}" if phone.get("name") else ""
        shown.append(f"{phone.get('number') or phone_id}{name}" + (f" ({count} contacts)" if len(set(p for p, _ in plan)) > 1 else ""))
    return ", ".join(shown)


async def cost_estimate(call: CallContext, contacts: int, assistant: dict[str, Any]) -> str:
    """A rough range from this account's own recent per-minute cost; Vapi's document publishes no price."""
    none = "No cost figure: Vapi publishes no per-minute price and this account has no priced calls yet; Vapi bills every minute of every call."
    try:
        recent = await call.vapi.get("/call", params={"limit": 100})
    except VapiMCPError:
        return none
    priced = []
    for item in recent if isinstance(recent, list) else []:
        minutes = max(0.0, (duration(item) or 0.0) / 60)
        if isinstance(item.get("cost"), int | float) and minutes:
            priced.append((float(item["cost"]), minutes))
    if not priced:
        return none
    total_minutes = sum(m for _, m in priced)
    rate = sum(c for c, _ in priced) / total_minutes
    typical = total_minutes / len(priced)
    longest = (assistant.get("maxDurationSeconds") or DEFAULT_MAX_SECONDS) / 60
    each = f"{typical * 60:.0f} s" if typical < 1 else f"{typical:.1f} min"
    return (
        f"Rough cost: about ${contacts * typical * rate:,.2f} if these {plural(contacts, 'call')} run like this account's last "
        f"{plural(len(priced), 'answered call')} ({each} each at ${rate:.3f}/min), up to about ${contacts * longest * rate:,.2f} "
        f"if every contact talks the assistant's full {longest:g} min. Unanswered calls cost little."
    )


# the plan a request dials


def _customers_of(customers: list[Any], field: str) -> list[dict[str, Any]]:
    out = []
    for i, customer in enumerate(customers):
        data = customer.model_dump(mode="json", exclude_none=True) if isinstance(customer, Customer) else dict(customer)
        if not data.get("number"):
            raise InputError(f"{field}.{i}.number", "is required: every campaign contact needs a phone number (E.164, e.g. +14155550123)")
        out.append(data)
    return out


def plan_of(fields: dict[str, Any], where: str = "") -> Plan:
    """Every contact of a campaign configuration (dialPlan, or phoneNumberId with customers)."""
    if fields.get("dialPlan") is not None:
        plan: Plan = []
        for j, entry in enumerate(fields["dialPlan"]):
            phone_id = entry.phoneNumberId if isinstance(entry, DialPlanEntry) else entry.get("phoneNumberId")
            vapi_id(phone_id, f"{where}dialPlan.{j}.phoneNumberId")
            customers = entry.customers if isinstance(entry, DialPlanEntry) else entry.get("customers") or []
            plan += [(phone_id, c) for c in _customers_of(customers, f"{where}dialPlan.{j}.customers")]
        return plan
    phone_id = fields.get("phoneNumberId")
    customers = _customers_of(fields.get("customers") or [], f"{where}customers")
    if not customers:
        return []
    if not phone_id:
        raise InputError("phoneNumberId", "is required with customers (the Vapi number that calls them); or give dialPlan")
    return [(vapi_id(phone_id, "phoneNumberId"), c) for c in customers]


def _callees(plan: Plan, single_caller: str | None) -> list[Callee]:
    return [
        Callee(c["number"], c.get("numberE164CheckEnabled") is not False, c.get("name"), via=None if phone_id == single_caller else phone_id)
        for phone_id, c in plan
    ]


def _check_create(args: CreateCampaignArgs) -> None:
    owners = [name for name in OWNERS if getattr(args, name)]
    if len(owners) > 1 or not owners and not args.duplicateFromCampaignId:
        raise InputError("assistantId", "give exactly one of assistantId, workflowId or squadId")
    if args.dialPlan is not None and (args.customers is not None or args.phoneNumberId is not None):
        raise InputError("dialPlan", "give either dialPlan, or phoneNumberId with customers, not both")
    if args.dialPlan is None and args.customers is None and not args.duplicateFromCampaignId:
        raise InputError("customers", "is required (with phoneNumberId), or give dialPlan")


def _effective(args: CreateCampaignArgs, source: dict[str, Any]) -> dict[str, Any]:
    """What Vapi will run: the duplicated campaign's configuration with the request's fields on top."""
    names = ("phoneNumberId", "customers", "dialPlan", "schedulePlan", "maxConcurrency", *OWNERS)
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    fields = {k: v for k, v in source.items() if k in names}
    replaced = {"dialPlan": ("phoneNumberId", "customers", "dialPlan"), "customers": ("customers", "dialPlan"), "phoneNumberId": ("dialPlan",)}
    for name, dropped in replaced.items():
        if name in given:
            fields = {k: v for k, v in fields.items() if k not in dropped}
    if any(k in given for k in OWNERS):
        fields = {k: v for k, v in fields.items() if k not in OWNERS}
    fields.update(given)
    if isinstance(fields.get("schedulePlan"), dict):
        fields["schedulePlan"] = SchedulePlan.model_validate(fields["schedulePlan"])
    return fields


def campaign_action(
    args: Guarded,
    call: ToolContext,
    *,
    lead: str,
    fields: dict[str, Any],
    plan: Plan,
    method: str,
    path: str,
    body: dict[str, Any],
    counted: Plan | None = None,
    held_by: str | None = None,
) -> GuardedAction:
    """One guarded dial action for a whole campaign: every contact a callee, the dialling window, the campaign cap.

    `lead` starts the question ("Start campaign ...: "); the rest is built from verified facts:
    ids at first, then (once policy passed) the numbers, names and a cost range looked up at Vapi.
    """
    schedule: SchedulePlan | None = fields.get("schedulePlan")
    now = call.guard.now()
    earliest, end = window(schedule, now)
    start = max(now, earliest) if earliest else now
    single = fields.get("phoneNumberId") if fields.get("dialPlan") is None else None
    owner = next((f"{name.removesuffix('Id')} {fields[name]}" for name in OWNERS if fields.get(name)), "its assistant")
    callers = ", ".join(f"phone number {p}" for p in dict.fromkeys(p for p, _ in plan))
    concurrency = fields.get("maxConcurrency")
    action = args.action(
        call,
        kind="dial",
        summary=lead + details(plan, start, end, concurrency, callers=callers, owner=owner),
        method=method,
        path=path,
        body=body,
        callees=_callees(plan, single),
        phone_number_id=single,
        when=earliest,
        latest=end,
        cap=("campaign_cap", call.settings.policy.campaign_cap),
        counted=None if counted is None else _callees(counted, single),
        held_by=held_by,
        cost="Vapi bills every minute of every call the campaign places.",
    )

    async def describe(ctx: CallContext) -> str:
        named_owner, assistant = await _owner(ctx, fields)
        text = lead + details(plan, start, end, concurrency, callers=await _callers(ctx, plan), owner=named_owner)
        action.cost = await cost_estimate(ctx, len(plan) if counted is None else len(counted), assistant)
        return text

    action.describe = describe
    return action


# views


def counters_view(summary: dict[str, Any]) -> dict[str, Any]:
    """Contact counters with their total, and call metrics with the pick-up rate."""
    out: dict[str, Any] = {}
    counters = summary.get("contactCounters")
    if isinstance(counters, dict):
        total = sum(v for v in counters.values() if isinstance(v, int | float))
        out["contacts"] = {"total": total, **{k: v for k, v in counters.items() if v}}
        out["left"] = (counters.get("pending") or 0) + (counters.get("dispatched") or 0)
    metrics = summary.get("callMetrics")
    if isinstance(metrics, dict):
        dialed, connected = metrics.get("dialed") or 0, metrics.get("connected") or 0
        out["calls"] = {"dialed": dialed, "connected": connected, **({"pickUpRate": f"{connected / dialed:.0%}"} if dialed else {})}
    return out


def campaign_view(campaign: dict[str, Any]) -> dict[str, Any]:
    """A campaign without its contact list or calls map."""
    keep = ("id", "name", "status", "endedReason", "createdAt", "updatedAt", *OWNERS, "phoneNumberId", "maxConcurrency")
    view = {k: campaign[k] for k in keep if campaign.get(k) is not None}
    if campaign.get("schedulePlan"):
        view["schedulePlan"] = campaign["schedulePlan"]
    if campaign.get("dialPlan"):
        view["dialPlan"] = [{"phoneNumberId": e.get("phoneNumberId"), "contacts": len(e.get("customers") or [])} for e in campaign["dialPlan"]]
    elif isinstance(campaign.get("customers"), list):
        view["contactCount"] = len(campaign["customers"])
    return view | counters_view(campaign)


def contact_row(contact: dict[str, Any]) -> dict[str, Any]:
    """One compact line per campaign contact: number, name, status (without its `contact.` prefix), call."""
    row = {k: contact.get(k) for k in ("number", "name", "status", "callId", "endedReason", "dispatchedAt")}
    if isinstance(row["status"], str):
        row["status"] = row["status"].removeprefix("contact.")
    return non_null(row)


# tools


@tools.tool(
    title="Create campaign",
    read_only=False,
    sends=("POST /v2/campaign", "GET /campaign/{id}", "GET /phone-number/{id}", "GET /assistant/{id}", "GET /squad/{id}", "GET /call"),
)
async def create_campaign(args: CreateCampaignArgs, call: ToolContext) -> dict[str, Any]:
    """Start an outbound campaign (Vapi's CreateCampaignDTO): many contacts, one assistant/squad/workflow,
    phoneNumberId + customers or a dialPlan, optional schedulePlan and maxConcurrency. Every contact's
    phone rings, so the user confirms; numbers, countries, quiet hours over the whole window, the
    campaign and daily caps are checked first."""
    _check_create(args)
    source: dict[str, Any] = {}
    if args.duplicateFromCampaignId:
        source = await call.vapi.get(f"/campaign/{args.duplicateFromCampaignId}")
    fields = _effective(args, source)
    if not any(fields.get(name) for name in OWNERS):
        raise InputError("assistantId", "give exactly one of assistantId, workflowId or squadId")
    plan = plan_of(fields)
    if not plan:
        raise InputError("customers", "the campaign has no contacts")
    body = args.body()
    lead = f"Start campaign {quoted(args.name)}: "
    action = campaign_action(args, call, lead=lead, fields=fields, plan=plan, method="POST", path="/v2/campaign", body=body)
    action.reaches = copied_destinations(source, body)
    data = await call.send_guarded(action, check=check_created_since("list_campaigns", call.guard.now()))
    view = campaign_view(data) if isinstance(data, dict) else {"result": data}
    return {**view, "contactCount": len(plan), "next": "Follow it with get_campaign and list_campaign_contacts; cancel_campaign stops it."}


def copied_destinations(source: dict[str, Any], body: dict[str, Any]) -> list[Found]:
    """The destinations a duplicated campaign takes from the one it copies (`duplicateFromCampaignId`): whatever the
    request does not give anew (its assistantOverrides, squadOverrides, its contacts' own overrides) is Vapi's copy,
    so the rules and the question see it as if it were in the request. Its contacts are the callees already."""
    copied = {key: value for key, value in source.items() if key not in body}
    return [replace(found, at=("duplicateFromCampaignId", *found.at)) for found in scan(copied) if found.role != "call"]


@tools.tool(title="List campaigns", read_only=True, sends=("GET /v2/campaign",))
async def list_campaigns(args: ListCampaignsArgs, call: ToolContext) -> dict[str, Any]:
    """Campaigns, newest first, one row each (status, schedule, concurrency); includeCounters adds
    contact and call counts. get_campaign has one campaign's progress."""
    data = await call.vapi.get("/v2/campaign", params=args.body())
    results = data.get("results", []) if isinstance(data, dict) else []
    meta = data.get("metadata", {}) if isinstance(data, dict) else {}
    rows = [campaign_view(c) for c in results]
    return {"campaigns": rows, "count": len(rows), **_pages(meta)}


@tools.tool(title="Get campaign", read_only=True, sends=("GET /v2/campaign/{id}",))
async def get_campaign(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """One campaign's progress: status, contacts by status (pending, dispatched, completed, failed,
    skipped) with their total, calls dialed and connected (pick-up rate), schedule, concurrency."""
    data = await call.vapi.get(f"/v2/campaign/{args.id}", params={"includeCounters": True})
    return campaign_view(data)


@tools.tool(title="List campaign contacts", read_only=True, sends=("GET /v2/campaign/{id}/contacts",))
async def list_campaign_contacts(args: ListContactsArgs, call: ToolContext) -> dict[str, Any]:
    """A campaign's contacts in dial order (or by status), each with its status, call id and
    endedReason; filter by status (e.g. contact.failed), page through with page/limit. get_call
    explains a call's endedReason."""
    path = f"/v2/campaign/{args.id}/contacts"
    data = await call.vapi.get(path, params=args.body())
    results = data.get("results", []) if isinstance(data, dict) else []
    return {"contacts": [contact_row(c) for c in results], **_pages(data.get("metadata", {}) if isinstance(data, dict) else {})}


@tools.tool(
    title="Cancel campaign",
    read_only=False,
    destructive=False,
    idempotent=True,
    sends=("GET /v2/campaign/{id}", "PATCH /v2/campaign/{id}", "GET /v2/campaign/{id}/contacts"),
)
async def cancel_campaign(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """Stop a campaign: no more contacts are dialled, calls in progress finish. Never needs a
    confirmation (stopping is always allowed); an ended campaign is left as is."""
    path = f"/v2/campaign/{args.id}"
    current = await call.vapi.get(path)
    if current.get("status") in ENDED:
        return {**campaign_view(current), "alreadyEnded": True}
    await call.vapi.patch(path, {"status": "cancelled"})
    after = await call.vapi.get(path, params={"includeCounters": True})
    given = await _give_back_never_dialled(call, args.id, after)
    return {**campaign_view(after), "note": "No more contacts will be dialled; calls already in progress finish.", **given}


async def _never_dialled(call: ToolContext, ident: str) -> list[str]:
    """The numbers of an ended campaign's contacts that were never dialled, as Vapi lists them (skipped, predial-failed, no call)."""
    numbers: list[str] = []
    for page in range(1, 11):  # 10 pages of 1000: Vapi's largest campaign
        data = await call.vapi.get(f"/v2/campaign/{ident}/contacts", params={"status": NEVER_RANG, "limit": 1000, "page": page})
        results = data.get("results", []) if isinstance(data, dict) else []
        numbers += [str(c["number"]) for c in results if isinstance(c, dict) and c.get("status") in NEVER_RANG and not c.get("callId") and c.get("number")]
        pages = (data.get("metadata") or {}).get("totalPages") if isinstance(data, dict) else None
        if len(results) < 1000 or not isinstance(pages, int | float) or page >= pages:
            break
    return numbers


async def _give_back_never_dialled(call: ToolContext, ident: str, campaign: dict[str, Any]) -> dict[str, Any]:
    """Give back to the daily caps what an ended campaign never dialled; only Vapi's own statuses count, never the agent's word."""
    if campaign.get("status") not in ("cancelled", "ended"):
        return {}
    try:
        numbers = await _never_dialled(call, ident)
    except VapiMCPError:  # no proof: the counts stay (the safe side)
        return {}
    given = call.guard.give_back(call, ident, numbers) if numbers else 0
    return {"dialsGivenBack": given} if given else {}


@tools.tool(
    title="Update campaign",
    read_only=False,
    sends=("PATCH /v2/campaign/{id}", "GET /campaign/{id}", "GET /phone-number/{id}", "GET /assistant/{id}", "GET /squad/{id}", "GET /call"),
)
async def update_campaign(args: UpdateCampaignArgs, call: ToolContext) -> dict[str, Any]:
    """Change a campaign before it starts (Vapi's UpdateCampaignDTO): name, assistant/squad/workflow,
    phoneNumberId, dialPlan (replaces the contacts), schedulePlan. New contacts, a new window or a
    new calling number pass the same checks as create_campaign and need the user's yes."""
    path = f"/v2/campaign/{args.id}"
    changes = args.body()
    if not changes:
        raise InputError("name", "give at least one field to change")
    current = await call.vapi.get(f"/campaign/{args.id}")
    status = current.get("status")
    if status != "scheduled" and set(changes) - {"name"}:
        raise VapiMCPError(
            f"Campaign {args.id} is {status}: Vapi changes only a scheduled campaign's configuration.",
            hint="Cancel it with cancel_campaign and create a new one; only its name can still change.",
        )
    if not {"dialPlan", "schedulePlan", "phoneNumberId"} & set(changes):
        summary = f"Update campaign {quoted(current.get('name') or args.id)} ({', '.join(sorted(changes))})."
        return campaign_view(await call.send("PATCH", path, changes, args=args, summary=summary))
    fields = {k: current.get(k) for k in ("phoneNumberId", "customers", "dialPlan", "schedulePlan", "maxConcurrency", *OWNERS) if current.get(k) is not None}
    before = plan_of(fields, "current ")
    if "dialPlan" in changes:
        fields = {k: v for k, v in fields.items() if k not in ("phoneNumberId", "customers")}
    if "phoneNumberId" in changes and "dialPlan" not in changes and fields.get("dialPlan"):
        entries = fields.pop("dialPlan")
        fields["customers"] = [c for e in entries for c in e.get("customers") or []]
    fields.update({k: getattr(args, k) for k in ("phoneNumberId", "dialPlan", "schedulePlan") if getattr(args, k) is not None})
    if isinstance(fields.get("schedulePlan"), dict):
        fields["schedulePlan"] = SchedulePlan.model_validate(fields["schedulePlan"])
    plan = plan_of(fields)
    added = _added(plan, before)
    what = ", ".join(
        part
        for part in (
            f"{len(added)} new contacts" if "dialPlan" in changes else "",
            "a new schedule" if "schedulePlan" in changes else "",
            "a new calling number" if "phoneNumberId" in changes else "",
        )
        if part
    )
    lead = f"Update campaign {quoted(current.get('name') or args.id)} ({what}); it will "
    action = campaign_action(args, call, lead=lead, fields=fields, plan=plan, method="PATCH", path=path, body=changes, counted=added, held_by=args.id)
    data = await call.send_guarded(action, ids=lambda _: [args.id])
    return {**campaign_view(data), "addedContacts": len(added)}


def _added(plan: Plan, before: Plan) -> Plan:
    """The contacts of `plan` that `before` did not have, counted as contacts, not numbers: one number three times
    where it was once is two new contacts (each rings)."""
    left = Counter(resolve(c["number"], c.get("numberE164CheckEnabled") is not False).key for _, c in before)
    added: Plan = []
    for phone_id, customer in plan:
        key = resolve(customer["number"], customer.get("numberE164CheckEnabled") is not False).key
        if left[key] > 0:
            left[key] -= 1
        else:
            added.append((phone_id, customer))
    return added


@tools.tool(title="Delete campaign", read_only=False, sends=("GET /v2/campaign/{id}", "DELETE /v2/campaign/{id}", "GET /v2/campaign/{id}/contacts"))
async def delete_campaign(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a campaign (its record and contact list). Needs the user's confirmation; to stop a
    running campaign, cancel_campaign is enough."""
    path = f"/v2/campaign/{args.id}"
    current = await call.vapi.get(path, params={"includeCounters": True})
    total = counters_view(current).get("contacts", {}).get("total")
    summary = (
        f"Delete campaign {quoted(current.get('name') or args.id)} ({args.id}, {current.get('status')}"
        + (f", {total} contacts" if total is not None else "")
        + f", created {current.get('createdAt')})."
    )
    certain, never = await _never_dialling(call, args.id, current)
    await delete_confirmed(call, args, path, summary)
    given = call.guard.give_back(call, args.id, never) if certain else 0
    return {"deleted": args.id, **({"dialsGivenBack": given} if given else {})}


async def _never_dialling(call: ToolContext, ident: str, campaign: dict[str, Any]) -> tuple[bool, list[str] | None]:
    """What a campaign about to be deleted will certainly never dial: (True, None) for all of it, when it is scheduled
    to start later than a minute from now; (True, numbers) for an ended one's never-dialled contacts; (False, None)
    when nothing is certain."""
    status = campaign.get("status")
    earliest = (campaign.get("schedulePlan") or {}).get("earliestAt")
    if status == "scheduled" and isinstance(earliest, str):
        try:
            start = aware(datetime.fromisoformat(earliest.replace("Z", "+00:00")))
        except ValueError:
            return False, None
        return start > call.guard.now() + START_MARGIN, None
    if status in ("cancelled", "ended"):
        try:
            return True, await _never_dialled(call, ident)
        except VapiMCPError:
            return False, None
    return False, None


def _pages(meta: dict[str, Any]) -> dict[str, Any]:
    page, pages = meta.get("currentPage"), meta.get("totalPages")
    out = {k: meta[k] for k in ("currentPage", "totalPages", "totalItems") if meta.get(k) is not None}
    if isinstance(page, int | float) and isinstance(pages, int | float) and page < pages:
        out["next"] = f"page {int(page) + 1}"
    return out
