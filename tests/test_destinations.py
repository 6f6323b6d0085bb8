"""The scanner finds every phone number and SMS sender where Vapi's document puts one, and normalizes the numbers."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.phone_fields import SAMPLE, Place, places
from vapi_mcp.destinations import NUMBER_ROLES, normalize, own_fields, scan

ROLES = {
    "TransferDestinationNumber.number": {"transfer"},
    "CreateCustomerDTO.number": {"call", "sms", "sms-session"},
    "TransferDestinationNumber.callerId": {"caller-id"},
    "TransferDestinationSip.callerId": {"caller-id"},
    "TwilioTransport.forwardedFrom": {"info"},
    "ImportTwilioPhoneNumberDTO.twilioPhoneNumber": {"own"},
    "CreateSmsToolDTO": {"sms-tool"},
    "UpdateSmsToolDTO": {"sms-tool"},
    "TwilioSMSChatTransport": {"sms"},
}
"""How the scanner must classify each place; phone-number DTOs' `number` is the user's own number."""


@pytest.fixture(scope="module")
def found_places() -> list[Place]:
    return places()


def expected_roles(place: Place) -> set[str]:
    if place.name.endswith("PhoneNumberDTO.number"):
        return {"own"}
    assert place.name in ROLES, f"the document has a phone field the scanner was never told about: {place.name} ({place.root})"
    return ROLES[place.name]


def test_the_document_walk_finds_the_destinations_we_know_of(found_places: list[Place]) -> None:
    """So the coverage test below cannot pass on an empty list."""
    names = Counter(place.name for place in found_places)
    for known in ("TransferDestinationNumber.number", "CreateCustomerDTO.number", "CreateSmsToolDTO", "TwilioSMSChatTransport"):
        assert names[known] > 0, known
    roots = {place.root for place in found_places if place.name == "TransferDestinationNumber.number"}
    for route in ("POST /tool", "PATCH /tool/{id}", "POST /assistant", "PATCH /assistant/{id}", "POST /squad", "POST /call", "POST /chat", "PATCH /phone-number/{id}", "POST /call/web"):
        assert route in roots, route


def test_the_scanner_finds_every_phone_field_and_sms_sender_of_the_document(found_places: list[Place]) -> None:
    missed = []
    for place in found_places:
        found = {(f.at, f.role) for f in scan(place.body, own=own_fields(place.path))}
        if not any(at == place.at and role in expected_roles(place) for at, role in found):
            missed.append(f"{place.root}: {'.'.join(map(str, place.at))} ({place.name}) -> {sorted(found)}")
    assert not missed, f"{len(missed)} places the scanner misses, e.g. " + "; ".join(missed[:5])


def test_every_number_field_is_sent_normalized(found_places: list[Place]) -> None:
    """`+1 (415) 555-0123` at any number field of any request body leaves as +14155550123."""
    import copy

    for place in found_places:
        if place.field is None or expected_roles(place) - NUMBER_ROLES:
            continue
        body = copy.deepcopy(place.body)
        node = body
        for part in place.at[:-1]:
            node = node[part]
        node[place.at[-1]] = "+1 (415) 555-0123"
        out = normalize(body, own=own_fields(place.path))
        node = out
        for part in place.at:
            node = node[part]
        assert node == SAMPLE, f"{place.root}: {'.'.join(map(str, place.at))}"


@pytest.mark.parametrize(
    "given",
    ["+1 (415) 555-0123", "tel:+1-415-555-0123", "＋１ ４１５ ５５５ ０１２３", "+1\u00a0415\u2009555\u202f0123", "+1.415.555.0123", "+1\u2013415\u2013555\u20130123"],
)
def test_normalization_of_the_forms_people_write(given: str) -> None:
    body = {"customer": {"number": given}, "fallbackDestination": {"type": "number", "number": given}}
    assert normalize(body) == {"customer": {"number": SAMPLE}, "fallbackDestination": {"type": "number", "number": SAMPLE}}


def test_a_number_without_the_e164_check_or_not_valid_is_left_as_given() -> None:
    relaxed = {"customer": {"number": "0014155550123", "numberE164CheckEnabled": False}}
    assert normalize(relaxed) == relaxed
    broken = {"customer": {"number": "+1 123 456 7890"}}
    assert normalize(broken) == broken  # the guard refuses it and says why


def test_sip_addresses_texts_and_sms_tools_are_destinations_without_numbers() -> None:
    body = {
        "model": {"tools": [{"type": "sms"}, {"type": "transferCall", "destinations": [{"type": "sip", "sipUri": "sip:desk@example.com"}]}]},
    }
    found = scan(body)
    assert [(f.role, f.detail) for f in found] == [("sms-tool", "an SMS tool"), ("sip", "sip:desk@example.com")]
    assert all(f.guarded for f in found)
    chat = {"transport": {"type": "twilio.sms", "customerId": "c-1"}, "sessionId": "s"}
    assert [(f.role, f.number, f.detail) for f in scan(chat)] == [("sms", None, "the customer with id c-1")]


def test_a_number_sent_as_a_json_number_is_still_a_destination() -> None:
    """Vapi refuses it, but the client must not let it through unchecked on the chance it does not."""
    found = scan({"model": {"tools": [{"type": "transferCall", "destinations": [{"type": "number", "number": 442079460958}]}]}})
    assert [(f.role, f.number) for f in found] == [("transfer", "442079460958")]
