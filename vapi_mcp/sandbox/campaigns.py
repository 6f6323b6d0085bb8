"""/campaign and /v2/campaign: create, list, get, update (cancel), delete, and the contacts' outcomes.

A campaign runs on the sandbox clock, computed whenever any request arrives (`tick`):
`scheduled` until `schedulePlan.earliestAt` (or creation), then `in-progress`: contacts are
dialled in upload order, at most `maxConcurrency` (default 10) at a time, each as a real
sandbox call (`campaignId` set) whose outcome is varied but deterministic (OUTCOMES, by
position). As Vapi's document says, contacts not dialled within an hour of the
start, or by `schedulePlan.latestAt` if sooner, are not dialled (`contact.skipped`). When
every contact is settled the campaign is `ended` (`campaign.ended.success`). Each call keeps the
campaign's assistant as it is when the contact is dialled (the campaign's and the contact's
`assistantOverrides` applied) and talks as any sandbox call does (calls.py): outbound, the
customer answering, its transcript and analysis from that assistant. Cancelling
(PATCH `status: cancelled`, or its V1 alias `ended`) dials no one more: pending contacts are
skipped and calls already in progress finish.

Contact outcomes: a call that reached a person or a voicemail box is `contact.completed`; one
that was not answered, was busy or ended on an error is `contact.failed`. `callMetrics.dialed`
counts contacts with a call, `connected` those a person answered (voicemail is not counted).
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .calls import (
    CUSTOMER,
    LIFETIME,
    NO_OUTBOUND,
    OVERRIDES,
    QUEUED,
    RINGING,
    SCHEDULE_PLAN,
    _valid_number,
    first_member,
    keep_assistant,
    live,
    merged_overrides,
)
from .clock import iso, parse_iso
from .core import DATE_FILTERS, ORG_ID, ApiError, body_of, collection_routes, find, new_id, sandbox_of, stamp
from .judging import outputs_plan
from .validation import SERVER, Arr, Bool, Num, Obj, Rule, Str, validate_query

if TYPE_CHECKING:
    from . import Sandbox

SERVER_MESSAGES = (
    "campaign.started",
    "campaign.cancelled",
    "campaign.ended",
    "campaign.archived",
    "campaign.unarchived",
    "contact.dispatched",
    "contact.completed",
    "contact.failed",
    "contact.skipped",
    "contact.predial-failed",
    "campaign.job.continued",
)
DIAL_PLAN_ENTRY = Obj({"phoneNumberId": Str(), "customers": Arr(CUSTOMER)}, required=("phoneNumberId", "customers"))
_CONFIGURATION = {
    "name": Str(),
    "assistantId": Str(),
    "workflowId": Str(),
    "squadId": Str(),
    "phoneNumberId": Str(),
    "dialPlan": Arr(DIAL_PLAN_ENTRY),
    "schedulePlan": SCHEDULE_PLAN,
}
"""The fields CreateCampaignDTO and UpdateCampaignDTO share."""
CREATE_CAMPAIGN = Obj(
    {
        **_CONFIGURATION,
        "customers": Arr(CUSTOMER),
        "maxConcurrency": Num(minimum=1),
        "assistantOverrides": OVERRIDES,
        "squadOverrides": OVERRIDES,
        "server": SERVER,
        "serverMessages": Arr(Str(enum=SERVER_MESSAGES)),
        "predialPlan": Obj({"enabled": Bool()}),
        "duplicateFromCampaignId": Str(),
    },
    required=("name",),
)
UPDATE_CAMPAIGN = Obj({**_CONFIGURATION, "status": Str(enum=("ended", "cancelled"))})
STATUSES = ("scheduled", "in-progress", "ended", "cancelled", "archived")
CONTACT_STATUSES = (
    "contact.pending",
    "contact.dispatched",
    "contact.completed",
    "contact.failed",
    "contact.skipped",
    "contact.predial-failed",
)
LIST_QUERY = {
    "id": Str(),
    "status": Str(enum=STATUSES),
    "page": Num(minimum=1),
    "sortOrder": Str(enum=("ASC", "DESC")),
    "sortBy": Str(enum=("createdAt", "duration", "cost")),
    "limit": Num(minimum=0, maximum=1000),
    **DATE_FILTERS,
}
LIST_V2_QUERY = {**LIST_QUERY, "includeCounters": Bool()}
CONTACTS_QUERY = {"limit": Num(minimum=1, maximum=1000), "sortBy": Str(enum=("position", "status")), "page": Num(minimum=1)}

MAX_CONTACTS = 10_000
DEFAULT_CONCURRENCY = 10
RETRY_WINDOW = timedelta(hours=1)
"""Vapi's document: contacts that could not be placed are retried for up to one hour (or until latestAt)."""

