"""Simulations (/eval/simulation): AI testers hold conversations with an assistant, and structured
outputs judge each one.

A chat simulation (`vapi.webchat`, the default here) runs over text. A voice simulation
(`vapi.websocket`) is a live voice call per item: it consumes credits and call slots, so it
passes the guard. The library (scenarios, personalities, simulations, suites) shares one list,
get and delete tool, and a save tool per kind.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import ConfigDict, Field, model_validator

from ..errors import InputError, VapiError
from ..guard import CallContext
from ..guard.facts import plural, quoted
from ..ids import VapiId
from .assistants import AssistantOverrides, TransientAssistant
from .base import (
    Args,
    Guarded,
    Host,
    IdArgs,
    ListArgs,
    Object,
    Strict,
    ToolContext,
    ToolGroup,
    delete_confirmed,
    items_of,
    listed_only,
    lookup,
    non_null,
    poll,
    shown_as,
    strip_org,
)
from .evals import TargetFields as RunTarget
from .evals import started_but_unread
from .structured_outputs import OutputDefinition

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

toolset = "testing"
tools = ToolGroup()

RUN_PATH = "/eval/simulation/run"
KINDS = {
    "scenario": "/eval/simulation/scenario",
    "personality": "/eval/simulation/personality",
    "simulation": "/eval/simulation",
    "suite": "/eval/simulation/suite",
}
Kind = Literal["scenario", "personality", "simulation", "suite"]
VOICE: Final = "vapi.websocket"
CHAT: Final = "vapi.webchat"
PATH_FIELD = Field(None, max_length=255)


class Evaluation(Strict):
    """EvaluationPlanItem: a structured output compared with an expected value."""

    structuredOutputId: VapiId | None = None
    structuredOutput: OutputDefinition | None = None
    path: str | None = None
    comparator: Literal["=", "!=", ">", "<", ">=", "<="]
    value: bool | int | float | str
    required: bool | None = None

    @model_validator(mode="after")
    def _one_output(self) -> Evaluation:
        if (self.structuredOutputId is None) == (self.structuredOutput is None):
            raise ValueError("each evaluation needs either structuredOutputId or structuredOutput")
        return self


EVALUATIONS_HINT = (
    "[{structuredOutput:{name,schema:{type},description} | structuredOutputId, comparator:'='|'!='|'>'..., value, required?}]"
)


class ScenarioFields(Strict):
    # CreateScenarioDTO.

    name: str | None = Field(None, max_length=80)
    instructions: str | None = Field(None, max_length=10000, description="What the tester does.")
    evaluations: Annotated[list[Evaluation], shown_as(EVALUATIONS_HINT, "array")] | None = None
    hooks: list[Object] | None = None
    targetOverrides: AssistantOverrides | None = None
    toolMocks: list[Object] | None = None
    path: str | None = PATH_FIELD


class Scenario(ScenarioFields):
    name: str = Field(max_length=80)
    instructions: str = Field(max_length=10000)
    evaluations: list[Evaluation]


class Personality(Strict):
    """CreatePersonalityDTO: the tester, as an assistant (its system prompt sets the behaviour)."""

    name: str = Field(max_length=80)
    assistant: TransientAssistant
    path: str | None = PATH_FIELD


class Entry(Strict):
    """SimulationRunSimulationEntry or SimulationRunSuiteEntry; `type` follows from the fields given."""

    type: Literal["simulation", "simulationSuite"]
    simulationId: VapiId | None = None
    scenarioId: VapiId | None = None
    scenario: Scenario | None = None
    personalityId: VapiId | None = None
    personality: Personality | None = None
    name: str | None = Field(None, max_length=80)
    simulationSuiteId: VapiId | None = None

    @model_validator(mode="before")
    @classmethod
    def _infer_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and "type" not in data:
            return {**data, "type": "simulationSuite" if "simulationSuiteId" in data else "simulation"}
        return data

    @model_validator(mode="after")
    def _complete(self) -> Entry:
        given = {k for k, v in self if v is not None} - {"type"}
        if self.type == "simulationSuite":
            if given != {"simulationSuiteId"}:
                raise ValueError("a suite entry takes only simulationSuiteId")
        elif self.simulationId is not None:
            if given - {"simulationId", "name"}:
                raise ValueError(
                    "an entry with simulationId takes nothing else (the saved simulation names its scenario and personality)"
                )
        else:
            for part in ("scenario", "personality"):
                if (getattr(self, f"{part}Id") is None) == (getattr(self, part) is None):
                    hint = (
                        " (list_simulation_objects kind=personality shows Vapi's default testers)"
                        if part == "personality"
                        else ""
                    )
                    raise ValueError(f"each simulation needs exactly one of {part}Id or {part}{hint}")
        return self


ENTRIES_HINT = (
    "[{scenario:{name,instructions,evaluations} | scenarioId, personalityId | personality:{name,assistant}} "
    "| {simulationId} | {simulationSuiteId}]"
)


class Transport(Strict):
    provider: Literal["vapi.webchat", "vapi.websocket"] = CHAT


class RunSimulationArgs(Guarded):
    simulations: Annotated[list[Entry], shown_as(ENTRIES_HINT, "array")] = Field(min_length=1)
    target: Annotated[RunTarget, shown_as("{assistantId} | {assistant} | {squadId} | {squad}")]
    iterations: int | None = Field(None, ge=1, le=10)
    transport: Annotated[Transport, shown_as("{provider:'vapi.webchat'|'vapi.websocket'}")] = Transport()
    wait: float = Field(55, ge=0, le=600, description="Seconds to wait for the end, with progress (0: don't).")

    local_fields = frozenset({"confirmToken", "wait"})


class GetRunArgs(Args):
    id: VapiId
    wait: float = Field(0, ge=0, le=600, description="Seconds to wait for the end, with progress.")
    transcripts: Literal["failed", "all", "none"] = "failed"

    local_fields = frozenset({"id", "wait", "transcripts"})


class ListRunsArgs(ListArgs):
    targetId: VapiId | None = None
    status: Literal["queued", "running", "ended"] | None = None


class GenerateArgs(Args):
    assistantId: VapiId | None = None
    squadId: VapiId | None = None


class KindArgs(Args):
    kind: Kind
    id: VapiId


class ListKindArgs(ListArgs):
    kind: Kind

    local_fields = frozenset({"kind"})


class DeleteKindArgs(Guarded):
    kind: Kind
    id: VapiId


class SaveScenarioArgs(ScenarioFields, Guarded):
    # hooks, targetOverrides, toolMocks and path are accepted but not listed (nor is confirmToken).
    # Guarded: targetOverrides (AssistantOverrides) can carry transfer and SMS destinations.
    model_config = ConfigDict(json_schema_extra=listed_only("id", "name", "instructions", "evaluations"))

    id: VapiId | None = Field(None, description="Change this scenario; without it, create one.")

    local_fields = frozenset({"confirmToken", "id"})


class SavePersonalityArgs(Guarded):
    # Guarded: the tester is an assistant (CreateAssistantDTO), which can carry transfer and SMS destinations.
    model_config = ConfigDict(json_schema_extra=listed_only("id", "name", "assistant"))

    id: VapiId | None = Field(None, description="Change this personality; without it, create one.")
    name: str | None = Field(None, max_length=80)
    assistant: TransientAssistant | None = Field(None, description="The tester: CreateAssistantDTO; its system prompt sets the behaviour.")
    path: str | None = PATH_FIELD

    local_fields = frozenset({"confirmToken", "id"})


class SaveSimulationArgs(Args):
    model_config = ConfigDict(json_schema_extra=listed_only("id", "name", "scenarioId", "personalityId"))

    id: VapiId | None = Field(None, description="Change this simulation; without it, create one.")
    name: str | None = Field(None, max_length=80)
    scenarioId: VapiId | None = None
    personalityId: VapiId | None = None
    path: str | None = PATH_FIELD

    local_fields = frozenset({"id"})


class SaveSuiteArgs(Args):
    model_config = ConfigDict(json_schema_extra=listed_only("id", "name", "simulationIds", "targetAssignments"))

    id: VapiId | None = Field(None, description="Change this suite; without it, create one.")
    name: str | None = Field(None, max_length=80)
    simulationIds: list[VapiId] | None = None
    targetAssignments: list[Object] | None = Field(None, description="[{targetType:'assistant'|'squad', targetId}]")
    slackWebhookUrl: str | None = None
    path: str | None = PATH_FIELD

    local_fields = frozenset({"id"})


REQUIRED_ON_CREATE = {
    "scenario": ("name", "instructions", "evaluations"),
    "personality": ("name", "assistant"),
    "simulation": ("scenarioId", "personalityId"),
    "suite": ("name", "simulationIds"),
}
"""Create*DTO required fields, by kind."""


# Views


def _transcript(item: dict[str, Any]) -> list[str]:
    """The conversation once, as 'AI: ...' / 'User: ...' lines."""
    call = (item.get("metadata") or {}).get("call") or {}
    speakers = {"assistant": "AI", "bot": "AI", "user": "User"}
    turns = [
        f"{speakers[m['role']]}: {m.get('content') or m.get('message')}"
        for m in call.get("messages") or []
        if isinstance(m, dict) and m.get("role") in speakers and (m.get("content") or m.get("message"))
    ]
    return turns or [line for line in (call.get("transcript") or "").splitlines() if line.strip()]


def _evaluation(result: dict[str, Any]) -> dict[str, Any]:
    name = ".".join(str(part) for part in (result.get("name"), result.get("path")) if part)
    row = {
        "name": name or None,
        "extracted": result.get("extractedValue"),
        "expected": f"{result.get('comparator')} {json.dumps(result.get('expectedValue'))}",
        "passed": result.get("passed"),
        "required": result.get("required"),
    }
    if result.get("isSkipped"):
        row["skipped"] = result.get("skipReason") or True
    if result.get("error"):
        row["error"] = result["error"]
    return row


def _suggestions(improvements: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"analysis": improvements.get("analysis")}
    for key, label in (
        ("systemPromptSuggestions", "systemPrompt"),
        ("toolSuggestions", "tools"),
        ("scenarioSuggestions", "scenario"),
    ):
        found = [f"{s.get('issue')} -> {s.get('suggestion')}" for s in improvements.get(key) or [] if isinstance(s, dict)]
        if found:
            out[label] = found
    if improvements.get("suggestedSystemPrompt"):
        out["suggestedSystemPrompt"] = improvements["suggestedSystemPrompt"]
    return {k: v for k, v in out.items() if v}


def item_view(item: dict[str, Any], transcripts: str) -> dict[str, Any]:
    """One simulation run item: status, evaluations, suggestions, and its transcript when `transcripts` asks."""
    metadata = item.get("metadata") or {}
    scenario = (metadata.get("scenario") or {}).get("name")
    tester = (metadata.get("personality") or {}).get("name")
    row: dict[str, Any] = {
        "id": item.get("id"),
        "name": " / ".join(n for n in (scenario, tester) if n) or None,
        "iteration": item.get("iterationNumber"),
        "status": item.get("status"),
        "failureReason": item.get("failureReason"),
    }
    results = item.get("results") or {}
    if results.get("evaluations"):
        row["evaluations"] = [_evaluation(e) for e in results["evaluations"] if isinstance(e, dict)]
    if item.get("improvementSuggestions"):
        row["suggestions"] = _suggestions(item["improvementSuggestions"])
    if transcripts == "all" or transcripts == "failed" and item.get("status") in ("failed", "canceled"):
        row["transcript"] = _transcript(item) or None
    return non_null(row)


def _counts(run: dict[str, Any]) -> dict[str, Any]:
    counts = run.get("itemCounts") or {}
    return {k: counts[k] for k in ("total", "passed", "failed", "running", "queued", "canceled") if k in counts}


def run_view(run: dict[str, Any], items: list[dict[str, Any]] | None, transcripts: str = "failed") -> dict[str, Any]:
    """A simulation run: item counts, then per item its evaluations (extracted vs expected), transcript and suggestions."""
    view: dict[str, Any] = {
        "id": run.get("id"),
        "status": run.get("status"),
        "endedReason": run.get("endedReason"),
        "transport": (run.get("transport") or {}).get("provider"),
        "itemCounts": _counts(run),
        "dashboard": run.get("url"),
    }
    if items is not None:
        view["items"] = [item_view(i, transcripts) for i in items]
    if run.get("status") != "ended":
        view["resume"] = f"Not finished yet. Read it later with get_simulation_run id={run.get('id')} wait=300."
    return {k: v for k, v in view.items() if v not in (None, {})}


def _progress(run: dict[str, Any]) -> str:
    counts = _counts(run)
    finished = sum(counts.get(k, 0) for k in ("passed", "failed", "canceled"))
    return f"simulation run {run.get('status')}: {finished}/{counts.get('total', '?')} done, {counts.get('passed', 0)} passed, {counts.get('failed', 0)} failed"


async def _finish(
    call: ToolContext, run_id: str, wait: float, transcripts: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    path = f"{RUN_PATH}/{run_id}"

    async def fetch() -> dict[str, Any]:
        return {**(extra or {}), **await call.vapi.get(path)}

    run, _ = await poll(call, fetch, lambda r: r.get("status") == "ended", _progress, wait)
    return run_view(run, items_of(await call.vapi.get(f"{path}/item")), transcripts)


# Runs


def _voice_count(args: RunSimulationArgs, suite_sizes: dict[str, int] | None) -> int | None:
    """How many voice calls the run places; None while a suite's size is unknown."""
    if suite_sizes is None and any(e.type == "simulationSuite" for e in args.simulations):
        return None
    count = sum((suite_sizes or {}).get(e.simulationSuiteId or "", 1) if e.type == "simulationSuite" else 1 for e in args.simulations)
    return count * (args.iterations or 1)


