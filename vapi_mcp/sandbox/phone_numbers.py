"""/phone-number: buy (provider vapi), import (twilio, vonage, telnyx, byo-phone-number), list, get, update, delete;
/v2/phone-number: the paginated list (`search`, `page`, `sortOrder`).

Each Create*/Update* DTO is declared field by field after ../shared/vapi-openapi.json;
tests compare the declared names with the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import phonenumbers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .core import DATE_FILTERS, ApiError, body_of, paginate, query_of, sandbox_of, stamp
from .resource import Resource
from .validation import OPEN, SERVER, Arr, Bool, Either, Num, Obj, Rule, Str, Tagged, checked_number, elsewhere

if TYPE_CHECKING:
    from . import Sandbox


@dataclass
class Nested(Arr):
    """An array of nested objects chosen by a tag: class-validator names each item by its index."""

    def check(self, value: Any, name: str) -> list[str]:
        if not isinstance(value, list):
            return super().check(value, name)
        return [error for i, item in enumerate(value) for error in self.item.check(item, f"{name}.{i}")]


ENDED_REASONS = (
    "assistant-request-failed",
    "assistant-request-returned-error",
    "assistant-request-returned-unspeakable-error",
    "assistant-request-returned-invalid-assistant",
    "assistant-request-returned-no-assistant",
    "assistant-request-returned-forwarding-phone-number",
)
"""PhoneNumberCallEndingHookFilter.oneOf: the ended reasons a call.ending hook can filter on."""

MESSAGE = Either(Str(), elsewhere("tools", "CUSTOM_MESSAGE"))
"""A transfer's `message`: words to say, or a CustomMessage."""
TRANSFER_DESTINATION_NUMBER = Obj(
    {
        "message": MESSAGE,
        "type": Str(enum=("number",)),
        "numberE164CheckEnabled": Bool(),
        "number": Str(min_len=3, max_len=40),
        "extension": Str(min_len=1, max_len=10),
        "callerId": Str(max_len=40),
        "transferPlan": elsewhere("tools", "TRANSFER_PLAN"),
        "description": Str(),
    },
    required=("type", "number"),
    also=(checked_number(),),
)
"""TransferDestinationNumber (its number checked as the document says)."""
TRANSFER_DESTINATION_SIP = Obj(
    {
        "message": MESSAGE,
        "type": Str(enum=("sip",)),
        "sipUri": Str(),
        "callerId": Str(max_len=40),
        "transferPlan": elsewhere("tools", "TRANSFER_PLAN"),
        "sipHeaders": OPEN,
        "description": Str(),
    },
    required=("type", "sipUri"),
)
"""TransferDestinationSip."""
DESTINATION = Tagged("type", {"number": TRANSFER_DESTINATION_NUMBER, "sip": TRANSFER_DESTINATION_SIP})
HOOK_ACTION = Tagged(
    "type",
    {
        "transfer": Obj({"type": Str(enum=("transfer",)), "destination": DESTINATION}, required=("type",)),
        "say": Obj({"type": Str(enum=("say",)), "exact": Str(max_len=4000)}, required=("type", "exact")),
    },
)
RINGING_FILTER = Obj(
    {
        "type": Str(enum=("startsWith",)),
        "key": Str(enum=("number",)),
        "startsWith": Arr(Str(max_len=20), max_items=20),
    },
    required=("type", "key", "startsWith"),
)
ENDING_FILTER = Obj(
    {
        "type": Str(enum=("oneOf",)),
        "key": Str(enum=("call.endedReason",)),
        "oneOf": Arr(Str(enum=ENDED_REASONS)),
    },
    required=("type", "key", "oneOf"),
)
RINGING_HOOK = Obj(
    {"on": Str(enum=("call.ringing",)), "filters": Arr(RINGING_FILTER), "do": Nested(HOOK_ACTION)},
    required=("on", "do"),
)
ENDING_HOOK = Obj(
    {"on": Str(enum=("call.ending",)), "filters": Arr(ENDING_FILTER), "do": HOOK_ACTION},
    required=("on",),
)
HOOKS = Nested(Tagged("on", {"call.ringing": RINGING_HOOK, "call.ending": ENDING_HOOK}))

