"""/eval/simulation: personalities, scenarios, simulations, suites, runs, scenario generation, concurrency.

A run expands its entries (inline scenario + personality, saved simulations, suites) times
`iterations` into items. Item i moves over the sandbox clock: `queued` until QUEUED + i * STAGGER
seconds after the run was created, then `running` for RUNNING s, `evaluating` for EVALUATING s,
then `passed` or `failed`. Its conversation is played once, when the run is created (on the
sandbox clock of that moment), by the conversation engine (conversation.py): the target
assistant (the scenario's `targetOverrides` applied) answers from its own prompt, the tester
follows the scenario's `instructions` (up to MAX_TURNS lines), inbound. A personality's prompt
sets a tone the rule tester cannot speak; only the facts it states ("Your name is Jordan", a
phone number, an email...) are used, when the scenario's instructions do not state them. Each
evaluation's structured output is extracted from that transcript by the rules in judging.py and
compared with the expected value; an item passes when every required evaluation does. Once an
item has talked, a response about it or its run says once that the conversation is drawn by rule
(conversation.NOTE_HEADER). Cancelling (PATCH
/eval/simulation/run/{id}) cancels every item not finished yet. Vapi's default personalities
(orgId null) are always there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import knowledge, language
from .assistants import ASSISTANT, ASSISTANT_OVERRIDES, SQUAD
from .clock import iso
from .conversation import Agent, Conversation, Tester, converse, note_headers, plan_tester, with_overrides
from .core import DATE_FILTERS, ORG_ID, ApiError, body_of, find, new_id, not_found, paged, query_of, sandbox_of, stamp
from .judging import at_path, compare, extract
from .phone_numbers import Nested
from .prompt import Prompt, system_prompt
from .resource import Resource
from .structured_outputs import CREATE as CREATE_STRUCTURED_OUTPUT
from .structured_outputs import LIST_QUERY as _OUTPUTS_QUERY
from .validation import SERVER, Arr, Bool, Either, Num, Obj, Rule, Str, Tagged

if TYPE_CHECKING:
    from . import Sandbox

PATH = Str(nullable=True, max_len=255, pattern=r"/^[a-zA-Z0-9][a-zA-Z0-9._-]*(?:\/[a-zA-Z0-9][a-zA-Z0-9._-]*){0,2}$/")
COMPARATORS = ("=", "!=", ">", "<", ">=", "<=")


PERSONALITY = Obj({"name": Str(max_len=80), "assistant": ASSISTANT, "path": PATH}, required=("name", "assistant"))
UPDATE_PERSONALITY = Obj(PERSONALITY.fields)
EVALUATION = Obj(
    {
        "structuredOutputId": Str(uuid=True),
        "structuredOutput": CREATE_STRUCTURED_OUTPUT,
        "path": Str(),
        "comparator": Str(enum=COMPARATORS),
        "value": Either(Num(), Str(), Bool()),
        "required": Bool(),
    },
    required=("comparator", "value"),
)
HOOK_INCLUDE = Obj({"transcript": Bool(), "messages": Bool(), "recordingUrl": Bool()})
HOOK_ACTION = Obj(
    {"type": Str(enum=("webhook",)), "server": SERVER, "include": HOOK_INCLUDE},
    required=("type",),
)
HOOK = Tagged(
    "on",
    {
        event: Obj({"on": Str(enum=(event,)), "do": Arr(Tagged("type", {"webhook": HOOK_ACTION}))}, required=("on", "do"))
        for event in ("simulation.run.started", "simulation.run.ended")
    },
)
TOOL_MOCK = Obj({"toolName": Str(), "result": Str(), "enabled": Bool()}, required=("toolName",))
_SCENARIO_FIELDS: dict[str, Rule] = {
    "name": Str(max_len=80),
    "instructions": Str(max_len=10000),
    "evaluations": Nested(EVALUATION),
    "hooks": Nested(HOOK),
    "targetOverrides": ASSISTANT_OVERRIDES,
    "toolMocks": Nested(TOOL_MOCK),
    "path": PATH,
}
SCENARIO = Obj(_SCENARIO_FIELDS, required=("name", "instructions", "evaluations"))
UPDATE_SCENARIO = Obj(_SCENARIO_FIELDS)
_SIMULATION_FIELDS: dict[str, Rule] = {
    "name": Str(max_len=80),
    "scenarioId": Str(uuid=True),
    "personalityId": Str(uuid=True),
    "path": PATH,
}
SIMULATION = Obj(_SIMULATION_FIELDS, required=("scenarioId", "personalityId"))
UPDATE_SIMULATION = Obj(_SIMULATION_FIELDS)
TARGET_ASSIGNMENT = Obj(
    {"targetType": Str(enum=("assistant", "squad")), "targetId": Str(uuid=True)}, required=("targetType", "targetId")
)
_SUITE_FIELDS: dict[str, Rule] = {
    "name": Str(max_len=80),
    "slackWebhookUrl": Str(),
    "simulationIds": Arr(Str()),
    "targetAssignments": Nested(TARGET_ASSIGNMENT),
    "path": PATH,
}
SUITE = Obj(_SUITE_FIELDS, required=("name", "simulationIds"))
UPDATE_SUITE = Obj(_SUITE_FIELDS)
SIMULATION_ENTRY = Obj(
    {
        "type": Str(enum=("simulation",)),
        "simulationId": Str(uuid=True),
        "scenarioId": Str(uuid=True),
        "scenario": SCENARIO,
        "personalityId": Str(uuid=True),
        "personality": PERSONALITY,
        "name": Str(max_len=80),
    },
    required=("type",),
)
SUITE_ENTRY = Obj(
    {"type": Str(enum=("simulationSuite",)), "simulationSuiteId": Str(uuid=True), "name": Str(max_len=80), "suiteId": Str()},
    required=("type",),
)
ENTRY = Tagged("type", {"simulation": SIMULATION_ENTRY, "simulationSuite": SUITE_ENTRY})
RUN_TARGET = Tagged(
    "type",
    {
        "assistant": Obj(
            {"type": Str(enum=("assistant",)), "assistantId": Str(uuid=True), "assistant": ASSISTANT}, required=("type",)
        ),
        "squad": Obj({"type": Str(enum=("squad",)), "squadId": Str(uuid=True), "squad": SQUAD}, required=("type",)),
    },
)
TRANSPORT = Obj({"provider": Str(enum=("vapi.websocket", "vapi.webchat"))}, required=("provider",))
CREATE_RUN = Obj(
    {"simulations": Nested(ENTRY), "target": RUN_TARGET, "iterations": Num(minimum=1, maximum=10), "transport": TRANSPORT},
    required=("simulations", "target"),
)
GENERATE = Obj({"assistantId": Str(), "squadId": Str()})

DTOS: dict[str, Rule] = {
    "CreatePersonalityDTO": PERSONALITY,
    "UpdatePersonalityDTO": UPDATE_PERSONALITY,
    "CreateScenarioDTO": SCENARIO,
    "UpdateScenarioDTO": UPDATE_SCENARIO,
    "EvaluationPlanItem": EVALUATION,
    "ScenarioToolMock": TOOL_MOCK,
    "SimulationHookCallStarted": HOOK.branches["simulation.run.started"],
    "SimulationHookCallEnded": HOOK.branches["simulation.run.ended"],
    "SimulationHookWebhookAction": HOOK_ACTION,
    "SimulationHookInclude": HOOK_INCLUDE,
    "CreateSimulationDTO": SIMULATION,
    "UpdateSimulationDTO": UPDATE_SIMULATION,
    "SimulationSuiteTargetAssignment": TARGET_ASSIGNMENT,
    "CreateSimulationSuiteDTO": SUITE,
    "UpdateSimulationSuiteDTO": UPDATE_SUITE,
    "SimulationRunSimulationEntry": SIMULATION_ENTRY,
    "SimulationRunSuiteEntry": SUITE_ENTRY,
    "SimulationRunTargetAssistant": RUN_TARGET.branches["assistant"],
    "SimulationRunTargetSquad": RUN_TARGET.branches["squad"],
    "SimulationRunTransportConfiguration": TRANSPORT,
    "CreateSimulationRunDTO": CREATE_RUN,
    "GenerateScenariosDTO": GENERATE,
}
"""Every rule of this module by the OpenAPI schema it mirrors (for the tests)."""

_PAGE: dict[str, Rule] = {k: v for k, v in _OUTPUTS_QUERY.items() if k in ("page", "sortOrder", "sortBy", "limit")} | DATE_FILTERS
PERSONALITY_QUERY = _PAGE
SCENARIO_QUERY = {"idAny": Str(), "name": Str(), **_PAGE}
SUITE_QUERY = {"name": Str(), **_PAGE}
SIMULATION_QUERY = {"idAny": Str(), "standaloneOnly": Bool(), **_PAGE}
RUN_QUERY = {
    "status": Str(enum=("queued", "running", "ended")),
    "filterStatus": Str(enum=("passed", "failed", "running")),
    "targetType": Str(enum=("assistant", "squad")),
    "targetId": Str(uuid=True),
    **_PAGE,
}
ITEM_QUERY = {
    "simulationId": Str(uuid=True),
    "runId": Str(uuid=True),
    "status": Str(enum=("queued", "running", "evaluating", "passed", "failed", "canceled")),
    **_PAGE,
}

QUEUED, STAGGER, RUNNING, EVALUATING = 2.0, 1.0, 6.0, 2.0
"""Seconds: before the first item starts, between item starts, talking, evaluating."""
MAX_TURNS = 12
"""Tester lines at most in one simulated conversation."""
CONCURRENCY_LIMIT = 10
"""Call slots for simulations; each voice simulation uses 2 (tester and target)."""
DONE = ("passed", "failed", "canceled")

_EPOCH = "2025-01-01T00:00:00.000Z"


def _default_personality(index: int, name: str, behaviour: str) -> dict[str, Any]:
    assistant = {
        "name": name,
        "model": {"provider": "openai", "model": "gpt-4.1", "messages": [{"role": "system", "content": behaviour}]},
        "voice": {"provider": "vapi", "voiceId": "Elliot"},
    }
    ident = f"00000000-0000-4000-8000-00000000000{index}"
    return {"id": ident, "orgId": None, "createdAt": _EPOCH, "updatedAt": _EPOCH, "name": name, "assistant": assistant}


DEFAULT_PERSONALITIES = {
    p["id"]: p
    for p in (
        _default_personality(1, "Skeptical Sam", "You are a polite but skeptical caller. Ask for confirmation of every detail."),
        _default_personality(2, "Confused Carl", "You are easily confused. Ask the assistant to repeat or rephrase once."),
        _default_personality(3, "Rude Rob", "You are impatient and curt, but you do what the scenario asks."),
    )
}
"""Vapi-provided personalities available to every org (`orgId` null)."""
BUILT_IN = {"personalities": list(DEFAULT_PERSONALITIES.values())}
"""What every sandbox world holds from the start (the store puts it in)."""


def converse_scenario(
    sb: Sandbox, assistant: dict[str, Any], scenario: Mapping[str, Any], personality: Mapping[str, Any], *, now: datetime, voice: bool
) -> Conversation:
    """The scenario played against the assistant (see the module docstring)."""
    configured, variables = with_overrides(assistant, scenario.get("targetOverrides"))
    agent = Agent(
        configured, now=now, variables=variables, documents=knowledge.documents_for(sb, configured), conversation_type="voice" if voice else "chat"
    )
    tester = Tester(str(scenario.get("instructions") or ""))
    persona = system_prompt(personality.get("assistant") or {}) if isinstance(personality.get("assistant"), Mapping) else ""
    for key, value in plan_tester(persona).facts.items():
        tester.plan.facts.setdefault(key, value)
    return converse(agent, tester, max_turns=MAX_TURNS)


def evaluate(scenario: Mapping[str, Any], outputs: Mapping[str, dict[str, Any]], played: Conversation, now: datetime) -> list[dict[str, Any]]:
    """StructuredOutputEvaluationResult for each of the scenario's evaluations."""
    results = []
    for item in scenario.get("evaluations") or []:
        output = item.get("structuredOutput") or outputs.get(item.get("structuredOutputId") or "") or {}
        value = at_path(extract(output, played.lines, now=now), item.get("path"))
        result: dict[str, Any] = {
            "structuredOutputId": item.get("structuredOutputId") or "inline",
            "name": output.get("name"),
            **({"path": item["path"]} if item.get("path") else {}),
            **({"description": output["description"]} if output.get("description") else {}),
            "schema": output.get("schema"),
            "extractedValue": value if not isinstance(value, (dict, list)) else None,
            "expectedValue": item["value"],
            "comparator": item["comparator"],
            "passed": compare(value, item["comparator"], item["value"]),
            "required": item.get("required", True),
        }
        if isinstance(value, (dict, list)):
            result["error"] = "The extracted value is not a primitive; set `path` to a leaf of the output."
        results.append(result)
    return results


