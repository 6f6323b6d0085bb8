"""Phone numbers: buy a free Vapi number, import one, point it at an assistant or squad, hooks, delete."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, RootModel, model_validator
from pydantic.json_schema import SkipJsonSchema

from ..errors import InputError, VapiError
from ..guard.facts import quoted
from ..ids import VapiId
from ..redact import is_secret_field
from .base import (
    Args,
    DeleteArgs,
    Guarded,
    IdArgs,
    ListArgs,
    PassThrough,
    Strict,
    ToolContext,
    ToolGroup,
    compact_schema,
    delete_confirmed,
    merged_update,
    non_null,
    shown_as,
    without_org,
)

toolset = "numbers"
tools = ToolGroup()

ASSIGNMENTS = ("assistantId", "squadId", "workflowId")
TARGETS = {"assistantId": ("/assistant", "assistant", "list_assistants"), "squadId": ("/squad", "squad", "list_squads")}
"""Assignment fields whose target can be looked up (Vapi's API has no /workflow endpoint)."""

FREE_NUMBER_LIMITS = (
    "A Vapi number takes inbound calls only: Vapi's free numbers cannot place outbound calls. To call out, import a "
    "number you own (import_number: Twilio, Telnyx, Vonage, or a SIP trunk such as DIDWW with byo-phone-number)."
)
VAPI_NUMBER_COST = (
    "Vapi gives each account one free number (a Success Package may include more); "
    "a number beyond those may add a monthly charge to your Vapi account."
)
ENDED_REASONS = Literal[
    "assistant-request-failed",
    "assistant-request-returned-error",
    "assistant-request-returned-unspeakable-error",
    "assistant-request-returned-invalid-assistant",
    "assistant-request-returned-no-assistant",
    "assistant-request-returned-forwarding-phone-number",
]


class Destination(PassThrough):
    type: Literal["number", "sip"]
    number: str | None = None
    sipUri: str | None = None
    numberE164CheckEnabled: bool | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Destination:
        # The number itself is checked by the guard, like every destination's (valid, lists, countries).
        if self.type == "sip" and not self.sipUri:
            raise ValueError("a sip destination needs `sipUri`")
        if self.type == "number" and not self.number:
            raise ValueError("a number destination needs `number`")
        return self


class Say(Strict):
    type: Literal["say"]
    exact: str = Field(max_length=4000)


class Transfer(Strict):
    type: Literal["transfer"]
    destination: Destination | None = None


Action = Annotated[Say | Transfer, Field(discriminator="type")]


class StartsWith(Strict):
    type: Literal["startsWith"] = "startsWith"
    key: Literal["number"] = "number"
    startsWith: list[Annotated[str, Field(max_length=20)]] = Field(max_length=20)


class EndedReasonIn(Strict):
    type: Literal["oneOf"] = "oneOf"
    key: Literal["call.endedReason"] = "call.endedReason"
    oneOf: list[ENDED_REASONS]


class RingingHook(Strict):
    """PhoneNumberHookCallRinging."""

    on: Literal["call.ringing"]
    do: list[Action]
    filters: list[StartsWith] | None = None


class EndingHook(Strict):
    """PhoneNumberHookCallEnding."""

    on: Literal["call.ending"]
    do: Action | None = None
    filters: list[EndedReasonIn] | None = None


Hook = Annotated[RingingHook | EndingHook, Field(discriminator="on")]


class Server(PassThrough):
    url: str | None = None
    timeoutSeconds: float | None = Field(None, ge=1, le=300)
    headers: dict[str, Any] | None = None
    credentialId: VapiId | None = None


SAME_AS_UPDATE = "As in update_phone_number."


class NumberSettings(Args):
    """The settings of a number, shown in full by update_phone_number and by reference elsewhere."""

    name: str | None = Field(None, max_length=40)
    hooks: Annotated[list[Hook], shown_as(SAME_AS_UPDATE, "array")] | None = None
    server: Annotated[Server, shown_as(SAME_AS_UPDATE)] | None = None
    fallbackDestination: Annotated[Destination, shown_as(SAME_AS_UPDATE)] | None = None


class Routing(NumberSettings):
    """Settings plus what answers inbound calls: at most one of assistantId, squadId, workflowId."""

    assistantId: VapiId | None = None
    squadId: VapiId | None = None
    workflowId: VapiId | None = None

    @model_validator(mode="after")
    def _at_most_one(self) -> Routing:
        given = [name for name in ASSIGNMENTS if getattr(self, name)]
        if len(given) > 1:
            raise ValueError(f"give at most one of assistantId, squadId, workflowId (got {' and '.join(given)})")
        return self


class BuyNumberArgs(Routing, Guarded):
    provider: SkipJsonSchema[Literal["vapi"] | None] = None
    """Accepted as in the guide's body (`"provider": "vapi"`); not shown in tools/list: buying is always from Vapi."""
    numberDesiredAreaCode: str | None = Field(None, pattern=r"^\d{3}$")


class TwilioImport(Routing, Guarded):
    phone_fields = ("number",)

    provider: Literal["twilio"]
    number: str
    twilioAccountSid: str
    twilioAuthToken: str | None = None
    twilioApiKey: str | None = None
    twilioApiSecret: str | None = None
    smsEnabled: bool | None = None

    @model_validator(mode="after")
    def _credentials(self) -> TwilioImport:
        if not (self.twilioAuthToken or (self.twilioApiKey and self.twilioApiSecret)):
            raise ValueError("give twilioAuthToken, or twilioApiKey and twilioApiSecret")
        return self


class CredentialImport(Routing, Guarded):
    phone_fields = ("number",)

    provider: Literal["vonage", "telnyx"]
    number: str
    credentialId: VapiId


class ByoImport(Routing, Guarded):
    phone_fields = ("number",)

    provider: Literal["byo-phone-number"]
    credentialId: VapiId
    number: str | None = None
    numberE164CheckEnabled: bool | None = None


Import = TwilioImport | CredentialImport | ByoImport


class ImportNumberArgs(RootModel[Annotated[Import, Field(discriminator="provider")]]):
    """One branch per provider, each with the fields Vapi requires for it."""

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return provider_branches(compact_schema(super().model_json_schema(*args, **kwargs)))


def provider_branches(union: dict[str, Any]) -> dict[str, Any]:
    """The union as one object schema: shared fields once, then an if/then per provider.

    Anthropic's API (and so Claude Code) refuses tools whose input schema has oneOf, anyOf
    or allOf at the top level, so the branches are an `if provider is X then ...` chain.
    """
    defs = union.pop("$defs")
    branches = [defs.pop(ref["$ref"].rsplit("/", 1)[-1]) for ref in union["oneOf"]]
    first = branches[0]["properties"]
    shared = [
        name
        for name, sub in first.items()
        if name != "provider" and all(b["properties"].get(name) == sub for b in branches)
    ]
    providers = [p for b in branches for p in b["properties"]["provider"].get("enum") or [b["properties"]["provider"]["const"]]]
    chain: dict[str, Any] = {}
    for branch in reversed(branches):
        own = {k: v for k, v in branch["properties"].items() if k not in shared and k != "provider"}
        required = [name for name in branch.get("required", []) if name != "provider"]
        provider = branch["properties"]["provider"]
        step = {"if": {"properties": {"provider": provider}}, "then": {"properties": own, "required": required}}
        chain = {**step, "else": chain} if chain else step
    out: dict[str, Any] = {
        "type": "object",
        "properties": {"provider": {"enum": providers}, **{name: first[name] for name in shared}},
        "required": ["provider"],
        **chain,
    }
    if defs:
        out["$defs"] = defs
    return out


PROVIDER_NAMES = {"twilio": "Twilio", "vonage": "Vonage", "telnyx": "Telnyx", "byo-phone-number": "SIP trunk (byo-phone-number)", "vapi": "Vapi"}
ProviderConst = SkipJsonSchema[Literal["vapi", "twilio", "vonage", "telnyx", "byo-phone-number"] | None]
"""The discriminator of Update*PhoneNumberDTO: a number's provider, which an update cannot change (accepted, not listed)."""


def same_provider(given: str | None, number: dict[str, Any]) -> None:
    """The document's update bodies name the number's provider: accepted when it is the number's own."""
    if given is not None and given != number.get("provider"):
        raise InputError("provider", f"is {number.get('provider')} for this number, and an update cannot change it (got {given})")


class UpdateNumberArgs(NumberSettings, Guarded):
    id: VapiId
    provider: ProviderConst = None
    replace: list[Literal["server", "fallbackDestination"]] | None = Field(None, description="Replace these whole instead of merging.")
    hooks: (
        Annotated[
            list[Hook],
            shown_as("[{on:'call.ringing',do:[{type:'say',exact}|{type:'transfer',destination}]}|{on:'call.ending'}]", "array"),
        ]
        | None
    ) = None
    server: Annotated[Server, shown_as("{url,headers?}")] | None = None
    fallbackDestination: Annotated[Destination, shown_as("{type:'number',number}|{type:'sip',sipUri}")] | None = None


class AssignArgs(Args):
    id: VapiId
    provider: ProviderConst = None
    assistantId: VapiId | None = None
    squadId: VapiId | None = None
    workflowId: VapiId | None = None
    clear: bool | None = None

    local_fields = frozenset({"id", "clear", "provider"})

    @model_validator(mode="after")
    def _exactly_one(self) -> AssignArgs:
        given = [name for name in ASSIGNMENTS if getattr(self, name)]
        if self.clear and given:
            raise ValueError(f"give either clear or {given[0]}, not both")
        if not self.clear and len(given) != 1:
            raise ValueError("give exactly one of assistantId, squadId, workflowId, or clear: true")
        return self


def number_view(number: dict[str, Any]) -> dict[str, Any]:
    """A phone number without its org id and without provider secrets (they are write-only)."""
    return {k: v for k, v in without_org(number).items() if not is_secret_field(k)}


def assignment(number: dict[str, Any]) -> dict[str, str]:
    """What answers the number's inbound calls, e.g. {"assistantId": "..."} (empty when nothing does)."""
    return {name: number[name] for name in ASSIGNMENTS if number.get(name)}


def number_row(number: dict[str, Any]) -> dict[str, Any]:
    """One compact line per phone number for list results, with what answers it."""
    row = {key: number.get(key) for key in ("id", "number", "provider", "name", "status")}
    row["number"] = row["number"] or number.get("sipUri")
    return {**non_null(row), **assignment(number)}


def number_label(number: dict[str, Any]) -> str:
    """'+14155550100 ("Front desk")': the number as Vapi has it, its name quoted (names are agent text)."""
    name = number.get("name")
    shown = number.get("number") or number.get("sipUri") or number["id"]
    return f"{shown} ({quoted(name)})" if name else shown


async def check_target(call: ToolContext, field: str, target: str) -> dict[str, Any]:
    """Refuse an assistant or squad id that does not exist before it is attached to anything; the object found."""
    if field not in TARGETS:
        return {}
    path, what, lister = TARGETS[field]
    try:
        found = await call.vapi.get(f"{path}/{target}")
    except VapiError as exc:
        if exc.status == 404:
            raise InputError(field, f"no {what} with id {target} exists", hint=f"{lister} shows the ids.") from None
        raise
    return found if isinstance(found, dict) else {}


def target_label(field: str, target: str, found: dict[str, Any]) -> str:
    """'assistant "Riley" (id)': what answers a number, by name (quoted: names are agent text) and id."""
    what = field.removesuffix("Id")
    return f"{what} {quoted(found['name'])} ({target})" if found.get("name") else f"{what} {target}"


async def check_routing(call: ToolContext, args: Routing) -> str:
    """Check the assignment of a new number; a phrase for the guard's summary, naming what answers it."""
    given = assignment(args.model_dump())
    phrases = [f", answered by {target_label(field, target, await check_target(call, field, target))}" for field, target in given.items()]
    return "".join(phrases)


@tools.tool(title="Buy number", read_only=False, sends=("POST /phone-number", "GET /assistant/{id}", "GET /squad/{id}"))
async def buy_number(args: BuyNumberArgs, call: ToolContext) -> dict[str, Any]:
    """Get a Vapi number (US area codes), optionally in an area code, and attach an assistant or squad. Asks the user to confirm. It takes inbound calls only: to place calls, import_number."""
    answered_by = await check_routing(call, args)
    where = f" in area code {args.numberDesiredAreaCode}" if args.numberDesiredAreaCode else ""
    body = {"provider": "vapi", **args.body()}
    action = args.action(
        call,
        kind="spend",
        summary=f"Buy a Vapi phone number{where}{answered_by}. It takes inbound calls only: Vapi's numbers cannot call out.",
        method="POST",
        path="/phone-number",
        body=body,
        cost=VAPI_NUMBER_COST,
    )
    data = await call.send_guarded(action, check="list_phone_numbers shows whether the number was bought.")
    return {"phoneNumber": number_view(data), "limits": FREE_NUMBER_LIMITS}


@tools.tool(title="Import number", read_only=False, sends=("POST /phone-number", "GET /assistant/{id}", "GET /squad/{id}"))
async def import_number(args: ImportNumberArgs, call: ToolContext) -> dict[str, Any]:
    """Import a number you own at Twilio, Vonage, Telnyx or a SIP trunk (byo-phone-number) so assistants can use it. Asks the user to confirm; secrets are never shown back."""
    branch = args.root
    body = branch.body()  # its number is normalized (Args) and checked by the guard's e164 rule
    answered_by = await check_routing(call, branch)
    action = branch.action(
        call,
        kind="spend",
        summary=f"Import the {PROVIDER_NAMES[branch.provider]} number {branch.number or '(SIP trunk)'} into Vapi{answered_by}.",
        method="POST",
        path="/phone-number",
        body=body,
    )
    data = await call.send_guarded(action, check="list_phone_numbers shows whether the number was imported.")
    return {"phoneNumber": number_view(data)}


@tools.tool(title="List numbers", read_only=True, sends=("GET /phone-number",))
async def list_phone_numbers(args: ListArgs, call: ToolContext) -> dict[str, Any]:
    """List phone numbers, newest first, with what answers each."""
    numbers = await call.vapi.get("/phone-number", params=args.body(), expect=list)
    return {"phoneNumbers": [number_row(n) for n in numbers], "count": len(numbers)}


@tools.tool(title="Get number", read_only=True, sends=("GET /phone-number/{id}",))
async def get_phone_number(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """Get one phone number, all settings."""
    return number_view(await call.vapi.get(f"/phone-number/{args.id}"))


@tools.tool(title="Update number", read_only=False, sends=("GET /phone-number/{id}", "PATCH /phone-number/{id}"))
async def update_phone_number(args: UpdateNumberArgs, call: ToolContext) -> dict[str, Any]:
    """Set a number's name, hooks, server or fallbackDestination; server and fallbackDestination are merged into
    the number's (what you leave out is kept) unless named in replace."""
    path = f"/phone-number/{args.id}"
    body = args.body(exclude={"id", "replace", "provider"})
    if not body:
        raise InputError("name, hooks, server or fallbackDestination", "give at least one")
    before = await call.vapi.get(path)
    same_provider(args.provider, before)
    merge = merged_update(before, body, replace=args.replace or (), whole=("hooks",))
    summary = f"Change {merge.phrase()} of the phone number {number_label(before)}."
    data = await call.send("PATCH", path, merge.body, args=args, summary=summary)
    return {"phoneNumber": number_view(data), "before": {k: before.get(k) for k in body}, **merge.view()}


@tools.tool(
    title="Assign number",
    read_only=False,
    sends=("GET /phone-number/{id}", "PATCH /phone-number/{id}", "GET /assistant/{id}", "GET /squad/{id}"),
)
async def assign_assistant(args: AssignArgs, call: ToolContext) -> dict[str, Any]:
    """Attach one of assistantId, squadId, workflowId to a number, or clear."""
    path = f"/phone-number/{args.id}"
    chosen = args.body()
    named = [target_label(field, target, await check_target(call, field, target)) for field, target in chosen.items()]
    current = await call.vapi.get(path)
    same_provider(args.provider, current)
    before = assignment(current)
    # Vapi keeps the other fields unless they are cleared, and a number must not point at two things.
    body = {**{field: None for field in before if field not in chosen}, **chosen}
    what = f"to {named[0]}" if named else "to nothing (calls to it are no longer answered)"
    data = await call.send("PATCH", path, body, args=args, summary=f"Assign {number_label(current)} {what}.") if body else current
    return {"phoneNumber": number_row(data), "before": before or None}


@tools.tool(title="Delete number", read_only=False, sends=("GET /phone-number/{id}", "DELETE /phone-number/{id}"))
async def delete_phone_number(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Release a phone number (asks the user to confirm); it stops taking calls."""
    path = f"/phone-number/{args.id}"
    number = await call.vapi.get(path)
    await delete_confirmed(call, args, path, f"Delete the phone number {number_label(number)}.")
    return {"deleted": number_row(number)}
