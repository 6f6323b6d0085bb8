"""/structured-output: create, list, get, update, delete, and run on calls (preview or rerun).

The DTOs are declared field by field after ../shared/vapi-openapi.json; extraction follows the
sandbox's written rules (judging.extract) on the call's transcript, read on the sandbox clock.
A rerun (`previewEnabled` false) overwrites the value stored in each call's
`artifact.structuredOutputs`, as at Vapi. A preview says once that the value comes from a
conversation drawn by rule (conversation.NOTE_HEADER).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .calls import live
from .conversation import note_headers
from .core import DATE_FILTERS, ApiError, body_of, find, new_id, query_of, sandbox_of
from .judging import extract
from .phone_numbers import Nested
from .providers import ANTHROPIC_BEDROCK_MODELS, ANTHROPIC_MODELS, ANTHROPIC_THINKING_CONFIG, GEMINI_MODELS, MESSAGE, WORKFLOW_OPENAI_MODELS
from .resource import Resource
from .tools import JSON_SCHEMA
from .validation import OPEN, Arr, Bool, Num, Obj, Rule, Str, Tagged


def _model(provider: str, models: tuple[str, ...] | None, **fields: Rule) -> Obj:
    """A Workflow*Model: the provider, one of its model names (any name up to 100 characters for a custom LLM, which also needs a `url`)."""
    model = Str(enum=models) if models is not None else Str(max_len=100)
    rules = {"messages": Arr(MESSAGE), "provider": Str(enum=(provider,)), **fields, "model": model}
    required = ("provider", *(("url",) if "url" in fields else ()), "model")
    return Obj({**rules, "temperature": Num(minimum=0, maximum=2), "maxTokens": Num(minimum=50, maximum=10000)}, required=required)


MODEL = Tagged(
    "provider",
    {
        "openai": _model("openai", WORKFLOW_OPENAI_MODELS),
        "anthropic": _model("anthropic", ANTHROPIC_MODELS, thinking=ANTHROPIC_THINKING_CONFIG),
        "anthropic-bedrock": _model("anthropic-bedrock", ANTHROPIC_BEDROCK_MODELS, thinking=ANTHROPIC_THINKING_CONFIG),
        "google": _model("google", GEMINI_MODELS),
        "custom-llm": _model(
            "custom-llm", None, metadataSendMode=Str(enum=("off", "variable", "destructured")), url=Str(), headers=OPEN, timeoutSeconds=Num(minimum=20, maximum=600)
        ),
    },
)
"""The Workflow*Model union: a structured output's model, with the document's model names."""
COMPLIANCE_OVERRIDE = Obj({"forceStoreOnHipaaEnabled": Bool()})
"""ComplianceOverride."""

CONDITION = Tagged(
    "type",
    {
        "minMessages": Obj({"type": Str(enum=("minMessages",)), "count": Num(minimum=0)}, required=("type", "count")),
        "minCallDuration": Obj({"type": Str(enum=("minCallDuration",)), "seconds": Num(minimum=0)}, required=("type", "seconds")),
        "endedReason": Obj(
            {"type": Str(enum=("endedReason",)), "operator": Str(enum=("oneOf", "notOneOf")), "values": Arr(Str(), min_items=1)},
            required=("type", "operator", "values"),
        ),
    },
)


_FIELDS: dict[str, Rule] = {
    "type": Str(enum=("ai", "regex")),
    "regex": Str(min_len=1, max_len=1000),
    "model": MODEL,
    "compliancePlan": COMPLIANCE_OVERRIDE,
    "conditions": Nested(CONDITION),
    "name": Str(min_len=1, max_len=40),
    "schema": JSON_SCHEMA,
    "description": Str(),
    "assistantIds": Arr(Str()),
    "workflowIds": Arr(Str()),
}
CREATE = Obj(_FIELDS, required=("name", "schema"))
UPDATE = Obj(_FIELDS)
RUN = Obj(
    {"previewEnabled": Bool(), "structuredOutputId": Str(), "structuredOutput": CREATE, "callIds": Arr(Str())},
    required=("callIds",),
)

LIST_QUERY: dict[str, Rule] = {
    "id": Str(),
    "name": Str(),
    "page": Num(minimum=1),
    "sortOrder": Str(enum=("ASC", "DESC")),
    "sortBy": Str(enum=("createdAt", "duration", "cost")),
    "limit": Num(minimum=0, maximum=1000),
    **DATE_FILTERS,
}
UPDATE_QUERY: dict[str, Rule] = {"schemaOverride": Str()}
RERUN_LIMIT = 100

DTOS: dict[str, Rule] = {
    "CreateStructuredOutputDTO": CREATE,
    "UpdateStructuredOutputDTO": UPDATE,
    "StructuredOutputRunDTO": RUN,
    **{f"Workflow{name}Model": MODEL.branches[provider] for provider, name in (
        ("openai", "OpenAI"), ("anthropic", "Anthropic"), ("anthropic-bedrock", "AnthropicBedrock"), ("google", "Google"), ("custom-llm", "Custom")
    )},
    "MinMessagesCondition": CONDITION.branches["minMessages"],
    "MinCallDurationCondition": CONDITION.branches["minCallDuration"],
    "EndedReasonCondition": CONDITION.branches["endedReason"],
}  # fmt: skip
"""Every rule of this module by the OpenAPI schema it mirrors (for the tests)."""


OUTPUTS = Resource("/structured-output", "structured_outputs", "Structured Output", CREATE, UPDATE, LIST_QUERY, page=True, defaults={"type": "ai"})


async def update_output(request: Request) -> JSONResponse:
    """PATCH /structured-output/{id}: the document requires the `schemaOverride` query parameter."""
    find(sandbox_of(request).store.structured_outputs, request, "Structured Output")
    if "schemaOverride" not in query_of(request, UPDATE_QUERY):
        raise ApiError(400, ["schemaOverride should not be empty"])
    return await OUTPUTS.update_item(request)


async def run(request: Request) -> JSONResponse:
    """Extract an output from calls: a preview (one call, nothing stored) or a rerun (stored on each call)."""
    sb = sandbox_of(request)
    store = sb.store.structured_outputs
    body = await body_of(request, RUN)
    if (body.get("structuredOutputId") is None) == (body.get("structuredOutput") is None):
        raise ApiError(400, ["Need Either `structuredOutputId` Or `structuredOutput`, Not Both."])
    call_ids = body["callIds"]
    preview = body.get("previewEnabled", False)
    if preview and len(call_ids) != 1:
        raise ApiError(400, ["callIds must contain exactly 1 callId when previewEnabled is true"])
    if not 1 <= len(call_ids) <= RERUN_LIMIT:
        raise ApiError(400, [f"callIds must contain between 1 and {RERUN_LIMIT} elements"])
    if body.get("structuredOutputId") is not None:
        output_id = body["structuredOutputId"]
        output = store.get(output_id)
        if output is None:
            raise ApiError(400, f"Couldn't Get Structured Output. `structuredOutputId` {output_id} Not Found.")
    else:
        output_id, output = new_id(), body["structuredOutput"]
    now = sb.now()
    results = {}
    for call_id in call_ids:
        call = sb.store.calls.get(call_id)
        if call is None:
            raise ApiError(400, f"Couldn't Get Call. `callId` {call_id} Not Found.")
        transcript = (live(call, now).get("artifact") or {}).get("transcript") or ""
        results[call_id] = {"name": output["name"], "result": extract(output, transcript, now=now)}
    if preview:
        return JSONResponse({output_id: results[call_ids[0]]}, headers=note_headers())
    for call_id, result in results.items():
        sb.store.calls[call_id].setdefault("_structured_outputs", {})[output_id] = result
    return JSONResponse({"workflowId": new_id(), "message": f"Structured output rerun started for {len(call_ids)} call(s)."})


routes = [
    Route("/structured-output/run", run, methods=["POST"]),
    *OUTPUTS.routes(update=update_output),
]
BODIES: dict[tuple[str, str], Rule] = {
    ("POST", "/structured-output"): CREATE,
    ("PATCH", "/structured-output/{id}"): UPDATE,
    ("POST", "/structured-output/run"): RUN,
}
"""The request bodies this module validates, by route (the tests compare each with the document)."""