OUTCOMES: tuple[tuple[str, float | None], ...] = (
    # (endedReason, seconds from dialling to the end, or None for a whole conversation)
    ("customer-ended-call", None),
    ("voicemail", QUEUED + RINGING + 1.5),
    ("assistant-ended-call", None),
    ("customer-did-not-answer", QUEUED + RINGING * 0.9),
    ("customer-ended-call", None),
    ("customer-busy", QUEUED + RINGING * 0.3),
    ("silence-timed-out", QUEUED + RINGING + 2.0),
    ("call.in-progress.error-providerfault-openai-llm-failed", QUEUED + RINGING + 1.0),
)
FAILED = frozenset({"customer-did-not-answer", "customer-busy", "call.in-progress.error-providerfault-openai-llm-failed", NO_OUTBOUND})
"""Outcomes that leave a contact `contact.failed`: nobody was reached, or an error ended the call."""
NOT_CONNECTED = FAILED | {"voicemail"}


def outcome_of(position: int) -> tuple[str, float | None]:
    """The outcome of the position-th contact's call: every 8 contacts in a row see each outcome once."""
    return OUTCOMES[position % len(OUTCOMES)]


def _public(campaign: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in campaign.items() if not k.startswith("_")}


SUMMARY_FIELDS = (
    "status",
    "endedReason",
    "name",
    "assistantId",
    "squadId",
    "phoneNumberId",
    "schedulePlan",
    "maxConcurrency",
    "assistantOverrides",
    "squadOverrides",
    "server",
    "serverMessages",
    "predialPlan",
    "id",
    "orgId",
    "createdAt",
    "updatedAt",
)
"""What CampaignSummary (v2) carries of a campaign; `contactCounters`/`callMetrics` on request."""


def counters(campaign: dict[str, Any]) -> dict[str, int]:
    """CampaignContactCounters: contacts per status."""
    keys = {status: status.removeprefix("contact.") for status in CONTACT_STATUSES}
    keys["contact.predial-failed"] = "predialFailed"
    out = dict.fromkeys(keys.values(), 0)
    for contact in campaign["_contacts"]:
        out[keys[contact["status"]]] += 1
    return out


def call_metrics(campaign: dict[str, Any]) -> dict[str, int]:
    """CampaignCallMetrics: contacts a call was placed for, and how many of those a person answered."""
    dialed = [c for c in campaign["_contacts"] if c.get("callId")]
    connected = [c for c in dialed if c["status"] == "contact.completed" and c.get("endedReason") not in NOT_CONNECTED]
    return {"dialed": len(dialed), "connected": len(connected)}


def summary(campaign: dict[str, Any], with_counters: bool) -> dict[str, Any]:
    out = {k: campaign[k] for k in SUMMARY_FIELDS if k in campaign}
    if with_counters:
        out.update(contactCounters=counters(campaign), callMetrics=call_metrics(campaign))
    return out


def full(sb: Sandbox, campaign: dict[str, Any]) -> dict[str, Any]:
    """The V1 `Campaign`: configuration, the calls map and the call counters."""
    out = _public(campaign)
    now = sb.now()
    calls = {c["callId"]: live(sb.store.calls[c["callId"]], now, full=False) for c in campaign["_contacts"] if c.get("callId") in sb.store.calls}
    statuses = [call["status"] for call in calls.values()]
    out.update(
        calls={i: {"status": call["status"], **({"endedReason": call["endedReason"]} if "endedReason" in call else {})} for i, call in calls.items()},
        callsCounterScheduled=sum(c["status"] == "contact.pending" for c in campaign["_contacts"]),
        callsCounterQueued=sum(s in ("queued", "ringing") for s in statuses),
        callsCounterInProgress=sum(s == "in-progress" for s in statuses),
        callsCounterEndedVoicemail=sum(call.get("endedReason") == "voicemail" for call in calls.values()),
        callsCounterEnded=sum(s == "ended" for s in statuses),
    )
    return out


