"""Updates keep what the agent did not mention: nested objects are merged into what Vapi has, unless replaced.

Vapi's PATCH replaces each top-level field it is sent whole (the sandbox does the same), so an update that
sent `model: {provider, model, tools}` silently deleted `model.messages`, the system prompt (issue 18).
"""

from __future__ import annotations

from typing import Any

from tests.guard_kit import answering, serve
from tests.mcp_kit import SANDBOX, confirmed, result_json, result_text
from tests.openapi import assert_valid, schema
from vapi_mcp.sandbox.core import stamp
from vapi_mcp.tools.base import KEPT_ACROSS_A_SWITCH

PROMPT = [{"role": "system", "content": "You book dental appointments. Never mention prices."}]
TRANSFER = {"type": "transferCall", "destinations": [{"type": "number", "number": "+14155550199"}]}


def riley(sandbox: Any, **fields: Any) -> str:
    model = {"provider": "openai", "model": "gpt-4o", "temperature": 0.3, "messages": PROMPT}
    assistant = stamp(sandbox.clock, name="Riley", model=model, voice={"provider": "11labs", "voiceId": "rachel", "stability": 0.5}, **fields)
    sandbox.store.assistants[assistant["id"]] = assistant
    return assistant["id"]


async def test_adding_a_tool_to_the_model_keeps_the_system_prompt_and_says_so(settings, sandbox, clock) -> None:
    """Before: `model.messages` was deleted and the result said only "changed": ["model"]."""
    ident = riley(sandbox)
    callback, asked = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool("update_assistant", {"id": ident, "model": {"provider": "openai", "model": "gpt-4o", "tools": [TRANSFER]}})
    view = result_json(result)
    stored = sandbox.store.assistants[ident]["model"]
    assert stored["messages"] == PROMPT and stored["tools"] == [TRANSFER] and stored["temperature"] == 0.3
    assert view["changed"] == ["model.tools"] and "model.messages" in view["kept"] and "removed" not in view
    [body] = [r.body for r in sandbox.requests_to("PATCH", f"/assistant/{ident}")]
    assert_valid("UpdateAssistantDTO", body)
    [question] = asked
    assert question.startswith(f'{SANDBOX}Change model.tools (keeping model.messages, model.temperature) of the assistant "Riley" ({ident}).')
    assert "It can transfer calls to +14155550199" in question


async def test_a_partial_model_is_taken_when_the_assistant_has_the_rest(client, sandbox) -> None:
    """Before: `model: {tools}` was refused with "`model.provider` is required", pushing agents to send a whole model."""
    ident = riley(sandbox)
    view = result_json(await confirmed(client, "update_assistant", {"id": ident, "model": {"temperature": 0.7}}))
    assert view["changed"] == ["model.temperature"] and sandbox.store.assistants[ident]["model"]["messages"] == PROMPT
    bare = stamp(sandbox.clock, name="Bare")
    sandbox.store.assistants[bare["id"]] = bare
    refused = await client.call_tool("update_assistant", {"id": bare["id"], "model": {"temperature": 0.7}})
    assert refused.is_error and "model.provider is required" in result_text(refused)
    assert sandbox.requests_to("PATCH", f"/assistant/{bare['id']}") == []


async def test_replace_swaps_an_object_whole_and_the_result_says_what_went(client, sandbox) -> None:
    ident = riley(sandbox)
    view = result_json(await client.call_tool("update_assistant", {"id": ident, "model": {"provider": "openai", "model": "gpt-4.1"}, "replace": ["model"]}))
    assert sandbox.store.assistants[ident]["model"] == {"provider": "openai", "model": "gpt-4.1"}
    assert view["replaced"] == ["model"] and view["removed"] == ["model.messages", "model.temperature"]
    refused = await client.call_tool("update_assistant", {"id": ident, "name": "Sam", "replace": ["voice"]})
    assert refused.is_error and "`replace`" in result_text(refused) and "voice" in result_text(refused)
    unknown = await client.call_tool("update_assistant", {"id": ident, "name": "Sam", "replace": ["modle"]})
    assert unknown.is_error and "modle" in result_text(unknown)


