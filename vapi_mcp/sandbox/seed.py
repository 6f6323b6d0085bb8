"""Preloaded sandbox data shaped like Vapi's real objects: `vapi-mcp sandbox --seed bench|demo`.

"bench" holds 5 assistants, 3 phone numbers and 25 calls, "demo" a smaller slice of the
same. Calls are stored with the bookkeeping `calls.live` reads (`_start`, `_ended_at`, the
assistant they talk with...), so an answered, ended call is served like a real one: its
conversation drawn from its assistant's prompt by the sandbox's rules, repeated in `messages`,
`artifact.messages` and `artifact.transcript`, recordings, analysis and costs. The newest call,
`RICH_CALL_ID`, has a caller with a script (RICH_CALLER): a booking and three questions. Ids
are stable across runs.
"""

from __future__ import annotations

import copy
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .calls import QUEUED, RINGING
from .clock import iso
from .core import ORG_ID

if TYPE_CHECKING:
    from . import Sandbox

_NAMESPACE = uuid.UUID("0b6f3c52-5a57-4f0e-9d1c-7a1e8c9b4d21")
SIZES = {"bench": (5, 3, 25), "demo": (2, 2, 4)}
"""Assistants, phone numbers and calls per seed."""


def stable_id(kind: str, index: int) -> str:
    """The seed's id for the index-th object of a kind (the same in every run)."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}-{index}"))


RICH_CALL_ID = stable_id("call", 0)

ASSISTANTS = [
    (
        "Riley - Dental Front Desk",
        "Thank you for calling Bright Smile Dental, this is Riley. How can I help you today?",
        "You are Riley, the front desk assistant for Bright Smile Dental.\n\n## Hours\nWe are open Monday to Friday, 8am to 5pm. Closed on weekends.\n\n"
        "## Services and prices\n- Cleaning: $120, about 45 minutes\n- Whitening: $250\n- New patient exam: $95\n\n"
        "## Rules\n- You can book dental appointments.\n- We accept most dental insurance plans.\n- Never give medical advice.",
    ),
    (
        "Sam - Appointment Reminders",
        "Hi, this is Sam from Bright Smile Dental calling about your upcoming appointment.",
        "You are Sam from Bright Smile Dental. You are calling to remind patients of their upcoming appointment.\n"
        "Appointments can be moved up to 24 hours ahead at no charge. You can reschedule appointments.",
    ),
    (
        "Morgan - Order Status",
        "Hi! This is Morgan from Northwind Supply. I can check on any order for you.",
        "You are Morgan from Northwind Supply.\n\n## Orders\nOrders ship within 2 business days. Standard delivery takes 3 to 5 business days.\n"
        "Returns are accepted within 30 days.\n\n## Rules\n- Never promise a delivery date.",
    ),
    (
        "Jordan - Lead Qualification",
        "Hello, this is Jordan with Summit Solar. Do you have a minute to talk about your energy bill?",
        "You are Jordan with Summit Solar. You are calling to see whether solar panels could lower the customer's energy bill.\n"
        "A free home assessment takes about an hour. Most homes save 20 to 40 percent on their bill.",
    ),
    (
        "Casey - After-hours Line",
        "You've reached Bright Smile Dental after hours. I can take a message or help with emergencies.",
        "You are Casey, the after-hours line of Bright Smile Dental. The office opens at 8am on weekdays.\n"
        "For a dental emergency, the on-call dentist can be reached at the emergency line.",
    ),
]
"""(name, firstMessage, system prompt) of each seeded assistant."""
OUTBOUND = frozenset({"Sam - Appointment Reminders", "Jordan - Lead Qualification"})
"""The seeded assistants that call customers; the others answer calls."""
RICH_CALLER = (
    "You want to book a cleaning on Thursday afternoon. Your name is Jordan Lee. Ask how much a cleaning costs. "
    "Ask whether they accept insurance. Ask how long a cleaning takes."
)
"""The customer's side of RICH_CALL_ID: a booking and three questions."""

NUMBERS = [
    ("vapi", "+14155550123", "Front desk"),
    ("twilio", "+12125550147", "Reminders outbound"),
    ("vapi", "+13105550188", "After hours"),
]

ENDED_REASONS = ("customer-ended-call", "assistant-ended-call", "silence-timed-out", "customer-did-not-answer", "voicemail")


