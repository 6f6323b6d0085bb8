"""/assistant and /squad: create, list, get, update, delete.

CreateAssistantDTO is declared field by field after ../shared/vapi-openapi.json: the fields
agents set most have rules, the others are accepted as Vapi objects this sandbox does not model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core import ApiError
from .phone_numbers import LIST_QUERY
from .resource import Resource
from .tools import INLINE_TOOL
from .validation import SERVER, Any_, Arr, Num, Obj, Rule, Str

if TYPE_CHECKING:
    from . import Sandbox

MODEL_PROVIDERS = (
    "anthropic",
    "anthropic-bedrock",
    "anyscale",
    "cerebras",
    "custom-llm",
    "deepinfra",
    "deep-seek",
    "google",
    "groq",
    "inflection-ai",
    "minimax",
    "openai",
    "openrouter",
    "perplexity-ai",
    "together-ai",
    "xai",
    "vapi",
)
MESSAGE = Obj({"content": Str(nullable=True), "role": Str(enum=("assistant", "function", "user", "system", "tool"))}, required=("role",))
MODEL = Obj(
    {
        "provider": Str(enum=MODEL_PROVIDERS),
        "model": Str(),
        "messages": Arr(MESSAGE),
        "temperature": Num(minimum=0, maximum=2),
        "toolIds": Arr(Str()),
        "tools": Arr(INLINE_TOOL),
        "maxTokens": Num(minimum=50, maximum=10000),
    },
    required=("provider",),
    open=True,
)
PROVIDER_OBJECT = Obj({"provider": Str()}, required=("provider",), open=True)
"""`voice` and `transcriber`: one of many provider-specific schemas, each naming its provider."""

_OTHER_ASSISTANT_FIELDS = (
    "firstMessageInterruptionsEnabled",
    "voicemailDetection",
    "clientMessages",
    "serverMessages",
    "backgroundSound",
    "modelOutputInMessagesEnabled",
    "transportConfigurations",
    "observabilityPlan",
    "credentials",
    "hooks",
    "compliancePlan",
    "metadata",
    "backgroundSpeechDenoisingPlan",
    "analysisPlan",
    "artifactPlan",
    "startSpeakingPlan",
    "stopSpeakingPlan",
    "monitorPlan",
    "credentialIds",
    "keypadInputPlan",
)
ASSISTANT = Obj(
    {
        "transcriber": PROVIDER_OBJECT,
        "model": MODEL,
        "voice": PROVIDER_OBJECT,
        "firstMessage": Str(),
        "firstMessageMode": Str(enum=("assistant-speaks-first", "assistant-speaks-first-with-model-generated-message", "assistant-waits-for-user")),
        "maxDurationSeconds": Num(minimum=10, maximum=43200),
        "name": Str(max_len=40),
        "voicemailMessage": Str(max_len=1000),
        "endCallMessage": Str(max_len=1000),
        "endCallPhrases": Arr(Str(min_len=2, max_len=140)),
        "server": SERVER,
        **{name: Any_() for name in _OTHER_ASSISTANT_FIELDS},
    }
)
"""CreateAssistantDTO; UpdateAssistantDTO has the same fields."""

SQUAD_MEMBER = Obj(
    {
        "assistantVersion": Str(nullable=True),
        "assistantDestinations": Arr(),
        "assistantId": Str(nullable=True, uuid=True),
        "assistant": ASSISTANT,
        "assistantOverrides": Any_(),
    }
)
SQUAD = Obj({"name": Str(), "members": Arr(SQUAD_MEMBER), "membersOverrides": Any_()}, required=("members",))
"""CreateSquadDTO; UpdateSquadDTO has the same fields (members required too)."""

DTOS: dict[str, Obj] = {
    "CreateAssistantDTO": ASSISTANT,
    "UpdateAssistantDTO": ASSISTANT,
    "CreateSquadDTO": SQUAD,
    "UpdateSquadDTO": SQUAD,
    "SquadMemberDTO": SQUAD_MEMBER,
    "OpenAIMessage": MESSAGE,
}
"""Every rule of this module by the OpenAPI schema it mirrors (for the tests)."""

SQUAD_QUERY: dict[str, Rule] = {**LIST_QUERY, "idAny": Str()}


def check_members(sb: Sandbox, squad: dict[str, Any]) -> None:
    """A squad's members name assistants that exist."""
    missing = [
        f"members.{i}.assistantId {member['assistantId']} does not exist in this org"
        for i, member in enumerate(squad.get("members") or [])
        if member.get("assistantId") and member["assistantId"] not in sb.store.assistants
    ]
    if missing:
        raise ApiError(400, missing)


def used_by_numbers(what: str, field: str) -> Any:
    """A `Resource.refuse`: deleting what a phone number answers with is refused, naming the numbers.

    The OpenAPI document is silent on it; Vapi would leave the number pointing at nothing."""

    def refuse(sb: Sandbox, item: dict[str, Any], verb: str) -> str | None:
        users = [n.get("number") or n["id"] for n in sb.store.phone_numbers.values() if n.get(field) == item["id"]] if verb == "delete" else []
        if not users:
            return None
        return f"{what} is in use by phone number(s) {', '.join(users)}. Unassign it first (PATCH /phone-number/{{id}} with another {field} or null)"

    return refuse


ASSISTANTS = Resource("/assistant", "assistants", "Assistant", ASSISTANT, ASSISTANT, LIST_QUERY, refuse=used_by_numbers("Assistant", "assistantId"))
SQUADS = Resource("/squad", "squads", "Squad", SQUAD, SQUAD, SQUAD_QUERY, check=check_members, refuse=used_by_numbers("Squad", "squadId"))

routes = [*ASSISTANTS.routes(), *SQUADS.routes()]
