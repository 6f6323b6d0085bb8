"""Vapi tools (/tool) through the MCP client: what agents get back and what the sandbox received."""

from __future__ import annotations

import json
from typing import Any

import httpx2 as httpx
import pytest

from tests.mcp_kit import SANDBOX, confirmed, result_json, result_text
from tests.openapi import assert_valid, document, schema
from vapi_mcp.sandbox import tools as sandbox_tools
from vapi_mcp.tools.vapi_tools import TOOL_TYPES, Function

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
    "server": {"url": "https://hooks.example.com/vapi"},
}
FAMILY = {"list_tools", "get_tool", "create_tool", "update_tool", "delete_tool"}
FAMILY_BUDGET = 2_600
"""Bytes of tools/list for the family; ~1,450 are the fixed framing of five tools (annotations, outputSchema, title)."""
MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


async def create(client, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await confirmed(client, "create_tool", arguments)  # a transfer to a phone is confirmed first
    assert not result.is_error, result_text(result)
    return result_json(result)


def sent(sandbox, method: str) -> list[Any]:
    """Bodies of the requests to /tool or /tool/{id} with this method."""
    return [r.body for r in sandbox.requests if r.method == method and r.path.startswith("/tool")]


async def test_create_list_get_update_delete(client, sandbox, clock):
    tool = await create(client, WEATHER)
    assert tool["type"] == "function" and tool["function"]["name"] == "get_weather"
    assert "orgId" not in tool
    assert_valid("CreateFunctionToolDTO", sent(sandbox, "POST")[0])

    clock.advance(60)
    other = await create(client, {"type": "endCall"})
    listed = result_json(await client.call_tool("list_tools", {}))
    assert listed["tools"] == [
        {"id": other["id"], "type": "endCall", "createdAt": other["createdAt"]},
        {"id": tool["id"], "type": "function", "name": "get_weather", "createdAt": tool["createdAt"]},
    ]

    got = result_json(await client.call_tool("get_tool", {"id": tool["id"]}))
    assert got["server"] == {"url": "https://hooks.example.com/vapi"} and "orgId" not in got

    new_function = {**WEATHER["function"], "description": "Weather now, in Celsius."}
    updated = await client.call_tool("update_tool", {"id": tool["id"], "function": new_function})
    assert result_json(updated)["function"]["description"] == "Weather now, in Celsius."
    patch = sent(sandbox, "PATCH")[0]
    assert patch == {"type": "function", "function": new_function}
    assert_valid("UpdateFunctionToolDTO", patch)

    deleted = await confirmed(client, "delete_tool", {"id": tool["id"]})
    assert result_json(deleted)["deleted"]["id"] == tool["id"]
    assert list(sandbox.store.tools) == [other["id"]]
    gone = await client.call_tool("get_tool", {"id": tool["id"]})
    assert gone.is_error and "Tool Not Found" in result_text(gone)


@pytest.mark.parametrize(
    ("arguments", "dto"),
    [
        (
            {
                "type": "apiRequest",
                "name": "bookSlot",
                "method": "POST",
                "url": "https://api.example.com/slots",
                "body": {"type": "object", "properties": {"day": {"type": "string"}}},
                "headers": {"type": "object", "properties": {"x-team": {"type": "string"}}},
            },
            "CreateApiRequestToolDTO",
        ),
        (
            {"type": "transferCall", "destinations": [{"type": "number", "number": "+14155550123"}]},
            "CreateTransferCallToolDTO",
        ),
        ({"type": "endCall"}, "CreateEndCallToolDTO"),
        ({"type": "dtmf", "sipInfoDtmfEnabled": True}, "CreateDtmfToolDTO"),
        ({"type": "handoff", "destinations": []}, "CreateHandoffToolDTO"),
    ],
)
async def test_each_common_type_and_an_open_one_send_a_body_vapi_accepts(client, sandbox, arguments, dto):
    tool = await create(client, arguments)
    body = sent(sandbox, "POST")[0]
    assert body == arguments
    assert_valid(dto, body)
    assert tool["type"] == arguments["type"]


async def test_delete_needs_confirmation_before_anything_is_deleted(client, sandbox):
    tool = await create(client, WEATHER)
    preview = result_json(await client.call_tool("delete_tool", {"id": tool["id"]}))
    assert preview["confirmToken"] and "get_weather" in preview["summary"]
    assert sent(sandbox, "DELETE") == [] and tool["id"] in sandbox.store.tools


async def test_the_delete_question_shows_the_tools_name_as_a_name(client, sandbox):
    """A tool's name is agent text: quoted, like every name in a question (and as update_tool's question does)."""
    tool = await create(client, WEATHER)
    unnamed = await create(client, {"type": "endCall"})
    named = result_json(await client.call_tool("delete_tool", {"id": tool["id"]}))
    anonymous = result_json(await client.call_tool("delete_tool", {"id": unnamed["id"]}))
    assert named["summary"] == f'{SANDBOX}Delete the function tool "get_weather" ({tool["id"]}).'
    assert anonymous["summary"] == f"{SANDBOX}Delete the endCall tool ({unnamed['id']})."


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("create_tool", {"type": "webhook"}, "`type` must be a Vapi tool type: apiRequest"),
        ("create_tool", {"type": "function", "function": {"description": "no name"}}, "`function.name` is required"),
        ("create_tool", {"type": "apiRequest", "method": "FETCH", "url": "https://x.example"}, "`method`"),
        ("get_tool", {"id": "../call"}, "`id` must be a Vapi id"),
        ("update_tool", {"id": "not-an-id", "url": "https://x.example"}, "`id` must be a Vapi id"),
        ("update_tool", {"id": MISSING}, "at least one field to change"),
        ("update_tool", {"id": MISSING, "function": {"name": 5}}, "`function.name` Input should be a valid string"),
        ("delete_tool", {"id": "12"}, "`id` must be a Vapi id"),
    ],
)
async def test_bad_input_is_refused_before_any_request(client, sandbox, name, arguments, says):
    result = await client.call_tool(name, arguments)
    assert result.is_error and says in result_text(result)
    assert sandbox.requests == []


