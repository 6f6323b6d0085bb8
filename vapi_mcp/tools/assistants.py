"""Assistants and squads: list, inspect, create, update, delete."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator, model_validator

from ..errors import InputError
from ..guard.facts import plural, quoted
from ..ids import VapiId
from .base import (
    REPLACE_HINT,
    DeleteArgs,
    Guarded,
    IdArgs,
    ListArgs,
    Object,
    PassThrough,
    Strict,
    ToolContext,
    ToolGroup,
    delete_confirmed,
    hide_confirm_token,
    merged_update,
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
OVERRIDE_FIELDS = ASSISTANT_FIELDS | {"variableValues", "tools:append"}
"""AssistantOverrides: an assistant's fields, its template variables, and tools appended to its own."""
MODEL_PROVIDERS = (
    "anthropic", "anthropic-bedrock", "anyscale", "cerebras", "custom-llm", "deepinfra", "deep-seek", "google", "groq",
    "inflection-ai", "minimax", "openai", "openrouter", "perplexity-ai", "together-ai", "xai", "vapi",
)  # fmt: skip
VOICE_PROVIDERS = (
    "azure", "cartesia", "custom-voice", "deepgram", "11labs", "hume", "lmnt", "neuphonic", "openai", "playht", "wellsaid",
    "rime-ai", "smallest-ai", "tavus", "vapi", "sesame", "inworld", "minimax", "xai", "microsoft",
)  # fmt: skip
TRANSCRIBER_PROVIDERS = (
    "assembly-ai", "azure", "custom-transcriber", "deepgram", "11labs", "gladia", "google", "speechmatics", "talkscriber",
    "openai", "cartesia", "soniox", "xai", "vapi",
)  # fmt: skip
"""The providers of CreateAssistantDTO's model, voice and transcriber, in the document's order (each is the
discriminator of one schema there; tests/test_transients.py compares them with the document)."""
SQUAD_FIELDS = frozenset({"name", "members", "membersOverrides"})
MEMBER_FIELDS = frozenset({"assistant", "assistantDestinations", "assistantId", "assistantOverrides", "assistantVersion"})


def _one_of(values: tuple[str, ...], what: str) -> Any:
    def check(value: str | None) -> str | None:
        if value is not None and value not in values:
            raise ValueError(f"must be one of Vapi's {what} providers ({', '.join(values)}); got {value!r}")
        return value

    return check


class Message(PassThrough):
    role: Literal["assistant", "function", "user", "system", "tool"]
    content: str | None = None


class ModelPatch(PassThrough):
    """`model` as an update gives it: any part of it (the rest is kept)."""

    provider: str | None = None
    model: str | None = None
    messages: list[Message] | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    toolIds: list[VapiId] | None = None

    _provider = field_validator("provider")(_one_of(MODEL_PROVIDERS, "model"))


class Model(ModelPatch):
    provider: str


class ProviderPatch(PassThrough):
    """`voice` and `transcriber` as an update gives them; the provider's own fields pass through."""

    provider: str | None = None


class VoicePatch(ProviderPatch):
    _provider = field_validator("provider")(_one_of(VOICE_PROVIDERS, "voice"))


class TranscriberPatch(ProviderPatch):
    _provider = field_validator("provider")(_one_of(TRANSCRIBER_PROVIDERS, "transcriber"))


class Voice(VoicePatch):
    provider: str


class Transcriber(TranscriberPatch):
    provider: str


class AssistantConfig(PassThrough):
    """CreateAssistantDTO, wherever it sits (create_assistant, a transient assistant on a call, chat, eval or simulation,
    a squad member): the fields agents set most are typed, any other CreateAssistantDTO field passes through as
    given, and a name the document does not know is refused."""

    known_fields: ClassVar[frozenset[str]] = ASSISTANT_FIELDS
    dto: ClassVar[str] = "CreateAssistantDTO"

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
    voice: Annotated[Voice, shown_as("{provider,voiceId}")] | None = None
    transcriber: Annotated[Transcriber, shown_as("{provider,model?}")] | None = None
    endCallPhrases: list[str] | None = None
    maxDurationSeconds: float | None = Field(None, ge=10, le=43200)
    voicemailMessage: str | None = Field(None, max_length=1000)
    analysisPlan: Object | None = None
    server: Annotated[Server, shown_as("{url}")] | None = None
    metadata: Object | None = None

    @model_validator(mode="after")
    def _only_assistant_fields(self) -> AssistantConfig:
        unknown = sorted(set(self.model_extra or ()) - self.known_fields - set(type(self).model_fields))
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not a field of a Vapi assistant ({self.dto}); check the spelling (camelCase)")
        return self


