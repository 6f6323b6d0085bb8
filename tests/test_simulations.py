"""Simulations through an MCP client on the sandbox: chat runs, guarded voice runs, cancel, and the library."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mcp_kit import SANDBOX, confirmed, result_json, result_text
from tests.guard_kit import answering, audit_lines, serve
from tests.openapi import assert_valid
from tests.testing_kit import DEFAULT_TESTER, MISSING, add_assistant, bodies, tick_on_reads
from vapi_mcp.sandbox import Fault
from vapi_mcp.sandbox.conversation import RULE_NOTE

RUN = "/eval/simulation/run"
MODES = pytest.mark.parametrize("mode", ["legacy", "auto"])


def scenario(name: str, instructions: str, phrase: str) -> dict[str, Any]:
    """A scenario with one required boolean evaluation: was `phrase` said (the sandbox's rule for a quoted phrase)?"""
    output = {"name": "mentioned", "description": f'true if "{phrase}" came up', "schema": {"type": "boolean"}}
    return {
        "name": name,
        "instructions": instructions,
        "evaluations": [{"structuredOutput": output, "comparator": "=", "value": True}],
    }


HOURS = scenario("Opening hours", "Ask for the opening hours. Thank the assistant.", "9am to 5pm")
REFUND = scenario("Refund", "Ask for a delivery update.", "refund approved")
"""The first passes (the tester asks, Riley's prompt has the hours), the second fails (nobody says it)."""
PROMPT = "You are Riley from Bright Smile Dental. We are open Monday to Friday, 9am to 5pm. You can book cleanings."


@pytest.fixture
def riley(sandbox) -> str:
    return add_assistant(sandbox, model={"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": PROMPT}]})


def two_scenarios(riley: str, **extra: Any) -> dict[str, Any]:
    return {
        "simulations": [
            {"scenario": HOURS, "personalityId": DEFAULT_TESTER},
            {"scenario": REFUND, "personalityId": DEFAULT_TESTER},
        ],
        "target": {"assistantId": riley},
        **extra,
    }


async def test_an_inline_chat_simulation_with_two_scenarios_reports_per_item_evaluations(client, sandbox, clock, settings, riley):
    reads = tick_on_reads(sandbox, clock, RUN, 4)
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    result = await client.call_tool("run_simulation", two_scenarios(riley), progress_callback=on_progress)
    assert not result.is_error, result_text(result)
    view = result_json(result)
    [body] = bodies(sandbox, "POST", RUN)
    assert body["transport"] == {"provider": "vapi.webchat"}, "the transport is always sent, never left to Vapi's default"
    assert [e["type"] for e in body["simulations"]] == ["simulation", "simulation"]
    assert_valid("CreateSimulationRunDTO", body)
    assert audit_lines(settings) == [], "a chat simulation is not a guarded action"

    assert view["status"] == "ended" and view["transport"] == "vapi.webchat"
    assert view["itemCounts"] == {"total": 2, "passed": 1, "failed": 1, "running": 0, "queued": 0, "canceled": 0}
    assert view["dashboard"].endswith(f"/simulation-runs/{view['id']}")
    passed, failed = view["items"]
    assert passed["name"] == "Opening hours / Skeptical Sam" and passed["status"] == "passed"
    assert passed["evaluations"] == [
        {"name": "mentioned", "extracted": True, "expected": "= true", "passed": True, "required": True}
    ]
    assert "transcript" not in passed, "transcripts of passed items are left out by default"
    assert failed["status"] == "failed" and failed["failureReason"]
    assert failed["evaluations"] == [
        {"name": "mentioned", "extracted": False, "expected": "= true", "passed": False, "required": True}
    ]
    assert failed["transcript"] == [
        "AI: Hi, this is Riley.",
        "User: Hi, could I get a delivery update?",
        "AI: I'm sorry, I don't have that information.",
        "User: Okay, thank you. Goodbye!",
        "AI: Thank you for calling. Goodbye!",
    ], "the tester follows the instructions; the assistant invents no delivery status"
    assert view["sandboxNote"] == RULE_NOTE and result_text(result).count(RULE_NOTE) == 1
    assert "mentioned extracted false, expected = true" in failed["suggestions"]["analysis"]
    assert failed["suggestions"]["systemPrompt"]
    assert progress[-1] == "simulation run ended: 2/2 done, 1 passed, 1 failed" and reads[-1].endswith("/item")


