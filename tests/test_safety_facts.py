"""A tool's safety facts are on the tool, and hold for the whole catalogue.

Every tool declares at its decorator whether it is read-only (no default) and which requests it sends
(`sends`: method and path template, the guard's lookups for it included). These tests read the facts
of every tool of every family, so a new tool is covered by adding it, and the client holds a running
tool to its declaration (an undeclared request is refused and not sent).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.guard_kit import serve
from tests.mcp_kit import result_text
from tests.openapi import document
from vapi_mcp.client import CONTROL_URL, READ_POSTS, Route
from vapi_mcp.config import Settings
from vapi_mcp.guard import GUARDED_ROUTES, guarded_kind
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.server import tool_specs
from vapi_mcp.tools.base import Args, ToolContext, ToolGroup, ToolSpec, takes_confirm_token

NOT_PATHS = {"POST /call/web", f"POST {CONTROL_URL}", "GET /sandbox/clock", "POST /sandbox/clock"}
"""Requests Vapi's document describes but not as a path: a web call (CreateWebCallDTO) and live call control
(`monitor.controlUrl`, a URL from the call object); and the embedded sandbox's own clock (sandbox-only tools,
or a read that a real Vapi never gets: `wait_for_call` asks it only on the sandbox)."""

SPECS = tool_specs()


def ids(specs: list[ToolSpec]) -> list[str]:
    return [spec.name for spec in specs]


def test_a_tool_must_say_whether_it_is_read_only_and_what_it_sends() -> None:
    group = ToolGroup()
    with pytest.raises(TypeError, match="read_only"):
        group.tool(title="No facts", sends=())  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="sends"):
        group.tool(title="No facts", read_only=True)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="METHOD /path"):
        group.tool(title="Bad", read_only=True, sends=("/call",))


@pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
def test_every_request_a_tool_declares_is_one_vapis_document_has(spec: ToolSpec) -> None:
    paths = document()["paths"]
    for route in spec.sends:
        if str(route) in NOT_PATHS:
            continue
        assert route.method.lower() in paths.get(route.template, {}), f"{spec.name} declares {route}, which Vapi's document does not have"


@pytest.mark.parametrize("spec", [s for s in SPECS if s.read_only], ids=ids([s for s in SPECS if s.read_only]))
def test_a_read_only_tool_sends_only_reads_and_never_asks(spec: ToolSpec) -> None:
    """What `--read-only` offers: only GETs and the POSTs Vapi's document says read whatever their body."""
    changes = [str(route) for route in spec.sends if not route.reads]
    assert not changes, f"{spec.name} is read-only but sends {changes}"
    assert not takes_confirm_token(spec.input_model) and spec.idempotent and not spec.destructive


@pytest.mark.parametrize("spec", [s for s in SPECS if not s.read_only], ids=ids([s for s in SPECS if not s.read_only]))
def test_a_tool_that_is_not_read_only_sends_something_that_changes_something(spec: ToolSpec) -> None:
    """Or it changes the guard's own ledger (the do-not-call list), and then sends nothing at all."""
    if spec.ledger:
        assert not list(spec.sends) and not takes_confirm_token(spec.input_model), f"{spec.name} changes the ledger, so it sends nothing"
        return
    assert any(not route.reads for route in spec.sends), f"{spec.name} sends only reads: declare it read_only=True"


@pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
def test_a_tool_that_may_dial_spend_or_destroy_passes_the_guard(spec: ToolSpec) -> None:
    """Every request to a route that dials, spends or destroys (`guard.GUARDED_ROUTES`, every DELETE) comes from
    a tool whose arguments take the guard's confirmToken; a DELETE also makes the tool destructive."""
    risky = [str(route) for route in spec.sends if guarded_kind(route.method, route.template)]
    if risky:
        assert takes_confirm_token(spec.input_model) and not spec.read_only, f"{spec.name} sends {risky} without the guard"
    if any(route.method == "DELETE" for route in spec.sends):
        assert spec.destructive, f"{spec.name} deletes but is not marked destructive"


def test_the_guarded_routes_and_read_posts_are_real_and_sent_by_some_tool() -> None:
    """The two tables the checks above read: every entry names a route some tool of the catalogue declares."""
    declared = {str(route) for spec in SPECS for route in spec.sends}
    assert set(GUARDED_ROUTES) <= declared
    assert {f"POST {path}" for path in READ_POSTS} <= declared
    assert all(guarded_kind("DELETE", route.template) == "destroy" for spec in SPECS for route in spec.sends if route.method == "DELETE")


