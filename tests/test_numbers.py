"""Phone-number tools: the import_number union, bad input refused before sending, views without secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.mcp_kit import confirmed, result_json, result_text
from tests.openapi import assert_valid, schema

SNAPSHOT = Path(__file__).parent / "snapshots" / "import_number.json"
ASSISTANT = {"name": "Riley", "model": {"provider": "openai", "model": "gpt-4o"}}
BRANCH_SCHEMAS = {
    "twilio": "CreateTwilioPhoneNumberDTO",
    "vonage": "CreateVonagePhoneNumberDTO",
    "telnyx": "CreateTelnyxPhoneNumberDTO",
    "byo-phone-number": "CreateByoPhoneNumberDTO",
}


async def import_schema(client) -> dict:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    return tools["import_number"].input_schema


def provider_branches(shown: dict) -> dict[str, dict]:
    """Each provider's branch of the if/then chain: {provider: {"properties": ..., "required": ...}}."""
    branches, node = {}, shown
    while node and "if" in node:
        provider = node["if"]["properties"]["provider"]
        for name in provider.get("enum") or [provider["const"]]:
            branches[name] = node["then"]
        node = node.get("else")
    return branches


async def test_import_number_schema_is_a_union_requiring_what_vapi_requires(client):
    shown = await import_schema(client)
    assert shown == json.loads(SNAPSHOT.read_text())["inputSchema"]
    assert shown["type"] == "object" and shown["required"] == ["provider"]
    branches = provider_branches(shown)
    assert set(branches) == set(BRANCH_SCHEMAS) == set(shown["properties"]["provider"]["enum"])
    for name, branch in branches.items():
        assert {"provider", *branch["required"]} == set(schema(BRANCH_SCHEMAS[name])["required"]), name


async def test_import_number_schema_means_what_it_says_to_a_json_schema_client(client):
    import jsonschema

    validator = jsonschema.Draft7Validator(await import_schema(client))
    assert validator.is_valid({"provider": "twilio", "number": "+14155550123", "twilioAccountSid": "AC1", "twilioAuthToken": "t"})
    assert not validator.is_valid({"provider": "twilio", "number": "+14155550123"})
    assert validator.is_valid({"provider": "telnyx", "number": "+14155550123", "credentialId": "c"})
    assert not validator.is_valid({"provider": "vonage", "number": "+14155550123"})
    assert validator.is_valid({"provider": "byo-phone-number", "credentialId": "c"})
    assert not validator.is_valid({"provider": "plivo", "number": "+14155550123"})


async def test_every_import_field_shown_is_one_vapi_accepts_for_that_provider(client):
    shown = await import_schema(client)
    shared = set(shown["properties"]) - {"confirmToken"}
    for name, branch in provider_branches(shown).items():
        assert shared | set(branch["properties"]) <= set(schema(BRANCH_SCHEMAS[name])["properties"]), name