def contact_view(contact: dict[str, Any]) -> dict[str, Any]:
    """CampaignContactWithOutcome."""
    return {k: contact[k] for k in ("id", "number", "name", "status", "callId", "dispatchedAt", "endedReason") if contact.get(k) is not None}


# the lifecycle


def _window(campaign: dict[str, Any]) -> tuple[datetime, datetime]:
    """When dialling may start, and after when no new contact is dialled."""
    plan = campaign.get("schedulePlan") or {}
    created = parse_iso(campaign["createdAt"])
    start = max(created, parse_iso(plan["earliestAt"])) if plan.get("earliestAt") else created
    deadline = start + RETRY_WINDOW
    if plan.get("latestAt"):
        deadline = min(deadline, parse_iso(plan["latestAt"]))
    return start, deadline


def advance(sb: Sandbox, campaign: dict[str, Any], now: datetime) -> None:
    """Bring the campaign up to `now`: dial what the schedule and maxConcurrency allow, settle ended calls."""
    contacts = campaign["_contacts"]
    if campaign["status"] in ("scheduled", "in-progress"):
        start, deadline = _window(campaign)
        if now >= start:
            campaign["status"] = "in-progress"
            t: datetime = campaign.get("_t") or start
            active: list[datetime] = campaign.setdefault("_active", [])
            limit = int(campaign.get("maxConcurrency") or DEFAULT_CONCURRENCY)
            while True:
                while active and active[0] <= t:
                    heapq.heappop(active)
                while campaign["_next"] < len(contacts) and len(active) < limit and t <= deadline:
                    heapq.heappush(active, _dial(sb, campaign, contacts[campaign["_next"]], t))
                    campaign["_next"] += 1
                if campaign["_next"] >= len(contacts) or t > deadline or not active or active[0] > now:
                    break
                t = active[0]
            campaign["_t"] = t
            if now > deadline:
                _skip_pending(campaign)
    for contact in contacts:
        if contact["status"] == "contact.dispatched" and contact["_end"] <= now:
            reason = live(sb.store.calls[contact["callId"]], now, full=False).get("endedReason") if contact["callId"] in sb.store.calls else contact["_reason"]
            contact.update(status="contact.failed" if reason in FAILED else "contact.completed", endedReason=reason)
    settled = all(c["status"] not in ("contact.pending", "contact.dispatched") for c in contacts)
    if campaign["status"] == "in-progress" and settled:
        ends = [c["_end"] for c in contacts if c.get("_end")]
        campaign.update(status="ended", endedReason="campaign.ended.success", updatedAt=iso(max(ends) if ends else now))


def _skip_pending(campaign: dict[str, Any]) -> None:
    for contact in campaign["_contacts"]:
        if contact["status"] == "contact.pending":
            contact["status"] = "contact.skipped"


def _dial(sb: Sandbox, campaign: dict[str, Any], contact: dict[str, Any], at: datetime) -> datetime:
    """Place the contact's call at `at` as a sandbox call; when it will end."""
    reason, seconds = outcome_of(contact["_position"])
    phone = sb.store.phone_numbers.get(contact["_phone"], {})
    if phone.get("provider") == "vapi":  # free Vapi numbers take inbound calls only: the call ends at its start
        reason, seconds = NO_OUTBOUND, 0.0
    owner_key = next(k for k in ("assistantId", "squadId", "workflowId") if campaign.get(k))
    if owner_key == "assistantId":
        assistant = sb.store.assistants.get(campaign[owner_key]) or {}
    else:
        squad = sb.store.squads.get(campaign[owner_key]) if owner_key == "squadId" else None
        assistant = first_member(sb, squad) if squad else {}
    call_id = new_id()
    overrides = merged_overrides(campaign.get("assistantOverrides"), contact["_customer"].get("assistantOverrides"))
    call: dict[str, Any] = {
        "id": call_id,
        "orgId": ORG_ID,
        "createdAt": iso(at),
        "updatedAt": iso(at),
        "type": "outboundPhoneCall",
        "campaignId": campaign["id"],
        owner_key: campaign[owner_key],
        "phoneNumberId": contact["_phone"],
        "customer": contact["_customer"],
        "phoneCallProvider": phone.get("provider"),
        "phoneCallTransport": "pstn",
        "_start": at,
        "_ended_reason": reason,
    }
    if overrides:
        call["assistantOverrides"] = overrides
    keep_assistant(sb, call, assistant, overrides)
    call["_outputs_plan"] = outputs_plan(call["_assistant"].get("artifactPlan"), sb.store.structured_outputs, new_id, sb.store.scorecards)
    end = at + timedelta(seconds=LIFETIME if seconds is None else seconds)
    if seconds is not None:
        call["_ended_at"] = end
    sb.store.calls[call_id] = call
    contact.update(status="contact.dispatched", callId=call_id, dispatchedAt=iso(at), _end=end, _reason=reason)
    return end