async def test_get_simulation_run_waits_with_progress_and_shows_every_transcript_on_request(client, sandbox, clock, riley):
    started = result_json(await client.call_tool("run_simulation", two_scenarios(riley, wait=0)))
    assert started["status"] == "queued" and f"get_simulation_run id={started['id']}" in started["resume"]
    assert [i["status"] for i in started["items"]] == ["queued", "queued"]
    tick_on_reads(sandbox, clock, RUN, 3)
    statuses: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        statuses.append(message or "")

    view = result_json(
        await client.call_tool(
            "get_simulation_run", {"id": started["id"], "wait": 60, "transcripts": "all"}, progress_callback=on_progress
        )
    )
    assert view["status"] == "ended" and all(item["transcript"] for item in view["items"])
    assert len(statuses) >= 2 and statuses[0].startswith("simulation run running")
    quiet = result_json(await client.call_tool("get_simulation_run", {"id": started["id"], "transcripts": "none"}))
    assert not any("transcript" in item for item in quiet["items"])


async def test_iterations_and_a_saved_suite_expand_into_items(client, sandbox, clock, riley):
    first = result_json(await client.call_tool("save_scenario", HOURS))
    simulation = result_json(
        await client.call_tool("save_simulation", {"scenarioId": first["id"], "personalityId": DEFAULT_TESTER})
    )
    suite = result_json(await client.call_tool("save_suite", {"name": "Front desk", "simulationIds": [simulation["id"]]}))
    tick_on_reads(sandbox, clock, RUN, 30)
    arguments = {"simulations": [{"simulationSuiteId": suite["id"]}], "target": {"assistantId": riley}, "iterations": 2}
    view = result_json(await client.call_tool("run_simulation", arguments))
    assert view["itemCounts"]["total"] == 2 and view["itemCounts"]["passed"] == 2
    assert [i["iteration"] for i in view["items"]] == [1, 2]
    body = bodies(sandbox, "POST", RUN)[0]
    assert body["simulations"] == [{"type": "simulationSuite", "simulationSuiteId": suite["id"]}]
    assert_valid("CreateSimulationRunDTO", body)


@MODES
async def test_a_voice_simulation_is_placed_only_after_the_user_accepts(mode, settings, sandbox, clock, riley):
    callback, asked = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=callback, mode=mode) as client:
        result = await client.call_tool("run_simulation", two_scenarios(riley, transport={"provider": "vapi.websocket"}, wait=0))
    assert not result.is_error, result_text(result)
    [question] = asked
    assert question.startswith(f"{SANDBOX}Run 2 voice simulations (2 simulations x 1 iteration) against assistant \"Riley\" (")
    assert "All of them can start now (0 of 10 call slots in use)." in question and "Nothing is billed." in question
    [body] = bodies(sandbox, "POST", RUN)
    assert body["transport"] == {"provider": "vapi.websocket"}
    assert_valid("CreateSimulationRunDTO", body)
    run_id = result_json(result)["id"]
    [line] = [entry for entry in audit_lines(settings) if entry["decision"] != "asked"]
    assert (line["decision"], line["channel"], line["kind"], line["ids"]) == ("sent", "elicitation", "spend", [run_id])


@MODES
@pytest.mark.parametrize("answer", ["decline", "cancel"])
async def test_a_declined_voice_simulation_starts_nothing(mode, answer, settings, sandbox, clock, riley):
    callback, _ = answering(answer)
    async with serve(settings, sandbox, clock, elicitation_callback=callback, mode=mode) as client:
        result = await client.call_tool("run_simulation", two_scenarios(riley, transport={"provider": "vapi.websocket"}))
    assert "nothing was placed" in result_json(result)["message"]
    assert bodies(sandbox, "POST", RUN) == [] and sandbox.store.simulation_runs == {}


async def test_a_voice_simulation_preview_then_token(client, sandbox, settings, riley):
    arguments = two_scenarios(riley, transport={"provider": "vapi.websocket"}, iterations=3, wait=0)
    preview = result_json(await client.call_tool("run_simulation", arguments))
    assert preview["confirmationRequired"] is True and "confirmToken" in preview
    assert preview["summary"].startswith(f"{SANDBOX}Run 6 voice simulations (2 simulations x 3 iterations) against assistant \"Riley\" (")
    assert preview["wouldSend"]["body"]["transport"] == {"provider": "vapi.websocket"}
    assert bodies(sandbox, "POST", RUN) == [], "nothing reaches Vapi before the yes"
    placed = result_json(await client.call_tool("run_simulation", {**arguments, "confirmToken": preview["confirmToken"]}))
    assert placed["itemCounts"]["total"] == 6 and len(bodies(sandbox, "POST", RUN)) == 1
    assert [line["decision"] for line in audit_lines(settings)] == ["previewed", "sent"]
    replay = await client.call_tool("run_simulation", {**arguments, "confirmToken": preview["confirmToken"]})
    assert replay.is_error and "already used" in result_text(replay) and len(bodies(sandbox, "POST", RUN)) == 1