@pytest.mark.parametrize(
    ("tool", "arguments", "field", "rule"),
    [
        ("buy_number", {"numberDesiredAreaCode": "4155"}, "numberDesiredAreaCode", r"^\d{3}$"),
        ("buy_number", {"name": "x" * 41}, "name", "40 characters"),
        ("import_number", {"provider": "twilio", "number": "+1415555", "twilioAccountSid": "AC1", "twilioAuthToken": "t0ken-123"}, "number", "E.164"),
        ("import_number", {"provider": "vonage", "number": "(415) 555-0123", "credentialId": "c0ffee00-0000-4000-8000-000000000001"}, "number", "E.164"),
        ("import_number", {"provider": "twilio", "number": "+14155550123", "twilioAccountSid": "AC1"}, "twilioAuthToken", "twilioApiSecret"),
        ("import_number", {"provider": "plivo", "number": "+14155550123"}, "provider", "byo-phone-number"),
        ("import_number", {"provider": "telnyx", "number": "+14155550123"}, "credentialId", "required"),
        (
            "buy_number",
            {"assistantId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "squadId": "3fa85f64-5717-4562-b3fc-2c963f66afa7"},
            "squadId",
            "at most one",
        ),
        (
            "assign_assistant",
            {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "assistantId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "squadId": "3fa85f64-5717-4562-b3fc-2c963f66afa7"},
            "squadId",
            "exactly one",
        ),
        ("assign_assistant", {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, "assistantId", "clear"),
        ("assign_assistant", {"id": "no-such-id", "clear": True}, "id", "UUID"),
        ("update_phone_number", {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, "name", "at least one"),
        (
            "update_phone_number",
            {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "hooks": [{"on": "call.ringing", "do": [{"type": "shout"}]}]},
            "hooks.0",
            "say",
        ),
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(client, sandbox, tool, arguments, field, rule):
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    text = result_text(result)
    assert field in text and rule in text, text
    assert sandbox.requests == []


async def test_unknown_assistant_or_squad_is_named_and_nothing_is_created(client, sandbox):
    missing = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    result = await client.call_tool("buy_number", {"assistantId": missing})
    assert result.is_error and "`assistantId`" in result_text(result) and "list_assistants" in result_text(result)
    assert sandbox.requests_to("POST", "/phone-number") == []

    line = result_json(await confirmed(client, "buy_number", {}))["phoneNumber"]
    result = await client.call_tool("assign_assistant", {"id": line["id"], "squadId": missing})
    assert result.is_error and "`squadId`" in result_text(result) and "no squad" in result_text(result)
    assert sandbox.requests_to("PATCH", f"/phone-number/{line['id']}") == []


async def test_unknown_number_id_is_a_clear_not_found(client):
    result = await client.call_tool("get_phone_number", {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"})
    assert result.is_error and "Not found" in result_text(result)


async def test_hooks_and_fallback_are_sent_as_vapi_expects(client, sandbox):
    ending = {"on": "call.ending", "filters": [{"oneOf": ["assistant-request-failed"]}], "do": {"type": "say", "exact": "Sorry."}}
    ringing = {
        "on": "call.ringing",
        "filters": [{"startsWith": ["44"]}],
        "do": [{"type": "transfer", "destination": {"type": "number", "number": "+442071838750"}}],
    }
    bought = await confirmed(
        client,
        "buy_number",
        {"hooks": [ringing, ending], "fallbackDestination": {"type": "sip", "sipUri": "sip:desk@example.com"}, "server": {"url": "https://example.com/hook"}},
    )
    assert not bought.is_error, result_text(bought)
    body = sandbox.requests_to("POST", "/phone-number")[-1].body
    # The document puts the items' `enum` on the `oneOf` array itself too (a NestJS swagger quirk that no
    # array can satisfy); check the filter's items against the items' enum and the rest strictly.
    ending_filters = body["hooks"][1].pop("filters")
    assert_valid("CreateVapiPhoneNumberDTO", body)
    allowed = schema("PhoneNumberCallEndingHookFilter")["properties"]["oneOf"]["items"]["enum"]
    assert all(reason in allowed for f in ending_filters for reason in f["oneOf"])
    body["hooks"][1]["filters"] = ending_filters
    assert body["hooks"][0]["filters"] == [{"type": "startsWith", "key": "number", "startsWith": ["44"]}]
    assert body["hooks"][1]["filters"] == [{"type": "oneOf", "key": "call.endedReason", "oneOf": ["assistant-request-failed"]}]


async def test_imports_of_each_provider_are_valid_vapi_bodies(client, sandbox):
    cases = {
        "CreateTwilioPhoneNumberDTO": {"provider": "twilio", "number": "+14155550101", "twilioAccountSid": "AC1", "twilioApiKey": "SK1", "twilioApiSecret": "api-secret-77"},
        "CreateVonagePhoneNumberDTO": {"provider": "vonage", "number": "+14155550102", "credentialId": "c0ffee00-0000-4000-8000-000000000001"},
        "CreateTelnyxPhoneNumberDTO": {"provider": "telnyx", "number": "+14155550103", "credentialId": "c0ffee00-0000-4000-8000-000000000002"},
        "CreateByoPhoneNumberDTO": {
            "provider": "byo-phone-number", "number": "1001", "numberE164CheckEnabled": False, "credentialId": "c0ffee00-0000-4000-8000-000000000003"
        },
    }
    for dto, arguments in cases.items():
        result = result_json(await confirmed(client, "import_number", arguments))
        assert_valid(dto, sandbox.requests_to("POST", "/phone-number")[-1].body)
        assert result["phoneNumber"]["provider"] == arguments["provider"]
        assert "twilioApiSecret" not in result["phoneNumber"] and "twilioApiKey" not in result["phoneNumber"]


async def test_update_sends_only_the_given_fields_and_returns_the_old_values(client, sandbox):
    line = result_json(await confirmed(client, "buy_number", {"name": "Old name"}))["phoneNumber"]
    result = result_json(await client.call_tool("update_phone_number", {"id": line["id"], "name": "New name"}))
    assert sandbox.requests_to("PATCH", f"/phone-number/{line['id']}")[-1].body == {"name": "New name"}
    assert result["before"] == {"name": "Old name"} and result["phoneNumber"]["name"] == "New name"


async def test_list_rows_say_what_answers_each_number(client, sandbox):
    assistant = result_json(await client.call_tool("create_assistant", ASSISTANT))
    await confirmed(client, "buy_number", {"assistantId": assistant["id"], "name": "Desk"})
    rows = result_json(await client.call_tool("list_phone_numbers", {"limit": 5}))["phoneNumbers"]
    assert rows == [
        {"id": rows[0]["id"], "number": rows[0]["number"], "provider": "vapi", "name": "Desk", "status": "active", "assistantId": assistant["id"]}
    ]
    assert sandbox.requests_to("GET", "/phone-number")[-1].query == {"limit": "5"}


async def test_a_declined_or_previewed_purchase_sends_nothing(client, sandbox):
    result = await client.call_tool("buy_number", {"numberDesiredAreaCode": "212"})
    if "confirmToken" not in result_json(result):
        pytest.skip("the guard in this checkout approves without a preview")
    assert sandbox.requests_to("POST", "/phone-number") == []
    assert "212" in result_text(result)


async def test_buy_number_takes_the_guides_provider_vapi_and_no_other(client, sandbox):
    """The guide's own body says "provider": "vapi" (as the preview shows what is sent); buying is always from Vapi."""
    preview = result_json(await client.call_tool("buy_number", {"provider": "vapi", "name": "Main Support Line"}))
    assert preview["wouldSend"]["body"] == {"provider": "vapi", "name": "Main Support Line"}
    other = await client.call_tool("buy_number", {"provider": "twilio", "name": "Main Support Line"})
    assert other.is_error and "`provider`" in result_text(other) and "'vapi'" in result_text(other)
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert "provider" not in tools["buy_number"].input_schema["properties"]  # accepted, not advertised
    assert sandbox.requests_to("POST", "/phone-number") == []
