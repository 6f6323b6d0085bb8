"""The sandbox refuses the numbers Vapi's document says Vapi refuses, wherever a number sits.

The document, on every `number` with a `numberE164CheckEnabled` flag (CreateCustomerDTO,
TransferDestinationNumber, CreateByoPhoneNumberDTO): `true` (the default) allows only E.164
numbers like +14155551234; `false` still requires /^\\+?[a-zA-Z0-9]+$/.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.openapi import schema
from vapi_mcp.sandbox import Sandbox, chat
from vapi_mcp.sandbox.core import stamp


@pytest.fixture
def sandbox(either_world: Sandbox) -> Sandbox:
    """Every test here runs on a world in memory and on one in an SQLite file."""
    return either_world


E164_MESSAGE = "must be a valid phone number in the E.164 format"
RELAXED_MESSAGE = "must match /^\\+?[a-zA-Z0-9]+$/ regular expression"


@pytest.fixture
def ids(sandbox, clock) -> dict[str, str]:
    assistant = stamp(clock, name="Riley")
    twilio = stamp(clock, provider="twilio", number="+14155550101", status="active")
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.phone_numbers[twilio["id"]] = twilio
    return {"assistantId": assistant["id"], "twilio": twilio["id"]}


def destination(number: str, **flag: Any) -> dict[str, Any]:
    return {"type": "number", "number": number, **flag}


BODIES = {
    "call customer": ("/call", lambda i, d: {"assistantId": i["assistantId"], "phoneNumberId": i["twilio"], "customer": {k: v for k, v in d.items() if k != "type"}}),
    "number fallbackDestination": ("/phone-number", lambda i, d: {"provider": "vapi", "fallbackDestination": d}),
    "number hook transfer": ("/phone-number", lambda i, d: {"provider": "vapi", "hooks": [{"on": "call.ringing", "do": [{"type": "transfer", "destination": d}]}]}),
    "transferCall tool": ("/tool", lambda i, d: {"type": "transferCall", "destinations": [d]}),
    "assistant inline tool": ("/assistant", lambda i, d: {"model": {"provider": "openai", "model": "gpt-4.1", "tools": [{"type": "transferCall", "destinations": [d]}]}}),
    "byo number": ("/phone-number", lambda i, d: {"provider": "byo-phone-number", "credentialId": "c", **{k: v for k, v in d.items() if k != "type"}}),
    "chat sms transport": ("/chat", lambda i, d: {"assistantId": i["assistantId"], "input": "Hi", "transport": {"type": "twilio.sms", "phoneNumberId": i["twilio"], "customer": {k: v for k, v in d.items() if k != "type"}}}),
}


@pytest.mark.parametrize("where", list(BODIES))
@pytest.mark.parametrize(
    ("number", "flag", "message"),
    [
        ("+1 (415) 555-0123", {}, E164_MESSAGE),
        ("4155550123", {}, E164_MESSAGE),
        ("+11234567890", {}, E164_MESSAGE),
        ("+1-415-555-0123", {"numberE164CheckEnabled": False}, RELAXED_MESSAGE),
    ],
)
async def test_a_number_vapi_refuses_is_a_400_wherever_it_sits(api, ids, sandbox, where, number, flag, message):
    path, body = BODIES[where]
    response = await api.post(path, json=body(ids, destination(number, **flag)))
    assert response.status_code == 400, response.text
    assert any(message in m for m in response.json()["message"]), response.json()


@pytest.mark.parametrize("where", list(BODIES))
@pytest.mark.parametrize(("number", "flag"), [("+14155550123", {}), ("+001234567890", {"numberE164CheckEnabled": False}), ("1001", {"numberE164CheckEnabled": False})])
async def test_a_number_vapi_accepts_is_accepted_wherever_it_sits(api, ids, where, number, flag):
    path, body = BODIES[where]
    response = await api.post(path, json=body(ids, destination(number, **flag)))
    assert response.status_code in (200, 201), response.text


def test_the_sms_transport_declares_the_documents_fields():
    assert chat.SMS_TRANSPORT.names == set(schema("TwilioSMSChatTransport")["properties"])