COMMON: dict[str, Rule] = {
    "fallbackDestination": DESTINATION,
    "hooks": HOOKS,
    "name": Str(max_len=40),
    "assistantId": Str(),
    "workflowId": Str(),
    "squadId": Str(),
    "server": SERVER,
}
SIP_AUTHENTICATION = Obj(
    {"realm": Str(), "username": Str(min_len=20, max_len=40), "password": Str(min_len=20, max_len=40)},
    required=("username", "password"),
)
TWILIO_CREDENTIALS: dict[str, Rule] = {
    "twilioAccountSid": Str(),
    "twilioAuthToken": Str(),
    "twilioApiKey": Str(),
    "twilioApiSecret": Str(),
}


def _provider(name: str) -> dict[str, Rule]:
    return {"provider": Str(enum=(name,))}


CREATE: dict[str, Obj] = {
    "vapi": Obj(
        {
            **COMMON,
            **_provider("vapi"),
            "numberDesiredAreaCode": Str(min_len=3, max_len=3),
            "sipUri": Str(),
            "authentication": SIP_AUTHENTICATION,
        },
        required=("provider",),
    ),
    "twilio": Obj(
        {**COMMON, **_provider("twilio"), "smsEnabled": Bool(), "number": Str(), **TWILIO_CREDENTIALS},
        required=("provider", "number", "twilioAccountSid"),
    ),
    "vonage": Obj({**COMMON, **_provider("vonage"), "number": Str(), "credentialId": Str()}, required=("provider", "number", "credentialId")),
    "telnyx": Obj({**COMMON, **_provider("telnyx"), "number": Str(), "credentialId": Str()}, required=("provider", "number", "credentialId")),
    "byo-phone-number": Obj(
        {
            **COMMON,
            **_provider("byo-phone-number"),
            "numberE164CheckEnabled": Bool(),
            "number": Str(min_len=3, max_len=40),
            "credentialId": Str(),
        },
        required=("provider", "credentialId"),
        also=(checked_number(),),
    ),
}
UPDATE: dict[str, Obj] = {
    "vapi": Obj({**COMMON, **_provider("vapi"), "sipUri": Str(), "authentication": SIP_AUTHENTICATION}),
    "twilio": Obj({**COMMON, **_provider("twilio"), "smsEnabled": Bool(), "number": Str(), **TWILIO_CREDENTIALS}),
    "vonage": Obj({**COMMON, **_provider("vonage"), "number": Str(), "credentialId": Str()}),
    "telnyx": Obj({**COMMON, **_provider("telnyx"), "number": Str(), "credentialId": Str()}),
    "byo-phone-number": Obj(
        {**COMMON, **_provider("byo-phone-number"), "numberE164CheckEnabled": Bool(), "number": Str(min_len=3, max_len=40), "credentialId": Str()},
        also=(checked_number(),),
    ),
}

IMPORT_TWILIO = Obj(
    {
        "fallbackDestination": DESTINATION,
        "hooks": HOOKS,
        "smsEnabled": Bool(),
        "twilioPhoneNumber": Str(),
        **TWILIO_CREDENTIALS,
        "name": Str(max_len=40),
        "assistantId": Str(),
        "workflowId": Str(),
        "squadId": Str(),
        "server": SERVER,
    },
    required=("twilioPhoneNumber", "twilioAccountSid"),
)
"""ImportTwilioPhoneNumberDTO: a call's transient `phoneNumber` (instead of `phoneNumberId`)."""

SCHEMA_PREFIX = {"vapi": "Vapi", "twilio": "Twilio", "vonage": "Vonage", "telnyx": "Telnyx", "byo-phone-number": "Byo"}
"""`CreateTwilioPhoneNumberDTO` and friends: the OpenAPI schema name of each provider's DTOs."""

DTOS: dict[str, Rule] = {
    **{f"Create{prefix}PhoneNumberDTO": CREATE[p] for p, prefix in SCHEMA_PREFIX.items()},
    **{f"Update{prefix}PhoneNumberDTO": UPDATE[p] for p, prefix in SCHEMA_PREFIX.items()},
    "PhoneNumberHookCallRinging": RINGING_HOOK,
    "PhoneNumberHookCallEnding": ENDING_HOOK,
    "PhoneNumberCallRingingHookFilter": RINGING_FILTER,
    "PhoneNumberCallEndingHookFilter": ENDING_FILTER,
    "TransferPhoneNumberHookAction": HOOK_ACTION.branches["transfer"],
    "SayPhoneNumberHookAction": HOOK_ACTION.branches["say"],
    "TransferDestinationNumber": DESTINATION.branches["number"],
    "TransferDestinationSip": DESTINATION.branches["sip"],
    "Server": SERVER,
    "SipAuthentication": SIP_AUTHENTICATION,
}
"""Every rule of this module by the OpenAPI schema it mirrors (for the tests)."""