def seed(sandbox: Sandbox, name: str) -> None:
    """Load a named data set ("bench" or "demo") into the sandbox's store."""
    if name not in SIZES:
        raise ValueError(f"unknown seed {name!r}: choose one of {', '.join(SIZES)}")
    assistants, numbers, calls = SIZES[name]
    now = sandbox.now()
    store = sandbox.store
    for i in range(assistants):
        item = assistant(i, now - timedelta(days=30 - i))
        store.assistants[item["id"]] = item
    for i in range(numbers):
        item = phone_number(i, now - timedelta(days=20 - i), assistant_id=stable_id("assistant", i % assistants))
        store.phone_numbers[item["id"]] = item
    for i in range(calls):
        item = call(i, now - timedelta(hours=1 + 5 * i), store.assistants[stable_id("assistant", i % assistants)], numbers)
        store.calls[item["id"]] = item


def assistant(index: int, created: datetime) -> dict[str, Any]:
    """An Assistant like GET /assistant/{id} returns it."""
    name, first_message, prompt = ASSISTANTS[index]
    return {
        "id": stable_id("assistant", index),
        "orgId": ORG_ID,
        "createdAt": iso(created),
        "updatedAt": iso(created + timedelta(days=2)),
        "name": name,
        "transcriber": {"provider": "deepgram", "model": "nova-2", "language": "en"},
        "model": {
            "provider": "openai",
            "model": "gpt-4o",
            "temperature": 0.3,
            "messages": [{"role": "system", "content": prompt}],
        },
        "voice": {"provider": "11labs", "voiceId": "burt", "model": "eleven_turbo_v2_5"},
        "firstMessage": first_message,
        "firstMessageMode": "assistant-speaks-first",
        "voicemailMessage": "Please call us back at your convenience.",
        "endCallMessage": "Thanks for calling, goodbye!",
        "endCallPhrases": ["goodbye", "talk to you soon"],
        "maxDurationSeconds": 600,
        "serverMessages": ["end-of-call-report", "status-update"],
        "clientMessages": ["transcript", "hang", "function-call"],
        "backgroundSound": "office",
    }


def phone_number(index: int, created: datetime, *, assistant_id: str) -> dict[str, Any]:
    """A VapiPhoneNumber or TwilioPhoneNumber like GET /phone-number/{id} returns it."""
    provider, number, name = NUMBERS[index]
    item: dict[str, Any] = {
        "id": stable_id("phone-number", index),
        "orgId": ORG_ID,
        "createdAt": iso(created),
        "updatedAt": iso(created),
        "provider": provider,
        "status": "active",
        "number": number,
        "name": name,
        "assistantId": assistant_id,
    }
    if provider == "twilio":
        item["twilioAccountSid"] = "AC5d2f8a1e7b3c4d6e9f0a1b2c3d4e5f60"
        item["smsEnabled"] = True
    return item




def call(index: int, created: datetime, assistant: dict[str, Any], numbers: int) -> dict[str, Any]:
    """An ended call: answered and talked for one to five minutes, or (some) never answered, or (voicemail) answered
    by a machine that heard the first message. Inbound or outbound as its assistant's role is."""
    number_index = index % numbers
    call_id = stable_id("call", index)
    reason = "customer-ended-call" if index == 0 else ENDED_REASONS[index % len(ENDED_REASONS)]
    answered = created + timedelta(seconds=QUEUED + RINGING)
    talked = {"customer-did-not-answer": -RINGING, "voicemail": 0.5}.get(reason, 60 + 47 * (index % 5))
    ended = answered + timedelta(seconds=talked)
    monitor = f"https://phone-call-websocket.aws-us-west-2-backend-production1.vapi.ai/{call_id}"
    return {
        "id": call_id,
        "orgId": ORG_ID,
        "createdAt": iso(created),
        "updatedAt": iso(created),
        "type": "outboundPhoneCall" if assistant["name"] in OUTBOUND else "inboundPhoneCall",
        "assistantId": assistant["id"],
        "phoneNumberId": stable_id("phone-number", number_index),
        "customer": {"number": f"+1415555{2000 + index:04d}"},
        "phoneCallProvider": NUMBERS[number_index][0],
        "phoneCallProviderId": "CA" + uuid.uuid5(_NAMESPACE, f"provider-{index}").hex,
        "phoneCallTransport": "pstn",
        "monitor": {"listenUrl": monitor.replace("https", "wss", 1) + "/listen", "controlUrl": monitor + "/control"},
        "_start": created,
        "_ended_at": ended,
        "_ended_reason": reason,
        "_assistant": copy.deepcopy(assistant),
        **({"_caller": RICH_CALLER} if index == 0 else {}),
    }
