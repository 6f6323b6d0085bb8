"""Structured outputs through an MCP client: CRUD, a read-only preview, a guarded rerun, and get_call showing the values."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mcp_kit import SANDBOX, confirmed, result_json, result_text
from tests.guard_kit import answering, audit_lines, serve
from tests.openapi import assert_valid
from tests.testing_kit import MISSING, add_assistant, bodies
from vapi_mcp.sandbox.conversation import RULE_NOTE

BOOKED = {"name": "booked", "description": 'true if "2 PM" was agreed', "schema": {"type": "boolean"}}
HOUR = {"name": "hour", "type": "regex", "regex": r"(\d+) PM", "schema": {"type": "integer"}}
"""Read from what Riley says first on every call (CONFIRMS): 'Your cleaning is booked for Thursday at 2 PM.'"""
CONFIRMS = "Hi, this is Riley. Your cleaning is booked for Thursday at 2 PM."


def riley_confirming(sandbox, **fields: Any) -> str:
    return add_assistant(sandbox, firstMessage=CONFIRMS, **fields)


async def ended_web_call(client, clock, assistant_id: str) -> str:
    """A web call (no phone, no guard) that has ended: its assistant spoke first, a caller without a script answered."""
    result = await client.call_tool("create_call", {"assistantId": assistant_id})
    assert not result.is_error, result_text(result)
    clock.advance(10)
    return result_json(result)["id"]


async def create(client, definition: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool("create_structured_output", definition)
    assert not result.is_error, result_text(result)
    return result_json(result)


async def test_create_list_get_update_and_a_confirmed_delete(client, sandbox):
    output = await create(client, BOOKED)
    assert output["name"] == "booked" and output["type"] == "ai" and "orgId" not in output
    [body] = bodies(sandbox, "POST", "/structured-output")
    assert body == BOOKED
    assert_valid("CreateStructuredOutputDTO", body)
    listed = result_json(await client.call_tool("list_structured_outputs", {"name": "booked"}))
    assert listed["structuredOutputs"] == [{"id": output["id"], "name": "booked", "type": "ai", "schema": "boolean"}]
    assert result_json(await client.call_tool("get_structured_output", {"id": output["id"]}))["schema"] == {"type": "boolean"}

    updated = result_json(
        await client.call_tool("update_structured_output", {"id": output["id"], "description": "Booked at all"})
    )
    assert updated["changed"] == ["description"]
    [patch] = sandbox.requests_to("PATCH", f"/structured-output/{output['id']}")
    assert patch.query == {"schemaOverride": "false"} and patch.body == {"description": "Booked at all"}
    assert_valid("UpdateStructuredOutputDTO", patch.body)
    await client.call_tool("update_structured_output", {"id": output["id"], "schema": {"type": "string"}})
    assert sandbox.requests_to("PATCH", f"/structured-output/{output['id']}")[-1].query == {"schemaOverride": "true"}

    preview = result_json(await client.call_tool("delete_structured_output", {"id": output["id"]}))
    assert preview["summary"] == f'{SANDBOX}Delete the structured output "booked" ({output["id"]}).'
    assert output["id"] in sandbox.store.structured_outputs
    await confirmed(client, "delete_structured_output", {"id": output["id"]})
    assert sandbox.store.structured_outputs == {}


async def test_a_preview_reads_one_call_and_stores_nothing(client, sandbox, clock, settings):
    call_id = await ended_web_call(client, clock, riley_confirming(sandbox))
    output = await create(client, HOUR)
    result = await client.call_tool("run_structured_output", {"structuredOutputId": output["id"], "callIds": [call_id]})
    view = result_json(result)
    assert view == {
        "preview": True,
        "callId": call_id,
        "stored": False,
        "results": [{"name": "hour", "result": 2}],
        "sandbox": True,
        "sandboxNote": RULE_NOTE,
    }
    [body] = bodies(sandbox, "POST", "/structured-output/run")
    assert body == {"structuredOutputId": output["id"], "callIds": [call_id], "previewEnabled": True}
    assert_valid("StructuredOutputRunDTO", body)
    assert audit_lines(settings) == [], "a preview changes nothing, so it is not guarded"
    shown = result_json(await client.call_tool("get_call", {"id": call_id}))
    assert "structuredOutputs" not in shown


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_rerun_overwrites_stored_values_only_after_the_user_accepts(mode, settings, sandbox, clock):
    riley = riley_confirming(sandbox)
    callback, asked = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=callback, mode=mode) as client:
        calls = [await ended_web_call(client, clock, riley) for _ in range(2)]
        output = await create(client, HOUR)
        arguments = {"structuredOutputId": output["id"], "callIds": calls, "previewEnabled": False}
        result = await client.call_tool("run_structured_output", arguments)
        assert not result.is_error, result_text(result)
        views = [result_json(await client.call_tool("get_call", {"id": c})) for c in calls]
    [question] = asked
    assert question.startswith(f'{SANDBOX}Re-extract the structured output "hour" ({output["id"]}) on 2 calls')
    assert "overwrite the value stored" in question and "cannot be restored" in question
    [body] = bodies(sandbox, "POST", "/structured-output/run")
    assert body["previewEnabled"] is False
    assert_valid("StructuredOutputRunDTO", body)
    assert result_json(result)["rerun"] is True and result_json(result)["calls"] == 2
    assert all(view["structuredOutputs"] == {"hour": 2} for view in views)
    [line] = [entry for entry in audit_lines(settings) if entry["decision"] != "asked"]
    assert (line["decision"], line["kind"], line["ids"]) == ("sent", "destroy", calls)


async def test_a_declined_rerun_changes_nothing(settings, sandbox, clock):
    callback, _ = answering("decline")
    async with serve(settings, sandbox, clock, elicitation_callback=callback) as client:
        call_id = await ended_web_call(client, clock, add_assistant(sandbox))
        arguments = {"structuredOutput": BOOKED, "callIds": [call_id], "previewEnabled": False}
        result = result_json(await client.call_tool("run_structured_output", arguments))
    assert result["decision"] == "declined"
    assert bodies(sandbox, "POST", "/structured-output/run") == [] and "_structured_outputs" not in sandbox.store.calls[call_id]


async def test_get_call_shows_structured_outputs_and_scorecards_compactly(client, sandbox, clock):
    booked = await create(client, BOOKED)
    scorecard = {
        "name": "Booking QA",
        "metrics": [
            {
                "structuredOutputId": booked["id"],
                "conditions": [{"type": "comparator", "comparator": "=", "value": True, "points": 70}],
            },
        ],
    }
    plan = {"structuredOutputIds": [booked["id"]], "structuredOutputs": [HOUR], "scorecards": [scorecard]}
    call_id = await ended_web_call(client, clock, riley_confirming(sandbox, artifactPlan=plan))
    view = result_json(await client.call_tool("get_call", {"id": call_id}))
    assert view["structuredOutputs"] == {"booked": True, "hour": 2}
    other = await ended_web_call(client, clock, add_assistant(sandbox, artifactPlan=plan))
    unsaid = result_json(await client.call_tool("get_call", {"id": other}))
    assert unsaid["structuredOutputs"] == {"booked": False, "hour": None}, "nothing in that transcript supports them"
    [(inline_id, points)] = [(v.pop("scorecardId"), v.pop("points")) for v in unsaid["scorecards"].values()]
    assert unsaid["scorecards"] == {"Booking QA": {"score": 0, "scoreNormalized": 0}} and points == {"booked": 0}
    scored = view["scorecards"]["Booking QA"]
    assert scored == {"score": 70, "scoreNormalized": 100, "scorecardId": scored["scorecardId"], "points": {"booked": 70}}
    assert inline_id != scored["scorecardId"]  # an inline scorecard gets an id of its own on each call
    narrowed = result_json(await client.call_tool("get_call", {"id": call_id, "include": ["transcript"]}))
    assert "structuredOutputs" not in narrowed and "scorecards" not in narrowed


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("create_structured_output", {"name": "x"}, "`schema` is required"),
        ("create_structured_output", {"name": "x", "schema": {"properties": {}}}, "needs a JSON Schema `type`"),
        ("create_structured_output", {"name": "x" * 41, "schema": {"type": "boolean"}}, "`name`"),
        ("create_structured_output", {"name": "x", "regex": "a+", "schema": {"type": "boolean"}}, "only with type 'regex'"),
        ("run_structured_output", {"structuredOutputId": MISSING, "callIds": [MISSING, MISSING]}, "exactly one call"),
        ("run_structured_output", {"callIds": [MISSING]}, "either structuredOutputId or structuredOutput"),
        (
            "run_structured_output",
            {"structuredOutputId": MISSING, "callIds": [MISSING] * 101, "previewEnabled": False},
            "`callIds`",
        ),
        ("run_structured_output", {"structuredOutputId": MISSING, "callIds": ["c1"]}, "`callIds.0`"),
        ("update_structured_output", {"id": MISSING}, "at least one field"),
    ],
)
async def test_bad_input_names_the_field_and_sends_nothing(client, sandbox, name, arguments, says):
    result = await client.call_tool(name, arguments)
    assert result.is_error and says in result_text(result), result_text(result)
    assert sandbox.requests == []
