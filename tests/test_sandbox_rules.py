"""The sandbox's rules follow Vapi's document, mechanically: every request body it validates is walked
beside the document's schema (`rules_kit.compare`), so a field, an enum, a required field, a limit or a
union that drifts from the document fails here. Where the sandbox checks less than the document, the
place is on a reviewed list (OPEN_BY_DESIGN) with the reason; where it differs, on DEVIATIONS."""

from __future__ import annotations

import functools

import pytest
from starlette.routing import Route

from tests.openapi import document
from tests.rules_kit import Comparison, compare, request_body
from vapi_mcp.sandbox import BODIES, MODULES, ROUTES, assistants, providers, tools
from vapi_mcp.sandbox.resource import Resource
from vapi_mcp.sandbox.validation import Arr, Num, Obj, Str, Tagged

UNDOCUMENTED_ROUTES = {
    ("POST", "/call/web"): "CreateWebCallDTO",  # the document declares the DTO but lists no path for it
    ("POST", "/sandbox/clock"): None,  # the sandbox's own control, not Vapi's
    ("POST", "/call/{id}/control"): None,  # a live call's control URL (monitor.controlUrl), outside the document's paths
}
"""Routes the sandbox serves with a body whose route the document does not list: the schema it follows, if any."""

PAIRS = {
    "VapiSmartEndpointingPlan": "vapi",
    "LivekitSmartEndpointingPlan": "livekit",
    "CustomEndpointingModelSmartEndpointingPlan": "custom-endpointing-model",
    "CallHookCustomerSpeechTimeout": "customer.speech.timeout",
    "SystemMessage": "system",
    "UserMessage": "user",
}
"""Union branches whose tag the document does not fix to one value, and the value that picks them: each smart
endpointing plan's `provider` enum lists all three providers; a customer speech timeout hook's `on` is
`customer.speech.timeout` or `customer.speech.timeout[property=value]`."""

SKIP = {
    "SystemMessage": "A chat's and a session's system message: the document's schema of that name is a call transcript's "
    "(role, message, time, secondsFromStart), two schemas sharing one name; chat messages are {role, content}",
    "UserMessage": "As SystemMessage: a call transcript's user turn under the chat message's name",
}
"""Schemas not compared, because the document contradicts itself there."""

DEVIATIONS = {
    "EndedReasonCondition.values (minItems)": "the document's description: 'Must contain at least one value' (no minItems)",
    "PhoneNumberCallRingingHookFilter.startsWith (maxItems)": "the document writes the array's limit as maxLength: 20 (at most 20 prefixes)",
}
"""Where a rule differs from the document's schema on purpose, and why."""

OPEN_BY_DESIGN = {
    "CreateAssistantDTO.credentials[]": "57 providers' Create*CredentialDTO: keys for the providers, which the sandbox never calls",
    "UpdateAssistantDTO.credentials[]": "as CreateAssistantDTO.credentials",
    "AssistantOverrides.credentials[]": "as CreateAssistantDTO.credentials",
    "CompliancePlan.recordingConsentPlan": "recording consent plans: the sandbox records nothing",
    "SecurityFilterPlan": "a compliance plan's security filters: the sandbox filters nothing",
    "CreateWorkflowDTO": "a transient workflow on a call: the sandbox runs no workflows",
    "WorkflowUserEditable": "a Vapi model's workflow: the sandbox runs no workflows",
    "FallbackPlan": "voices to fall back on, each a Fallback*Voice schema: the sandbox's voice never fails",
    "FallbackTranscriberPlan": "transcribers to fall back on: the sandbox's transcriber never fails",
    "GeminiMultimodalLiveSpeechConfig": "a Google realtime model's speech settings",
    "TavusConversationProperties": "a Tavus video voice's conversation properties",
    "SayHookAction.prompt[]": "messages for a hook's generated line, which the document names after a call transcript's (see SKIP)",
}
"""Where the sandbox accepts what the document constrains (reviewed): `Schema.property` -> why."""