async def test_a_new_provider_replaces_the_object_but_a_model_keeps_its_prompt(client, sandbox) -> None:
    ident = riley(sandbox)
    view = result_json(await client.call_tool("update_assistant", {"id": ident, "model": {"provider": "anthropic", "model": "claude-sonnet-4-20250514"}}))
    assert sandbox.store.assistants[ident]["model"] == {"provider": "anthropic", "model": "claude-sonnet-4-20250514", "messages": PROMPT}
    assert view["kept"] == ["model.messages"] and view["removed"] == ["model.temperature"] and view["replaced"] == ["model"]
    view = result_json(await client.call_tool("update_assistant", {"id": ident, "voice": {"provider": "cartesia", "voiceId": "sonic"}}))
    assert sandbox.store.assistants[ident]["voice"] == {"provider": "cartesia", "voiceId": "sonic"}
    assert view["removed"] == ["voice.stability"]


def test_what_a_new_model_provider_keeps_is_in_every_model_of_the_document() -> None:
    branches = [ref["$ref"].rsplit("/", 1)[1] for ref in schema("CreateAssistantDTO")["properties"]["model"]["oneOf"]]
    for name in branches:
        assert set(KEPT_ACROSS_A_SWITCH["model"]) <= set(schema(name)["properties"]), name


async def test_a_tools_function_keeps_its_name_and_parameters(client, sandbox) -> None:
    function = {"name": "get_weather", "description": "Weather.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
    tool = stamp(sandbox.clock, type="function", function=function)
    sandbox.store.tools[tool["id"]] = tool
    view = result_json(await client.call_tool("update_tool", {"id": tool["id"], "function": {"description": "Today's weather in a city."}}))
    assert sandbox.store.tools[tool["id"]]["function"] == {**function, "description": "Today's weather in a city."}
    assert view["changed"] == ["function.description"] and view["kept"] == ["function.name", "function.parameters"]
    bare = stamp(sandbox.clock, type="function")
    sandbox.store.tools[bare["id"]] = bare
    refused = await client.call_tool("update_tool", {"id": bare["id"], "function": {"description": "No name yet."}})
    assert refused.is_error and "function.name is required" in result_text(refused) and sandbox.requests_to("PATCH", f"/tool/{bare['id']}") == []


async def test_a_numbers_server_keeps_its_url(client, sandbox) -> None:
    number = stamp(sandbox.clock, provider="twilio", number="+14155550100", status="active", server={"url": "https://example.com/hook", "timeoutSeconds": 20})
    sandbox.store.phone_numbers[number["id"]] = number
    view = result_json(await client.call_tool("update_phone_number", {"id": number["id"], "server": {"timeoutSeconds": 30}}))
    assert sandbox.store.phone_numbers[number["id"]]["server"] == {"url": "https://example.com/hook", "timeoutSeconds": 30}
    assert view["kept"] == ["server.url"]


async def test_a_structured_outputs_schema_is_replaced_and_its_model_merged(client, sandbox) -> None:
    output = stamp(sandbox.clock, name="booked", type="ai", schema={"type": "boolean", "description": "Booked?"}, model={"provider": "openai", "model": "gpt-4o", "temperature": 0})
    sandbox.store.structured_outputs[output["id"]] = output
    view = result_json(await client.call_tool("update_structured_output", {"id": output["id"], "schema": {"type": "string"}, "model": {"model": "gpt-4.1"}}))
    stored = sandbox.store.structured_outputs[output["id"]]
    assert stored["schema"] == {"type": "string"} and stored["model"] == {"provider": "openai", "model": "gpt-4.1", "temperature": 0}
    assert view["removed"] == ["schema.description"] and "model.provider" in view["kept"]


async def test_a_squads_members_overrides_are_merged(client, sandbox) -> None:
    ident = riley(sandbox)
    squad = stamp(sandbox.clock, name="Desk", members=[{"assistantId": ident}], membersOverrides={"firstMessage": "Hi", "variableValues": {"clinic": "Acme"}})
    sandbox.store.squads[squad["id"]] = squad
    view = result_json(await client.call_tool("update_squad", {"id": squad["id"], "members": [{"assistantId": ident}], "membersOverrides": {"variableValues": {"city": "Paris"}}}))
    assert sandbox.store.squads[squad["id"]]["membersOverrides"] == {"firstMessage": "Hi", "variableValues": {"clinic": "Acme", "city": "Paris"}}
    assert view["changed"] == ["membersOverrides.variableValues.city"]
