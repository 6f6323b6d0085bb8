"""The sandbox's evals, simulations and structured outputs answer like api.vapi.ai, as the document describes them."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from tests.openapi import document, schema
from tests.testing_kit import DEFAULT_TESTER, MISSING, add_assistant
from vapi_mcp.sandbox import Fault, Sandbox, evals, simulations, structured_outputs
from vapi_mcp.sandbox.conversation import RULE_NOTE
from vapi_mcp.sandbox.judging import compare, extract, judge


@pytest.fixture
def sandbox(either_world: Sandbox) -> Sandbox:
    """Every test here runs on a world in memory and on one in an SQLite file."""
    return either_world


DECLARED = {**evals.DTOS, **simulations.DTOS, **structured_outputs.DTOS}
QUERIES = {
    ("/eval", "get"): evals.LIST_QUERY,
    ("/eval/run", "get"): evals.LIST_QUERY,
    ("/structured-output", "get"): structured_outputs.LIST_QUERY,
    ("/structured-output/{id}", "patch"): structured_outputs.UPDATE_QUERY,
    ("/eval/simulation/personality", "get"): simulations.PERSONALITY_QUERY,
    ("/eval/simulation/scenario", "get"): simulations.SCENARIO_QUERY,
    ("/eval/simulation/suite", "get"): simulations.SUITE_QUERY,
    ("/eval/simulation", "get"): simulations.SIMULATION_QUERY,
    ("/eval/simulation/run", "get"): simulations.RUN_QUERY,
    ("/eval/simulation/run/{id}/item", "get"): simulations.ITEM_QUERY,
}
UNSERVED = {
    ("patch", "/eval/simulation/run/{id}/item/{itemId}"): "cancelling one item: no tool uses it",
    ("post", "/eval/simulation/run/{id}/item/{itemId}/generate"): "the sandbox writes suggestions for failed items itself",
}


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_declared_dto_fields_follow_the_document(name):
    rule, documented = DECLARED[name], schema(name)
    assert rule.names == set(documented["properties"]), name
    assert set(rule.required) == set(documented.get("required", [])), name


@pytest.mark.parametrize(("path", "method"), sorted(QUERIES))
def test_query_parameters_follow_the_document(path, method):
    parameters = document()["paths"][path][method].get("parameters", [])
    assert set(QUERIES[(path, method)]) == {p["name"] for p in parameters if p["in"] == "query"}


def test_every_documented_operation_is_served(sandbox):
    served = {
        (method.lower(), route.path)
        for route in sandbox.app.app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
    }
    documented = {
        (method, path)
        for path, operations in document()["paths"].items()
        if path.startswith(("/eval", "/structured-output"))
        for method in operations
    }
    assert documented - served == set(UNSERVED)


def test_the_judges_and_extraction_rules():
    assert judge({"type": "exact", "content": "hello THERE"}, " Hello there ") == (True, None)
    assert judge({"type": "regex", "content": r"\d{2}:\d{2}"}, "Open at 09:30 daily")[0]
    assert judge({"type": "regex", "content": "(unclosed"}, "x")[1].startswith("The judge's regex does not compile")
    assert judge({"type": "exact", "content": "Booked", "toolCalls": [{"name": "book"}]}, "Booked")[1] == (
        "Expected tool call(s) book but the assistant called none."
    )
    ai = {"type": "ai", "model": {"messages": [{"role": "system", "content": 'Needs “refund” and "today".'}]}}
    assert judge(ai, "Your refund goes out today.") == (True, None)
    assert judge(ai, "Your refund goes out soon.") == (False, 'The reply does not contain "today".')
    transcript = "AI: Hello.\nUser: I want 3 tickets.\nAI: 3 tickets at 5 PM, confirmed."
    assert extract({"name": "number of tickets", "schema": {"type": "integer"}}, transcript) == 3
    assert extract({"schema": {"type": "integer"}}, transcript) is None, "a number with no topic is not guessed"
    assert extract({"schema": {"type": "string", "enum": ["AM", "PM"]}}, transcript) == "PM"
    assert extract({"type": "regex", "regex": r"/(\d) pm/i", "schema": {"type": "number"}}, transcript) == 5
    assert extract({"type": "regex", "regex": "tickets", "schema": {"type": "array"}}, transcript) == ["tickets", "tickets"]
    assert extract({"description": '"confirmed" and "refund"', "schema": {"type": "boolean"}}, transcript) is False
    assert extract({"description": '"confirmed" and "tickets"', "schema": {"type": "boolean"}}, transcript) is True
    assert compare(3, ">=", 3) and not compare("3", ">", 1) and not compare(None, "!=", 1) and compare(True, "!=", False)


async def test_an_eval_run_moves_from_queued_to_ended_on_the_clock(api, sandbox, clock):
    riley = add_assistant(sandbox)
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "judgePlan": {"type": "regex", "content": "^Hello, this is Riley\\b"}}]
    body = {
        "type": "eval",
        "eval": {"type": "chat.mockConversation", "messages": messages},
        "target": {"type": "assistant", "assistantId": riley},
    }
    created = await api.post("/eval/run", json=body)
    assert created.status_code == 201 and created.json()["status"] == "queued" and "results" not in created.json()
    assert "x-sandbox-note" not in created.headers, "no conversation shown yet"
    run_id = created.json()["id"]
    clock.advance(1.5)
    assert (await api.get(f"/eval/run/{run_id}")).json()["status"] == "running"
    clock.advance(1)
    answered = await api.get(f"/eval/run/{run_id}")
    ended = answered.json()
    assert (ended["status"], ended["endedReason"], ended["results"][0]["status"]) == ("ended", "mockConversation.done", "pass")
    assert ended["results"][0]["messages"][1]["content"] == "Hello, this is Riley. How can I help you today?", "a greeting, by rule"
    assert answered.headers["x-sandbox-note"] == RULE_NOTE and "sandboxNote" not in ended
    assert ended["results"][0]["messages"][1]["judge"] == {"status": "pass"}
    page = (await api.get("/eval/run", params={"limit": 1})).json()
    assert page["metadata"] == {"itemsPerPage": 1, "totalItems": 1, "currentPage": 1} and page["results"][0]["id"] == run_id


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"type": "chat.mockConversation", "messages": [{"role": "assistant", "judgePlan": {"type": "exact"}}]},
            "messages.0.judgePlan.content should not be empty",
        ),
        (
            {"type": "chat.mockConversation", "messages": [{"role": "user", "judgePlan": {"type": "ai"}}]},
            "messages.0.property judgePlan should not exist",
        ),
        (
            {"type": "chat.mockConversation", "messages": [{"role": "bot", "content": "x"}]},
            "messages.0.role must be one of the following values: assistant, system, tool, user",
        ),
        (
            {
                "type": "chat.mockConversation",
                "messages": [
                    {"role": "assistant", "judgePlan": {"type": "ai", "model": {"provider": "openai", "model": "gpt-4.1"}}}
                ],
            },
            "messages.0.judgePlan.model.messages should not be empty",
        ),
        ({"messages": []}, "type should not be empty"),
        ({"type": "chat.mockConversation", "messages": [], "name": ""}, "name must be longer than or equal to 1 characters"),
    ],
)
async def test_bad_evals_get_vapis_400(api, body, message):
    response = await api.post("/eval", json=body)
    assert response.status_code == 400 and message in response.json()["message"], response.json()


async def test_a_simulation_run_moves_through_its_statuses_and_can_be_cancelled(api, sandbox, clock):
    riley = add_assistant(sandbox)
    entry = {
        "type": "simulation",
        "scenario": {"name": "s", "instructions": "Say hello.", "evaluations": []},
        "personalityId": DEFAULT_TESTER,
    }
    body = {
        "simulations": [entry, entry],
        "target": {"type": "assistant", "assistantId": riley},
        "transport": {"provider": "vapi.websocket"},
    }
    created = (await api.post("/eval/simulation/run", json=body)).json()
    assert created["status"] == "queued" and len(created["simulationRunItemIds"]) == 2 and created["url"]
    path = f"/eval/simulation/run/{created['id']}"

    async def statuses() -> list[str]:
        return [item["status"] for item in (await api.get(f"{path}/item")).json()]

    assert await statuses() == ["queued", "queued"]
    clock.advance(2.5)
    assert await statuses() == ["running", "queued"]
    assert (await api.get("/eval/simulation/concurrency")).json()["activeSimulations"] == 2
    clock.advance(6)
    assert await statuses() == ["evaluating", "running"]
    clock.advance(2)
    assert await statuses() == ["passed", "evaluating"]
    run = (await api.patch(path)).json()
    assert run["status"] == "ended" and run["itemCounts"]["passed"] == 1 and run["itemCounts"]["canceled"] == 1
    clock.advance(60)
    assert await statuses() == ["passed", "canceled"]
    item = (await api.get(f"{path}/item/{created['simulationRunItemIds'][0]}")).json()
    assert item["metadata"]["call"]["recordingUrl"] and "sessionId" not in item, "a voice item has a recording, no chat session"


async def test_a_simulations_tester_follows_the_scenario_and_takes_only_facts_from_the_personality(api, sandbox, clock):
    """The rule tester cannot speak a tone; a personality's stated facts (a name) it gives when asked."""
    riley = add_assistant(sandbox, firstMessage="Hi, this is Riley. May I have your name?")
    persona = {"role": "system", "content": "You are calm and patient. Your name is Jordan Lee."}
    personality = {"name": "Jordan", "assistant": {"name": "Jordan", "model": {"provider": "openai", "model": "gpt-4o", "messages": [persona]}}}
    scenario = {"name": "Hours", "instructions": "Ask about the opening hours.", "evaluations": []}

    async def transcript(entry: dict) -> list[str]:
        body = {"simulations": [{"type": "simulation", "scenario": scenario, **entry}], "target": {"type": "assistant", "assistantId": riley}}
        run = await api.post("/eval/simulation/run", json=body)
        assert "x-sandbox-note" not in run.headers, "nothing has been said yet"
        clock.advance(60)
        item = await api.get(f"/eval/simulation/run/{run.json()['id']}/item/{run.json()['simulationRunItemIds'][0]}")
        assert item.headers["x-sandbox-note"] == RULE_NOTE
        return item.json()["metadata"]["call"]["transcript"].splitlines()

    with_facts = await transcript({"personality": personality})
    assert with_facts[:2] == ["AI: Hi, this is Riley. May I have your name?", "User: My name is Jordan Lee."]
    assert "User: Can you tell me about the opening hours?" in with_facts, "then it follows the scenario"
    default = await transcript({"personalityId": DEFAULT_TESTER})  # Skeptical Sam states no facts
    assert default[1] == "User: I'd rather not say."


