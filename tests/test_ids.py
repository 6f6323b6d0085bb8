"""A Vapi id is a type: every `id` / `*Id` argument of every tool is a `VapiId`, checked before a handler
runs, and the client refuses any path segment that could steer a request elsewhere."""

from __future__ import annotations

import re
from typing import Annotated, Any, Union, get_args, get_origin

import httpx2 as httpx
import pytest
from mcp import Client
from pydantic import BaseModel

from tests.mcp_kit import result_text
from vapi_mcp.client import VapiClient, segment
from vapi_mcp.errors import Refused
from vapi_mcp.ids import CHECK
from vapi_mcp.sandbox import Sandbox
from vapi_mcp.server import tool_specs

ID_NAME = re.compile(r"^(id|\w+Id|\w+Ids)$")
HOSTILE = ("../phone-number", "x/../../assistant", "3fa85f64-5717-4562-b3fc-2c963f66afa6/../x", "a?b=1", "%2e%2e", "a#b", "")


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (through Annotated, Optional, unions and lists)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in models_in(arg)]


def is_vapi_id(annotation: Any, metadata: list[Any]) -> bool:
    """`VapiId`, `VapiId | None` or `list[VapiId]` (pydantic keeps a top-level Annotated's metadata apart)."""
    if CHECK in metadata:
        return True
    if get_origin(annotation) is Annotated:
        return CHECK in annotation.__metadata__
    if get_origin(annotation) in (Union, list) or type(annotation).__name__ == "UnionType":
        branches = [arg for arg in get_args(annotation) if arg is not type(None)]
        return bool(branches) and all(is_vapi_id(arg, []) for arg in branches)
    return False


def id_fields() -> list[tuple[str, str, bool]]:
    """(tool, where, is a VapiId) for every field named like an id in every tool's input model, nested ones too."""
    found = []
    for spec in tool_specs():
        seen: set[type] = set()
        todo: list[tuple[type[BaseModel], str]] = [(model, "") for model in models_in(spec.input_model)]
        if "root" in getattr(spec.input_model, "model_fields", {}):  # a RootModel union (import_number)
            todo = [(model, "") for model in models_in(spec.input_model.model_fields["root"].annotation)]
        while todo:
            model, prefix = todo.pop()
            if model in seen:
                continue
            seen.add(model)
            for name, info in model.model_fields.items():
                alias = info.alias or name
                if ID_NAME.match(alias):
                    found.append((spec.name, prefix + alias, is_vapi_id(info.annotation, info.metadata)))
                todo += [(nested, f"{prefix}{alias}.") for nested in models_in(info.annotation)]
    return found


def test_every_id_argument_of_every_tool_is_a_vapi_id() -> None:
    """Issue 21: 57 hand-written `vapi_id()` calls guarded the ids that go into paths; one forgotten let an
    argument steer the path. The type is now on the field, and this finds any field that lacks it."""
    fields = id_fields()
    assert len(fields) > 60  # the walk reaches nested models (members, targets, simulations, dial plans...)
    untyped = [f"{tool}: {where}" for tool, where, typed in fields if not typed]
    assert not untyped, f"id fields that are not VapiId: {untyped}"


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("get_call", {"id": "../phone-number"}, "id"),
        ("delete_call", {"id": "x/../../assistant"}, "id"),
        ("list_calls", {"assistantId": "a?b=1"}, "assistantId"),
        ("update_squad", {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "members": [{"assistantId": "%2e%2e"}]}, "members.0.assistantId"),
        ("run_simulation", {"simulations": [{"scenarioId": "..", "personalityId": "p"}], "target": {"assistantId": "x"}}, "simulations.0.scenarioId"),
        ("run_structured_output", {"structuredOutputId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "callIds": ["a#b"]}, "callIds.0"),
        (
            "create_campaign",
            {"name": "x", "assistantId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "dialPlan": [{"phoneNumberId": "/", "customers": []}]},
            "dialPlan.0.phoneNumberId",
        ),
        ("get_simulation_object", {"kind": "suite", "id": "3FA85F645717-4562-b3fc-2c963f66afa6"}, "id"),
    ],
)
async def test_a_hostile_id_is_refused_naming_the_field_and_nothing_is_sent(
    client: Client, sandbox: Sandbox, tool: str, arguments: dict[str, Any], field: str
) -> None:
    result = await client.call_tool(tool, arguments)
    text = result_text(result)
    assert result.is_error and f"`{field}` must be a Vapi id" in text and "Nothing was sent" in text, text
    assert sandbox.requests == []


@pytest.mark.parametrize("bad", HOSTILE)
def test_the_client_refuses_a_segment_that_could_steer_a_path(bad: str) -> None:
    with pytest.raises(Refused) as refused:
        segment(bad, "evalId")
    assert "`evalId`" in refused.value.text() and "nothing was sent" in refused.value.text()


@pytest.mark.parametrize("path", ["/call/../phone-number", "/call/./x", "/call//x", "/call/", "/call/a%2F..", "/call/a?x=1", "/call/a#b", "call/x", ""])
async def test_the_client_sends_no_request_whose_path_has_a_bad_segment(path: str) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    client = VapiClient(base_url="https://api.vapi.ai", api_key="k", transport=httpx.MockTransport(record))
    try:
        for request in (client.get(path), client.delete(path), client.download(path)):
            with pytest.raises(Refused) as refused:
                await request
            assert "Refused by rule `path`" in refused.value.text()
    finally:
        await client.aclose()
    assert sent == []


def test_a_plain_segment_passes() -> None:
    assert segment("3fa85f64-5717-4562-b3fc-2c963f66afa6") == "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert segment("structured-output.v2_x~1") == "structured-output.v2_x~1"