async def test_a_token_for_a_chat_run_does_not_confirm_a_voice_run(client, sandbox, riley):
    voice = two_scenarios(riley, transport={"provider": "vapi.websocket"})
    token = result_json(await client.call_tool("run_simulation", voice))["confirmToken"]
    other = await client.call_tool("run_simulation", {**voice, "iterations": 10, "confirmToken": token})
    assert other.is_error and "different arguments" in result_text(other)
    assert bodies(sandbox, "POST", RUN) == []


async def test_no_credits_is_an_actionable_error(client, sandbox, settings, riley):
    sandbox.inject(Fault("POST", RUN, status=402))
    result = await confirmed(client, "run_simulation", two_scenarios(riley, transport={"provider": "vapi.websocket"}))
    text = result_text(result)
    assert result.is_error and "billing (402: insufficient_credits)" in text and "nothing was started or charged" in text
    assert "Add credits in the Vapi dashboard (Billing)" in text and "Insufficient credits" in text
    assert "try again" not in text.lower()
    assert [line["decision"] for line in audit_lines(settings)] == ["previewed", "failed"]


async def test_cancel_simulation_run_stops_a_running_run_without_asking(client, sandbox, clock, settings, riley):
    started = result_json(
        await client.call_tool("run_simulation", two_scenarios(riley, transport={"provider": "vapi.webchat"}, wait=0))
    )
    clock.advance(5)  # the first item talks, the second is just starting
    running = result_json(await client.call_tool("get_simulation_run", {"id": started["id"]}))
    assert running["status"] == "running" and running["itemCounts"]["running"] == 2
    canceled = result_json(await client.call_tool("cancel_simulation_run", {"id": started["id"]}))
    assert canceled["status"] == "ended" and canceled["endedReason"] == "canceled"
    assert canceled["itemCounts"]["canceled"] == 2 and "confirmToken" not in canceled
    assert bodies(sandbox, "PATCH", f"{RUN}/{started['id']}") == [None]
    assert audit_lines(settings) == [], "cancelling only stops spending: never guarded"
    clock.advance(60)
    after = result_json(await client.call_tool("get_simulation_run", {"id": started["id"]}))
    assert [i["status"] for i in after["items"]] == ["canceled", "canceled"]
    again = result_json(await client.call_tool("cancel_simulation_run", {"id": started["id"]}))
    assert again["alreadyEnded"] is True and len(sandbox.requests_to("PATCH", f"{RUN}/{started['id']}")) == 1


async def test_list_simulation_runs(client, sandbox, clock, riley):
    started = result_json(await client.call_tool("run_simulation", two_scenarios(riley, wait=0)))
    listed = result_json(await client.call_tool("list_simulation_runs", {"targetId": riley, "limit": 5}))
    assert listed["runs"][0]["id"] == started["id"] and listed["runs"][0]["itemCounts"]["total"] == 2
    assert sandbox.requests_to("GET", RUN)[-1].query == {"targetId": riley, "limit": "5"}


async def test_generate_scenarios_for_an_assistant(client, sandbox, riley):
    view = result_json(await client.call_tool("generate_scenarios", {"assistantId": riley}))
    assert [s["category"] for s in view["scenarios"]] == ["happy_path", "edge_case", "failure_mode"]
    assert all(s["instructions"] for s in view["scenarios"]) and view["coverageNotes"]
    [body] = bodies(sandbox, "POST", "/eval/simulation/scenario/generate")
    assert body == {"assistantId": riley}
    assert_valid("GenerateScenariosDTO", body)