@functools.cache
def comparison() -> Comparison:
    out = Comparison(pairs=dict(PAIRS), skip=dict(SKIP))
    for (method, path), rule in BODIES.items():
        node = request_body(method, path)
        if node is None:
            node = {"$ref": f"#/components/schemas/{UNDOCUMENTED_ROUTES[(method, path)]}"}
        compare(rule, node, f"{method} {path}", out)
    return out


def served_with_body() -> set[tuple[str, str]]:
    return {(method, route.path) for route in ROUTES if isinstance(route, Route) for method in route.methods or () if method in ("POST", "PATCH", "DELETE")}


def test_every_body_the_document_declares_on_a_served_route_has_a_rule():
    documented = {(method, path) for method, path in served_with_body() if request_body(method, path) is not None}
    assert documented - set(BODIES) == set()


def test_every_rule_is_for_a_documented_body():
    for method, path in BODIES:
        assert (method, path) in served_with_body(), (method, path)
        assert request_body(method, path) is not None or UNDOCUMENTED_ROUTES.get((method, path)), (method, path)


def test_the_rules_follow_the_document():
    """Every declared field exists in the document; every enum (providers, model names, voices, languages...)
    equals the document's; required fields, limits, formats, patterns and union tags are the document's."""
    assert comparison().problems.keys() == DEVIATIONS.keys(), comparison().problems


def test_what_the_sandbox_leaves_open_is_the_reviewed_list():
    assert comparison().open.keys() == OPEN_BY_DESIGN.keys(), comparison().open


def test_the_walk_reaches_the_schemas_agents_send():
    reached = comparison().schemas
    deep = {
        "CreateAssistantDTO", "AssistantOverrides", "ElevenLabsVoice", "OpenAIModel", "AnthropicModel", "DeepgramTranscriber",
        "AnalysisPlan", "ArtifactPlan", "StartSpeakingPlan", "CallHookCallEnding", "ToolCallHookAction", "CreateFunctionToolDTO",
        "CreateTransferCallToolDTO", "TransferPlan", "HandoffDestinationAssistant", "JsonSchema", "ToolMessageStart",
        "CreateCallDTO", "CreateCustomerDTO", "SchedulePlan", "ImportTwilioPhoneNumberDTO", "CreateChatDTO", "CreateSessionDTO",
        "CreateVapiPhoneNumberDTO", "PhoneNumberHookCallRinging", "CreateCampaignDTO", "CreateEvalDTO", "EvalOpenAIModel",
        "CreateScenarioDTO", "CreateSimulationRunDTO", "CreateStructuredOutputDTO", "WorkflowOpenAIModel", "AnalyticsQueryDTO",
    }  # fmt: skip
    assert deep - reached == set()
    assert len(reached) > 300


def test_the_walk_catches_drift():
    """The comparison fails when a rule drifts: an enum value, a field, a required field, a limit, a union tag."""
    voice = {"$ref": "#/components/schemas/ElevenLabsVoice"}
    declared = providers.ELEVENLABS_VOICE
    assert not compare(declared, voice, "voice").problems
    renamed = Obj({**declared.fields, "provider": Str(enum=("elevenlabs",))}, required=declared.required)
    assert "ElevenLabsVoice.provider (enum)" in compare(renamed, voice, "voice").problems
    invented = Obj({**declared.fields, "pitch": Str()}, required=declared.required)
    assert "ElevenLabsVoice (properties)" in compare(invented, voice, "voice").problems
    missing = Obj({k: v for k, v in declared.fields.items() if k != "speed"}, required=declared.required)
    assert "ElevenLabsVoice (refused)" in compare(missing, voice, "voice").problems
    loose = Obj(declared.fields, required=("provider",))
    assert "ElevenLabsVoice (required)" in compare(loose, voice, "voice").problems
    widened = Obj({**declared.fields, "stability": Num(minimum=0, maximum=2)}, required=declared.required)
    assert "ElevenLabsVoice.stability (maximum)" in compare(widened, voice, "voice").problems
    unchecked = Obj({**declared.fields, "model": Str()}, required=declared.required)
    assert "ElevenLabsVoice.model" in compare(unchecked, voice, "voice").open
    model = {"$ref": "#/components/schemas/CreateAssistantDTO"}
    fewer = Tagged("provider", {k: v for k, v in providers.MODEL.branches.items() if k != "xai"})
    assert "CreateAssistantDTO.model (provider)" in compare(Obj({**assistants.FIELDS, "model": fewer}), model, "assistant").problems


