"""Structured outputs (/structured-output): what Vapi extracts from a call, and what simulations evaluate.

Running one with `previewEnabled` reads one call and changes nothing; a rerun overwrites the
stored value on up to 100 calls, so it passes the guard.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from ..errors import InputError
from ..guard import CallContext
from ..guard.facts import plural, quoted
from ..ids import VapiId
from .base import (
    Args,
    DeleteArgs,
    Guarded,
    IdArgs,
    ListArgs,
    Object,
    ToolContext,
    ToolGroup,
    delete_confirmed,
    items_of,
    listed_only,
    lookup,
    merged_update,
    non_null,
    shown_as,
    strip_org,
)

toolset = "testing"
tools = ToolGroup()

RERUN_LIMIT = 100
"""StructuredOutputRunDTO.callIds: at most 100 calls per rerun (exactly one with preview)."""


class OutputFields(Args):
    # CreateStructuredOutputDTO's fields; workflowIds, conditions and compliancePlan are accepted but not listed.
    model_config = ConfigDict(
        json_schema_extra=listed_only("name", "description", "schema", "type", "regex", "model", "assistantIds")
    )

    name: str | None = Field(None, min_length=1, max_length=40)
    description: str | None = Field(None, description="What to extract; the extractor reads it.")
    schema_: Annotated[Object, shown_as("JSON Schema, e.g. {type:'boolean'}")] | None = Field(None, alias="schema")
    type: Literal["ai", "regex"] | None = None
    regex: str | None = Field(None, min_length=1, max_length=1000)
    model: Object | None = None
    assistantIds: list[VapiId] | None = None
    workflowIds: list[VapiId] | None = None
    conditions: list[Object] | None = None
    compliancePlan: Object | None = None

    @field_validator("schema_")
    @classmethod
    def _typed(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value.get("type") not in ("string", "number", "integer", "boolean", "array", "object"):
            raise ValueError("needs a JSON Schema `type`: string, number, integer, boolean, array or object")
        return value

    @model_validator(mode="after")
    def _regex_with_type(self) -> OutputFields:
        if self.regex is not None and self.type != "regex":
            raise ValueError("`regex` applies only with type 'regex'")
        return self


class OutputDefinition(OutputFields):
    # A whole structured output (saved or transient): name and schema are required.

    name: str = Field(min_length=1, max_length=40)
    schema_: Annotated[Object, shown_as("JSON Schema, e.g. {type:'boolean'}")] = Field(alias="schema")


class UpdateOutputArgs(OutputFields):
    model_config = ConfigDict(json_schema_extra=listed_only("id"))

    id: VapiId

    local_fields = frozenset({"id"})


class ListOutputsArgs(ListArgs):
    name: str | None = None


class RunOutputArgs(Guarded):
    structuredOutputId: VapiId | None = None
    structuredOutput: Annotated[OutputDefinition, shown_as("transient output, as create_structured_output")] | None = None
    callIds: list[VapiId] = Field(min_length=1, max_length=RERUN_LIMIT)
    previewEnabled: bool = True

    @model_validator(mode="after")
    def _one_output(self) -> RunOutputArgs:
        if (self.structuredOutputId is None) == (self.structuredOutput is None):
            raise ValueError("give either structuredOutputId or structuredOutput")
        if self.previewEnabled and len(self.callIds) != 1:
            raise ValueError("a preview reads exactly one call: give one callId, or set previewEnabled false to rerun on several")
        return self


def output_row(output: dict[str, Any]) -> dict[str, Any]:
    """One compact line per structured output for list results: id, name, type, schema type."""
    return non_null(
        {
            "id": output.get("id"),
            "name": output.get("name"),
            "type": output.get("type"),
            "schema": (output.get("schema") or {}).get("type"),
            "assistants": len(output.get("assistantIds") or []) or None,
        }
    )


@tools.tool(title="Create structured output", read_only=False, sends=("POST /structured-output",))
async def create_structured_output(args: OutputDefinition, call: ToolContext) -> dict[str, Any]:
    """Create a structured output: data Vapi extracts from a call (name, JSON schema, description; type ai
    or regex; also workflowIds, conditions, compliancePlan). Simulations evaluate them; assistants extract
    them via artifactPlan.structuredOutputIds."""
    created = await call.send(
        "POST",
        "/structured-output",
        args.body(),
        args=args,
        summary=f"Create the structured output {quoted(args.name)}.",
        check="list_structured_outputs shows whether it was created.",
    )
    return strip_org(created)


@tools.tool(title="List structured outputs", read_only=True, sends=("GET /structured-output",))
async def list_structured_outputs(args: ListOutputsArgs, call: ToolContext) -> dict[str, Any]:
    """List structured outputs: id, name, type, schema type."""
    items = items_of(await call.vapi.get("/structured-output", params=args.body()))
    return {"structuredOutputs": [output_row(o) for o in items], "count": len(items)}


@tools.tool(title="Get structured output", read_only=True, sends=("GET /structured-output/{id}",))
async def get_structured_output(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """Get a structured output's whole definition."""
    return strip_org(await call.vapi.get(f"/structured-output/{args.id}"))


