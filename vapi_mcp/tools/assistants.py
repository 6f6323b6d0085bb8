"""Assistants and squads: list, inspect, create, update, delete."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, WithJsonSchema, model_validator

from ..errors import InputError
from ..guard.facts import quoted
from ..ids import VapiId
from .base import (
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
    non_null,
    shown_as,
    without_org,
)
from .numbers import Server

toolset = "assistants"
tools = ToolGroup()

ASSISTANT_FIELDS = frozenset(
    {
        "analysisPlan", "artifactPlan", "backgroundSound", "backgroundSpeechDenoisingPlan", "clientMessages",
        "compliancePlan", "credentialIds", "credentials", "endCallMessage", "endCallPhrases", "firstMessage",
        "firstMessageInterruptionsEnabled", "firstMessageMode", "hooks", "keypadInputPlan", "maxDurationSeconds",
        "metadata", "model", "modelOutputInMessagesEnabled", "monitorPlan", "name", "observabilityPlan", "server",
        "serverMessages", "startSpeakingPlan", "stopSpeakingPlan", "transcriber", "transportConfigurations", "voice",
        "voicemailDetection", "voicemailMessage",
    }
)  # fmt: skip
"""The properties of Vapi's CreateAssistantDTO (UpdateAssistantDTO has the same): the only names passed through."""


class Message(PassThrough):
    role: Literal["assistant", "function", "user", "system", "tool"]
    content: str | None = None


class Model(PassThrough):
    provider: str
    model: str | None = None
    messages: list[Message] | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    toolIds: list[VapiId] | None = None


class Provider(PassThrough):
    """`voice` and `transcriber`: the provider's own fields pass through."""

    provider: str


class AssistantFields(Guarded):
    # The fields agents set most are typed; any other CreateAssistantDTO field passes through as given
    # (JSON Schema allows additional properties by default, so the schema need not say it).
    model_config = ConfigDict(extra="allow", json_schema_extra=lambda schema: _open(schema))

    name: str | None = Field(None, max_length=40)
    firstMessage: str | None = None
    firstMessageMode: (
        Annotated[
            Literal["assistant-speaks-first", "assistant-speaks-first-with-model-generated-message", "assistant-waits-for-user"],
            WithJsonSchema({"type": "string"}),
        ]
        | None
    ) = None
    model: Annotated[Model, shown_as("{provider,model,messages,temperature?,toolIds?}")] | None = None
    voice: Annotated[Provider, shown_as("{provider,voiceId}")] | None = None
    transcriber: Annotated[Provider, shown_as("{provider,model?}")] | None = None
    endCallPhrases: list[str] | None = None
    maxDurationSeconds: float | None = Field(None, ge=10, le=43200)
    voicemailMessage: str | None = Field(None, max_length=1000)
    analysisPlan: Object | None = None
    server: Annotated[Server, shown_as("{url}")] | None = None
    metadata: Object | None = None

    @model_validator(mode="after")
    def _only_assistant_fields(self) -> AssistantFields:
        unknown = sorted(set(self.model_extra or ()) - ASSISTANT_FIELDS)
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)}: not a field of a Vapi assistant (CreateAssistantDTO); check the spelling (camelCase)"
            )
        return self


class UpdateAssistantArgs(AssistantFields):
    model_config = ConfigDict(json_schema_extra=lambda schema: _only_id(schema))

    id: VapiId


def _open(schema: dict[str, Any]) -> None:
    schema.pop("additionalProperties")
    hide_confirm_token(schema)


def _only_id(schema: dict[str, Any]) -> None:
    """update_assistant takes the same fields as create_assistant: list them once, in create_assistant."""
    schema.pop("additionalProperties")
    schema["properties"] = {"id": schema["properties"]["id"]}


class Member(PassThrough):
    assistantId: VapiId | None = None
    assistant: Object | None = None

    @model_validator(mode="after")
    def _one_assistant(self) -> Member:
        if bool(self.assistantId) == bool(self.assistant):
            raise ValueError("each member needs exactly one of assistantId or assistant")
        return self


class SquadFields(Guarded):
    name: str | None = None
    members: Annotated[list[Member], shown_as("[{assistantId}|{assistant}]; the first answers", "array")]
    membersOverrides: Object | None = None


class UpdateSquadArgs(SquadFields):
    id: VapiId


def assistant_row(assistant: dict[str, Any]) -> dict[str, Any]:
    """One compact line per assistant for list results: model and voice as provider/name."""
    model = assistant.get("model") or {}
    voice = assistant.get("voice") or {}
    row = {
        "id": assistant.get("id"),
        "name": assistant.get("name"),
        "model": "/".join(str(p) for p in (model.get("provider"), model.get("model")) if p) or None,
        "voice": "/".join(str(p) for p in (voice.get("provider"), voice.get("voiceId")) if p) or None,
        "updatedAt": assistant.get("updatedAt"),
    }
    return non_null(row)