def test_the_document_and_the_rules_agree_on_the_unions_agents_pick_from():
    schemas = document()["components"]["schemas"]

    def tags(prop: str) -> set[str]:
        return {schemas[b["$ref"].rsplit("/", 1)[1]]["properties"]["provider"]["enum"][0] for b in schemas["CreateAssistantDTO"]["properties"][prop]["oneOf"]}

    assert set(providers.VOICE.branches) == tags("voice") and "11labs" in providers.VOICE.branches and "elevenlabs" not in providers.VOICE.branches
    assert set(providers.MODEL.branches) == tags("model")
    assert set(providers.TRANSCRIBER.branches) == tags("transcriber")
    assert set(tools.CREATE_TOOL.branches) == set(tools.TOOL_TYPES)
    openai = providers.OPENAI_MODEL.fields["model"]
    assert isinstance(openai, Str) and openai.enum == tuple(schemas["OpenAIModel"]["properties"]["model"]["enum"])
    assert "gpt-5-turbo-ultra" not in openai.enum


@pytest.mark.parametrize("route", sorted(BODIES))
def test_each_rule_refuses_a_property_the_document_does_not_have(route):
    """Vapi's whitelist: an unknown top-level property is a 400 naming it (every body is an object DTO)."""
    rule = BODIES[route]
    body = {"definitelyNotAVapiField": 1}
    if isinstance(rule, Tagged):
        tag, (value, branch) = rule.tag, next(iter(rule.branches.items()))
        body[tag] = value
        rule = branch
    assert isinstance(rule, Obj) and not rule.open, route
    assert "property definitelyNotAVapiField should not exist" in rule.check(body, "")


def test_arrays_of_objects_name_each_item_by_index():
    rule = Arr(assistants.MESSAGE)
    roles = "assistant, function, user, system, tool"
    assert rule.check([{"role": "system", "content": "Hi"}, {"role": "robot", "content": "Hi"}], "model.messages") == [
        f"model.messages.1.role must be one of the following values: {roles}"
    ]


def resources() -> list[Resource]:
    return [value for module in MODULES for value in vars(module).values() if isinstance(value, Resource)]


@pytest.mark.parametrize("resource", resources(), ids=lambda r: r.path)
def test_each_collections_list_takes_the_documents_query_parameters(resource):
    parameters = document()["paths"][resource.path]["get"].get("parameters", [])
    assert set(resource.query) == {p["name"] for p in parameters if p["in"] == "query"}


@pytest.mark.parametrize(("method", "path"), [("POST", "/phone-number"), ("PATCH", "/phone-number/{id}"), ("POST", "/tool"), ("PATCH", "/tool/{id}")])
def test_a_discriminator_mapping_picks_the_branch_the_rule_picks(method, path):
    """Where the document maps a union's tag values to schemas (`discriminator.mapping`), the rule's branch for
    each value is compared with that schema (the mapping may leave a value out: /tool's misses `code`)."""
    body = request_body(method, path)
    rule = BODIES[(method, path)]
    assert isinstance(rule, Tagged) and rule.tag == body["discriminator"]["propertyName"]
    for value, ref in body["discriminator"]["mapping"].items():
        assert value in rule.branches, value
        found = compare(rule.branches[value], {"$ref": ref}, f"{method} {path}", Comparison(pairs=dict(PAIRS), skip=dict(SKIP)))
        assert found.problems.keys() <= DEVIATIONS.keys(), (value, found.problems)
