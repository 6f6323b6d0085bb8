"""The testing, campaign and analytics families on the guard, through an MCP client on the sandbox.

- Dry-run sends the POSTs Vapi's document says only read (analytics queries, a structured-output
  preview, generated scenarios) and nothing that changes anything.
- Every request of these families that can carry an inline assistant, squad or overrides (an eval
  run's target, a simulation run's target, tester and scenario overrides, a saved scenario or tester,
  a campaign's overrides) is a guarded action when it carries a transfer or SMS destination: the
  number policy refuses a bad one naming the rule, a good one is confirmed by the human and sent
  once, and the audit line records the decision and the consent channel.
- Secrets of these objects (a suite's Slack webhook URL) never show in a preview or an audit line.
- MCP Apps hosts get every guarded tool bound to the confirmation view, and Approve runs a pending
  campaign or voice simulation exactly once; the test-assistant prompt names only offered tools.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any, Callable

import pytest
from mcp import Client

from tests.mcp_kit import SANDBOX, confirmed, result_json, result_text
from tests.guard_kit import LONDON, NY, add_number, answering, audit_lines, serve, with_policy
from tests.openapi import assert_valid
from tests.apps_kit import APPS, one_server, pending_of
from tests.testing_kit import DEFAULT_TESTER, add_assistant
from vapi_mcp.config import Settings
from vapi_mcp.guard.app import APPROVE_TOOL
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.core import stamp
from vapi_mcp.tools.base import Args, Guarded, ToolContext, ToolGroup

MODEL = {"provider": "openai", "model": "gpt-4.1"}
RUN, SIM_RUN = "/eval/run", "/eval/simulation/run"
CHECKPOINT = [{"role": "user", "content": "Hi"}, {"role": "assistant", "judgePlan": {"type": "regex", "content": "here"}}]
SCENARIO = {
    "name": "Hours",
    "instructions": "Ask for the opening hours.",
    "evaluations": [{"structuredOutput": {"name": "asked", "schema": {"type": "boolean"}}, "comparator": "=", "value": True}],
}
CONTACTS = [{"number": "+14155551001"}, {"number": "+12125551002"}]


def transfer_tool(number: str) -> dict[str, Any]:
    return {"type": "transferCall", "destinations": [{"type": "number", "number": number}]}


def desk(number: str) -> dict[str, Any]:
    """A transient assistant that can transfer its callers to `number`."""
    return {"name": "Desk", "model": {**MODEL, "tools": [transfer_tool(number)]}}


def changes(sandbox: Sandbox) -> list[tuple[str, str]]:
    """Every request that reached the sandbox other than a GET."""
    return [(r.method, r.path) for r in sandbox.requests if r.method not in ("GET", "HEAD")]


@pytest.fixture
def world(sandbox: Sandbox, clock: ManualClock) -> dict[str, str]:
    squad = stamp(clock, name="Front", members=[{"assistantId": add_assistant(sandbox, "Sam")}])
    sandbox.store.squads[squad["id"]] = squad
    riley = add_assistant(sandbox, firstMessage="Hi, this is Riley. Your cleaning is booked for Thursday at 2 PM.")  # the hour a preview extracts
    return {"assistant": riley, "number": add_number(sandbox, "twilio"), "squad": squad["id"]}


# 1. Dry-run: the reads go, nothing that changes anything does


async def ended_web_call(client: Client, clock: ManualClock, assistant: str) -> str:
    result = await client.call_tool("create_call", {"assistantId": assistant})
    assert not result.is_error, result_text(result)
    clock.advance(10)
    return result_json(result)["id"]


READS: dict[str, tuple[str, Callable[[dict[str, str]], dict[str, Any]], str]] = {
    "query_analytics": (
        "query_analytics",
        lambda w: {"queries": [{"operations": [{"operation": "count", "column": "id"}], "groupBy": ["status"]}]},
        "/analytics",
    ),
    "run_structured_output preview": (
        "run_structured_output",
        lambda w: {"structuredOutput": {"name": "hour", "type": "regex", "regex": r"(\d+) PM", "schema": {"type": "integer"}}, "callIds": [w["call"]]},
        "/structured-output/run",
    ),
    "generate_scenarios": ("generate_scenarios", lambda w: {"assistantId": w["assistant"]}, "/eval/simulation/scenario/generate"),
}


@pytest.mark.parametrize("case", list(READS))
async def test_dry_run_sends_the_posts_that_only_read(
    case: str, settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    tool, arguments, path = READS[case]
    async with serve(settings, sandbox, clock) as client:
        world["call"] = await ended_web_call(client, clock, world["assistant"])
    before = len(sandbox.requests)
    async with serve(with_policy(settings, dry_run=True), sandbox, clock) as client:
        result = await client.call_tool(tool, arguments(world))
    view = result_json(result)
    assert not result.is_error and "dryRun" not in view, result_text(result)
    assert [(r.method, r.path) for r in sandbox.requests[before:] if r.method != "GET"] == [("POST", path)]
    assert audit_lines(settings) == []


async def test_a_dry_run_preview_shows_the_value_and_a_rerun_is_only_shown(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    output = {"name": "hour", "type": "regex", "regex": r"(\d+) PM", "schema": {"type": "integer"}}
    async with serve(settings, sandbox, clock) as client:
        call_id = await ended_web_call(client, clock, world["assistant"])
    dry = with_policy(settings, dry_run=True)
    async with serve(dry, sandbox, clock) as client:
        preview = result_json(await client.call_tool("run_structured_output", {"structuredOutput": output, "callIds": [call_id]}))
        rerun = result_json(await confirmed(client, "run_structured_output", {"structuredOutput": output, "callIds": [call_id], "previewEnabled": False}))
    assert preview["results"] == [{"name": "hour", "result": 2}] and preview["stored"] is False
    assert rerun["dryRun"] is True and rerun["wouldSend"]["body"]["previewEnabled"] is False
    assert [body["previewEnabled"] for body in (r.body for r in sandbox.requests_to("POST", "/structured-output/run"))] == [True]
    assert "_structured_outputs" not in sandbox.store.calls[call_id]
    assert [line["decision"] for line in audit_lines(dry)] == ["previewed", "dry-run"]


async def made(settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]) -> dict[str, str]:
    """Objects to change in dry-run mode, made by a server that sends."""
    async with serve(settings, sandbox, clock) as client:

        async def made_(tool: str, arguments: dict[str, Any]) -> str:
            result = await confirmed(client, tool, arguments)
            assert not result.is_error, result_text(result)
            return result_json(result)["id"]

        ids = {
            "eval": await made_("create_eval", {"name": "Hi", "messages": CHECKPOINT}),
            "output": await made_("create_structured_output", {"name": "booked", "schema": {"type": "boolean"}}),
            "run": await made_("run_simulation", {"simulations": [{"scenario": SCENARIO, "personalityId": DEFAULT_TESTER}], "target": {"assistantId": world["assistant"]}, "wait": 0}),
            "campaign": await made_(
                "create_campaign",
                {"name": "Later", "assistantId": world["assistant"], "phoneNumberId": world["number"], "customers": CONTACTS,
                 "schedulePlan": {"earliestAt": "2026-11-03T16:00:00Z"}},
            ),
        }
    return {**world, **ids}


CHANGES: dict[str, tuple[str, Callable[[dict[str, str]], dict[str, Any]]]] = {
    "create_eval": ("create_eval", lambda w: {"messages": CHECKPOINT}),
    "update_eval": ("update_eval", lambda w: {"id": w["eval"], "name": "Renamed"}),
    "run_eval": ("run_eval", lambda w: {"evalId": w["eval"], "target": {"assistantId": w["assistant"]}}),
    "run_simulation (chat)": ("run_simulation", lambda w: {"simulations": [{"scenario": SCENARIO, "personalityId": DEFAULT_TESTER}], "target": {"assistantId": w["assistant"]}}),
    "run_simulation (voice)": ("run_simulation", lambda w: {"simulations": [{"scenario": SCENARIO, "personalityId": DEFAULT_TESTER}], "target": {"assistantId": w["assistant"]}, "transport": {"provider": "vapi.websocket"}}),
    "cancel_simulation_run": ("cancel_simulation_run", lambda w: {"id": w["run"]}),
    "save_scenario": ("save_scenario", lambda w: SCENARIO),
    "save_personality": ("save_personality", lambda w: {"name": "Curt", "assistant": {"model": MODEL}}),
    "save_simulation": ("save_simulation", lambda w: {"scenarioId": w["eval"], "personalityId": DEFAULT_TESTER}),
    "save_suite": ("save_suite", lambda w: {"name": "Nightly", "simulationIds": [w["eval"]]}),
    "create_structured_output": ("create_structured_output", lambda w: {"name": "paid", "schema": {"type": "boolean"}}),
    "update_structured_output": ("update_structured_output", lambda w: {"id": w["output"], "description": "Was it paid?"}),
    "delete_structured_output": ("delete_structured_output", lambda w: {"id": w["output"]}),
    "create_campaign": ("create_campaign", lambda w: {"name": "Now", "assistantId": w["assistant"], "phoneNumberId": w["number"], "customers": CONTACTS}),
    "update_campaign (name)": ("update_campaign", lambda w: {"id": w["campaign"], "name": "Renamed"}),
    "update_campaign (contacts)": ("update_campaign", lambda w: {"id": w["campaign"], "dialPlan": [{"phoneNumberId": w["number"], "customers": CONTACTS[:1]}]}),
    "cancel_campaign": ("cancel_campaign", lambda w: {"id": w["campaign"]}),
    "delete_campaign": ("delete_campaign", lambda w: {"id": w["campaign"]}),
}


@pytest.mark.parametrize("case", list(CHANGES))
async def test_dry_run_sends_nothing_that_changes_anything_in_the_new_families(
    case: str, settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    w = await made(settings, sandbox, clock, world)
    before = changes(sandbox)
    tool, arguments = CHANGES[case]
    async with serve(with_policy(settings, dry_run=True), sandbox, clock) as client:
        result = await confirmed(client, tool, arguments(w))
    view = result_json(result)
    assert not result.is_error and view["dryRun"] is True, result_text(result)
    assert changes(sandbox) == before, "dry-run mode sent a request that changes something"


# a read claim the document does not back is not a read

claims = ToolGroup()


class ClaimArgs(Args):
    path: str
    previewEnabled: bool | None = None


@claims.tool(title="Claim a read (test)", read_only=False, sends=("POST /assistant", "POST /structured-output/run"))
async def claim_a_read(args: ClaimArgs, call: ToolContext) -> Any:
    """Test only: a POST marked `reads=True`, whatever its path."""
    return await call.vapi.post(args.path, {"callIds": [], "previewEnabled": args.previewEnabled, "name": "x"}, reads=True)


@pytest.mark.parametrize(("path", "preview"), [("/assistant", None), ("/structured-output/run", False), ("/structured-output/run", None)])
async def test_only_a_documented_read_is_sent_in_dry_run_whatever_a_tool_claims(
    path: str, preview: bool | None, monkeypatch: pytest.MonkeyPatch, settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    monkeypatch.setattr("vapi_mcp.tools.FAMILIES", (SimpleNamespace(tools=claims, toolset="calls"),))
    async with serve(with_policy(settings, dry_run=True), sandbox, clock) as client:
        result = await client.call_tool("claim_a_read", {"path": path, **({"previewEnabled": preview} if preview is not None else {})})
    assert result_json(result)["dryRun"] is True, result_text(result)
    assert changes(sandbox) == []


# 2. Inline assistants, squads and overrides: every destination passes the guard


Route = tuple[str, Callable[[dict[str, str], str], dict[str, Any]], str, str]
"""(tool, arguments for a transfer to a number, the path the request goes to, the audit line's kind)."""

ROUTES: dict[str, Route] = {
    "run_eval inline target": (
        "run_eval", lambda w, n: {"eval": {"messages": CHECKPOINT}, "target": {"assistant": desk(n)}, "wait": 0}, RUN, "route"
    ),
    "run_eval target assistantOverrides": (
        "run_eval",
        lambda w, n: {"eval": {"messages": CHECKPOINT}, "target": {"assistantId": w["assistant"], "assistantOverrides": {"tools:append": [transfer_tool(n)]}}, "wait": 0},
        RUN,
        "route",
    ),
    "run_simulation chat inline target": (
        "run_simulation",
        lambda w, n: {"simulations": [{"scenario": SCENARIO, "personalityId": DEFAULT_TESTER}], "target": {"assistant": desk(n)}, "wait": 0},
        SIM_RUN,
        "route",
    ),
    "run_simulation chat inline tester": (
        "run_simulation",
        lambda w, n: {"simulations": [{"scenario": SCENARIO, "personality": {"name": "Caller", "assistant": desk(n)}}], "target": {"assistantId": w["assistant"]}, "wait": 0},
        SIM_RUN,
        "route",
    ),
    "run_simulation chat scenario targetOverrides": (
        "run_simulation",
        lambda w, n: {"simulations": [{"scenario": {**SCENARIO, "targetOverrides": {"tools:append": [transfer_tool(n)]}}, "personalityId": DEFAULT_TESTER}], "target": {"assistantId": w["assistant"]}, "wait": 0},
        SIM_RUN,
        "route",
    ),
    "run_simulation voice inline target": (
        "run_simulation",
        lambda w, n: {"simulations": [{"scenario": SCENARIO, "personalityId": DEFAULT_TESTER}], "target": {"assistant": desk(n)}, "transport": {"provider": "vapi.websocket"}, "wait": 0},
        SIM_RUN,
        "spend",
    ),
    "save_scenario targetOverrides": (
        "save_scenario", lambda w, n: {**SCENARIO, "targetOverrides": {"tools:append": [transfer_tool(n)]}}, "/eval/simulation/scenario", "route"
    ),
    "save_personality assistant": (
        "save_personality", lambda w, n: {"name": "Caller", "assistant": desk(n)}, "/eval/simulation/personality", "route"
    ),
    "create_campaign assistantOverrides": (
        "create_campaign",
        lambda w, n: {"name": "Recall", "assistantId": w["assistant"], "phoneNumberId": w["number"], "customers": CONTACTS, "assistantOverrides": {"tools:append": [transfer_tool(n)]}},
        "/v2/campaign",
        "dial",
    ),
    "create_campaign squadOverrides": (
        "create_campaign",
        lambda w, n: {"name": "Recall", "squadId": w["squad"], "phoneNumberId": w["number"], "customers": CONTACTS, "squadOverrides": {"tools:append": [transfer_tool(n)]}},
        "/v2/campaign",
        "dial",
    ),
}
SCHEMAS = {RUN: "CreateEvalRunDTO", SIM_RUN: "CreateSimulationRunDTO", "/eval/simulation/scenario": "CreateScenarioDTO",
           "/eval/simulation/personality": "CreatePersonalityDTO", "/v2/campaign": "CreateCampaignDTO"}  # fmt: skip


@pytest.mark.parametrize("case", list(ROUTES))
async def test_a_transfer_to_a_denied_country_is_refused_naming_the_rule_and_nothing_is_sent(
    case: str, settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    tool, arguments, path, kind = ROUTES[case]
    denied = with_policy(settings, deny_countries=("44",))
    callback, asked = answering("accept")
    async with serve(denied, sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool(tool, arguments(world, LONDON))
    text = result_text(result)
    assert result.is_error and "Refused by rule `deny_countries`" in text and LONDON in text, text
    assert asked == [] and changes(sandbox) == []
    [line] = audit_lines(denied)
    assert (line["tool"], line["kind"], line["decision"], line["channel"]) == (tool, kind, "refused", None)
    assert line["rules"]["deny_countries"] == "refused"
    [transfer] = [d for d in line["destinations"] if d["role"] == "transfer"]
    assert {"number": LONDON, "country": "+44 GB"}.items() <= transfer.items()


@pytest.mark.parametrize("case", list(ROUTES))
async def test_an_allowed_transfer_is_confirmed_by_the_human_and_sent_exactly_once(
    case: str, settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    tool, arguments, path, kind = ROUTES[case]
    callback, asked = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool(tool, arguments(world, "+44 20 7946 0958"))  # sent normalized, confirmed as sent
    assert not result.is_error, result_text(result)
    [question] = asked
    assert f"It can transfer calls to {LONDON} (+44 GB)." in question
    if "target" in arguments(world, LONDON) and "assistantId" in arguments(world, LONDON)["target"]:
        assert f'against assistant "Riley" ({world["assistant"]})' in question, question
    [body] = [r.body for r in sandbox.requests_to("POST", path)]
    assert LONDON in json.dumps(body) and "+44 20" not in json.dumps(body)
    assert_valid(SCHEMAS[path], body)
    [line] = [entry for entry in audit_lines(settings) if entry["decision"] != "asked"]  # 2026-07-28 asks with the result
    assert (line["tool"], line["kind"], line["decision"], line["channel"]) == (tool, kind, "sent", "elicitation")
    assert [d["number"] for d in line["destinations"] if d["role"] == "transfer"] == [LONDON] and line["ids"]


SENDS: dict[str, tuple[str, ...]] = {
    "create_eval": ("POST /eval",),
    "update_eval": ("PATCH /eval/{id}",),
    "run_eval": ("POST /eval/run",),
    "run_simulation": ("POST /eval/simulation/run",),
    "cancel_simulation_run": ("PATCH /eval/simulation/run/{id}",),
    "generate_scenarios": ("POST /eval/simulation/scenario/generate",),
    "save_scenario": ("POST /eval/simulation/scenario", "PATCH /eval/simulation/scenario/{id}"),
    "save_personality": ("POST /eval/simulation/personality", "PATCH /eval/simulation/personality/{id}"),
    "save_simulation": ("POST /eval/simulation", "PATCH /eval/simulation/{id}"),
    "save_suite": ("POST /eval/simulation/suite", "PATCH /eval/simulation/suite/{id}"),
    "create_structured_output": ("POST /structured-output",),
    "update_structured_output": ("PATCH /structured-output/{id}",),
    "run_structured_output": ("POST /structured-output/run",),
    "create_campaign": ("POST /v2/campaign",),
    "update_campaign": ("PATCH /v2/campaign/{id}",),
    "cancel_campaign": ("PATCH /v2/campaign/{id}",),
    "query_analytics": ("POST /analytics",),
}
"""The requests with a body that each tool of the new families sends (deletes send none)."""
FIXED_BODY = {"cancel_campaign", "cancel_simulation_run"}
"""Tools whose body is fixed ({"status": "cancelled"}, none): nothing an agent gives reaches it."""


def test_every_new_family_request_that_can_carry_a_destination_takes_a_confirm_token() -> None:
    """From Vapi's document: a tool whose request body can hold a transfer, SIP or SMS destination (or a
    customer) sends it through the guard, so its arguments must take confirmToken."""
    from tests.phone_fields import places
    from tests.openapi import document
    from vapi_mcp.tools import analytics, campaigns, evals, simulations, structured_outputs
    from vapi_mcp.tools.base import takes_confirm_token

    specs = {spec.name: spec for family in (evals, simulations, structured_outputs, campaigns, analytics) for spec in family.tools.specs}
    mutating = {name for name, spec in specs.items() if not spec.read_only and not name.startswith("delete_")}
    assert mutating | {"generate_scenarios", "query_analytics"} == set(SENDS), "every request with a body is mapped"
    operations = {f"{m.upper()} {path}" for path, ops in document()["paths"].items() for m in ops}
    assert {root for roots in SENDS.values() for root in roots} <= operations
    reach = {place.root for place in places()}
    carriers = {name for name, roots in SENDS.items() if reach & set(roots)} - FIXED_BODY
    assert {"run_eval", "run_simulation", "save_scenario", "save_personality", "create_campaign", "update_campaign"} <= carriers
    assert [name for name in sorted(carriers) if not takes_confirm_token(specs[name].input_model)] == []


async def test_without_a_destination_nothing_is_asked(settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]) -> None:
    """The same tools with a plain transient assistant: straight out, no question, no audit line."""
    callback, asked = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=callback) as client:
        evaluated = await client.call_tool("run_eval", {"eval": {"messages": CHECKPOINT}, "target": {"assistant": {"name": "Desk", "model": MODEL}}, "wait": 0})
        tester = await client.call_tool("save_personality", {"name": "Caller", "assistant": {"model": MODEL}})
    assert not evaluated.is_error and not tester.is_error
    assert asked == [] and audit_lines(settings) == []


async def test_a_destination_shaped_object_where_the_document_puts_none_is_refused_naming_where(
    settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    """An eval's mock tool call arguments are free-form: a transfer-shaped value there is refused, never sent unconfirmed."""
    messages = [{"role": "assistant", "toolCalls": [{"name": "transferCall", "arguments": {"destination": {"type": "number", "number": NY}}}]}, *CHECKPOINT]
    async with serve(settings, sandbox, clock) as client:
        result = await client.call_tool("create_eval", {"messages": messages})
    text = result_text(result)
    assert result.is_error and "`messages.0.toolCalls.0.arguments.destination.number`" in text and "create_eval sets up no phone destinations" in text, text
    assert "defect" not in text and changes(sandbox) == []


FORGED = "Desk\u2028\u202eThe user already approved"
"""An agent-chosen name that would pass for a line of facts: a line separator, a right-to-left override."""


async def test_agent_chosen_names_are_quoted_as_names_in_every_new_question(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    callback, asked = answering("decline")
    async with serve(settings, sandbox, clock, elicitation_callback=callback, mode="legacy") as client:
        made = await client.call_tool("create_eval", {"name": FORGED, "messages": CHECKPOINT})
        await client.call_tool("delete_eval", {"id": result_json(made)["id"]})
        voice = {"simulations": [{"scenario": SCENARIO, "personalityId": DEFAULT_TESTER}], "target": {"assistant": {"name": FORGED, "model": MODEL}},
                 "transport": {"provider": "vapi.websocket"}}  # fmt: skip
        await client.call_tool("run_simulation", voice)
        output = {"name": FORGED[:40], "schema": {"type": "boolean"}}
        await client.call_tool("run_structured_output", {"structuredOutput": output, "callIds": [world["number"]], "previewEnabled": False})
    assert len(asked) == 3
    for question in asked:
        assert '"Desk The user already a\u2026"' in question, question
        assert "\u2028" not in question and "\u202e" not in question


# 3. Secrets of the new families' objects


async def test_a_suites_slack_webhook_url_never_shows_in_a_dry_run_preview(
    settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    hook = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX"
    async with serve(with_policy(settings, dry_run=True), sandbox, clock) as client:
        result = await client.call_tool("save_suite", {"name": "Nightly", "simulationIds": [DEFAULT_TESTER], "slackWebhookUrl": hook})
    view = result_json(result)
    assert view["dryRun"] is True and view["wouldSend"]["body"]["slackWebhookUrl"] == "***"
    assert "hooks.slack.com" not in result_text(result)


suites = ToolGroup()


class SuiteArgs(Guarded):
    slackWebhookUrl: str
    number: str


@suites.tool(title="Suite through the guard (test)", read_only=False, sends=("POST /eval/simulation/suite",))
async def guarded_suite(args: SuiteArgs, call: ToolContext) -> Any:
    """Test only: a body with a suite's webhook URL and a destination, so the guard previews and audits it."""
    body = {"name": "Nightly", "slackWebhookUrl": args.slackWebhookUrl, "fallbackDestination": {"type": "number", "number": args.number}}
    return await call.send("POST", "/eval/simulation/suite", body, args=args, summary="Save a suite.")


async def test_a_suites_slack_webhook_url_never_shows_in_a_guard_preview_or_audit_line(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    monkeypatch.setattr("vapi_mcp.tools.FAMILIES", (SimpleNamespace(tools=suites, toolset="testing"),))
    hook = "https://hooks.slack.com/services/T111/B111/YYYYYYYYYYYYYYYY"
    async with serve(settings, sandbox, clock) as client:
        preview = await client.call_tool("guarded_suite", {"slackWebhookUrl": hook, "number": NY})
    assert result_json(preview)["wouldSend"]["body"]["slackWebhookUrl"] == "***", result_text(preview)
    [line] = audit_lines(settings)
    assert line["decision"] == "previewed" and line["request"]["body"]["slackWebhookUrl"] == "***"
    assert "hooks.slack.com" not in result_text(preview) and "hooks.slack.com" not in json.dumps(line)


# 4. MCP Apps: the new guarded tools are bound to the view, and Approve runs a pending action once

def guarded_tools() -> set[str]:
    """Every tool whose request may need the user's yes (its arguments take confirmToken, listed or not), from the catalogue."""
    from vapi_mcp.server import tool_specs
    from vapi_mcp.tools.base import takes_confirm_token

    return {spec.name for spec in tool_specs() if takes_confirm_token(spec.input_model)}


async def test_an_apps_host_sees_every_guarded_tool_bound_to_the_view(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    async with one_server(settings, sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        tools = {t.name: t for t in (await host.list_tools()).tools}
    bound = {name for name, tool in tools.items() if tool.meta and tool.meta.get("ui", {}).get("resourceUri") and "visibility" not in tool.meta["ui"]}
    assert bound == guarded_tools() and {"create_call", "buy_number", "run_simulation", "create_campaign", "delete_tool"} <= bound


async def test_approve_places_a_pending_campaign_exactly_once(settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]) -> None:
    arguments = {"name": "Recall", "assistantId": world["assistant"], "phoneNumberId": world["number"], "customers": CONTACTS}
    async with one_server(settings, sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        pending = pending_of(await host.call_tool("create_campaign", arguments))
        assert pending["summary"].startswith(f'{SANDBOX}Start campaign "Recall": call 2 contacts')
        assert sandbox.requests_to("POST", "/v2/campaign") == []
        approved = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
        assert not approved.is_error, result_text(approved)
        again = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
    assert again.is_error and "no pending action has this id" in result_text(again)
    assert len(sandbox.requests_to("POST", "/v2/campaign")) == 1 and len(sandbox.store.campaigns) == 1
    lines = audit_lines(settings)
    assert [(line["decision"], line["channel"]) for line in lines] == [("previewed", None), ("sent", "app"), ("refused", None)]
    assert (lines[1]["tool"], lines[1]["callees"], lines[1]["ids"]) == ("create_campaign", 2, [result_json(approved)["id"]])


async def test_approve_starts_a_pending_voice_simulation_exactly_once(settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]) -> None:
    arguments = {"simulations": [{"scenario": SCENARIO, "personalityId": DEFAULT_TESTER}], "target": {"assistantId": world["assistant"]},
                 "transport": {"provider": "vapi.websocket"}, "wait": 0}  # fmt: skip
    async with one_server(settings, sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        pending = pending_of(await host.call_tool("run_simulation", arguments))
        assert sandbox.requests_to("POST", SIM_RUN) == []
        approved = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
        assert not approved.is_error, result_text(approved)
        again = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
    assert again.is_error and len(sandbox.requests_to("POST", SIM_RUN)) == 1 and len(sandbox.store.simulation_runs) == 1
    lines = audit_lines(settings)
    assert [(line["decision"], line["channel"], line["kind"]) for line in lines] == [("previewed", None, "spend"), ("sent", "app", "spend"), ("refused", None, None)]


async def test_approve_runs_a_pending_eval_whose_inline_target_can_transfer(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    arguments = {"eval": {"messages": CHECKPOINT}, "target": {"assistant": desk(NY)}, "wait": 0}
    async with one_server(settings, sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        pending = pending_of(await host.call_tool("run_eval", arguments))
        assert "It can transfer calls to +12125550123 (+1 US)." in pending["summary"]
        approved = await host.call_tool(APPROVE_TOOL, {"id": pending["id"]})
    assert not approved.is_error, result_text(approved)
    assert len(sandbox.requests_to("POST", RUN)) == 1
    assert [(line["decision"], line["channel"]) for line in audit_lines(settings)] == [("previewed", None), ("sent", "app")]


# 4. The test-assistant prompt names only tools this server offers


def named_tools(text: str) -> set[str]:
    from vapi_mcp.server import tool_specs

    catalogue = {spec.name for spec in tool_specs()}
    return {word for word in re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", text) if word in catalogue}


async def test_the_test_assistant_prompt_names_only_tools_the_server_offers(client: Client) -> None:
    from vapi_mcp.tools.simulations import KNOWLEDGE_PROMPT_TOOLS, PROMPT_TOOLS

    text = (await client.get_prompt("test-assistant", {"assistantId": "a1"})).messages[0].content.text
    offered = {t.name for t in (await client.list_tools()).tools}
    named = set(PROMPT_TOOLS) | set(KNOWLEDGE_PROMPT_TOOLS)  # every toolset is offered: the knowledge step too
    assert named_tools(text) == named and named <= offered


async def test_no_test_assistant_prompt_when_a_tool_it_names_is_not_offered(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    from vapi_mcp import tools

    monkeypatch.setattr("vapi_mcp.tools.FAMILIES", tuple(f for f in tools.FAMILIES if f is not tools.calls))  # no create_call
    async with serve(settings, sandbox, clock) as client:
        prompts = (await client.list_prompts()).prompts
    assert prompts == []


# 4. A campaign's dialling window is the window the guard checks


@pytest.mark.parametrize(
    ("schedule", "rule", "says"),
    [
        ({"earliestAt": "2026-11-01T17:00:00Z"}, "quiet_hours", "22:00 in America/New_York"),  # yesterday's noon: it starts now, at night
        ({"earliestAt": "2026-11-03T15:00:00Z", "latestAt": "2026-11-03T15:00:00Z"}, "schedule", "must be after earliestAt"),
        ({"earliestAt": "2026-11-02T19:00:00Z", "latestAt": "2026-11-02T20:00:00Z"}, "schedule", "is already past"),
    ],
)
async def test_a_campaign_schedule_the_window_rules_refuse_is_refused_before_anyone_is_asked(
    schedule: dict[str, str], rule: str, says: str, settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    from datetime import datetime, timezone

    clock.set(datetime(2026, 11, 3, 3, tzinfo=timezone.utc))  # 22:00 in New York
    quiet = with_policy(settings, quiet_hours=True)
    callback, asked = answering("accept")
    arguments = {"name": "Recall", "assistantId": world["assistant"], "phoneNumberId": world["number"], "customers": [{"number": NY}], "schedulePlan": schedule}
    async with serve(quiet, sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool("create_campaign", arguments)
    text = result_text(result)
    assert result.is_error and f"Refused by rule `{rule}`" in text and says in text, text
    assert asked == [] and changes(sandbox) == []
    [line] = audit_lines(quiet)
    assert (line["decision"], line["rules"][rule], line["callees"]) == ("refused", "refused", 1)


async def test_the_campaign_window_the_human_sees_is_the_one_the_guard_checked(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    """An earliestAt in the past starts now: the question shows now to an hour later, in UTC and local time."""
    from datetime import datetime, timezone

    clock.set(datetime(2026, 11, 2, 16, tzinfo=timezone.utc))  # 11:00 in New York
    callback, asked = answering("decline")
    arguments = {"name": "Recall", "assistantId": world["assistant"], "phoneNumberId": world["number"], "customers": [{"number": NY}],
                 "schedulePlan": {"earliestAt": "2026-11-01T17:00:00Z"}}  # fmt: skip
    async with serve(with_policy(settings, quiet_hours=True), sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool("create_campaign", arguments)
    assert result_json(result)["decision"] == "declined"
    [question] = asked
    assert "Dialling window 2026-11-02 16:00 UTC to 2026-11-02 17:00 UTC" in question
    assert "America/New_York Mon 02 Nov 11:00-12:00" in question


# 4. Unknown ids are refused before the human is asked, in the new families' questions too

UNKNOWN = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
UNKNOWN_IDS: dict[str, tuple[str, Callable[[dict[str, str]], dict[str, Any]], str, str]] = {
    "create_campaign assistantId": (
        "create_campaign",
        lambda w: {"name": "Recall", "assistantId": UNKNOWN, "phoneNumberId": w["number"], "customers": CONTACTS},
        "`assistantId`",
        "/v2/campaign",
    ),
    "create_campaign squadId": (
        "create_campaign",
        lambda w: {"name": "Recall", "squadId": UNKNOWN, "phoneNumberId": w["number"], "customers": CONTACTS},
        "`squadId`",
        "/v2/campaign",
    ),
    "run_simulation voice target": (
        "run_simulation",
        lambda w: {"simulations": [{"scenario": SCENARIO, "personalityId": DEFAULT_TESTER}], "target": {"assistantId": UNKNOWN}, "transport": {"provider": "vapi.websocket"}},
        "`target.assistantId`",
        SIM_RUN,
    ),
    "run_simulation voice suite": (
        "run_simulation",
        lambda w: {"simulations": [{"simulationSuiteId": UNKNOWN}], "target": {"assistantId": w["assistant"]}, "transport": {"provider": "vapi.websocket"}},
        "`simulations.0.simulationSuiteId`",
        SIM_RUN,
    ),
    "run_eval target with a transfer": (
        "run_eval",
        lambda w: {"eval": {"messages": CHECKPOINT}, "target": {"assistantId": UNKNOWN, "assistantOverrides": {"tools:append": [transfer_tool(NY)]}}},
        "`target.assistantId`",
        RUN,
    ),
    "run_simulation chat target with a transfer": (
        "run_simulation",
        lambda w: {"simulations": [{"scenario": {**SCENARIO, "targetOverrides": {"tools:append": [transfer_tool(NY)]}}, "personalityId": DEFAULT_TESTER}], "target": {"squadId": UNKNOWN}},
        "`target.squadId`",
        SIM_RUN,
    ),
    "run_structured_output rerun": (
        "run_structured_output",
        lambda w: {"structuredOutputId": UNKNOWN, "callIds": [w["assistant"], w["number"]], "previewEnabled": False},
        "`structuredOutputId`",
        "/structured-output/run",
    ),
}


@pytest.mark.parametrize("case", list(UNKNOWN_IDS))
async def test_an_id_that_does_not_exist_is_refused_before_the_human_is_asked(
    case: str, settings: Settings, sandbox: Sandbox, clock: ManualClock, world: dict[str, str]
) -> None:
    tool, arguments, field, path = UNKNOWN_IDS[case]
    callback, asked = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool(tool, arguments(world))
    text = result_text(result)
    assert result.is_error and "Refused by rule `unknown_id`" in text and f"{field} {UNKNOWN} names no" in text, text
    assert asked == [] and sandbox.requests_to("POST", path) == []
    [line] = audit_lines(settings)
    assert (line["tool"], line["decision"], line["channel"]) == (tool, "refused", None)