async def test_a_fault_makes_a_simulation_run_answer_402_in_the_documents_shape(api, sandbox):
    sandbox.inject(Fault("POST", "/eval/simulation/run", status=402, reason="billing_limit"))
    response = await api.post("/eval/simulation/run", json={})
    assert response.status_code == 402
    assert response.json() == {
        "statusCode": 402,
        "message": "The billing limit for this organization has been reached.",
        "reason": "billing_limit",
    }
    assert set(response.json()) == set(schema("SimulationRunPaymentRequiredResponse")["required"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {
                "simulations": [{"type": "simulation", "scenarioId": MISSING, "personalityId": DEFAULT_TESTER}],
                "target": {"type": "assistant", "assistantId": MISSING},
            },
            "Couldn't Get Assistant",
        ),
        (
            {
                "simulations": [{"type": "simulation", "personalityId": DEFAULT_TESTER}],
                "target": {"type": "assistant", "assistant": {}},
            },
            "simulations.0 needs either scenarioId or scenario",
        ),
        (
            {
                "simulations": [{"type": "simulationSuite", "simulationSuiteId": MISSING}],
                "target": {"type": "assistant", "assistant": {}},
            },
            "Couldn't Get Simulation Suite",
        ),
        (
            {"simulations": [{"type": "run"}], "target": {"type": "assistant", "assistant": {}}},
            "simulations.0.type must be one of the following values: simulation, simulationSuite",
        ),
        (
            {"simulations": [], "target": {"type": "assistant", "assistant": {}}, "iterations": 11},
            "iterations must not be greater than 10",
        ),
        (
            {"simulations": [], "target": {"type": "assistant", "assistant": {}}, "transport": {"provider": "pstn"}},
            "transport.provider must be one of the following values: vapi.websocket, vapi.webchat",
        ),
    ],
)
async def test_bad_simulation_runs_get_vapis_400(api, body, message):
    response = await api.post("/eval/simulation/run", json=body)
    said = response.json()["message"]
    assert response.status_code == 400 and any(message in m for m in (said if isinstance(said, list) else [said])), said


