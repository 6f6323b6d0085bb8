"""Every phone destination in a request body to Vapi, found by its shape; and the rule that none leaves unguarded.

Where Vapi's OpenAPI document puts phone numbers in request bodies (tests/phone_fields.py walks
the document, and tests/test_destinations.py checks that `scan` finds every such field):

- a customer to call: `customer` / `customers[]` (CreateCustomerDTO.number): POST /call, campaigns;
  and its `sipUri` (CreateCustomerDTO.sipUri: the customer dialled at a SIP address, which may be a phone
  number behind a SIP trunk, so it is a dial whose country and local time are unknown);
- a transfer to a phone: any `{"type": "number", "number": ...}` (TransferDestinationNumber): a phone
  number's `fallbackDestination` and hook `transfer` actions, transferCall tools' `destinations`
  (POST /tool, or inline in an assistant's `model.tools`, `assistantOverrides["tools:append"]`,
  hook `tool` actions, squad members, workflow nodes: wherever a transient assistant can sit);
- a transfer to a SIP address: `{"type": "sip", "sipUri": ...}` (TransferDestinationSip);
- a transfer to whatever number a server names at call time: a transferCall tool with no `destinations`
  (CreateTransferCallToolDTO: "If no destinations are provided, server.url will be used to get the
  transfer destination once the tool is called"), so a destination no rule can check; likewise a hook's
  `{"type": "transfer"}` action without a `destination` (TransferPhoneNumberHookAction, TransferHookAction:
  only `type` is required), whose number is chosen when the hook runs;
- an SMS tool, `{"type": "sms"}` (CreateSmsToolDTO): the assistant can text the people it talks to;
- a text sent now: a chat's `transport` `{"type": "twilio.sms", "customer": ...}` (TwilioSMSChatTransport);
- a session's customer (CreateSessionDTO `customer`, or `customerId`, whatever number it texts from: `phoneNumberId`, a
  transient `phoneNumber`, or none yet, since chat_with_assistant treats such a session as texting): every chat on the session texts them (a chat given a `sessionId` "uses existing session data"), so the session sets up texts,
  sent later (role `sms-session`: the number rules hold, quiet hours apply when a chat texts);
- the user's own number: the top-level `number` of a /phone-number request, `twilioPhoneNumber`;
- not destinations, found so they are normalized and shown: `callerId` (what a transfer's callee
  sees), `forwardedFrom` (where an inbound call came from).

The guard checks the destinations a request carries (`guard.Guard.guarded` scans `action.body`)
and clears them for the duration of its block; `VapiClient` refuses any mutating request that
carries a destination the guard has not cleared. So a tool cannot send a phone destination
without the guard, whatever it forgets: tools send through `ToolContext.send` (tools/base.py).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["call", "sip-call", "transfer", "sip", "sms", "sms-tool", "sms-session", "own", "caller-id", "info"]
Path = tuple[str | int, ...]

GUARDED_ROLES = frozenset({"call", "sip-call", "transfer", "sip", "sms", "sms-tool", "sms-session"})
"""Destinations that dial or text someone: a request carrying one is a guarded action."""
DIAL_ROLES = frozenset({"call", "sip-call"})
"""Destinations that ring now: a request carrying one is a dial."""
NUMBER_ROLES = frozenset({"call", "transfer", "sms", "sms-session", "own", "caller-id"})
"""Fields sent to Vapi as normalized E.164 (when their E.164 check is on)."""
PHONE_NUMBER_PATHS = ("/phone-number",)
"""Requests whose top-level `number` is the user's own number (Create/Update*PhoneNumberDTO)."""
SESSION_PATHS = ("/session",)
"""Requests whose top-level `customer` is a session's: texted by the session's chats, not dialled (CreateSessionDTO)."""
MAX_NUMBERS = 10_000
"""Numbers and destinations one request may carry (Vapi's campaign limit): more is refused before any is read."""
DYNAMIC_TRANSFER = "any number a server names when the call transfers (transferCall tool without destinations)"
"""What a transferCall tool without destinations reaches: Vapi asks the server URL at call time."""
HOOK_TRANSFER = "a number chosen when the hook runs (transfer action without a destination)"
"""What a hook's transfer action without a `destination` reaches: no number any rule can check."""