async def test_generated_scenarios_are_ones_the_sandboxes_tester_plays(client, sandbox, clock, riley):
    """Riley can book: the happy path books the first time offered, the edge case declines it and books the next, and the
    out-of-scope question gets no invented answer."""
    scenarios = result_json(await client.call_tool("generate_scenarios", {"assistantId": riley}))["scenarios"]
    tick_on_reads(sandbox, clock, RUN, 5)
    entries = [{"scenario": {"name": s["name"], "instructions": s["instructions"], "evaluations": []}, "personalityId": DEFAULT_TESTER} for s in scenarios]
    view = result_json(await client.call_tool("run_simulation", {"simulations": entries, "target": {"assistantId": riley}}))
    assert view["itemCounts"]["total"] == 3
    run = sandbox.store.simulation_runs[view["id"]]
    happy, edge, out = (item["_call"]["transcript"] for item in run["_items"])
    assert "AI: You're booked for Tuesday, November 3 at 9:00 AM." in happy
    assert "User: No, that doesn't work for me. Do you have another time?" in edge and "AI: You're booked for Tuesday, November 3 at 9:30 AM." in edge
    assert out.splitlines()[1:3] == ["User: Hi, could you tell me whether you can help with filing taxes?", "AI: I'm sorry, I don't have that information."]


async def test_the_library_saves_lists_gets_and_deletes_with_confirmation(client, sandbox):
    saved = result_json(
        await client.call_tool("save_scenario", {**HOURS, "toolMocks": [{"toolName": "lookup", "result": "open 9-5"}]})
    )
    assert saved["created"] is True and saved["evaluations"] == 1
    assert_valid("CreateScenarioDTO", bodies(sandbox, "POST", "/eval/simulation/scenario")[0])
    changed = result_json(await client.call_tool("save_scenario", {"id": saved["id"], "instructions": "Ask twice."}))
    assert changed["changed"] == ["instructions"]
    assert_valid("UpdateScenarioDTO", bodies(sandbox, "PATCH", f"/eval/simulation/scenario/{saved['id']}")[0])

    tester = {"name": "Hurried Hana", "assistant": {"model": {"provider": "openai", "model": "gpt-4.1"}}}
    personality = result_json(await client.call_tool("save_personality", tester))
    assert_valid("CreatePersonalityDTO", bodies(sandbox, "POST", "/eval/simulation/personality")[0])
    simulation = result_json(
        await client.call_tool(
            "save_simulation", {"name": "Hours, hurried", "scenarioId": saved["id"], "personalityId": personality["id"]}
        )
    )
    assert_valid("CreateSimulationDTO", bodies(sandbox, "POST", "/eval/simulation")[0])
    hook = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
    suite = result_json(
        await client.call_tool("save_suite", {"name": "Front desk", "simulationIds": [simulation["id"]], "slackWebhookUrl": hook})
    )
    assert_valid("CreateSimulationSuiteDTO", bodies(sandbox, "POST", "/eval/simulation/suite")[0])
    assert result_json(await client.call_tool("save_suite", {"id": suite["id"], "name": "Desk"}))["changed"] == ["name"]
    assert_valid("UpdateSimulationSuiteDTO", bodies(sandbox, "PATCH", f"/eval/simulation/suite/{suite['id']}")[0])

    personalities = result_json(await client.call_tool("list_simulation_objects", {"kind": "personality"}))["items"]
    assert {"id": DEFAULT_TESTER, "name": "Skeptical Sam", "default": True} in personalities
    assert {"id": personality["id"], "name": "Hurried Hana"} in personalities
    suites = result_json(await client.call_tool("list_simulation_objects", {"kind": "suite"}))["items"]
    assert suites == [{"id": suite["id"], "name": "Desk", "simulations": 1}]
    got = result_json(await client.call_tool("get_simulation_object", {"kind": "suite", "id": suite["id"]}))
    assert got["slackWebhookUrl"] == "***" and hook not in str(got)

    preview = result_json(await client.call_tool("delete_simulation_object", {"kind": "suite", "id": suite["id"]}))
    assert preview["summary"] == f'{SANDBOX}Delete the suite "Desk" ({suite["id"]}) grouping 1 simulation, which stay.'
    assert suite["id"] in sandbox.store.suites
    deleted = result_json(await confirmed(client, "delete_simulation_object", {"kind": "suite", "id": suite["id"]}))
    assert deleted["deleted"]["id"] == suite["id"] and suite["id"] not in sandbox.store.suites
    in_use = await confirmed(client, "delete_simulation_object", {"kind": "scenario", "id": saved["id"]})
    assert in_use.is_error and "in use by simulation" in result_text(in_use) and saved["id"] in sandbox.store.scenarios


