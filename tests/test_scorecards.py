"""Scorecards through a real MCP client (CRUD, a guarded delete), a call scored by a saved scorecard with get_call
naming the scorecard that produced each score, and the sandbox's /observability/scorecard as Vapi's document has it."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest
from mcp import Client

from tests.mcp_kit import confirmed, result_json, result_text
from tests.openapi import assert_answer, assert_valid
from tests.testing_kit import MISSING, add_assistant
from vapi_mcp.sandbox import ManualClock, Sandbox

BOOKED = {"name": "booked", "description": 'true if "2 PM" was agreed', "schema": {"type": "boolean"}}
CONFIRMS = "Hi, this is Riley. Your cleaning is booked for Thursday at 2 PM."


async def output(client: Client, definition: dict[str, Any] = BOOKED) -> str:
    result = await client.call_tool("create_structured_output", definition)
    assert not result.is_error, result_text(result)
    return str(result_json(result)["id"])


def card(output_id: str, **fields: Any) -> dict[str, Any]:
    return {"name": "Booking QA", "metrics": [{"structuredOutputId": output_id, "conditions": [{"comparator": "=", "value": True, "points": 70}]}], **fields}


def sent(sandbox: Sandbox, method: str) -> list[Any]:
    return [r.body for r in sandbox.requests if r.method == method and r.path.startswith("/observability/scorecard")]


async def test_create_list_get_update_and_a_guarded_delete(client: Client, sandbox: Sandbox) -> None:
    booked = await output(client)
    made = await client.call_tool("create_scorecard", card(booked, description="Did the call book?"))
    assert not made.is_error, result_text(made)
    view = result_json(made)
    assert view["name"] == "Booking QA" and view["metrics"] == 1 and view["maxPoints"] == 70 and "artifactPlan.scorecardIds" in view["use"]
    [body] = sent(sandbox, "POST")
    assert body["metrics"][0]["conditions"] == [{"type": "comparator", "comparator": "=", "value": True, "points": 70}]
    assert_valid("CreateScorecardDTO", body)
    listed = result_json(await client.call_tool("list_scorecards", {}))
    assert listed["scorecards"] == [{k: view[k] for k in ("id", "name", "metrics", "maxPoints", "createdAt")}] and listed["total"] == 1
    got = result_json(await client.call_tool("get_scorecard", {"id": view["id"]}))
    assert got["description"] == "Did the call book?" and got["metricDetails"][0]["structuredOutputId"] == booked
    more = [{"structuredOutputId": booked, "conditions": [{"comparator": "=", "value": True, "points": 60}, {"comparator": "=", "value": False, "points": 10}]}]
    changed = result_json(await client.call_tool("update_scorecard", {"id": view["id"], "metrics": more}))
    assert changed["changed"] == ["metrics"] and changed["maxPoints"] == 70
    assert_valid("UpdateScorecardDTO", sent(sandbox, "PATCH")[0])
    preview = result_json(await client.call_tool("delete_scorecard", {"id": view["id"]}))
    assert preview["confirmToken"] and '"Booking QA"' in preview["summary"] and view["id"] in sandbox.store.scorecards
    deleted = result_json(await confirmed(client, "delete_scorecard", {"id": view["id"]}))
    assert deleted["deleted"]["id"] == view["id"] and view["id"] not in sandbox.store.scorecards


async def test_a_call_is_scored_by_the_saved_scorecard_its_assistant_names_and_get_call_says_which(
    client: Client, sandbox: Sandbox, clock: ManualClock
) -> None:
    """The structured output the scorecard reads is extracted for it, even when the plan does not name it."""
    booked = await output(client)
    scorecard = result_json(await client.call_tool("create_scorecard", card(booked)))
    riley = add_assistant(sandbox, firstMessage=CONFIRMS, artifactPlan={"scorecardIds": [scorecard["id"]]})
    call = result_json(await client.call_tool("create_call", {"assistantId": riley}))
    clock.advance(10)
    view = result_json(await client.call_tool("get_call", {"id": call["id"]}))
    assert view["scorecards"] == {"Booking QA": {"score": 70, "scoreNormalized": 100, "scorecardId": scorecard["id"], "points": {"booked": 70}}}
    assert view["structuredOutputs"] == {"booked": True}


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"metrics": [{"structuredOutputId": MISSING, "conditions": [{"comparator": ">", "value": True, "points": 5}]}]}, "compared with '=' only"),
        ({"metrics": [{"structuredOutputId": MISSING, "conditions": [{"comparator": "=", "value": 1, "points": 101}]}]}, "points"),
        ({"metrics": [{"structuredOutputId": MISSING, "conditions": []}]}, "conditions"),
        ({"metrics": [{"structuredOutputId": MISSING, "conditions": [{"comparator": "~", "value": 1, "points": 1}]}]}, "comparator"),
        ({"metrics": [{"structuredOutputId": "booked", "conditions": [{"comparator": "=", "value": 1, "points": 1}]}]}, "must be a Vapi id"),
        ({"name": "x" * 81, "metrics": []}, "`name`"),
        ({}, "`metrics` is required"),
    ],
)
async def test_bad_scorecards_are_refused_before_any_request(client: Client, sandbox: Sandbox, arguments: dict[str, Any], says: str) -> None:
    result = await client.call_tool("create_scorecard", arguments)
    assert result.is_error and says in result_text(result), result_text(result)
    assert sandbox.requests == []


async def test_vapi_refuses_a_metric_on_an_output_that_is_not_a_number_or_boolean(client: Client, sandbox: Sandbox) -> None:
    summary = await output(client, {"name": "summary", "schema": {"type": "string"}})
    result = await client.call_tool("create_scorecard", card(summary))
    assert result.is_error and "type number or boolean" in result_text(result)
    assert len(sandbox.store.scorecards) == 0


async def test_the_sandbox_serves_scorecards_as_the_document_shapes_them(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    booked = (await api.post("/structured-output", json=BOOKED)).json()
    body = {"name": "QA", "metrics": [{"structuredOutputId": booked["id"], "conditions": [{"type": "comparator", "comparator": "=", "value": True, "points": 40}]}]}
    made = await api.post("/observability/scorecard", json=body)
    assert made.status_code == 201
    assert_answer("Scorecard", made.json())
    listed = (await api.get("/observability/scorecard")).json()
    assert_answer("ScorecardPaginatedResponse", listed)
    wrong = {**body, "metrics": [{"structuredOutputId": booked["id"], "conditions": [{"type": "comparator", "comparator": ">", "value": True, "points": 1}]}]}
    refused = await api.post("/observability/scorecard", json=wrong)
    assert refused.status_code == 400 and refused.json()["message"] == ["metrics.0.conditions.0.comparator must be one of the following values: ="]
    unknown = await api.post("/observability/scorecard", json={"metrics": [{"structuredOutputId": MISSING, "conditions": []}]})
    assert unknown.status_code == 400 and "Couldn't Get Structured Output" in unknown.json()["message"]
    assert (await api.get(f"/observability/scorecard/{MISSING}")).json()["message"] == "Couldn't Get Scorecard. Scorecard Not Found."
    inline = await api.post("/assistant", json={"name": "R", "artifactPlan": {"scorecards": [{"metrics": [{"structuredOutputId": "x", "conditions": [{"value": "yes"}]}]}]}})
    assert inline.status_code == 400 and "artifactPlan.scorecards.0.metrics.0.conditions.0.value must be a number conforming to the specified constraints" in inline.json()["message"]