LIST_QUERY: dict[str, Rule] = {
    "limit": Num(minimum=0, maximum=1000),
    **DATE_FILTERS,
}
TARGETS = {"assistantId": "assistants", "squadId": "squads"}
"""Assignment fields whose ids must exist in the store (the sandbox has no workflows)."""


def check_targets(sb: Sandbox, body: dict[str, Any]) -> None:
    """The assistant or squad a number answers with exists."""
    for key, collection in TARGETS.items():
        target = body.get(key)
        if target is not None and target not in sb.store.collection(collection):
            raise ApiError(400, [f"{key} {target} does not exist in this org"])


async def create_number(request: Request) -> JSONResponse:
    """Buy a free Vapi number (one is picked in the area code) or import one from a provider."""
    sb = sandbox_of(request)
    body = await body_of(request, Tagged("provider", CREATE))
    check_targets(sb, body)
    fields = {k: v for k, v in body.items() if v is not None}
    if body["provider"] == "vapi":
        fields["number"] = _free_number(sb, body.get("numberDesiredAreaCode"))
    number = stamp(sb, status="active", **fields)
    sb.store.phone_numbers[number["id"]] = number
    return JSONResponse(number, status_code=201)


NUMBERS = Resource(
    "/phone-number", "phone_numbers", "Phone Number", Tagged("provider", CREATE), lambda number: UPDATE[number["provider"]], LIST_QUERY,
    nulls="clear",  # `null` clears a field: class-validator's @IsOptional lets it through, as at Vapi
    check=check_targets,
)

PAGED_QUERY: dict[str, Rule] = {
    "search": Str(max_len=100),
    "page": Num(minimum=1),
    "sortOrder": Str(enum=("ASC", "DESC")),
    "sortBy": Str(enum=("createdAt", "duration", "cost")),
    **LIST_QUERY,
}
"""GET /v2/phone-number's query parameters."""
SEARCHED = ("name", "number", "sipUri")
"""What `search` matches, in part and in any case (the document: by name, number, or SIP URI)."""


async def list_numbers_paged(request: Request) -> JSONResponse:
    """PhoneNumberPaginatedResponse: the numbers `search` keeps, newest first (`sortOrder` ASC: oldest first;
    numbers have no duration or cost, so `sortBy` those orders by time), `page` of `limit` (100) of them."""
    sb = sandbox_of(request)
    query = query_of(request, PAGED_QUERY)
    needle = query.get("search", "").lower()
    found = [n for n in sb.store.phone_numbers.values() if not needle or any(needle in str(n.get(key) or "").lower() for key in SEARCHED)]
    every = paginate(found, {**query, "limit": str(len(found))})  # the time filters, newest first
    if query.get("sortOrder") == "ASC":
        every.reverse()
    limit, page = int(float(query.get("limit", 100))), int(float(query.get("page", 1)))
    results = every[(page - 1) * limit : page * limit]
    return JSONResponse({"results": results, "metadata": {"itemsPerPage": limit, "totalItems": len(every), "currentPage": page}})


routes = [*NUMBERS.routes(create=create_number), Route("/v2/phone-number", list_numbers_paged, methods=["GET"])]
BODIES: dict[tuple[str, str], Rule] = {("POST", "/phone-number"): Tagged("provider", CREATE), ("PATCH", "/phone-number/{id}"): Tagged("provider", UPDATE)}
"""The request bodies this module validates, by route (the tests compare each with the document)."""


def _free_number(sb: Sandbox, area_code: str | None) -> str:
    """A US number in the desired area code (415 by default) that no other number of the store has."""
    taken = {n.get("number") for n in sb.store.phone_numbers.values()}
    area = area_code or "415"
    for line in range(1000, 10000):
        candidate = f"+1{area}555{line:04d}"
        if candidate not in taken:
            break
    if not phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
        raise ApiError(400, [f"numberDesiredAreaCode {area} is not available. Try another US area code."])
    return candidate