class Overrides(AssistantConfig):
    """AssistantOverrides: any assistant field (partial objects: Vapi merges them into the assistant's), variableValues."""

    known_fields: ClassVar[frozenset[str]] = OVERRIDE_FIELDS
    dto: ClassVar[str] = "AssistantOverrides"

    # an override gives any part of these (a wider type than the assistant's: hence the ignores)
    model: Annotated[ModelPatch, shown_as("{provider,model,messages,temperature?,toolIds?}")] | None = None  # type: ignore[assignment]
    voice: Annotated[VoicePatch, shown_as("{provider,voiceId}")] | None = None  # type: ignore[assignment]
    transcriber: Annotated[TranscriberPatch, shown_as("{provider,model?}")] | None = None  # type: ignore[assignment]
    variableValues: Object | None = None


class MemberConfig(Strict):
    """SquadMemberDTO inside a transient squad."""

    assistantId: VapiId | None = None
    assistant: AssistantConfig | None = None
    assistantOverrides: Overrides | None = None
    assistantDestinations: list[Object] | None = None
    assistantVersion: str | None = None

    @model_validator(mode="after")
    def _one_assistant(self) -> MemberConfig:
        if (self.assistantId is None) == (self.assistant is None):
            raise ValueError("each member needs exactly one of assistantId or assistant")
        return self


class SquadConfig(Strict):
    """CreateSquadDTO as a value (a transient squad): its members and their overrides checked like an assistant."""

    name: str | None = None
    members: list[MemberConfig] = Field(min_length=1)
    membersOverrides: Overrides | None = None


def _checked(model: type[BaseModel]) -> Any:
    """An AfterValidator that checks a nested Vapi object against `model` and keeps it as given (a dict), with every
    broken rule named by its path inside the object."""

    def check(value: dict[str, Any]) -> dict[str, Any]:
        try:
            model.model_validate(value)
        except ValidationError as exc:
            raise ValueError(nested_errors(exc)) from None
        return value

    return AfterValidator(check)


TransientAssistant = Annotated[dict[str, Any], _checked(AssistantConfig), WithJsonSchema({"type": "object"})]
"""A transient assistant (CreateAssistantDTO) on a call, chat, eval, simulation or squad: checked, sent as given."""
AssistantOverrides = Annotated[dict[str, Any], _checked(Overrides), WithJsonSchema({"type": "object"})]
TransientSquad = Annotated[dict[str, Any], _checked(SquadConfig), WithJsonSchema({"type": "object"})]