def test_the_guarded_tools_are_the_ones_that_dial_spend_or_destroy_and_those_that_may_carry_a_destination() -> None:
    guarded = {spec.name for spec in SPECS if takes_confirm_token(spec.input_model)}
    risky = {spec.name for spec in SPECS if any(guarded_kind(route.method, route.template) for route in spec.sends)}
    assert risky and risky <= guarded
    # The rest may carry a transfer or SMS destination (inline assistants, tools, hooks): each changes something.
    assert all(not spec.read_only for spec in SPECS if spec.name in guarded - risky)


# the client holds a running tool to its declaration

declaring = ToolGroup()


class ThingArgs(Args):
    id: str
    method: str = "GET"


@declaring.tool(title="Reads a call (test)", read_only=True, sends=("GET /call/{id}",))
async def reads_a_call(args: ThingArgs, call: ToolContext) -> Any:
    """Test only: declares one GET, then sends what it is told."""
    return await call.vapi.request(args.method, args.id if args.id.startswith("/") else f"/call/{args.id}")


@pytest.fixture
def declaring_family(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vapi_mcp.tools.FAMILIES", (SimpleNamespace(tools=declaring, toolset="calls"),))


@pytest.mark.usefixtures("declaring_family")
@pytest.mark.parametrize(
    ("arguments", "undeclared"),
    [
        ({"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "method": "DELETE"}, "DELETE /call/3fa85f64-5717-4562-b3fc-2c963f66afa6"),
        ({"id": "/phone-number"}, "GET /phone-number"),
        ({"id": "/call/3fa85f64-5717-4562-b3fc-2c963f66afa6/call-logs"}, "GET /call/3fa85f64-5717-4562-b3fc-2c963f66afa6/call-logs"),
    ],
)
async def test_a_request_the_running_tool_does_not_declare_is_refused_and_not_sent(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, arguments: dict[str, str], undeclared: str
) -> None:
    async with serve(settings, sandbox, clock) as client:
        result = await client.call_tool("reads_a_call", arguments)
    text = result_text(result)
    assert result.is_error and "Refused by rule `sends`" in text and f"reads_a_call tried to send {undeclared}" in text, text
    assert sandbox.requests == []


@pytest.mark.usefixtures("declaring_family")
async def test_a_declared_request_goes_through(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    async with serve(settings, sandbox, clock) as client:
        result = await client.call_tool("reads_a_call", {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"})
    assert "sends" not in result_text(result) and [(r.method, r.path) for r in sandbox.requests] == [("GET", "/call/3fa85f64-5717-4562-b3fc-2c963f66afa6")]


def test_a_placeholder_stands_for_one_segment_only() -> None:
    from vapi_mcp.client import Routes

    routes = Routes("t", [Route.parse("GET /call/{id}"), Route.parse("POST <controlUrl>")])
    assert routes.allows("GET", "/call/abc") and routes.allows("POST", CONTROL_URL)
    assert not routes.allows("GET", "/call/abc/call-logs") and not routes.allows("GET", "/call") and not routes.allows("DELETE", "/call/abc")


STOPS = {"end_call", "cancel_campaign", "cancel_simulation_run"}
"""Tools that only stop something: stopping must stay one step, so no host asks twice."""
CREATES = ("POST",)


@pytest.mark.parametrize("spec", [s for s in SPECS if not s.read_only], ids=ids([s for s in SPECS if not s.read_only]))
def test_the_annotations_follow_the_mcp_specs_meaning_over_the_whole_catalogue(spec: ToolSpec) -> None:
    """MCP's schema: destructiveHint "If true, the tool may perform destructive updates to its environment. If false,
    the tool performs only additive updates"; idempotentHint "If true, calling the tool repeatedly with the same
    arguments will have no additional effect on its environment". So a host's own confirmation fires for what rings,
    texts, spends, deletes or overwrites (placing a call or buying a number is no "additive update" a host may wave
    through), and never for a stop. Before (issue 18): create_call, buy_number and the updates said destructive false,
    end_call and cancel_campaign true."""
    changes = [route for route in spec.sends if route.method != "GET"]
    may_harm = any(guarded_kind(r.method, r.template) or r.method in ("DELETE", "PATCH", "PUT") for r in changes)
    if spec.name in STOPS:
        assert not spec.destructive and spec.idempotent
        return
    assert spec.destructive == may_harm, spec.name
    assert spec.idempotent == (not any(r.method in CREATES for r in changes)), spec.name
    if takes_confirm_token(spec.input_model) and any(guarded_kind(r.method, r.template) for r in changes):
        assert spec.destructive, f"{spec.name} asks the user first, so a host should too"


def test_the_wire_carries_the_annotations() -> None:
    from vapi_mcp.server import make_tool

    by_name = {spec.name: spec for spec in SPECS}
    placing = make_tool(by_name["create_call"], None).annotations
    ending = make_tool(by_name["end_call"], None).annotations
    assert placing is not None and placing.destructive_hint is True and placing.idempotent_hint is False
    assert ending is not None and ending.destructive_hint is False and ending.idempotent_hint is True