async def test_a_default_personality_is_not_offered_for_deletion(client, sandbox, settings):
    result = await client.call_tool("delete_simulation_object", {"kind": "personality", "id": DEFAULT_TESTER})
    assert result.is_error and "Vapi's default personalities" in result_text(result)
    assert audit_lines(settings) == [] and sandbox.requests_to("DELETE", f"/eval/simulation/personality/{DEFAULT_TESTER}") == []


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        (
            "run_simulation",
            {"simulations": [{"scenario": HOURS}], "target": {"assistantId": MISSING}},
            "personalityId or personality",
        ),
        (
            "run_simulation",
            {
                "simulations": [{"scenarioId": MISSING, "scenario": HOURS, "personalityId": MISSING}],
                "target": {"assistantId": MISSING},
            },
            "exactly one of scenarioId or scenario",
        ),
        (
            "run_simulation",
            {"simulations": [{"simulationSuiteId": MISSING, "scenarioId": MISSING}], "target": {"assistantId": MISSING}},
            "only simulationSuiteId",
        ),
        ("run_simulation", {"simulations": [], "target": {"assistantId": MISSING}}, "`simulations`"),
        (
            "run_simulation",
            {"simulations": [{"simulationId": "s1"}], "target": {"assistantId": MISSING}},
            "`simulations.0.simulationId`",
        ),
        ("run_simulation", {"simulations": [{"simulationId": MISSING}], "target": {"squadId": "../x"}}, "`target.squadId`"),
        (
            "run_simulation",
            {"simulations": [{"simulationId": MISSING}], "target": {"assistantId": MISSING}, "iterations": 11},
            "`iterations`",
        ),
        (
            "run_simulation",
            {"simulations": [{"simulationId": MISSING}], "target": {"assistantId": MISSING}, "transport": {"provider": "pstn"}},
            "`transport.provider`",
        ),
        (
            "run_simulation",
            {
                "simulations": [
                    {"scenario": {**HOURS, "evaluations": [{"comparator": "=", "value": True}]}, "personalityId": MISSING}
                ],
                "target": {"assistantId": MISSING},
            },
            "structuredOutputId or structuredOutput",
        ),
        ("get_simulation_run", {"id": "1"}, "`id`"),
        ("cancel_simulation_run", {"id": "../run"}, "`id`"),
        ("generate_scenarios", {}, "exactly one of assistantId or squadId"),
        ("save_scenario", {"name": "No instructions", "evaluations": []}, "`instructions`: is required to create a scenario"),
        ("save_simulation", {"scenarioId": "abc", "personalityId": MISSING}, "`scenarioId`"),
        ("save_suite", {"id": MISSING}, "at least one field"),
        ("delete_simulation_object", {"kind": "eval", "id": MISSING}, "`kind`"),
    ],
)
async def test_bad_input_names_the_field_and_sends_nothing(client, sandbox, name, arguments, says):
    result = await client.call_tool(name, arguments)
    assert result.is_error and says in result_text(result), result_text(result)
    assert sandbox.requests == []


async def test_the_test_assistant_prompt_walks_the_whole_loop(client):
    prompt = await client.get_prompt("test-assistant", {"assistantId": "a1", "phoneNumberId": "p1"})
    text = prompt.messages[0].content.text
    steps = [
        "chat_with_assistant",
        "run_eval",
        "generate_scenarios",
        "run_simulation",
        "vapi.websocket",
        "create_call",
        "update_assistant",
        "again",
    ]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions), "the loop is in order: chat, eval, simulate, voice (with a yes), fix, rerun"
    assert "Only if the user says yes" in text and "phone number p1" in text


async def test_a_started_run_that_cannot_be_read_says_its_id_and_not_to_start_it_again(client, sandbox, riley):
    sandbox.inject(Fault("GET", f"{RUN}/", status=500, times=5))
    result = await client.call_tool("run_simulation", two_scenarios(riley))
    text = result_text(result)
    [run_id] = list(sandbox.store.simulation_runs)
    assert result.is_error and f"The simulation run {run_id} was started" in text
    assert f"Do not start it again: read it later with get_simulation_run id={run_id}" in text
    assert len(bodies(sandbox, "POST", RUN)) == 1


async def test_dry_run_checks_and_confirms_a_voice_simulation_but_starts_nothing(settings, sandbox, clock, riley):
    from tests.guard_kit import with_policy

    callback, asked = answering("accept")
    async with serve(with_policy(settings, dry_run=True), sandbox, clock, elicitation_callback=callback) as client:
        result = result_json(await client.call_tool("run_simulation", two_scenarios(riley, transport={"provider": "vapi.websocket"})))
    assert result["dryRun"] is True and result["wouldSend"]["path"] == RUN and len(asked) == 1
    assert bodies(sandbox, "POST", RUN) == []
