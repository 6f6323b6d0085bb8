"""The sandbox's /phone-number, /assistant and /squad: declared like the document, answering like Vapi."""

from __future__ import annotations

import pytest

from tests.openapi import schema
from vapi_mcp.sandbox import Sandbox, assistants, phone_numbers


@pytest.fixture
def sandbox(either_world: Sandbox) -> Sandbox:
    """Every test here runs on a world in memory and on one in an SQLite file."""
    return either_world


DECLARED = {**phone_numbers.DTOS, **assistants.DTOS}


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_declared_dto_fields_follow_the_document(name):
    rule = DECLARED[name]
    document = schema(name)
    assert rule.names == set(document["properties"]), name
    assert set(rule.required) == set(document.get("required", [])), name


def test_model_providers_are_the_documents():
    document = {
        schema(ref["$ref"].rsplit("/", 1)[-1])["properties"]["provider"]["enum"][0]
        for ref in schema("CreateAssistantDTO")["properties"]["model"]["oneOf"]
    }
    assert set(assistants.MODEL_PROVIDERS) == document


async def test_a_vapi_number_gets_a_number_in_its_area_code(api):
    response = await api.post("/phone-number", json={"provider": "vapi", "numberDesiredAreaCode": "212"})
    number = response.json()
    assert response.status_code == 201
    assert number["number"].startswith("+1212555") and number["status"] == "active"
    assert {"id", "orgId", "createdAt", "updatedAt", "provider"} <= set(number)
    second = (await api.post("/phone-number", json={"provider": "vapi", "numberDesiredAreaCode": "212"})).json()
    assert second["number"] != number["number"]


async def test_an_unusable_area_code_is_refused(api):
    response = await api.post("/phone-number", json={"provider": "vapi", "numberDesiredAreaCode": "000"})
    assert response.status_code == 400 and "numberDesiredAreaCode" in response.json()["message"][0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"provider": "vapi", "numberDesiredAreaCode": "4155"}, "numberDesiredAreaCode must be shorter than or equal to 3 characters"),
        ({"provider": "vapi", "name": "x" * 41}, "name must be shorter than or equal to 40 characters"),
        ({"provider": "vapi", "color": "red"}, "property color should not exist"),
        ({"provider": "plivo"}, "provider must be one of the following values: vapi, twilio, vonage, telnyx, byo-phone-number"),
        ({"provider": "twilio", "number": "+14155550123"}, "twilioAccountSid should not be empty"),
        ({"provider": "vapi", "hooks": [{"on": "call.ringing", "do": [{"type": "say"}]}]}, "hooks.0.do.0.exact should not be empty"),
    ],
)
async def test_bad_bodies_get_vapis_400(api, sandbox, body, message):
    response = await api.post("/phone-number", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request" and message in response.json()["message"]
    assert not sandbox.store.phone_numbers


async def test_update_follows_the_numbers_provider_and_null_clears(api, sandbox):
    number = (await api.post("/phone-number", json={"provider": "vapi", "name": "Desk"})).json()
    refused = await api.patch(f"/phone-number/{number['id']}", json={"smsEnabled": False})
    assert refused.status_code == 400 and "property smsEnabled should not exist" in refused.json()["message"]
    assistant = (await api.post("/assistant", json={"name": "A"})).json()
    await api.patch(f"/phone-number/{number['id']}", json={"assistantId": assistant["id"]})
    cleared = (await api.patch(f"/phone-number/{number['id']}", json={"assistantId": None})).json()
    assert "assistantId" not in cleared and cleared["name"] == "Desk"


async def test_unknown_ids_are_404(api):
    missing = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    for method, path in (("GET", "/phone-number"), ("PATCH", "/phone-number"), ("DELETE", "/assistant"), ("GET", "/squad")):
        response = await api.request(method, f"{path}/{missing}", json={} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path)
        assert response.json()["statusCode"] == 404


async def test_attaching_a_missing_assistant_is_refused(api):
    missing = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    response = await api.post("/phone-number", json={"provider": "vapi", "assistantId": missing})
    assert response.status_code == 400 and missing in response.json()["message"][0]


async def test_deleting_an_assistant_a_number_uses_is_refused(api, sandbox):
    """The document lists only a 409 for pinned assistants, so the sandbox refuses and names the numbers."""
    assistant = (await api.post("/assistant", json={"name": "A"})).json()
    number = (await api.post("/phone-number", json={"provider": "vapi", "assistantId": assistant["id"]})).json()
    response = await api.delete(f"/assistant/{assistant['id']}")
    assert response.status_code == 400 and number["number"] in response.json()["message"]
    assert assistant["id"] in sandbox.store.assistants
    await api.patch(f"/phone-number/{number['id']}", json={"assistantId": None})
    assert (await api.delete(f"/assistant/{assistant['id']}")).status_code == 200


async def test_squads_need_members_that_exist(api):
    assert "members should not be empty" in (await api.post("/squad", json={"name": "S"})).json()["message"]
    missing = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    response = await api.post("/squad", json={"members": [{"assistantId": missing}]})
    assert response.status_code == 400 and "members.0.assistantId" in response.json()["message"][0]


def test_hook_ended_reasons_are_the_documents_and_the_tools():
    """The sandbox keeps its own copy (it is Vapi, not us); both follow the document."""
    from typing import get_args

    from tests.openapi import schema
    from vapi_mcp.sandbox.phone_numbers import ENDED_REASONS
    from vapi_mcp.tools.numbers import ENDED_REASONS as TOOL_REASONS

    documented = tuple(schema("PhoneNumberCallEndingHookFilter")["properties"]["oneOf"]["items"]["enum"])
    assert ENDED_REASONS == documented == get_args(TOOL_REASONS)


def test_the_sandbox_imports_nothing_from_the_tools():
    import ast
    from pathlib import Path

    import vapi_mcp.sandbox as sandbox

    for path in Path(sandbox.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith(("tools", "vapi_mcp.tools")) or node.level == 1, path
                assert not (node.level >= 2 and (node.module or "").startswith(("tools", "guard", "server", "client"))), (path, node.module)