def nested_errors(exc: ValidationError) -> str:
    """'voice.provider: must be one of ...; model: Field required': each rule by its path inside the object."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "is not a field Vapi knows here (check the spelling; fields are camelCase)"
        elif err["type"] == "missing":
            msg = "is required"
        parts.append(f"{loc} {msg}" if loc else msg)
    return "; ".join(parts)


class AssistantFields(AssistantConfig, Guarded):
    # The tool's arguments: an assistant plus the guard's confirm token (JSON Schema allows additional properties
    # by default, so the schema need not say other CreateAssistantDTO fields pass through).
    model_config = ConfigDict(extra="allow", json_schema_extra=lambda schema: _open(schema))


class UpdateAssistantArgs(AssistantFields):
    model_config = ConfigDict(json_schema_extra=lambda schema: _only_id(schema))

    id: VapiId
    # an update gives any part of these (a wider type than the assistant's: hence the ignores)
    model: Annotated[ModelPatch, shown_as("{provider,model,messages,temperature?,toolIds?}")] | None = None  # type: ignore[assignment]
    voice: Annotated[VoicePatch, shown_as("{provider,voiceId}")] | None = None  # type: ignore[assignment]
    transcriber: Annotated[TranscriberPatch, shown_as("{provider,model?}")] | None = None  # type: ignore[assignment]
    replace: list[str] | None = Field(None, description=REPLACE_HINT)

    local_fields: ClassVar[frozenset[str]] = frozenset({"confirmToken", "id", "replace"})

    @field_validator("replace")
    @classmethod
    def _assistant_fields(cls, value: list[str] | None) -> list[str] | None:
        unknown = [name for name in value or () if name not in ASSISTANT_FIELDS]
        if unknown:
            raise ValueError(f"names fields an assistant does not have: {', '.join(unknown)}")
        return value


def _open(schema: dict[str, Any]) -> None:
    schema.pop("additionalProperties")
    hide_confirm_token(schema)


def _only_id(schema: dict[str, Any]) -> None:
    """update_assistant takes the same fields as create_assistant: list them once, in create_assistant."""
    schema.pop("additionalProperties")
    schema["properties"] = {"id": schema["properties"]["id"], "replace": schema["properties"]["replace"]}


class Member(PassThrough):
    assistantId: VapiId | None = None
    assistant: TransientAssistant | None = None
    assistantOverrides: AssistantOverrides | None = None

    @model_validator(mode="after")
    def _one_assistant(self) -> Member:
        if bool(self.assistantId) == bool(self.assistant):
            raise ValueError("each member needs exactly one of assistantId or assistant")
        unknown = sorted(set(self.model_extra or ()) - MEMBER_FIELDS)
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not a field of a squad member (SquadMemberDTO)")
        return self


class SquadFields(Guarded):
    name: str | None = None
    members: Annotated[list[Member], shown_as("[{assistantId}|{assistant}]; the first answers", "array")]
    membersOverrides: AssistantOverrides | None = None


class UpdateSquadArgs(SquadFields):
    id: VapiId
    replace: list[Literal["membersOverrides"]] | None = Field(None, description="membersOverrides: replace it whole instead of merging.")

    local_fields: ClassVar[frozenset[str]] = frozenset({"confirmToken", "id", "replace"})


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
    return args.body(exclude={"id", "replace"})


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


@tools.tool(title="Update assistant", read_only=False, sends=("GET /assistant/{id}", "PATCH /assistant/{id}"))
async def update_assistant(args: UpdateAssistantArgs, call: ToolContext) -> dict[str, Any]:
    """Change an assistant: id plus any create_assistant fields. Nested objects are merged: what you leave out is
    kept (model: {tools} keeps model.messages); name a field in replace to replace it whole. The result lists what
    changed, was kept and was removed."""
    path = f"/assistant/{args.id}"
    given = args.body()
    if not given:
        raise InputError("(fields)", "give at least one assistant field to change")
    missing = [name for name in args.replace or () if name not in given]
    if missing:
        raise InputError("replace", f"names {', '.join(missing)}, which this update does not give: give the new value with it")
    current = await call.vapi.get(path)
    merge = merged_update(current, given, replace=args.replace or ())
    check_merged(AssistantConfig, merge.body, "the assistant after this update")
    summary = f"Change {merge.phrase()} of the assistant {named(current, args.id)}."
    data = await call.send("PATCH", path, merge.body, args=args, summary=summary)
    return {**assistant_row(data), **merge.view()}


def named(item: dict[str, Any], ident: str) -> str:
    """'"Riley" (id)': a Vapi object by its name (quoted: names are agent text) and its id."""
    return f"{quoted(item['name'])} ({ident})" if item.get("name") else ident


def check_merged(model: type[BaseModel], body: dict[str, Any], what: str) -> None:
    """Refuse an update whose result Vapi would refuse (a model without a provider...), naming the field; nothing is sent."""
    try:
        model.model_validate(body)
    except ValidationError as exc:
        raise InputError(what, nested_errors(exc), hint="Nothing was sent. Give the missing part, or replace the object whole.") from None


@tools.tool(title="Delete assistant", read_only=False, sends=("GET /assistant/{id}", "DELETE /assistant/{id}"))
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
    summary = f"Create the squad {quoted(args.name) if args.name else '(unnamed)'} of {plural(len(args.members), 'member')}."
    return squad_row(await call.send("POST", "/squad", squad_body(args), args=args, summary=summary, check="list_squads shows whether it was created."))


@tools.tool(title="Update squad", read_only=False, sends=("GET /squad/{id}", "PATCH /squad/{id}"))
async def update_squad(args: UpdateSquadArgs, call: ToolContext) -> dict[str, Any]:
    """Replace a squad's members (and name); membersOverrides is merged into the squad's unless in replace."""
    path = f"/squad/{args.id}"
    current = await call.vapi.get(path)
    merge = merged_update(current, squad_body(args), replace=args.replace or (), whole=("members",))
    summary = f"Change the squad {named(current, args.id)}: {merge.phrase()} ({plural(len(args.members), 'member')})."
    return {**squad_row(await call.send("PATCH", path, merge.body, args=args, summary=summary)), **merge.view()}


@tools.tool(title="Delete squad", read_only=False, sends=("GET /squad/{id}", "DELETE /squad/{id}"))
async def delete_squad(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a squad (asks the user to confirm)."""
    return await guarded_delete(call, args, f"/squad/{args.id}", "squad")
