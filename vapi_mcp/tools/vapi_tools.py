"""Vapi tools (/tool): the functions, API requests and transfers an assistant can call during a call.

Not MCP tools: an assistant uses them once their ids are in its `model.toolIds`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from ..errors import InputError
from ..guard.facts import quoted
from ..ids import VapiId
from .assistants import check_merged
from .base import (
    REPLACE_HINT,
    DeleteArgs,
    Guarded,
    IdArgs,
    ListArgs,
    Object,
    PassThrough,
    ToolContext,
    ToolGroup,
    delete_confirmed,
    hide_confirm_token,
    merged_update,
    non_null,
    strip_org,
)

toolset = "tools"
tools = ToolGroup()

TOOL_TYPES = (
    "apiRequest", "code", "dtmf", "endCall", "function", "transferCall", "handoff", "bash", "computer",
    "textEditor", "query", "google.calendar.event.create", "google.sheets.row.append",
    "google.calendar.availability.check", "slack.message.send", "sms", "mcp",
    "gohighlevel.calendar.availability.check", "gohighlevel.calendar.event.create",
    "gohighlevel.contact.create", "gohighlevel.contact.get", "sipRequest", "voicemail",
)  # fmt: skip
"""POST /tool's `type` values, in the document's order."""
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


class Function(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    """JSON Schema of the arguments: {"type": "object", "properties": {...}, "required": [...]}."""
    strict: bool | None = None


class FunctionPatch(Function):
    """`function` as an update gives it: any part (the rest is kept)."""

    name: str | None = None  # type: ignore[assignment]  # an update gives any part


class MergedTool(PassThrough):
    """A tool as an update leaves it: its function must still be whole."""

    function: Function | None = None


class Server(PassThrough):
    url: str


# Nested fields are validated with the full models above but shown to agents as small schemas.
STRING = {"type": "string"}
FunctionShown = WithJsonSchema(
    {
        "type": "object",
        "properties": {"name": STRING, "description": STRING, "parameters": {"type": "object"}},
        "required": ["name"],
    }
)
ServerShown = WithJsonSchema({"type": "object", "properties": {"url": STRING}})


class ToolFields(Guarded):
    """The typed fields of the common tool types; other types' fields pass through to Vapi, which checks them."""

    model_config = ConfigDict(extra="allow", json_schema_extra=lambda schema: hide_confirm_token(schema))

    function: Annotated[Function, FunctionShown] | None = None
    server: Annotated[Server, ServerShown] | None = None
    method: Literal["POST", "GET", "PUT", "PATCH", "DELETE"] | None = None
    url: str | None = None
    request_body: Object | None = Field(None, alias="body")  # `body` is taken by Args.body()
    headers: Object | None = None
    destinations: Annotated[list[dict[str, Any]], WithJsonSchema({"type": "array"})] | None = None

    @model_validator(mode="after")
    def _field_names(self) -> ToolFields:
        # Other fields pass through, but their names reach the human's question (update_tool lists them): names only.
        odd = [quoted(name, 40) for name in self.model_extra or () if not FIELD_NAME.match(name)]
        if odd:
            raise ValueError(f"{', '.join(odd)}: not a field name (Vapi's tool fields are camelCase names like `messages`)")
        return self


class CreateToolArgs(ToolFields):
    type: str

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in TOOL_TYPES:
            raise ValueError(f"must be a Vapi tool type: {', '.join(TOOL_TYPES)}")
        return value


class UpdateToolArgs(ToolFields):
    # Validated like create_tool's fields; shown as the id (and replace) plus an open object to keep tools/list small.
    model_config = ConfigDict(
        json_schema_extra=lambda schema: schema.update(properties={"id": {"type": "string"}, "replace": schema["properties"]["replace"]})
    )

    id: VapiId
    function: Annotated[FunctionPatch, FunctionShown] | None = None  # type: ignore[assignment]  # an update gives any part
    replace: list[str] | None = Field(None, description=REPLACE_HINT)

    local_fields = frozenset({"id", "confirmToken", "replace"})


def _name_of(tool: dict[str, Any]) -> str | None:
    """A function tool's function name, else the tool's own name."""
    return (tool.get("function") or {}).get("name") or tool.get("name")


def _named(tool: dict[str, Any]) -> str:
    """' "name"' for a summary (quoted: names are agent text), or nothing."""
    name = _name_of(tool)
    return f" {quoted(name)}" if name else ""


def tool_row(tool: dict[str, Any]) -> dict[str, Any]:
    """One compact line per tool for list results."""
    return non_null({"id": tool.get("id"), "type": tool.get("type"), "name": _name_of(tool), "createdAt": tool.get("createdAt")})


@tools.tool(title="List Vapi tools", read_only=True, sends=("GET /tool",))
async def list_tools(args: ListArgs, call: ToolContext) -> dict[str, Any]:
    """List Vapi tools (what assistants call during calls, not MCP tools): id, type, name."""
    found = await call.vapi.get("/tool", params=args.body(), expect=list)
    return {"tools": [tool_row(t) for t in found], "count": len(found)}


@tools.tool(title="Get Vapi tool", read_only=True, sends=("GET /tool/{id}",))
async def get_tool(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """Get a Vapi tool's full definition."""
    return strip_org(await call.vapi.get(f"/tool/{args.id}"))


@tools.tool(title="Create Vapi tool", read_only=False, sends=("POST /tool",))
async def create_tool(args: CreateToolArgs, call: ToolContext) -> dict[str, Any]:
    """Create a Vapi tool (not an MCP tool) that assistants can call during calls: type function,
    apiRequest, transferCall, endCall, dtmf or another POST /tool type, with its fields. Attach it with the
    assistant's model.toolIds."""
    body = args.body()
    summary = f"Create a {args.type} tool{_named(body)}."
    created = await call.send("POST", "/tool", body, args=args, summary=summary, check="Look for it with list_tools before creating it again.")
    return strip_org(created)


@tools.tool(title="Update Vapi tool", read_only=False, sends=("GET /tool/{id}", "PATCH /tool/{id}"))
async def update_tool(args: UpdateToolArgs, call: ToolContext) -> dict[str, Any]:
    """Set fields of a Vapi tool, as in create_tool (its type stays). Nested objects (function, server) are merged:
    what you leave out is kept, unless named in replace."""
    path = f"/tool/{args.id}"
    body = args.body()
    if not body:
        raise InputError("id", "give at least one field to change besides the id")
    current = await call.vapi.get(path)
    if body.setdefault("type", current["type"]) != current["type"]:
        raise InputError("type", f"cannot change; this is a {current['type']} tool (create a new one instead)")
    merge = merged_update(current, body, replace=args.replace or ())
    check_merged(MergedTool, merge.body, "the tool after this update")
    summary = f"Change the {current['type']} tool{_named(current)} ({args.id}): {merge.phrase()}."
    return {**strip_org(await call.send("PATCH", path, merge.body, args=args, summary=summary)), **merge.view()}


@tools.tool(title="Delete Vapi tool", read_only=False, sends=("GET /tool/{id}", "DELETE /tool/{id}"))
async def delete_tool(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a Vapi tool (asks the user to confirm)."""
    path = f"/tool/{args.id}"
    row = tool_row(await call.vapi.get(path))
    summary = f"Delete the {row['type']} tool{_named(row)} ({args.id})."
    deleted = await delete_confirmed(call, args, path, summary)
    return {"deleted": tool_row(deleted)}