async def test_the_five_tools_stay_small(client):
    listed = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in (await client.list_tools()).tools]
    family = [t for t in listed if t["name"] in FAMILY]
    assert len(family) == 5 and len(json.dumps(family, separators=(",", ":"))) <= FAMILY_BUDGET


async def test_update_cannot_change_the_type(client, sandbox):
    tool = await create(client, WEATHER)
    result = await client.call_tool("update_tool", {"id": tool["id"], "type": "endCall"})
    assert result.is_error and "this is a function tool" in result_text(result)
    assert sent(sandbox, "PATCH") == []


async def test_vapi_refuses_fields_the_type_does_not_have(client, sandbox):
    created = await client.call_tool("create_tool", {**WEATHER, "destinations": []})
    assert created.is_error and "property destinations should not exist" in result_text(created)
    tool = await create(client, WEATHER)
    updated = await client.call_tool("update_tool", {"id": tool["id"], "method": "GET"})
    assert updated.is_error and "property method should not exist" in result_text(updated)
    assert sandbox.store.tools[tool["id"]].get("method") is None


async def test_unknown_ids_are_404(client):
    for name, arguments in [
        ("get_tool", {"id": MISSING}),
        ("update_tool", {"id": MISSING, "url": "https://x.example"}),
        ("delete_tool", {"id": MISSING}),
    ]:
        result = await client.call_tool(name, arguments)
        assert result.is_error and "Tool Not Found" in result_text(result), name


async def test_sandbox_lists_with_limit_and_created_at_filters(sandbox, clock):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://sandbox", headers={"Authorization": "Bearer k"}
    ) as http:
        first = (await http.post("/tool", json={"type": "endCall"})).json()
        clock.advance(60)
        second = (await http.post("/tool", json={"type": "dtmf"})).json()
        assert [t["id"] for t in (await http.get("/tool", params={"limit": 1})).json()] == [second["id"]]
        later = (await http.get("/tool", params={"createdAtGt": first["createdAt"]})).json()
        assert [t["id"] for t in later] == [second["id"]]
        bad = await http.post("/tool", json={"type": "webhook"})
        assert bad.status_code == 400
        assert bad.json()["message"] == [f"type must be one of the following values: {', '.join(TOOL_TYPES)}"]
        assert (await http.delete(f"/tool/{MISSING}")).status_code == 404


def _properties(name: str) -> set[str]:
    return set(schema(name)["properties"])


def _dtos(method: str, path: str) -> dict[str, str]:
    """The body's `type` values and their DTOs, from the oneOf (the discriminator mapping misses `code`)."""
    body = document()["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    names = [ref["$ref"].rsplit("/", 1)[1] for ref in body["oneOf"]]
    return {schema(name)["properties"]["type"]["enum"][0]: name for name in names}


def _types(method: str, path: str) -> tuple[str, ...]:
    return tuple(_dtos(method, path))


def test_tool_types_are_the_documents():
    assert TOOL_TYPES == _types("post", "/tool")
    assert sandbox_tools.UPDATE_TYPES == _types("patch", "/tool/{id}")
    assert sandbox_tools.TOOL_TYPES == TOOL_TYPES
    assert tuple(sandbox_tools.CREATE_TOOL.branches) == TOOL_TYPES


@pytest.mark.parametrize("tool_type", list(sandbox_tools.TOOL_TYPES))
def test_every_type_declares_the_documents_fields(tool_type):
    create_dto, update_dto = _dtos("post", "/tool")[tool_type], _dtos("patch", "/tool/{id}")[tool_type]
    create_rule = sandbox_tools.CREATE_TOOL.branches[tool_type]
    assert create_rule.names == _properties(create_dto)
    assert set(create_rule.required) == set(schema(create_dto).get("required", []))
    assert sandbox_tools.UPDATE_TOOL[tool_type].names == _properties(update_dto)


def test_nested_objects_declare_the_documents_fields():
    assert sandbox_tools.FUNCTION.names == _properties("OpenAIFunction") == set(Function.model_fields)
    assert sandbox_tools.FUNCTION_PARAMETERS.names == _properties("OpenAIFunctionParameters")
    assert sandbox_tools.SERVER.names == _properties("Server")
    assert sandbox_tools.JSON_SCHEMA.names == _properties("JsonSchema")
