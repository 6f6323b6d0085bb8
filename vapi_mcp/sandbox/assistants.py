"""/assistant and /squad: create, list, get, update, delete.

CreateAssistantDTO is declared field by field after ../shared/vapi-openapi.json: the fields
agents set most have rules, the others are accepted as Vapi objects this sandbox does not model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .clock import iso
from .core import ApiError, body_of, collection_routes, find, paginate, query_of, stamp
from .phone_numbers import LIST_QUERY
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


def routes(sb: Sandbox) -> list[Route]:
    store = sb.store

    def check_members(squad: dict[str, Any]) -> None:
        missing = [
            f"members.{i}.assistantId {member['assistantId']} does not exist in this org"
            for i, member in enumerate(squad["members"])
            if member.get("assistantId") and member["assistantId"] not in store.assistants
        ]
        if missing:
            raise ApiError(400, missing)

    def refuse_if_in_use(what: str, field: str, item_id: str) -> None:
        """The OpenAPI document is silent on deleting what a phone number answers with; refuse, naming the numbers."""
        users = [n.get("number") or n["id"] for n in store.phone_numbers.values() if n.get(field) == item_id]
        if users:
            raise ApiError(
                400,
                f"{what} is in use by phone number(s) {', '.join(users)}. "
                f"Unassign it first (PATCH /phone-number/{{id}} with another {field} or null)",
            )

    def crud(path: str, collection: dict[str, dict[str, Any]], what: str, rule: Obj, field: str, query: dict[str, Rule]) -> list[Route]:
        async def create(request: Request) -> JSONResponse:
            body = await body_of(request, rule)
            if rule is SQUAD:
                check_members(body)
            item = stamp(sb.clock, **{k: v for k, v in body.items() if v is not None})
            collection[item["id"]] = item
            return JSONResponse(item, status_code=201)

        async def list_items(request: Request) -> JSONResponse:
            params = query_of(request, query)
            items = list(collection.values())
            if "idAny" in params:
                wanted = set(params["idAny"].split(","))
                items = [i for i in items if i["id"] in wanted]
            return JSONResponse(paginate(items, params))

        async def get(request: Request) -> JSONResponse:
            return JSONResponse(find(collection, request, what))

        async def update(request: Request) -> JSONResponse:
            item = find(collection, request, what)
            body = await body_of(request, rule)
            if rule is SQUAD:
                check_members(body)
            item.update({k: v for k, v in body.items() if v is not None})
            item["updatedAt"] = iso(sb.clock.now())
            return JSONResponse(item)

        async def delete(request: Request) -> JSONResponse:
            item = find(collection, request, what)
            refuse_if_in_use(what, field, item["id"])
            del collection[item["id"]]
            return JSONResponse(item)

        return collection_routes(path, create, list_items, get, update, delete)

    return [
        *crud("/assistant", store.assistants, "Assistant", ASSISTANT, "assistantId", LIST_QUERY),
        *crud("/squad", store.squads, "Squad", SQUAD, "squadId", SQUAD_QUERY),
    ]