async def test_the_library_refuses_what_would_break_a_saved_simulation(api):
    scenario = (await api.post("/eval/simulation/scenario", json={"name": "s", "instructions": "Hi.", "evaluations": []})).json()
    simulation = (await api.post("/eval/simulation", json={"scenarioId": scenario["id"], "personalityId": DEFAULT_TESTER})).json()
    refused = await api.delete(f"/eval/simulation/scenario/{scenario['id']}")
    assert refused.status_code == 400 and simulation["id"] in refused.json()["message"]
    default = await api.delete(f"/eval/simulation/personality/{DEFAULT_TESTER}")
    assert default.status_code == 400 and default.json()["message"] == "Vapi's default personalities cannot be deleted."
    renamed = await api.patch(f"/eval/simulation/personality/{DEFAULT_TESTER}", json={"name": "Mine"})
    assert renamed.status_code == 400 and "create your own" in renamed.json()["message"]
    bad_path = await api.post("/eval/simulation/suite", json={"name": "s", "simulationIds": [], "path": "a/b/c/d"})
    assert bad_path.status_code == 400 and bad_path.json()["message"][0].startswith("path must match")
    missing = await api.post("/eval/simulation/suite", json={"name": "s", "simulationIds": [MISSING]})
    assert missing.status_code == 400 and "Couldn't Get Simulation" in missing.json()["message"]
    listed = (await api.get("/eval/simulation", params={"idAny": simulation["id"], "standaloneOnly": "true"})).json()
    assert [s["id"] for s in listed] == [simulation["id"]]