def _voice_summary(
    args: RunSimulationArgs, suite_sizes: dict[str, int] | None = None, target: str | None = None, slots: str = ""
) -> str:
    iterations = args.iterations or 1
    total = _voice_count(args, suite_sizes)
    if total is None:
        per_round = f"{plural(len(args.simulations), 'entry', 'entries')} (suites count each of their simulations)"
        calls = f"at least {plural(len(args.simulations) * iterations, 'voice simulation')}"
    else:
        per_round = plural(total // iterations, "simulation")
        calls = plural(total, "voice simulation")
    return (
        f"Run {calls} ({per_round} x {plural(iterations, 'iteration')}) against {target or args.target.described()}: "
        f"each is a live voice call between an AI tester and the assistant over vapi.websocket.{slots}"
    )


def _slots(limit: dict[str, Any], total: int | None) -> str:
    """How many of the run's calls can start now, from Vapi's concurrency answer; the counts add up."""
    available, active, cap = limit.get("availableToStart"), limit.get("activeSimulations"), limit.get("concurrencyLimit")
    if not isinstance(available, int):
        return ""
    in_use = f"{active} of {cap} call slots in use"
    if available <= 0:
        return f" None can start now ({in_use}); they wait in Vapi's queue."
    if total is not None and available >= total:
        return f" {'It' if total == 1 else 'All of them'} can start now ({in_use})."
    if total is None:
        return f" Up to {available} can start now ({in_use}); any others wait in Vapi's queue."
    return f" {available} can start now ({in_use}); the other {total - available} wait in Vapi's queue."


def _voice_describer(args: RunSimulationArgs) -> Any:
    """The summary with verified facts: the target's name, each suite's size, and free call slots now."""

    async def describe(call: CallContext) -> str:
        target = await args.target.named(call)
        sizes = {}
        for i, entry in enumerate(args.simulations):
            if entry.simulationSuiteId:
                where = f"simulations.{i}.simulationSuiteId"
                suite = await lookup(call, f"{KINDS['suite']}/{entry.simulationSuiteId}", where, entry.simulationSuiteId, "suite", "list_simulation_objects kind=suite")
                sizes[entry.simulationSuiteId] = len(suite.get("simulationIds") or [])
        slots = ""
        try:
            limit = await call.vapi.get("/eval/simulation/concurrency")
            slots = _slots(limit if isinstance(limit, dict) else {}, _voice_count(args, sizes))
        except VapiError:
            pass
        return _voice_summary(args, sizes, target, slots)

    return describe


@tools.tool(
    title="Run simulation",
    read_only=False,
    sends=(
        "POST /eval/simulation/run",
        "GET /eval/simulation/run/{id}",
        "GET /eval/simulation/run/{id}/item",
        "GET /eval/simulation/suite/{id}",
        "GET /eval/simulation/concurrency",
        "GET /assistant/{id}",
        "GET /squad/{id}",
    ),
)
async def run_simulation(args: RunSimulationArgs, call: ToolContext) -> dict[str, Any]:
    """Test an assistant/squad with AI testers: each simulation pairs a scenario (instructions, evaluations:
    structured output vs expected value) with a tester personality. Inline or saved; chat by default, voice
    asks the user (credits). Waits for the result."""
    body = args.body()
    body["transport"] = args.transport.model_dump()  # always explicit: never Vapi's default
    check = "Check with list_simulation_runs before running it again."
    if args.transport.provider == VOICE:
        action = args.action(
            call,
            kind="spend",
            summary=_voice_summary(args),
            describe=_voice_describer(args),
            method="POST",
            path=RUN_PATH,
            body=body,
            cost="Vapi bills every simulated voice call to your account, and each holds 2 call slots while it runs.",
        )
        created = await call.send_guarded(action, check=check)
    else:  # a chat run rings no one; an inline assistant or tester with a transfer or SMS tool is still confirmed
        lead = f"Run {plural(len(args.simulations), 'chat simulation')} against"

        async def describe(ctx: CallContext) -> str:
            return f"{lead} {await args.target.named(ctx)}."

        created = await call.send("POST", RUN_PATH, body, args=args, summary=f"{lead} {args.target.described()}.", check=check, describe=describe)
    if not created.get("id"):
        raise VapiError("Vapi accepted the simulation run but its answer names no run id.", hint=check)
    try:
        return await _finish(call, created["id"], args.wait, "failed", {"url": created.get("url")} if created.get("url") else None)
    except VapiError as exc:
        raise started_but_unread("simulation run", created["id"], "get_simulation_run", exc) from None


@tools.tool(title="Get simulation run", read_only=True, sends=("GET /eval/simulation/run/{id}", "GET /eval/simulation/run/{id}/item"))
async def get_simulation_run(args: GetRunArgs, call: ToolContext) -> dict[str, Any]:
    """A simulation run: item counts, then per item its status, each evaluation's extracted vs expected
    value, improvement suggestions, and the transcript (failed items by default). `wait` waits for the end."""
    return await _finish(call, args.id, args.wait, args.transcripts)


@tools.tool(title="List simulation runs", read_only=True, sends=("GET /eval/simulation/run",))
async def list_simulation_runs(args: ListRunsArgs, call: ToolContext) -> dict[str, Any]:
    """Recent simulation runs: id, status, item counts, createdAt. targetId: an assistant or squad."""
    runs = items_of(await call.vapi.get(RUN_PATH, params=args.body()))
    rows = [
        {"id": r.get("id"), "status": r.get("status"), "itemCounts": _counts(r), "createdAt": r.get("createdAt")} for r in runs
    ]
    return {"runs": rows, "count": len(rows)}


@tools.tool(
    title="Cancel simulation run",
    read_only=False,
    destructive=False,
    idempotent=True,
    sends=("GET /eval/simulation/run/{id}", "PATCH /eval/simulation/run/{id}"),
)
async def cancel_simulation_run(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """Stop a simulation run: items not finished are canceled (never asks; it only stops spending)."""
    path = f"{RUN_PATH}/{args.id}"
    run = await call.vapi.get(path)
    if run.get("status") == "ended":
        return {**run_view(run, None), "alreadyEnded": True}
    return run_view(await call.vapi.patch(path, None), None)


@tools.tool(title="Generate scenarios", read_only=True, sends=("POST /eval/simulation/scenario/generate",))
async def generate_scenarios(args: GenerateArgs, call: ToolContext) -> dict[str, Any]:
    """Have Vapi propose test scenarios (happy path, edge cases, failure modes) from an assistant's or
    squad's configuration. Nothing is saved: use them as inline scenarios in run_simulation, or save_scenario."""
    chosen = [name for name in ("assistantId", "squadId") if getattr(args, name)]
    if len(chosen) != 1:
        raise InputError("assistantId", "give exactly one of assistantId or squadId")
    generated = await call.vapi.post("/eval/simulation/scenario/generate", args.body(), reads=True)
    scenarios = [
        {k: s.get(k) for k in ("name", "category", "instructions", "reasoning") if s.get(k)}
        for s in generated.get("scenarios") or []
    ]
    return {"scenarios": scenarios, "coverageNotes": generated.get("coverageNotes")}


# The library: scenarios, personalities, simulations, suites


def library_row(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """One compact line per saved scenario, personality, simulation or suite."""
    row: dict[str, Any] = {"id": item.get("id"), "name": item.get("name")}
    if kind == "scenario":
        row["evaluations"] = len(item.get("evaluations") or [])
    elif kind == "personality":
        row["default"] = item.get("orgId") is None or None
    elif kind == "simulation":
        row.update(scenarioId=item.get("scenarioId"), personalityId=item.get("personalityId"))
    else:
        row["simulations"] = len(item.get("simulationIds") or [])
    return non_null(row)


@tools.tool(title="List simulation objects", read_only=True, sends=[f"GET {path}" for path in KINDS.values()])
async def list_simulation_objects(args: ListKindArgs, call: ToolContext) -> dict[str, Any]:
    """List saved scenarios, personalities (testers; Vapi's defaults included), simulations (scenario +
    personality) or suites (groups of simulations)."""
    items = items_of(await call.vapi.get(KINDS[args.kind], params=args.body()))
    return {"kind": args.kind, "items": [library_row(args.kind, i) for i in items], "count": len(items)}


@tools.tool(title="Get simulation object", read_only=True, sends=[f"GET {path}/{{id}}" for path in KINDS.values()])
async def get_simulation_object(args: KindArgs, call: ToolContext) -> dict[str, Any]:
    """Get a scenario, personality, simulation or suite by id."""
    return strip_org(await call.vapi.get(f"{KINDS[args.kind]}/{args.id}"))


async def _save(call: ToolContext, kind: str, args: Args) -> dict[str, Any]:
    """POST a new one (with its required fields), or PATCH the given id; the saved object's row."""
    ident = getattr(args, "id", None)
    body = args.body()
    name = f" {quoted(body['name'])}" if body.get("name") else ""
    if ident is None:
        for field in REQUIRED_ON_CREATE[kind]:
            if field not in body:
                raise InputError(field, f"is required to create a {kind} (or give id to change one)")
        saved = await call.send(
            "POST",
            KINDS[kind],
            body,
            args=args,
            summary=f"Save a new {kind}{name}.",
            check=f"list_simulation_objects kind={kind} shows whether it was created.",
        )
        return {**library_row(kind, saved), "created": True}
    if not body:
        raise InputError("id", "give at least one field to change besides the id")
    path = f"{KINDS[kind]}/{ident}"

    async def describe(ctx: CallContext) -> str:  # asked only when the body carries a phone destination
        found = await lookup(ctx, path, "id", ident, kind, f"list_simulation_objects kind={kind}")
        return f"Change the {kind} {quoted(found.get('name') or '(unnamed)')} ({ident}): {', '.join(sorted(body))}."

    saved = await call.send("PATCH", path, body, args=args, summary=f"Change the {kind} {ident}{name}.", describe=describe)
    return {**library_row(kind, saved), "changed": sorted(body)}


@tools.tool(
    title="Save scenario",
    read_only=False,
    sends=("POST /eval/simulation/scenario", "PATCH /eval/simulation/scenario/{id}", "GET /eval/simulation/scenario/{id}"),
)
async def save_scenario(args: SaveScenarioArgs, call: ToolContext) -> dict[str, Any]:
    """Create a scenario (name, instructions for the tester, evaluations; also hooks, toolMocks,
    targetOverrides, path), or change one given its id."""
    return await _save(call, "scenario", args)


@tools.tool(
    title="Save personality",
    read_only=False,
    sends=("POST /eval/simulation/personality", "PATCH /eval/simulation/personality/{id}", "GET /eval/simulation/personality/{id}"),
)
async def save_personality(args: SavePersonalityArgs, call: ToolContext) -> dict[str, Any]:
    """Create a tester personality (name, assistant), or change one given its id."""
    return await _save(call, "personality", args)


@tools.tool(title="Save simulation", read_only=False, sends=("POST /eval/simulation", "PATCH /eval/simulation/{id}"))
async def save_simulation(args: SaveSimulationArgs, call: ToolContext) -> dict[str, Any]:
    """Create a simulation (scenarioId + personalityId, optional name), or change one given its id."""
    return await _save(call, "simulation", args)


@tools.tool(title="Save suite", read_only=False, sends=("POST /eval/simulation/suite", "PATCH /eval/simulation/suite/{id}"))
async def save_suite(args: SaveSuiteArgs, call: ToolContext) -> dict[str, Any]:
    """Create a suite (name, simulationIds, targetAssignments; also slackWebhookUrl, path), or change one
    given its id (lists replace)."""
    return await _save(call, "suite", args)


@tools.tool(
    title="Delete simulation object",
    read_only=False,
    sends=[f"{method} {path}/{{id}}" for path in KINDS.values() for method in ("GET", "DELETE")],
)
async def delete_simulation_object(args: DeleteKindArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a scenario, personality, simulation or suite (asks the user to confirm)."""
    path = f"{KINDS[args.kind]}/{args.id}"
    item = await call.vapi.get(path)
    if args.kind == "personality" and item.get("orgId") is None:
        raise InputError("id", "is one of Vapi's default personalities, which no account can delete")
    row = library_row(args.kind, item)
    facts = {
        "scenario": f" with {plural(row.get('evaluations', 0), 'evaluation')}",
        "simulation": f" (scenario {row.get('scenarioId')}, personality {row.get('personalityId')})",
        "suite": f" grouping {plural(row.get('simulations', 0), 'simulation')}, which stay",
    }.get(args.kind, "")
    summary = f"Delete the {args.kind} {quoted(row.get('name') or '(unnamed)')} ({args.id}){facts}."
    await delete_confirmed(call, args, path, summary)
    return {"deleted": {"kind": args.kind, **row}}


PROMPT_TOOLS = (
    "get_assistant", "chat_with_assistant", "run_eval", "create_eval", "generate_scenarios", "run_simulation",
    "list_simulation_objects", "get_simulation_run", "create_call", "list_phone_numbers", "wait_for_call", "get_call",
    "update_assistant",
)  # fmt: skip
"""Every tool the test-assistant prompt tells the agent to use (a test checks the text names no other)."""


SHORT_PROMPT_TOOLS = ("chat_with_assistant", "list_phone_numbers", "create_call", "wait_for_call", "get_call")
"""The tools of the short walk-through, offered when the testing toolset is not (the default selection)."""


KNOWLEDGE_PROMPT_TOOLS = (
    "upload_file", "create_knowledge_base", "attach_file", "get_knowledge_base", "retry_file", "connect_knowledge_base",
    "chat_with_assistant", "list_chats", "get_chat",
)  # fmt: skip
"""The tools of the knowledge step, added to either walk-through when the knowledge toolset is offered."""


def register_extras(server: MCPServer, host: Host) -> None:
    """The test-assistant prompt: the whole loop when the testing toolset is offered, the short one otherwise, each with
    the knowledge step (documents the assistant answers from) when the knowledge toolset is offered.

    A prompt never names a tool the server does not offer (read-only mode offers neither)."""
    if set(PROMPT_TOOLS) <= host.offered:
        prompt, about = test_assistant_prompt, "Chat smoke test, eval of the critical turns, chat simulations, an optional voice test, fix, rerun."
    elif set(SHORT_PROMPT_TOOLS) <= host.offered:
        prompt, about = short_test_prompt, "Chat test, then a confirmed test call, then a transcript review."
    else:
        return
    knows = set(KNOWLEDGE_PROMPT_TOOLS) <= host.offered
    if knows:
        about += " With documents: upload, knowledge base, connect, check the answers quote them."

    @server.prompt(name="test-assistant", title="Test a Vapi assistant", description=about)
    def test_assistant(assistantId: str, phoneNumberId: str = "", testNumber: str = "") -> str:
        text = prompt(assistantId, phoneNumberId, testNumber)
        return f"{text}\n{knowledge_step(assistantId)}" if knows else text


def knowledge_step(assistant_id: str) -> str:
    """The loop from a user's files to an assistant that answers from them, checked by chat and read back."""
    return (
        "Knowledge (when the assistant should answer from the user's documents: a price list, a menu, policies): "
        "upload_file each file the user names (it must be in a folder the client shares), create_knowledge_base, "
        "attach_file each file, then get_knowledge_base until every file is ready (a failed one: retry_file, or upload "
        f"it as .txt or .md). connect_knowledge_base {{assistantId: {assistant_id}, knowledgeBaseId}}, then "
        "chat_with_assistant with questions the files answer (what an item costs) and check the replies quote them; "
        f"read the conversations back with list_chats {{assistantId: {assistant_id}}} and get_chat."
    )


def short_test_prompt(assistant_id: str, phone_number_id: str = "", test_number: str = "") -> str:
    dial = (
        f"call {test_number or 'a number the user gives you (their own phone, E.164)'} from phone number "
        f"{phone_number_id or '(ask which, or use list_phone_numbers)'}"
    )
    return (
        f"Test the Vapi assistant {assistant_id}.\n"
        f"1. Chat: use chat_with_assistant with assistantId {assistant_id} and a realistic opening line, then "
        "continue with previousChatId for 2-3 turns. Report anything off (tone, wrong facts, no answer).\n"
        "2. Ask the user whether to place a real test call; only if they agree, use create_call to "
        f"{dial}. The call rings a real phone: the user confirms it (never pass a confirmToken they did not approve).\n"
        "3. Use wait_for_call on the new call id until it ends.\n"
        "4. Review it with get_call: read the transcript, endedReason, analysis summary and cost; say what "
        "went well, what went wrong, and which assistant settings (firstMessage, prompt, voice) to change. "
        "For evals and simulations, the user can turn on the testing toolset (--toolsets default,testing)."
    )


def test_assistant_prompt(assistant_id: str, phone_number_id: str = "", test_number: str = "") -> str:
    dial = (
        f"create_call from phone number {phone_number_id or '(ask which, or use list_phone_numbers)'} to "
        f"{test_number or 'a number the user gives you (their own phone, E.164)'}, then wait_for_call and get_call"
    )
    return (
        f"Test the Vapi assistant {assistant_id}, fix what fails, and prove the fix.\n"
        f"1. Smoke test: get_assistant {assistant_id} to learn its purpose, then chat_with_assistant with a realistic "
        "opening line and 2-3 more turns (previousChatId). Note anything off: tone, wrong facts, no answer.\n"
        "2. Eval the critical turns: run_eval with an inline eval (or create_eval to keep it) whose messages "
        "script the user's turns and put a checkpoint after each turn that matters: judgePlan exact for fixed "
        "wording, regex for key facts, ai for behaviour. Read each failed checkpoint: turn, expected, actual, reason.\n"
        f"3. Simulate: generate_scenarios for {assistant_id}, then run_simulation (chat, the default) with inline "
        "entries: each scenario with instructions and evaluations (a structured output such as "
        "{name, schema:{type:'boolean'}, description} compared with '=' true) and a default personality "
        "(list_simulation_objects kind=personality). Read get_simulation_run: per item, extracted vs expected, "
        "the transcript of failures, and the suggestions.\n"
        "4. Only if the user says yes: a voice simulation (run_simulation transport {provider:'vapi.websocket'}; it "
        f"costs credits and the user confirms it) or a real test call ({dial}). Never pass a confirmToken the "
        "user did not approve.\n"
        f"5. Fix: update_assistant {assistant_id} (system prompt in model.messages, firstMessage, tools) to address "
        "the failures you read; change the test instead only when the test was wrong, and say so.\n"
        "6. Run the same eval and simulation again (same scenarios and evaluations) and report before vs after: "
        "which checkpoints and items now pass, what still fails, and the cost."
    )