# requests


def _plan(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every (phoneNumberId, customer) the campaign dials, in upload order."""
    if body.get("dialPlan") is not None:
        return [(entry["phoneNumberId"], customer) for entry in body["dialPlan"] for customer in entry["customers"]]
    return [(body.get("phoneNumberId") or "", customer) for customer in body.get("customers") or []]


def _customer_error(customer: dict[str, Any], phone: dict[str, Any]) -> str | None:
    number = customer.get("number")
    if number is None:
        return "customer.number should not be empty"
    parsed = _valid_number(number)
    if customer.get("numberE164CheckEnabled", True) and parsed is None:
        return f"customer.number {number} must be a valid phone number in the E.164 format."
    return None


def _contacts(sb: Sandbox, plan: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The campaign's contacts, after Vapi's checks of every number; 400 naming the broken ones."""
    errors, contacts = [], []
    for position, (phone_id, customer) in enumerate(plan):
        phone = sb.store.phone_numbers.get(phone_id)
        if phone is None:
            raise ApiError(400, f"Couldn't Get Phone Number. `phoneNumberId` {phone_id} Not Found.")
        error = _customer_error(customer, phone)
        if error:
            errors.append(error)
            continue
        contact = {"id": new_id(), "number": customer["number"], "status": "contact.pending", "_position": position, "_phone": phone_id, "_customer": customer}
        if customer.get("name"):
            contact["name"] = customer["name"]
        contacts.append(contact)
    if errors:
        raise ApiError(400, errors[:20])
    return contacts


def _check_schedule(plan: dict[str, Any] | None) -> None:
    if plan and plan.get("latestAt") and parse_iso(plan["latestAt"]) <= parse_iso(plan["earliestAt"]):
        raise ApiError(400, ["schedulePlan.latestAt must be after schedulePlan.earliestAt"])


def tick(sb: Sandbox, now: datetime) -> None:
    """Before every request: bring each campaign still dialling (or with calls out) up to `now`."""
    for campaign in sb.store.campaigns.values():
        if campaign["status"] in ("scheduled", "in-progress") or any(c["status"] == "contact.dispatched" for c in campaign["_contacts"]):
            advance(sb, campaign, now)


def upcoming(sb: Sandbox, now: datetime) -> list[tuple[str, str, datetime]]:
    """Campaigns waiting for their `schedulePlan.earliestAt`: ("campaign", id, when dialling starts)."""
    return [("campaign", c["id"], _window(c)[0]) for c in sb.store.campaigns.values() if c["status"] == "scheduled" and _window(c)[0] > now]


def check_targets(sb: Sandbox, body: dict[str, Any]) -> None:
    """Exactly one owner that exists; a phone number or a dial plan, not both."""
    owners = [k for k in ("assistantId", "workflowId", "squadId") if body.get(k)]
    if len(owners) != 1:
        raise ApiError(400, ["Need Exactly One Of `assistantId`, `workflowId`, `squadId`."])
    if body.get("assistantId") and body["assistantId"] not in sb.store.assistants:
        raise ApiError(400, f"Couldn't Get Assistant. `assistantId` {body['assistantId']} Not Found.")
    if body.get("squadId") and body["squadId"] not in sb.store.squads:
        raise ApiError(400, f"Couldn't Get Squad. `squadId` {body['squadId']} Not Found.")
    if body.get("phoneNumberId") is not None and body.get("dialPlan") is not None:
        raise ApiError(400, ["`phoneNumberId` And `dialPlan` Are Mutually Exclusive."])


async def create(request: Request) -> JSONResponse:
    """POST /campaign and /v2/campaign (`duplicateFromCampaignId` copies another's configuration)."""
    sb = sandbox_of(request)
    campaigns = sb.store.campaigns
    body = await body_of(request, CREATE_CAMPAIGN)
    if body.get("duplicateFromCampaignId"):
        source = campaigns.get(body["duplicateFromCampaignId"])
        if source is None:
            raise ApiError(400, f"Couldn't Get Campaign. `duplicateFromCampaignId` {body['duplicateFromCampaignId']} Not Found.")
        copied = {k: v for k, v in _public(source).items() if k in CREATE_CAMPAIGN.fields and k != "name"}
        if body.get("dialPlan") is not None or body.get("customers") is not None:
            copied = {k: v for k, v in copied.items() if k not in ("dialPlan", "customers", "phoneNumberId")}
        body = {**copied, **{k: v for k, v in body.items() if k != "duplicateFromCampaignId"}}
    check_targets(sb, body)
    if body.get("dialPlan") is None and (body.get("phoneNumberId") is None or body.get("customers") is None):
        raise ApiError(400, ["Need Either `phoneNumberId` And `customers`, Or `dialPlan`."])
    if body.get("predialPlan") is not None and body.get("server") is None:
        raise ApiError(400, ["predialPlan requires server"])
    _check_schedule(body.get("schedulePlan"))
    plan = _plan(body)
    if not plan:
        raise ApiError(400, ["customers must contain at least 1 elements"])
    if len(plan) > MAX_CONTACTS:
        raise ApiError(400, [f"A campaign can have at most {MAX_CONTACTS} customers, got {len(plan)}."])
    campaign = stamp(sb, status="scheduled", **body)
    campaign.update(_contacts=_contacts(sb, plan), _next=0)
    campaigns[campaign["id"]] = campaign
    advance(sb, campaign, sb.now())
    return JSONResponse(full(sb, campaign), status_code=201)


def listed(request: Request, rules: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, str]]:
    """The campaigns a list query keeps, one page of them, its PaginationMeta and the query."""
    query = dict(request.query_params)
    errors = validate_query(rules, query)
    if errors:
        raise ApiError(400, errors)
    items = sandbox_of(request).store.campaigns.values()
    for key in ("id", "status"):
        if key in query:
            items = [c for c in items if c.get(key) == query[key]]
    for stamp_field in ("createdAt", "updatedAt"):
        for op, keep in (("Gt", lambda v, e: v > e), ("Lt", lambda v, e: v < e), ("Ge", lambda v, e: v >= e), ("Le", lambda v, e: v <= e)):
            if stamp_field + op in query:
                edge = parse_iso(query[stamp_field + op])
                items = [c for c in items if keep(parse_iso(c[stamp_field]), edge)]
    items.sort(key=lambda c: c["createdAt"], reverse=query.get("sortOrder", "DESC") == "DESC")
    return _page(items, query, default_limit=100)