async def test_structured_output_runs_follow_the_documents_rules(api, sandbox, clock):
    output = (await api.post("/structured-output", json={"name": "n", "schema": {"type": "boolean"}})).json()
    unknown_call = {"structuredOutputId": output["id"], "callIds": [MISSING], "previewEnabled": True}
    assert "Couldn't Get Call" in (await api.post("/structured-output/run", json=unknown_call)).json()["message"]
    two = {"structuredOutputId": output["id"], "callIds": [MISSING, MISSING], "previewEnabled": True}
    assert (await api.post("/structured-output/run", json=two)).json()["message"] == [
        "callIds must contain exactly 1 callId when previewEnabled is true"
    ]
    many = {"structuredOutputId": output["id"], "callIds": [MISSING] * 101}
    assert (await api.post("/structured-output/run", json=many)).json()["message"] == [
        "callIds must contain between 1 and 100 elements"
    ]
    no_override = await api.patch(f"/structured-output/{output['id']}", json={"name": "m"})
    assert no_override.status_code == 400 and no_override.json()["message"] == ["schemaOverride should not be empty"]
    bad = await api.post(
        "/structured-output", json={"name": "n", "schema": {"type": "date"}, "conditions": [{"type": "minMessages"}]}
    )
    assert set(bad.json()["message"]) == {
        "schema.type must be one of the following values: string, number, integer, boolean, array, object",
        "conditions.0.count should not be empty",
    }


def test_the_sandbox_documents_its_deterministic_rules():
    """The rules an agent can rely on in sandbox mode are written where the code is (and the README points there)."""
    from pathlib import Path

    from vapi_mcp.sandbox import conversation, judging

    judged, spoken = judging.__doc__ or "", conversation.__doc__ or ""
    for rule in ("**Eval judges**", "`exact` is a case-insensitive match", "type `regex`", "Type `ai`", "**Analysis**"):
        assert rule in judged
    assert re.search(r"quoted\s+phrase", judged)
    for rule in ("**The assistant**", "**Opening**", "**Direction**", "**Rules kept**", "**The tester**"):
        assert rule in spoken
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("**On the sandbox**", 1)[1].split("\n## ", 1)[0]
    assert "vapi_mcp/sandbox/conversation.py" in section and "vapi_mcp/sandbox/judging.py" in section and "sandboxNote" in section