def suggestions(evaluations: list[dict[str, Any]]) -> dict[str, Any]:
    """SimulationRunItemImprovements for a failed item, written from its failed required evaluations."""
    failed = [e for e in evaluations if e["required"] and not e["passed"]]
    said = [f"{e['name']} extracted {json.dumps(e['extractedValue'])}, expected {e['comparator']} {json.dumps(e['expectedValue'])}" for e in failed]
    return {
        "analysis": f"{len(failed)} of {sum(e['required'] for e in evaluations)} required evaluations failed: "
        + "; ".join(said)
        + ".",
        "systemPromptSuggestions": [
            {"issue": line, "suggestion": f"Make the system prompt lead the assistant to: {e.get('description') or e['name']}."}
            for line, e in zip(said, failed, strict=True)
        ],
        "toolSuggestions": [],
        "scenarioSuggestions": [],
    }


def item_live(item: dict[str, Any], run: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A run item as it stands at `now`."""
    out = {k: v for k, v in item.items() if not k.startswith("_")}
    start = run["_start"] + timedelta(seconds=QUEUED + STAGGER * item["_index"])
    talked = start + timedelta(seconds=RUNNING)
    done = talked + timedelta(seconds=EVALUATING)
    canceled: datetime | None = run.get("_canceled_at")
    moment = min(now, canceled) if canceled else now
    if moment >= start:
        out["startedAt"] = iso(start)
    if moment >= talked:
        out["metadata"] = {**out["metadata"], "call": item["_call"]}
    if canceled is not None and canceled < done and now >= canceled:
        return {**out, "status": "canceled", "canceledAt": iso(canceled), "updatedAt": iso(canceled)}
    if moment < start:
        return {**out, "status": "queued"}
    if moment < talked:
        return {**out, "status": "running"}
    if moment < done:
        return {**out, "status": "evaluating"}
    passed = item["_results"]["passed"]
    out.update(status="passed" if passed else "failed", completedAt=iso(done), updatedAt=iso(done), results=item["_results"])
    if not passed:
        out.update(
            failedAt=iso(done),
            failureReason="Required evaluations failed.",
            improvementSuggestions=suggestions(item["_results"]["evaluations"]),
        )
    return out


def counts(items: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = [i["status"] for i in items]
    simulations = {i["simulationId"] for i in items}
    return {
        "total": len(items),
        "passed": statuses.count("passed"),
        "failed": statuses.count("failed"),
        "running": statuses.count("running") + statuses.count("evaluating"),
        "queued": statuses.count("queued"),
        "canceled": statuses.count("canceled"),
        "distinctSimulationTotal": len(simulations),
        "distinctSimulationFailed": len({i["simulationId"] for i in items if i["status"] in ("failed", "canceled")}),
    }


def run_live(run: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A run (SimulationRun) as it stands at `now`, with its item counts."""
    items = [item_live(item, run, now) for item in run["_items"]]
    out = {k: v for k, v in run.items() if not k.startswith("_")}
    out["itemCounts"] = counts(items)
    started = [i["startedAt"] for i in items if "startedAt" in i]
    if started:
        out["startedAt"] = min(started)
    if all(i["status"] in DONE for i in items):
        out["status"] = "ended"
        out["endedAt"] = max(i.get("completedAt") or i.get("canceledAt") or i["updatedAt"] for i in items)
        if run.get("_canceled_at"):
            out["endedReason"] = "canceled"
    else:
        out["status"] = "running" if started else "queued"
    return out


def talked(run: dict[str, Any], now: datetime) -> bool:
    """Whether an item of the run has talked by `now` (its conversation is then in the answers)."""
    first = run["_start"] + timedelta(seconds=QUEUED + RUNNING)
    canceled: datetime | None = run.get("_canceled_at")
    return min(now, canceled) >= first if canceled else now >= first


def missing(collection: Any, ident: str | None, what: str, field: str) -> None:
    """400 when a body names an object that does not exist."""
    if ident is not None and ident not in collection:
        raise ApiError(400, f"Couldn't Get {what}. `{field}` {ident} Not Found.")


def check_evaluations(sb: Sandbox, scenario: dict[str, Any]) -> None:
    for item in scenario.get("evaluations") or []:
        if (item.get("structuredOutputId") is None) == (item.get("structuredOutput") is None):
            raise ApiError(400, ["each evaluation needs either structuredOutputId or structuredOutput, not both"])
        missing(sb.store.structured_outputs, item.get("structuredOutputId"), "Structured Output", "structuredOutputId")


def check_simulation(sb: Sandbox, body: dict[str, Any]) -> None:
    missing(sb.store.scenarios, body.get("scenarioId"), "Scenario", "scenarioId")
    missing(sb.store.personalities, body.get("personalityId"), "Personality", "personalityId")


def check_suite(sb: Sandbox, body: dict[str, Any]) -> None:
    for ident in body.get("simulationIds") or []:
        missing(sb.store.simulations, ident, "Simulation", "simulationIds")


def refusal(what: str, users: Any) -> Any:
    """A `Resource.refuse`: Vapi's own (default) objects are neither changed nor deleted; one in use is not deleted."""

    def refuse(sb: Sandbox, item: dict[str, Any], verb: str) -> str | None:
        if item.get("orgId", ORG_ID) is None:
            return "Vapi's default personalities cannot be changed; create your own instead." if verb == "update" else "Vapi's default personalities cannot be deleted."
        using = users(sb, item["id"]) if verb == "delete" else []
        return f"{what} is in use by {', '.join(using)}. Remove it from them first." if using else None

    return refuse


def simulations_using(field: str) -> Any:
    return lambda sb, ident: [f"simulation {s['id']}" for s in sb.store.simulations.values() if s.get(field) == ident]


def suites_using(sb: Sandbox, ident: str) -> list[str]:
    return [f"suite {s.get('name') or s['id']}" for s in sb.store.suites.values() if ident in (s.get("simulationIds") or [])]


def standalone(sb: Sandbox, item: dict[str, Any], query: Any) -> bool:
    """`standaloneOnly=true` keeps the simulations no suite names."""
    if query.get("standaloneOnly") != "true":
        return True
    return not any(item["id"] in (suite.get("simulationIds") or []) for suite in sb.store.suites.values())


PERSONALITIES = Resource(
    "/eval/simulation/personality", "personalities", "Personality", PERSONALITY, UPDATE_PERSONALITY, PERSONALITY_QUERY,
    nulls="set", refuse=refusal("Personality", simulations_using("personalityId")),
)
SCENARIOS = Resource(
    "/eval/simulation/scenario", "scenarios", "Scenario", SCENARIO, UPDATE_SCENARIO, SCENARIO_QUERY,
    nulls="set", check=check_evaluations, refuse=refusal("Scenario", simulations_using("scenarioId")),
)
SUITES = Resource(
    "/eval/simulation/suite", "suites", "Simulation Suite", SUITE, UPDATE_SUITE, SUITE_QUERY,
    nulls="set", check=check_suite, refuse=refusal("Simulation Suite", lambda sb, ident: []),
    defaults={"targetAssignments": []},  # required in the document's SimulationSuite
)
SIMULATIONS = Resource(
    "/eval/simulation", "simulations", "Simulation", SIMULATION, UPDATE_SIMULATION, SIMULATION_QUERY,
    nulls="set", check=check_simulation, refuse=refusal("Simulation", suites_using), keep=standalone,
)


def target_of(sb: Sandbox, target: dict[str, Any]) -> dict[str, Any]:
    """The assistant that answers the tester (a squad's first member), after checking the target exists."""
    store = sb.store
    kind = target["type"]
    if (target.get(f"{kind}Id") is None) == (target.get(kind) is None):
        raise ApiError(400, [f"target needs either {kind}Id or {kind}, not both"])
    if kind == "assistant":
        if target.get("assistant") is not None:
            return target["assistant"]
        missing(store.assistants, target["assistantId"], "Assistant", "assistantId")
        return store.assistants[target["assistantId"]]
    squad = target.get("squad")
    if squad is None:
        missing(store.squads, target["squadId"], "Squad", "squadId")
        squad = store.squads[target["squadId"]]
    first = (squad.get("members") or [{}])[0]
    return first.get("assistant") or store.assistants.get(first.get("assistantId") or "") or {}


Planned = tuple[str, dict[str, Any], dict[str, Any], str | None, str | None]


def expand(sb: Sandbox, entries: list[dict[str, Any]]) -> list[Planned]:
    """(simulationId, scenario, personality, scenarioId, personalityId) for every simulation the entries name."""
    store = sb.store
    out: list[Planned] = []
    for i, entry in enumerate(entries):
        if entry["type"] == "simulationSuite":
            suite_id = entry.get("simulationSuiteId") or entry.get("suiteId")
            if suite_id is None:
                raise ApiError(400, [f"simulations.{i}.simulationSuiteId should not be empty"])
            missing(store.suites, suite_id, "Simulation Suite", "simulationSuiteId")
            named = [{"type": "simulation", "simulationId": s} for s in store.suites[suite_id].get("simulationIds") or []]
            out += expand(sb, named)
            continue
        if entry.get("simulationId") is not None:
            missing(store.simulations, entry["simulationId"], "Simulation", "simulationId")
            saved = store.simulations[entry["simulationId"]]
            out.append(
                (
                    saved["id"],
                    store.scenarios[saved["scenarioId"]],
                    store.personalities[saved["personalityId"]],
                    saved["scenarioId"],
                    saved["personalityId"],
                )
            )
            continue
        for part in ("scenario", "personality"):
            if (entry.get(f"{part}Id") is None) == (entry.get(part) is None):
                raise ApiError(400, [f"simulations.{i} needs either {part}Id or {part} (or a simulationId)"])
        missing(store.scenarios, entry.get("scenarioId"), "Scenario", "scenarioId")
        missing(store.personalities, entry.get("personalityId"), "Personality", "personalityId")
        scenario = entry.get("scenario") or store.scenarios[entry["scenarioId"]]
        check_evaluations(sb, scenario)
        personality = entry.get("personality") or store.personalities[entry["personalityId"]]
        out.append((new_id(), scenario, personality, entry.get("scenarioId"), entry.get("personalityId")))
    return out


async def create_run(request: Request) -> JSONResponse:
    """Start a run: every simulation the entries name, `iterations` times; its items move on the clock."""
    sb = sandbox_of(request)
    body = await body_of(request, CREATE_RUN)
    assistant = target_of(sb, body["target"])
    planned = expand(sb, body["simulations"])
    if not planned:
        raise ApiError(400, ["simulations must name at least one simulation"])
    now = sb.now()
    # The document gives no default transport; the sandbox assumes voice, the costly one.
    transport = body.get("transport") or {"provider": "vapi.websocket"}
    run = stamp(sb, **{**body, "iterations": body.get("iterations", 1), "transport": transport}, queuedAt=iso(now), _start=now)
    voice = transport["provider"] == "vapi.websocket"
    items: list[dict[str, Any]] = []
    played: dict[int, tuple[Conversation, list[dict[str, Any]]]] = {}  # the same inputs play the same conversation: once per entry
    for iteration in range(1, run["iterations"] + 1):
        for index, (simulation_id, scenario, personality, scenario_id, personality_id) in enumerate(planned):
            if index not in played:
                conversation = converse_scenario(sb, assistant, scenario, personality, now=now, voice=voice)
                played[index] = conversation, evaluate(scenario, sb.store.structured_outputs, conversation, now)
            conversation, evaluations = played[index]
            passed = all(e["passed"] for e in evaluations if e["required"])
            item = stamp(
                sb,
                simulationId=simulation_id,
                runId=run["id"],
                queuedAt=iso(now),
                iterationNumber=iteration,
                **({"scenarioId": scenario_id} if scenario_id else {}),
                **({"personalityId": personality_id} if personality_id else {}),
                **({} if voice else {"sessionId": new_id()}),
                hooks=scenario.get("hooks") or [],
                metadata={
                    "assistant" if body["target"]["type"] == "assistant" else "squad": assistant,
                    "scenario": scenario,
                    "personality": personality,
                },
                configurations={"transport": transport},
                _index=len(items),
                _results={"evaluations": [dict(e) for e in evaluations], "passed": passed},
            )
            item["_call"] = {
                "transcript": conversation.transcript,
                "messages": [{"role": line.role, "content": line.text} for line in conversation.lines],
                **({"recordingUrl": f"https://storage.vapi.ai/sandbox/{item['id']}-mono.wav"} if voice else {}),
            }
            items.append(item)
    run["_items"] = items
    sb.store.simulation_runs[run["id"]] = run
    url = str(request.base_url) + f"dashboard/simulation-runs/{run['id']}"
    created = {**run_live(run, now), "simulationRunItemIds": [i["id"] for i in items], "url": url}
    return JSONResponse(created, status_code=201, headers=note_headers(talked(run, now)))


def find_run(request: Request) -> dict[str, Any]:
    return find(sandbox_of(request).store.simulation_runs, request, "Simulation Run")


def run_summary(run: dict[str, Any]) -> dict[str, Any]:
    """SimulationRunSummary: where the run came from (always the API here) and its simulations."""
    ids = sorted({i["simulationId"] for i in run["_items"]})
    return {
        "source": {"type": "api", "name": "API run", "linkable": False, "simulationIds": ids},
        "simulationCount": len(ids),
    }


async def list_runs(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    query = query_of(request, RUN_QUERY)
    now = sb.now()
    stored = sb.store.simulation_runs.values()
    summaries = {run["id"]: run_summary(run) for run in stored}
    runs = [run_live(r, now) for r in stored]
    if "status" in query:
        runs = [r for r in runs if r["status"] == query["status"]]
    if "targetType" in query:
        runs = [r for r in runs if r["target"]["type"] == query["targetType"]]
    if "targetId" in query:
        runs = [r for r in runs if query["targetId"] in (r["target"].get("assistantId"), r["target"].get("squadId"))]
    wanted = query.get("filterStatus")
    if wanted == "running":
        runs = [r for r in runs if r["status"] != "ended"]
    elif wanted:
        runs = [r for r in runs if r["status"] == "ended" and (r["itemCounts"]["failed"] == 0) == (wanted == "passed")]
    page = paged(runs, query)
    page["results"] = [{**r, "summary": summaries[r["id"]]} for r in page["results"]]
    spoke = any(talked(run, now) for run in stored if run["id"] in {r["id"] for r in page["results"]})
    return JSONResponse(page, headers=note_headers(spoke))


async def get_run(request: Request) -> JSONResponse:
    run, now = find_run(request), sandbox_of(request).now()
    return JSONResponse(run_live(run, now), headers=note_headers(talked(run, now)))


async def cancel_run(request: Request) -> JSONResponse:
    """PATCH /eval/simulation/run/{id}: cancel every item not finished yet."""
    run = find_run(request)
    now = sandbox_of(request).now()
    if run_live(run, now)["status"] != "ended" and run.get("_canceled_at") is None:
        run["_canceled_at"] = now
        run["updatedAt"] = iso(now)
    return JSONResponse(run_live(run, now), headers=note_headers(talked(run, now)))


async def list_run_items(request: Request) -> JSONResponse:
    run = find_run(request)
    query = query_of(request, ITEM_QUERY)
    now = sandbox_of(request).now()
    items = [item_live(i, run, now) for i in run["_items"]]
    for key in ("simulationId", "status"):
        if key in query:
            items = [i for i in items if i[key] == query[key]]
    limit = int(float(query.get("limit", 100)))
    page = int(float(query.get("page", 1)))
    shown = items[(page - 1) * limit : page * limit]
    return JSONResponse(shown, headers=note_headers(any("call" in i["metadata"] for i in shown)))


async def get_run_item(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    run = sb.store.simulation_runs.get(request.path_params["id"])
    item = next((i for i in (run or {}).get("_items", []) if i["id"] == request.path_params["itemId"]), None)
    if run is None or item is None:
        raise not_found("Simulation Run Item")
    view = item_live(item, run, sb.now())
    return JSONResponse(view, headers=note_headers("call" in view["metadata"]))


async def generate(request: Request) -> JSONResponse:
    """POST /eval/simulation/scenario/generate: three scenarios from the target's prompt."""
    sb = sandbox_of(request)
    body = await body_of(request, GENERATE)
    if (body.get("assistantId") is None) == (body.get("squadId") is None):
        raise ApiError(400, ["Need Either `assistantId` Or `squadId`."])
    if body.get("assistantId") is not None:
        assistant = target_of(sb, {"type": "assistant", "assistantId": body["assistantId"]})
    else:
        assistant = target_of(sb, {"type": "squad", "squadId": body["squadId"]})
    return JSONResponse(_generated(assistant), status_code=201)


async def concurrency(request: Request) -> JSONResponse:
    """GET /eval/simulation/concurrency: the org's simulation slots and how many are in use now."""
    sb = sandbox_of(request)
    now = sb.now()
    active = sum(
        2
        for run in sb.store.simulation_runs.values()
        if run["transport"]["provider"] == "vapi.websocket"
        for item in run["_items"]
        if item_live(item, run, now)["status"] in ("running", "evaluating")
    )
    return JSONResponse(
        {
            "orgId": ORG_ID,
            "concurrencyLimit": CONCURRENCY_LIMIT,
            "activeSimulations": active,
            "availableToStart": max(0, CONCURRENCY_LIMIT - active) // 2,
            "createdAt": None,
            "updatedAt": None,
            "isDefault": True,
        }
    )


routes = [
    Route("/eval/simulation/concurrency", concurrency, methods=["GET"]),
    Route("/eval/simulation/scenario/generate", generate, methods=["POST"]),
    Route("/eval/simulation/run", create_run, methods=["POST"]),
    Route("/eval/simulation/run", list_runs, methods=["GET"]),
    Route("/eval/simulation/run/{id}", get_run, methods=["GET"]),
    Route("/eval/simulation/run/{id}", cancel_run, methods=["PATCH"]),
    Route("/eval/simulation/run/{id}/item", list_run_items, methods=["GET"]),
    Route("/eval/simulation/run/{id}/item/{itemId}", get_run_item, methods=["GET"]),
    *PERSONALITIES.routes(),
    *SCENARIOS.routes(),
    *SUITES.routes(),
    *SIMULATIONS.routes(),
]
BODIES: dict[tuple[str, str], Rule] = {
    ("POST", "/eval/simulation/personality"): PERSONALITY,
    ("PATCH", "/eval/simulation/personality/{id}"): UPDATE_PERSONALITY,
    ("POST", "/eval/simulation/scenario"): SCENARIO,
    ("PATCH", "/eval/simulation/scenario/{id}"): UPDATE_SCENARIO,
    ("POST", "/eval/simulation/suite"): SUITE,
    ("PATCH", "/eval/simulation/suite/{id}"): UPDATE_SUITE,
    ("POST", "/eval/simulation"): SIMULATION,
    ("PATCH", "/eval/simulation/{id}"): UPDATE_SIMULATION,
    ("POST", "/eval/simulation/run"): CREATE_RUN,
    ("POST", "/eval/simulation/scenario/generate"): GENERATE,
}
"""The request bodies this module validates, by route (the tests compare each with the document)."""


def _generated(assistant: dict[str, Any]) -> dict[str, Any]:
    """GenerateScenariosResponse: a happy path, an edge case and a failure mode from the assistant's prompt,
    each written in instructions the sandbox's tester follows (conversation.py)."""
    name = assistant.get("name") or "the assistant"
    prompt = Prompt(system_prompt(assistant))
    sentences = language.sentences(prompt.text)
    purpose = sentences[0] if sentences else f"You are {name}."
    topics = prompt.topics()
    books = prompt.booking == "yes"
    if books:
        main = "You want to book an appointment tomorrow morning. Your name is Alex Morgan. Accept the first time offered."
        edge = "You want to book an appointment tomorrow. If offered a time, decline the first one. Your name is Alex Morgan."
    else:
        main = f"Ask about {topics[0]}." if topics else 'Ask "What can you help me with?"'
        edge = f'Ask about {topics[-1]}. Then ask "What can you help me with?"' if topics else 'Ask "How can you help me?"'
    return {
        "scenarios": [
            {
                "name": "Main task, cooperative caller",
                "instructions": main,
                "category": "happy_path",
                "reasoning": f"Checks the main flow the prompt describes: {purpose}",
            },
            {
                "name": "Changing the request" if books else "A second question",
                "instructions": edge,
                "category": "edge_case",
                "reasoning": "Checks that the assistant offers another time when the first is declined."
                if books
                else "Checks that the assistant answers a follow-up from its prompt.",
            },
            {
                "name": "Out of scope request",
                "instructions": "Ask whether they can help with filing taxes.",
                "category": "failure_mode",
                "reasoning": "Checks that the assistant says what it does not know instead of inventing an answer.",
            },
        ],
        "coverageNotes": f"Three scenarios for {name}: the main flow, a follow-up, and an out-of-scope request.",
    }