def squad_row(squad: dict[str, Any]) -> dict[str, Any]:
    """One compact line per squad for list results: its members by id (or name, when inline)."""
    members = [m.get("assistantId") or (m.get("assistant") or {}).get("name") or "(transient)" for m in squad.get("members") or []]
    return non_null({"id": squad.get("id"), "name": squad.get("name"), "members": members, "updatedAt": squad.get("updatedAt")})


def squad_body(args: SquadFields) -> dict[str, Any]:
    """The squad's request body."""
    return args.body(exclude={"id"})


async def guarded_delete(call: ToolContext, args: DeleteArgs, path: str, what: str) -> dict[str, Any]:
    """Delete an assistant or squad after the guard's confirmation; the result shows what was deleted."""
    item = await call.vapi.get(path)
    label = f"{what} {quoted(item['name']) if item.get('name') else '(unnamed)'} ({item['id']})"
    await delete_confirmed(call, args, path, f"Delete the {label}.")
    return {"deleted": {"id": item["id"], "name": item.get("name")}}


@tools.tool(title="List assistants", read_only=True, sends=("GET /assistant",))
async def list_assistants(args: ListArgs, call: ToolContext) -> dict[str, Any]:
    """List assistants, newest first."""
    items = await call.vapi.get("/assistant", params=args.body(), expect=list)
    return {"assistants": [assistant_row(a) for a in items], "count": len(items)}


@tools.tool(title="Get assistant", read_only=True, sends=("GET /assistant/{id}",))
async def get_assistant(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """Get one assistant's whole configuration."""
    return without_org(await call.vapi.get(f"/assistant/{args.id}"))


@tools.tool(title="Create assistant", read_only=False, sends=("POST /assistant",))
async def create_assistant(args: AssistantFields, call: ToolContext) -> dict[str, Any]:
    """Create an assistant (a voice agent: model, voice, transcriber, firstMessage); other CreateAssistantDTO fields pass through. Test it with chat_with_assistant."""
    body = args.body()
    summary = f"Create the assistant {quoted(args.name) if args.name else '(unnamed)'}."
    return assistant_row(await call.send("POST", "/assistant", body, args=args, summary=summary, check="list_assistants shows whether it was created."))


@tools.tool(title="Update assistant", read_only=False, idempotent=True, sends=("PATCH /assistant/{id}",))
async def update_assistant(args: UpdateAssistantArgs, call: ToolContext) -> dict[str, Any]:
    """Change an assistant: id plus any create_assistant fields."""
    path = f"/assistant/{args.id}"
    body = args.body(exclude={"id"})
    if not body:
        raise InputError("(fields)", "give at least one assistant field to change")
    summary = f"Change {', '.join(sorted(body))} of the assistant {args.id}."
    return {**assistant_row(await call.send("PATCH", path, body, args=args, summary=summary)), "changed": sorted(body)}


@tools.tool(title="Delete assistant", read_only=False, destructive=True, sends=("GET /assistant/{id}", "DELETE /assistant/{id}"))
async def delete_assistant(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete an assistant (asks the user to confirm). Reassign numbers that use it first."""
    return await guarded_delete(call, args, f"/assistant/{args.id}", "assistant")


@tools.tool(title="List squads", read_only=True, sends=("GET /squad",))
async def list_squads(args: ListArgs, call: ToolContext) -> dict[str, Any]:
    """List squads, newest first."""
    items = await call.vapi.get("/squad", params=args.body(), expect=list)
    return {"squads": [squad_row(s) for s in items], "count": len(items)}


@tools.tool(title="Get squad", read_only=True, sends=("GET /squad/{id}",))
async def get_squad(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """Get one squad with its members."""
    return without_org(await call.vapi.get(f"/squad/{args.id}"))


@tools.tool(title="Create squad", read_only=False, sends=("POST /squad",))
async def create_squad(args: SquadFields, call: ToolContext) -> dict[str, Any]:
    """Create a squad: assistants that hand off calls."""
    summary = f"Create the squad {quoted(args.name) if args.name else '(unnamed)'} of {len(args.members)} members."
    return squad_row(await call.send("POST", "/squad", squad_body(args), args=args, summary=summary, check="list_squads shows whether it was created."))


@tools.tool(title="Update squad", read_only=False, idempotent=True, sends=("PATCH /squad/{id}",))
async def update_squad(args: UpdateSquadArgs, call: ToolContext) -> dict[str, Any]:
    """Replace a squad's members (and name)."""
    summary = f"Replace the members of the squad {args.id} ({len(args.members)} members)."
    return squad_row(await call.send("PATCH", f"/squad/{args.id}", squad_body(args), args=args, summary=summary))


@tools.tool(title="Delete squad", read_only=False, destructive=True, sends=("GET /squad/{id}", "DELETE /squad/{id}"))
async def delete_squad(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a squad (asks the user to confirm)."""
    return await guarded_delete(call, args, f"/squad/{args.id}", "squad")
