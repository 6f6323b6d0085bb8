"""Assistant and squad tools: typed common fields, every other CreateAssistantDTO field passed through, nothing else."""

from __future__ import annotations

from tests.mcp_kit import confirmed, result_json, result_text
from tests.openapi import assert_valid, schema
from vapi_mcp.tools.assistants import ASSISTANT_FIELDS

RILEY = {
    "name": "Riley",
    "firstMessage": "Hello!",
    "firstMessageMode": "assistant-speaks-first",
    "model": {"provider": "openai", "model": "gpt-4o", "temperature": 0.3, "messages": [{"role": "system", "content": "Be brief."}]},
    "voice": {"provider": "vapi", "voiceId": "Elliot"},
    "transcriber": {"provider": "deepgram", "language": "en"},
    "endCallPhrases": ["goodbye"],
    "maxDurationSeconds": 600,
    "metadata": {"team": "support"},
}


def test_pass_through_names_are_the_documents_assistant_fields():
    assert ASSISTANT_FIELDS == set(schema("CreateAssistantDTO")["properties"])
    assert ASSISTANT_FIELDS == set(schema("UpdateAssistantDTO")["properties"])


async def test_create_sends_typed_and_passed_through_fields_as_vapi_expects(client, sandbox):
    created = result_json(await client.call_tool("create_assistant", {**RILEY, "endCallMessage": "Bye."}))
    body = sandbox.requests_to("POST", "/assistant")[-1].body
    assert_valid("CreateAssistantDTO", body)
    assert body == {**RILEY, "endCallMessage": "Bye."}
    assert created == {"id": created["id"], "name": "Riley", "model": "openai/gpt-4o", "voice": "vapi/Elliot", "updatedAt": created["updatedAt"], "sandbox": True}


async def test_a_name_vapi_does_not_know_is_refused_before_sending(client, sandbox):
    result = await client.call_tool("create_assistant", {"name": "Riley", "fistMessage": "Hi"})
    assert result.is_error and "fistMessage" in result_text(result) and "CreateAssistantDTO" in result_text(result)
    result = await client.call_tool("create_assistant", {"firstMessageMode": "whenever", "maxDurationSeconds": 5})
    assert result.is_error and "firstMessageMode" in result_text(result) and "maxDurationSeconds" in result_text(result)
    assert sandbox.requests == []


async def test_update_sends_only_the_changes(client, sandbox):
    created = result_json(await client.call_tool("create_assistant", RILEY))
    updated = result_json(await client.call_tool("update_assistant", {"id": created["id"], "firstMessage": "Hi there", "backgroundSound": "off"}))
    body = sandbox.requests_to("PATCH", f"/assistant/{created['id']}")[-1].body
    assert body == {"firstMessage": "Hi there", "backgroundSound": "off"}
    assert updated["changed"] == ["backgroundSound", "firstMessage"]
    assert sandbox.store.assistants[created["id"]]["firstMessage"] == "Hi there"
    result = await client.call_tool("update_assistant", {"id": created["id"]})
    assert result.is_error and "at least one" in result_text(result)


async def test_list_and_get(client):
    created = result_json(await client.call_tool("create_assistant", RILEY))
    listed = result_json(await client.call_tool("list_assistants", {}))
    assert [row["id"] for row in listed["assistants"]] == [created["id"]]
    full = result_json(await client.call_tool("get_assistant", {"id": created["id"]}))
    assert full["model"] == RILEY["model"] and "orgId" not in full


async def test_delete_goes_through_the_guard_and_is_refused_while_a_number_uses_it(client, sandbox):
    created = result_json(await client.call_tool("create_assistant", RILEY))
    preview = await client.call_tool("delete_assistant", {"id": created["id"]})
    if "confirmToken" in result_json(preview):
        assert "Riley" in result_text(preview) and sandbox.requests_to("DELETE", f"/assistant/{created['id']}") == []
    line = result_json(await confirmed(client, "buy_number", {"assistantId": created["id"]}))["phoneNumber"]
    refused = await client.call_tool("delete_assistant", {"id": created["id"]})
    if "confirmToken" in result_text(refused):
        refused = await client.call_tool("delete_assistant", {"id": created["id"], "confirmToken": result_json(refused)["confirmToken"]})
    assert refused.is_error and line["number"] in result_text(refused)
    assert created["id"] in sandbox.store.assistants


async def test_squads_create_update_delete(client, sandbox):
    first = result_json(await client.call_tool("create_assistant", RILEY))
    second = result_json(await client.call_tool("create_assistant", {**RILEY, "name": "Sam"}))
    squad = result_json(await client.call_tool("create_squad", {"name": "Desk", "members": [{"assistantId": first["id"]}]}))
    assert_valid("CreateSquadDTO", sandbox.requests_to("POST", "/squad")[-1].body)
    assert squad["members"] == [first["id"]]

    members = [{"assistantId": second["id"]}, {"assistant": {"name": "Temp", "firstMessage": "Hi"}}]
    updated = result_json(await client.call_tool("update_squad", {"id": squad["id"], "members": members}))
    assert_valid("UpdateSquadDTO", sandbox.requests_to("PATCH", f"/squad/{squad['id']}")[-1].body)
    assert updated["members"] == [second["id"], "Temp"]
    assert [s["id"] for s in result_json(await client.call_tool("list_squads", {}))["squads"]] == [squad["id"]]
    assert result_json(await client.call_tool("get_squad", {"id": squad["id"]}))["members"] == members

    assert not (await confirmed(client, "delete_squad", {"id": squad["id"]})).is_error
    assert not sandbox.store.squads


async def test_bad_squad_members_are_refused_before_sending(client, sandbox):
    result = await client.call_tool("create_squad", {"members": [{"assistantId": "riley"}]})
    assert result.is_error and "members.0.assistantId" in result_text(result)
    result = await client.call_tool("create_squad", {"members": [{}]})
    assert result.is_error and "exactly one of assistantId or assistant" in result_text(result)
    result = await client.call_tool("create_squad", {"name": "No members"})
    assert result.is_error and "members" in result_text(result)
    assert sandbox.requests == []