@tools.tool(title="Update structured output", read_only=False, sends=("GET /structured-output/{id}", "PATCH /structured-output/{id}"))
async def update_structured_output(args: UpdateOutputArgs, call: ToolContext) -> dict[str, Any]:
    """Change a structured output: its id plus any create_structured_output fields. A schema replaces the old one;
    model and compliancePlan are merged (what you leave out is kept)."""
    path = f"/structured-output/{args.id}"
    body = args.body()
    if not body:
        raise InputError("id", "give at least one field to change besides the id")
    current = await call.vapi.get(path)
    merge = merged_update(current, body, whole=("schema",))
    # The document requires `schemaOverride` on this PATCH without saying what it does; the server
    # says "true" exactly when the request replaces the schema.
    query = {"schemaOverride": "true" if "schema" in body else "false"}
    summary = f"Update the structured output {quoted(current.get('name') or '(unnamed)')} ({args.id}): {merge.phrase()}."
    updated = await call.send("PATCH", path, merge.body, args=args, summary=summary, params=query)
    return {**output_row(updated), **merge.view()}


@tools.tool(
    title="Delete structured output",
    read_only=False,
    sends=("GET /structured-output/{id}", "DELETE /structured-output/{id}"),
)
async def delete_structured_output(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a structured output (asks the user to confirm)."""
    path = f"/structured-output/{args.id}"
    output = await call.vapi.get(path)
    linked = output.get("assistantIds") or []
    uses = f", extracted by {plural(len(linked), 'assistant')}: {', '.join(linked)}" if linked else ""
    await delete_confirmed(call, args, path, f"Delete the structured output {quoted(output.get('name') or '(unnamed)')} ({args.id}){uses}.")
    return {"deleted": output_row(output)}


@tools.tool(title="Run structured output", read_only=False, sends=("POST /structured-output/run", "GET /structured-output/{id}"))
async def run_structured_output(args: RunOutputArgs, call: ToolContext) -> dict[str, Any]:
    """Extract a structured output (saved id or transient) from calls. previewEnabled (default): one call,
    shows the value, stores nothing. false: reruns on up to 100 calls and overwrites their stored value
    (asks the user)."""
    body = args.body()
    if args.previewEnabled:  # reads one call and stores nothing: a read, which dry-run mode sends too
        answer = await call.send(
            "POST", "/structured-output/run", body, args=args, summary=_preview_summary(args), reads=True
        )
        return _preview_view(answer, args.callIds[0])
    action = args.action(
        call,
        kind="destroy",
        summary=_rerun_summary(args, None),
        describe=_rerun_describer(args),
        method="POST",
        path="/structured-output/run",
        body=body,
        cost="The value stored on each call is replaced and cannot be restored; Vapi bills each extraction.",
    )
    check = "get_call on those calls shows whether the value changed."
    answer = await call.send_guarded(action, check=check, ids=lambda _: list(args.callIds))
    return {"rerun": True, "calls": len(args.callIds), **{k: answer.get(k) for k in ("workflowId", "message") if answer.get(k)}}


def _rerun_summary(args: RunOutputArgs, name: str | None) -> str:
    ids = ", ".join(args.callIds[:5]) + (", ..." if len(args.callIds) > 5 else "")
    if args.structuredOutput is not None:
        what = f"the transient structured output {quoted(args.structuredOutput.name)}"
        change = "and store its value in each call's artifact.structuredOutputs"
    else:
        what = (
            f"the structured output {quoted(name)} ({args.structuredOutputId})"
            if name
            else f"the structured output {args.structuredOutputId}"
        )
        change = "and overwrite the value stored in each call's artifact.structuredOutputs"
    return f"Re-extract {what} on {plural(len(args.callIds), 'call')} ({ids}) {change}."


def _preview_summary(args: RunOutputArgs) -> str:
    what = quoted(args.structuredOutput.name) if args.structuredOutput is not None else args.structuredOutputId
    return f"Preview the structured output {what} on call {args.callIds[0]} (nothing is stored)."


def _rerun_describer(args: RunOutputArgs) -> Any:
    async def describe(call: CallContext) -> str:
        if args.structuredOutputId is None:
            return _rerun_summary(args, None)
        ident = args.structuredOutputId
        output = await lookup(call, f"/structured-output/{ident}", "structuredOutputId", ident, "structured output", "list_structured_outputs")
        return _rerun_summary(args, output.get("name"))

    return describe


def _preview_view(answer: Any, call_id: str) -> dict[str, Any]:
    """StructuredOutputRunPreviewResponse: results keyed by structured output id, and what was skipped."""
    results = {k: v for k, v in (answer or {}).items() if k != "skipped" and isinstance(v, dict)}
    view: dict[str, Any] = {"preview": True, "callId": call_id, "stored": False}
    view["results"] = [{"name": v.get("name"), "result": v.get("result")} for v in results.values()]
    skipped = (answer or {}).get("skipped") or {}
    if skipped:
        view["skipped"] = [{"name": v.get("name"), "unmetCondition": v.get("unmetCondition")} for v in skipped.values()]
    return view