@dataclass(frozen=True)
class Found:
    """One destination (or number) in a request body."""

    role: Role
    at: Path
    """Where it is: the keys and indexes from the body's root to the number (or the destination object)."""
    number: str | None = None
    e164_check: bool = True
    """False when the destination set `numberE164CheckEnabled: false`."""
    detail: str | None = None
    """What a destination without a number is: a SIP address, 'customer <id>', 'an SMS tool'."""

    @property
    def guarded(self) -> bool:
        return self.role in GUARDED_ROLES

    @property
    def where(self) -> str:
        return ".".join(str(part) for part in self.at)

    @property
    def key(self) -> tuple[str, str]:
        """What the guard clears and the client compares: the role and the number (or detail) as sent."""
        return self.role, self.number if self.number is not None else self.detail or ""


def own_fields(path: str) -> tuple[str, ...]:
    """Top-level fields that hold the user's own number in a request to `path`."""
    return ("number",) if path.startswith(PHONE_NUMBER_PATHS) else ()


def scan(body: Any, *, own: Iterable[str] = (), update: bool = False, session: bool = False) -> list[Found]:
    """Every destination and number in `body`, in document order; `own` names top-level own-number fields.

    `update`: `body` changes an existing tool (PATCH /tool/{id}), where leaving `destinations` out keeps them.
    `session`: `body` is a session's (POST /session), whose top-level customer its chats text."""
    found: list[Found] = []
    if isinstance(body, dict):
        flag = body.get("numberE164CheckEnabled") is not False
        for name in own:
            if isinstance(body.get(name), str):
                found.append(Found("own", (name,), body[name], flag))
    _walk(body, (), found, update)
    if session and isinstance(body, dict):
        found = [_texted_by_session(item) for item in found]
        if body.get("customer") is None and isinstance(body.get("customerId"), str):  # texted from its phoneNumberId, transient phoneNumber, or a number chosen later
            found.append(Found("sms-session", ("customerId",), detail=f"the customer with id {body['customerId']}"))
    return found


def _texted_by_session(item: Found) -> Found:
    """A session's own customer (its top-level `customer`): texted by the session's chats, not dialled."""
    if item.at[:1] != ("customer",) or item.role not in ("call", "sip-call"):
        return item
    return Found("sms-session", item.at, item.number, item.e164_check, item.detail)


def scan_request(path: str, body: Any) -> list[Found]:
    return scan(body, own=own_fields(path), update=_is_tool_update(path), session=path.startswith(SESSION_PATHS))


def _is_tool_update(path: str) -> bool:
    parts = path.strip("/").split("/")
    return len(parts) == 2 and parts[0] == "tool"


