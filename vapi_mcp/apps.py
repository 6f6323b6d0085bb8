"""MCP Apps wiring of the guard's confirmation view: the extension, the app-only tools, tools/list per client.

Clients that declare MCP Apps (`io.modelcontextprotocol/ui`) see every guarded tool bound to the
view (`_meta.ui.resourceUri`) and the two app-only tools behind its buttons; every other client's
tools/list and resources/list stay exactly as without this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mcp.server.apps import Apps
from pydantic import BaseModel, Field, ValidationError

from . import scopes
from .client import Routes
from .errors import validation_error_text
from .guard.app import APPROVE_TOOL, DECLINE_TOOL, VIEW_URI, Approval, approved, offers_apps, view_html
from .tools.base import Args, Linked, ToolContext, ToolSpec

if TYPE_CHECKING:
    from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

APP_ONLY_META: dict[str, Any] = {"ui": {"resourceUri": VIEW_URI, "visibility": ["app"]}}
"""Hosts keep these tools from the model and let only the view (of this server) call them."""


class PendingArgs(Args):
    id: str = Field(description="The pending action's id, as the confirmation view received it.")


def extension() -> Apps:
    """The MCP Apps extension: the capability, and the view as a `ui://` resource served from the package."""
    apps = Apps()
    apps.add_html_resource(
        VIEW_URI,
        view_html(),
        name="confirm",
        title="Confirm a guarded action",
        description="Shows what a guarded tool is about to do, with Approve and Decline.",
        prefers_border=True,
    )
    return apps


def app_only_specs(specs: Mapping[str, ToolSpec]) -> list[ToolSpec]:
    """The tools behind the view's buttons; `specs` are the server's tools, one of which Approve runs."""

    async def approve_action(args: PendingArgs, call: ToolContext) -> Any:
        pending = call.guard.take_pending(args.id, call)
        spec = specs.get(pending["tool"])
        if spec is None:
            call.guard.refuse_pending(pending, call, f"{pending['tool']} is not a tool of this server; nothing was sent.")
        assert spec is not None
        lacking = scopes.missing(scopes.tool_scopes(spec.name, spec.read_only), call.scopes)
        if lacking:  # Approve runs the pending tool: the person needs that tool's scopes
            call.guard.refuse_pending(pending, call, scopes.refusal_text(spec.name, lacking))
        try:
            tool_args = spec.input_model.model_validate(pending["arguments"])
        except ValidationError as exc:
            call.guard.refuse_pending(pending, call, validation_error_text(exc, spec.name))
        approval = Approval(args.id, pending.get("token"), str(pending.get("use") or ""), str(pending.get("epoch") or ""), pending.get("request"))
        done = await spec.run(tool_args, replace(call, tool=spec.name, approval=approval))
        return _with_sentence(done, spec.name)

    async def decline_action(args: PendingArgs, call: ToolContext) -> Any:
        return call.guard.decline_pending(args.id, call)

    return [
        ToolSpec(
            name=APPROVE_TOOL,
            title="Approve (confirmation view)",
            description="Only for the confirmation view's Approve button: runs the pending action the user approved, once.",
            input_model=PendingArgs,
            handler=approve_action,
            read_only=False,
            sends=Routes(APPROVE_TOOL, ()),  # it runs the approved tool, which sends what that tool declares
            destructive=True,
        ),
        ToolSpec(
            name=DECLINE_TOOL,
            title="Decline (confirmation view)",
            description="Only for the confirmation view's Decline button: drops the pending action; nothing is sent.",
            input_model=PendingArgs,
            handler=decline_action,
            read_only=False,
            sends=Routes(DECLINE_TOOL, ()),
            idempotent=True,
            open_world=False,
        ),
    ]


def _with_sentence(done: Any, tool: str) -> Any:
    """The approved tool's result, with the plain sentence the view shows (`message`) added to its view."""
    if isinstance(done, Linked):
        return Linked(_with_sentence(done.view, tool), done.links)
    if isinstance(done, dict) and "message" not in done:
        return {**done, "message": approved(tool, done)}
    return done


def per_client_listing(guarded: frozenset[str], app_only: frozenset[str]) -> Any:
    """Server middleware: tools/list and resources/list as the client's declared MCP Apps support needs them."""

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method not in ("tools/list", "resources/list") or result is None:
            return result
        listing = result.model_dump(by_alias=True, mode="json", exclude_none=True) if isinstance(result, BaseModel) else dict(result)
        apps = offers_apps(ctx)
        if ctx.method == "tools/list" and apps:
            listing["tools"] = [_bound_to_view(tool) if tool.get("name") in guarded else tool for tool in listing.get("tools", [])]
        elif ctx.method == "tools/list":
            listing["tools"] = [tool for tool in listing.get("tools", []) if tool.get("name") not in app_only]
        elif not apps:
            listing["resources"] = [r for r in listing.get("resources", []) if not str(r.get("uri", "")).startswith("ui://")]
        return listing

    return middleware


def _bound_to_view(tool: dict[str, Any]) -> dict[str, Any]:
    return {**tool, "_meta": {**(tool.get("_meta") or {}), "ui": {"resourceUri": VIEW_URI}}}