async def list_v1(request: Request) -> JSONResponse:
    page, meta, _ = listed(request, LIST_QUERY)
    return JSONResponse({"results": [full(sandbox_of(request), c) for c in page], "metadata": meta})


async def list_v2(request: Request) -> JSONResponse:
    page, meta, query = listed(request, LIST_V2_QUERY)
    with_counters = query.get("includeCounters") == "true"
    return JSONResponse({"results": [summary(c, with_counters) for c in page], "metadata": meta})


async def get_v1(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    return JSONResponse(full(sb, find(sb.store.campaigns, request, "Campaign")))


async def get_v2(request: Request) -> JSONResponse:
    campaign = find(sandbox_of(request).store.campaigns, request, "Campaign")
    errors = validate_query({"includeCounters": Bool()}, dict(request.query_params))
    if errors:
        raise ApiError(400, errors)
    return JSONResponse(summary(campaign, request.query_params.get("includeCounters") == "true"))


async def update(request: Request) -> JSONResponse:
    """Rename, reconfigure a scheduled campaign, or cancel (`status`)."""
    sb = sandbox_of(request)
    campaign = find(sb.store.campaigns, request, "Campaign")
    body = await body_of(request, UPDATE_CAMPAIGN)
    now = sb.now()
    advance(sb, campaign, now)
    config = {k: v for k, v in body.items() if k not in ("name", "status")}
    if config and (campaign["status"] != "scheduled" or body.get("status")):
        raise ApiError(400, f"Campaign is {campaign['status']}: only a scheduled campaign's configuration can be updated.")
    if body.get("status"):
        if campaign["status"] not in ("scheduled", "in-progress"):
            raise ApiError(400, f"Campaign is already {campaign['status']}.")
        reason = f"campaign.{campaign['status']}.ended-by-user"
        _skip_pending(campaign)
        campaign.update(status="cancelled", endedReason=reason)
    if config:
        merged = {**_public(campaign), **config}
        if "dialPlan" in config:
            merged.pop("phoneNumberId", None)
            merged.pop("customers", None)
        if "phoneNumberId" in config:
            merged.pop("dialPlan", None)
        if any(k in config for k in ("assistantId", "workflowId", "squadId")):
            for key in {"assistantId", "workflowId", "squadId"} - set(config):
                merged.pop(key, None)
        check_targets(sb, merged)
        _check_schedule(merged.get("schedulePlan"))
        contacts = _contacts(sb, _plan(merged))
        campaign.clear()
        campaign.update(merged, _contacts=contacts, _next=0)
    if "name" in body:
        campaign["name"] = body["name"]
    campaign["updatedAt"] = iso(now)
    advance(sb, campaign, now)
    return JSONResponse(full(sb, campaign))


async def delete(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    campaign = find(sb.store.campaigns, request, "Campaign")
    shown = full(sb, campaign)
    del sb.store.campaigns[campaign["id"]]
    return JSONResponse(shown)


async def contacts(request: Request) -> JSONResponse:
    """GET /v2/campaign/{id}/contacts: the contacts and their outcomes, filtered by `status`, paged."""
    campaign = find(sandbox_of(request).store.campaigns, request, "Campaign")
    statuses = request.query_params.getlist("status")
    query = {k: v for k, v in request.query_params.items() if k != "status"}
    errors = validate_query(CONTACTS_QUERY, query) + [
        f"each value in status must be one of the following values: {', '.join(CONTACT_STATUSES)}" for s in statuses if s not in CONTACT_STATUSES
    ]
    if errors:
        raise ApiError(400, errors[:1] if len(set(errors)) == 1 else errors)
    items = [c for c in campaign["_contacts"] if not statuses or c["status"] in statuses]
    if query.get("sortBy") == "status":
        items.sort(key=lambda c: CONTACT_STATUSES.index(c["status"]))
    page, meta, _ = _page(items, query, default_limit=50)
    return JSONResponse({"results": [contact_view(c) for c in page], "metadata": meta})


routes = [
    *collection_routes("/campaign", create, list_v1, get_v1, update, delete),
    *collection_routes("/v2/campaign", create, list_v2, get_v2, update, delete),
    Route("/v2/campaign/{id}/contacts", contacts, methods=["GET"]),
]
BODIES: dict[tuple[str, str], Rule] = {
    ("POST", "/campaign"): CREATE_CAMPAIGN,
    ("PATCH", "/campaign/{id}"): UPDATE_CAMPAIGN,
    ("POST", "/v2/campaign"): CREATE_CAMPAIGN,
    ("PATCH", "/v2/campaign/{id}"): UPDATE_CAMPAIGN,
}
"""The request bodies this module validates, by route (the tests compare each with the document)."""


def _page(items: list[dict[str, Any]], query: dict[str, str], *, default_limit: int) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, str]]:
    """One page of `items` and PaginationMeta."""
    limit = int(float(query.get("limit", default_limit)))
    page = int(float(query.get("page", 1)))
    total = len(items)
    pages = max(1, -(-total // limit)) if limit else 1
    chosen = items[(page - 1) * limit : page * limit] if limit else []
    meta = {"itemsPerPage": limit, "totalItems": total, "currentPage": page, "totalPages": pages, "hasNextPage": page < pages}
    return chosen, meta, query