def _number(value: Any) -> str | None:
    """A number field's value as text: a string, or digits sent as a JSON number (Vapi refuses those, but they are found)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return None


def _phone_destination(value: Any) -> bool:
    """A transfer destination the scan reads: a number or a SIP address (TransferDestinationNumber, TransferDestinationSip)."""
    return isinstance(value, dict) and (
        value.get("type") == "number" and _number(value.get("number")) is not None or value.get("type") == "sip" and isinstance(value.get("sipUri"), str)
    )


def _walk(node: Any, at: Path, found: list[Found], update: bool = False) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            _walk(item, (*at, i), found)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    destinations = node.get("destinations")
    if kind == "transferCall" and not (isinstance(destinations, list) and destinations) and not (update and at == () and "destinations" not in node):
        found.append(Found("transfer", (*at, "destinations"), detail=DYNAMIC_TRANSFER))
    if kind == "transfer" and not _phone_destination(node.get("destination")):
        found.append(Found("transfer", (*at, "destination"), detail=HOOK_TRANSFER))
    if kind == "number" and _number(node.get("number")) is not None:
        found.append(Found("transfer", (*at, "number"), _number(node["number"]), node.get("numberE164CheckEnabled") is not False))
    elif kind == "sip" and isinstance(node.get("sipUri"), str):
        found.append(Found("sip", (*at, "sipUri"), detail=node["sipUri"]))
    elif kind == "sms":
        found.append(Found("sms-tool", at, detail="an SMS tool"))
    elif kind == "twilio.sms":
        customer = node.get("customer")
        if isinstance(customer, dict) and _number(customer.get("number")) is not None:
            found.append(Found("sms", (*at, "customer", "number"), _number(customer["number"]), customer.get("numberE164CheckEnabled") is not False))
        else:
            who = f"the customer with id {node['customerId']}" if node.get("customerId") else "the session's customer"
            found.append(Found("sms", at, detail=who))
    for key, value in node.items():
        if key in ("customer", "customers") and kind != "twilio.sms":
            for i, customer in enumerate(value if isinstance(value, list) else [value]):
                place = (*at, key, i) if isinstance(value, list) else (*at, key)
                if isinstance(customer, dict) and _number(customer.get("number")) is not None:
                    found.append(Found("call", (*place, "number"), _number(customer["number"]), customer.get("numberE164CheckEnabled") is not False))
                if isinstance(customer, dict) and customer.get("sipUri") is not None:
                    found.append(Found("sip-call", (*place, "sipUri"), detail=str(customer["sipUri"])))
        elif key == "callerId" and isinstance(value, str):
            found.append(Found("caller-id", (*at, key), value))
        elif key == "twilioPhoneNumber" and isinstance(value, str):
            found.append(Found("own", (*at, key), value))
        elif key == "forwardedFrom" and isinstance(value, str):
            found.append(Found("info", (*at, key), value))
        _walk(value, (*at, key), found)


def normalize(body: Any, *, own: Iterable[str] = ()) -> Any:
    """`body` with every number whose E.164 check is on in normalized E.164 form (a copy; unchanged if nothing to do).

    A number that is not a valid E.164 number stays as given: the guard refuses it and says why.
    """
    found = scan(body, own=own)
    if len(found) > MAX_NUMBERS:  # before reading any: each reading costs CPU the whole server shares
        raise ValueError(f"{len(found)} phone numbers and destinations in one request; at most {MAX_NUMBERS} (Vapi's largest campaign)")
    numbers = [item for item in found if item.role in NUMBER_ROLES and item.number is not None and item.e164_check]
    if not numbers:
        return body
    from .numbers import normalized  # phonenumbers loads only when there is a number to read

    changes = []
    for item in numbers:
        e164 = normalized(item.number or "")
        if e164 is not None and e164 != item.number:
            changes.append((item.at, e164))
    if not changes:
        return body
    body = copy.deepcopy(body)
    for at, e164 in changes:
        node = body
        for part in at[:-1]:
            node = node[part]
        node[at[-1]] = e164
    return body


# the rule that no destination leaves unguarded

_CLEARED: ContextVar[frozenset[tuple[str, str]]] = ContextVar("vapi_mcp_cleared", default=frozenset())


@contextmanager
def cleared(keys: Iterable[tuple[str, str]]) -> Iterator[None]:
    """Inside this block, requests may carry these destinations (the guard has checked and confirmed them)."""
    token = _CLEARED.set(_CLEARED.get() | frozenset(keys))
    try:
        yield
    finally:
        _CLEARED.reset(token)


def uncleared(path: str, body: Any) -> list[Found]:
    """The destinations in a request that no guard block has cleared (empty when it may be sent)."""
    allowed = _CLEARED.get()
    return [item for item in scan_request(path, body) if item.guarded and item.key not in allowed]


def label(item: Found) -> str:
    """'transfer to +14155550123', 'SIP transfer to sip:desk@example.com', 'an SMS tool'."""
    what = {
        "call": "call to",
        "sip-call": "SIP call to",
        "transfer": "transfer to",
        "sip": "SIP transfer to",
        "sms": "text message to",
        "sms-tool": "",
        "sms-session": "text messages (a session's chats) to",
    }.get(item.role, f"{item.role}")
    return f"{what} {item.number or item.detail}".strip()
