"""The whole setup story through an MCP client on the sandbox, each request checked against Vapi's document."""

from __future__ import annotations

import logging
from typing import Any

from tests.mcp_kit import confirmed, result_json, result_text
from tests.openapi import assert_valid

TWILIO_TOKEN = "twilio-auth-token-9f3c2a7e51"


def last_body(sandbox: Any, method: str, path: str) -> Any:
    return sandbox.requests_to(method, path)[-1].body


async def test_setup_story_from_zero_to_a_ringing_line(client, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    results = []

    async def step(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await confirmed(client, name, arguments, seen=results)
        assert not result.is_error, result_text(result)
        return result_json(result)

    assistant = await step(
        "create_assistant",
        {
            "name": "Appointments",
            "firstMessage": "Hi, this is the booking line.",
            "model": {"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": "Book visits."}]},
            "voice": {"provider": "vapi", "voiceId": "Elliot"},
            "endCallMessage": "Goodbye!",  # passed through: a CreateAssistantDTO field the model does not type
        },
    )
    assert_valid("CreateAssistantDTO", last_body(sandbox, "POST", "/assistant"))
    assert sandbox.store.assistants[assistant["id"]]["endCallMessage"] == "Goodbye!"

    bought = await step("buy_number", {"numberDesiredAreaCode": "415", "name": "Support line"})
    line = bought["phoneNumber"]
    assert line["number"].startswith("+1415") and line["status"] == "active"
    assert "inbound calls only" in bought["limits"] and "import_number" in bought["limits"]
    assert_valid("CreateVapiPhoneNumberDTO", last_body(sandbox, "POST", "/phone-number"))
    path = f"/phone-number/{line['id']}"

    assigned = await step("assign_assistant", {"id": line["id"], "assistantId": assistant["id"]})
    assert assigned["before"] is None and assigned["phoneNumber"]["assistantId"] == assistant["id"]
    assert_valid("UpdateVapiPhoneNumberDTO", last_body(sandbox, "PATCH", path))

    hook = {"on": "call.ringing", "do": [{"type": "say", "exact": "Please hold while we connect you."}]}
    updated = await step("update_phone_number", {"id": line["id"], "hooks": [hook]})
    assert updated["phoneNumber"]["hooks"] == [hook] and updated["before"] == {"hooks": None}
    assert_valid("UpdateVapiPhoneNumberDTO", last_body(sandbox, "PATCH", path))

    imported = await step(
        "import_number",
        {"provider": "twilio", "number": "+12125550147", "twilioAccountSid": "AC0123", "twilioAuthToken": TWILIO_TOKEN, "name": "Twilio line"},
    )
    assert not {"twilioAuthToken", "twilioApiSecret"} & set(imported["phoneNumber"])  # write-only: left out of views
    twilio_body = last_body(sandbox, "POST", "/phone-number")
    assert_valid("CreateTwilioPhoneNumberDTO", twilio_body)
    assert twilio_body["twilioAuthToken"] == TWILIO_TOKEN  # it reached Vapi, and Vapi echoes it back
    assert sandbox.store.phone_numbers[imported["phoneNumber"]["id"]]["twilioAuthToken"] == TWILIO_TOKEN

    squad = await step("create_squad", {"name": "Front desk", "members": [{"assistantId": assistant["id"]}]})
    assert_valid("CreateSquadDTO", last_body(sandbox, "POST", "/squad"))

    reassigned = await step("assign_assistant", {"id": line["id"], "squadId": squad["id"]})
    assert reassigned["before"] == {"assistantId": assistant["id"]}
    assert reassigned["phoneNumber"]["squadId"] == squad["id"] and "assistantId" not in reassigned["phoneNumber"]
    body = last_body(sandbox, "PATCH", path)
    assert body == {"assistantId": None, "squadId": squad["id"]}
    # The document does not mark assistantId nullable, but class-validator's @IsOptional lets null clear it.
    assert_valid("UpdateVapiPhoneNumberDTO", {k: v for k, v in body.items() if v is not None})

    cleared = await step("assign_assistant", {"id": line["id"], "clear": True})
    assert cleared["before"] == {"squadId": squad["id"]}
    assert last_body(sandbox, "PATCH", path) == {"squadId": None}
    assert not {"assistantId", "squadId", "workflowId"} & set(sandbox.store.phone_numbers[line["id"]])

    deleted = await step("delete_phone_number", {"id": line["id"]})
    assert deleted["deleted"]["id"] == line["id"] and line["id"] not in sandbox.store.phone_numbers
    assert sandbox.requests_to("DELETE", path)

    await step("delete_squad", {"id": squad["id"]})
    gone = await step("delete_assistant", {"id": assistant["id"]})
    assert gone["deleted"]["id"] == assistant["id"] and not sandbox.store.assistants

    listed = await step("list_phone_numbers", {})
    assert [row["number"] for row in listed["phoneNumbers"]] == ["+12125550147"]
    results.append(result_text(await client.call_tool("get_phone_number", {"id": imported["phoneNumber"]["id"]})))

    assert all(TWILIO_TOKEN not in text for text in results)
    assert TWILIO_TOKEN not in caplog.text
    assert any("/phone-number" in r.getMessage() for r in caplog.records)  # the client did log at DEBUG
