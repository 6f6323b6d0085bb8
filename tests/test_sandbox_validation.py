"""What Vapi refuses, the sandbox refuses: over HTTP, with Vapi's 400 shape and class-validator messages
that name the field (nested by dots and indexes) and the rule, and nothing stored. The expected values
of each enum are read from the document, never from the sandbox's own declarations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.openapi import schema
from tests.rules_kit import request_body
from vapi_mcp.sandbox import Sandbox
from vapi_mcp.sandbox.core import stamp

MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@pytest.fixture
def ids(sandbox: Sandbox, clock: Any) -> dict[str, str]:
    assistant = stamp(clock, name="Sunny Paws", firstMessage="Hi, Sunny Paws grooming.")
    number = stamp(clock, provider="vapi", number="+14155550100", name="Front desk", status="active")
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.phone_numbers[number["id"]] = number
    return {"assistant": assistant["id"], "number": number["id"]}


def union_tags(owner: str, prop: str, tag: str = "provider") -> str:
    """The values a union of the document accepts for `tag`, in its order (as Vapi lists them)."""
    node = schema(owner)["properties"][prop]
    node = node.get("items", node)
    return ", ".join(schema(b["$ref"].rsplit("/", 1)[1])["properties"][tag]["enum"][0] for b in node["oneOf"] if "$ref" in b)


def enum(owner: str, prop: str) -> str:
    return ", ".join(schema(owner)["properties"][prop]["enum"])


VOICE = {"provider": "11labs", "voiceId": "burt"}
MODEL = {"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": "You are Sunny Paws' receptionist."}]}

REFUSED: list[tuple[str, str, dict[str, Any], str]] = [
    # the reproductions
    ("POST", "/assistant", {"name": "Sunny Paws", "voice": {"provider": "elevenlabs", "voiceId": "burt"}}, "voice.provider must be one of the following values: {voices}"),
    ("POST", "/assistant", {"name": "Sunny Paws", "model": {**MODEL, "model": "gpt-5-turbo-ultra"}}, "model.model must be one of the following values: {openai}"),
    # providers, their model names, their fields
    ("POST", "/assistant", {"model": {"provider": "openia", "model": "gpt-4o"}}, "model.provider must be one of the following values: {models}"),
    ("POST", "/assistant", {"transcriber": {"provider": "deepgramm"}}, "transcriber.provider must be one of the following values: {transcribers}"),
    ("POST", "/assistant", {"transcriber": {"provider": "deepgram", "language": "klingon"}}, "transcriber.language must be one of the following values: {deepgram}"),
    ("POST", "/assistant", {"voice": {"provider": "11labs", "voiceId": "burt", "model": "eleven_v9"}}, "voice.model must be one of the following values: {elevenlabs}"),
    ("POST", "/assistant", {"voice": {"provider": "11labs"}}, "voice.voiceId should not be empty"),
    ("POST", "/assistant", {"voice": {**VOICE, "pitch": 2}}, "voice.property pitch should not exist"),
    ("POST", "/assistant", {"voice": {**VOICE, "stability": 1.5}}, "voice.stability must not be greater than 1"),
    ("POST", "/assistant", {"model": {"provider": "openai"}}, "model.model should not be empty"),
    ("POST", "/assistant", {"model": {**MODEL, "temperature": 3}}, "model.temperature must not be greater than 2"),
    ("POST", "/assistant", {"model": {**MODEL, "messages": [{"role": "robot", "content": "hi"}]}}, "model.messages.0.role must be one of the following values: assistant, function, user, system, tool"),
    # the assistant's own fields and plans
    ("POST", "/assistant", {"firstMessageMode": "assistant-speaks-last"}, "firstMessageMode must be one of the following values: {first_modes}"),
    ("POST", "/assistant", {"firstMessage": 42}, "firstMessage must be a string"),
    ("POST", "/assistant", {"maxDurationSeconds": 5}, "maxDurationSeconds must not be less than 10"),
    ("POST", "/assistant", {"endCallPhrases": ["x"]}, "each value in endCallPhrases must be longer than or equal to 2 characters"),
    ("POST", "/assistant", {"serverMessages": ["end-of-call-report", "everything"]}, "each value in serverMessages must be one of the following values: {server_messages}"),
    ("POST", "/assistant", {"analysisPlan": {"summaryPlan": {"enabled": "yes"}}}, "analysisPlan.summaryPlan.enabled must be a boolean value"),
    ("POST", "/assistant", {"artifactPlan": {"recordingFormat": "ogg"}}, "artifactPlan.recordingFormat must be one of the following values: wav;l16, mp3"),
    ("POST", "/assistant", {"startSpeakingPlan": {"waitSeconds": 9}}, "startSpeakingPlan.waitSeconds must not be greater than 5"),
    ("POST", "/assistant", {"voicemailDetection": "on"}, "voicemailDetection must be one of the following values: off"),
    ("POST", "/assistant", {"hooks": [{"on": "call.started", "do": []}]}, "hooks.0.on must be one of the following values: {hooks}"),
    ("POST", "/assistant", {"hooks": [{"on": "call.ending", "do": [{"type": "say", "exact": "Bye"}]}]}, "hooks.0.do.0.type must be one of the following values: tool, message.add"),
    ("POST", "/assistant", {"server": {"url": "https://hooks.example.com", "timeoutSeconds": 0}}, "server.timeoutSeconds must not be less than 1"),
    # inline tools inside the model
    ("POST", "/assistant", {"model": {**MODEL, "tools": [{"type": "function", "function": {"name": "book it"}}]}}, "model.tools.0.function.name must match /^[a-zA-Z0-9_-]{{1,64}}$/ regular expression"),
    ("POST", "/assistant", {"model": {**MODEL, "tools": [{"type": "webhook"}]}}, "model.tools.0.type must be one of the following values: {tool_types}"),
    ("POST", "/assistant", {"model": {**MODEL, "tools": [{"type": "transferCall", "destinations": [{"type": "assistant"}]}]}}, "model.tools.0.destinations.0.assistantName should not be empty"),
    ("PATCH", "/assistant/{assistant}", {"voice": {"provider": "elevenlabs", "voiceId": "burt"}}, "voice.provider must be one of the following values: {voices}"),
    # squads carry assistants
    ("POST", "/squad", {"members": [{"assistant": {"voice": {"provider": "elevenlabs", "voiceId": "burt"}}}]}, "members.0.assistant.voice.provider must be one of the following values: {voices}"),
    ("POST", "/squad", {"members": [{"assistantId": "{assistant}"}], "membersOverrides": {"firstMessageMode": "never"}}, "membersOverrides.firstMessageMode must be one of the following values: {first_modes}"),
    # tools of each kind
    ("POST", "/tool", {"type": "apiRequest", "method": "POST"}, "url should not be empty"),
    ("POST", "/tool", {"type": "apiRequest", "url": "https://x.example", "method": "FETCH"}, "method must be one of the following values: POST, GET, PUT, PATCH, DELETE"),
    ("POST", "/tool", {"type": "code"}, "code should not be empty"),
    ("POST", "/tool", {"type": "function", "messages": [{"type": "request-start", "content": "x" * 1001}]}, "messages.0.content must be shorter than or equal to 1000 characters"),
    ("POST", "/tool", {"type": "handoff", "destinations": [{"type": "assistant", "assistant": {"voice": {"provider": "elevenlabs", "voiceId": "x"}}}]}, "destinations.0.assistant.voice.provider must be one of the following values: {voices}"),
    ("POST", "/tool", {"type": "sipRequest"}, "verb should not be empty"),
    # calls: transient assistants, customers, schedules, overrides
    ("POST", "/call", {"assistant": {"voice": {"provider": "elevenlabs", "voiceId": "burt"}}, "phoneNumberId": "{number}", "customer": {"number": "+14155550123"}}, "assistant.voice.provider must be one of the following values: {voices}"),
    ("POST", "/call", {"assistantId": "{assistant}", "assistantOverrides": {"model": {**MODEL, "model": "gpt-5-turbo-ultra"}}, "phoneNumberId": "{number}", "customer": {"number": "+14155550123"}}, "assistantOverrides.model.model must be one of the following values: {openai}"),
    ("POST", "/call", {"assistantId": "{assistant}", "phoneNumberId": "{number}", "customers": [{"number": "+1"}]}, "customers.0.number must be longer than or equal to 3 characters"),
    ("POST", "/call", {"assistantId": "{assistant}", "phoneNumberId": "{number}", "customer": {"number": "+14155550123"}, "schedulePlan": {"earliestAt": "tomorrow"}}, "schedulePlan.earliestAt must be a valid ISO 8601 date string"),
    ("POST", "/call", {"assistantId": "{assistant}", "phoneNumber": {"twilioPhoneNumber": "+14155550100"}, "customer": {"number": "+14155550123"}}, "phoneNumber.twilioAccountSid should not be empty"),
    ("POST", "/call", {"assistantId": "{assistant}", "phoneNumberId": "{number}", "customer": {"number": "+14155550123"}, "transport": {"provider": "carrier-pigeon"}}, "transport.provider must be one of the following values: vapi.websocket, vonage, twilio, vapi.sip, telnyx, daily"),
    # chats and sessions
    ("POST", "/chat", {"assistantId": "{assistant}", "input": [{"role": "robot", "content": "hi"}]}, "input.0.role must be one of the following values: system, user, assistant, tool, developer"),
    ("POST", "/chat", {"assistantId": "{assistant}", "input": 42}, "input must be a string or an array"),
    ("POST", "/chat", {"assistantId": "{assistant}", "input": "hi", "assistantOverrides": {"voice": {"provider": "elevenlabs"}}}, "assistantOverrides.voice.provider must be one of the following values: {voices}"),
    ("POST", "/session", {"assistantId": "{assistant}", "expirationSeconds": 10}, "expirationSeconds must not be less than 60"),
    ("POST", "/session", {"assistantId": "{assistant}", "status": "paused"}, "status must be one of the following values: active, completed"),
    ("POST", "/session", {"assistant": {"model": {"provider": "anthropic", "model": "claude-9"}}}, "assistant.model.model must be one of the following values: {anthropic}"),
    # testing: judges, structured outputs, simulations
    ("POST", "/structured-output", {"name": "booked", "schema": {"type": "boolean"}, "model": {"provider": "openai", "model": "gpt-5-turbo-ultra"}}, "model.model must be one of the following values: {workflow_openai}"),
    ("POST", "/structured-output", {"name": "booked", "schema": {"type": "bool"}}, "schema.type must be one of the following values: string, number, integer, boolean, array, object"),
    ("POST", "/eval", {"type": "chat.mockConversation", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "judgePlan": {"type": "ai", "model": {"provider": "openai", "model": "gpt-5-turbo-ultra", "messages": []}}}]}, "messages.1.judgePlan.model.model must be one of the following values: {workflow_openai}"),
    ("POST", "/eval/simulation/scenario", {"name": "Nail trim", "instructions": "Ask the price.", "evaluations": [], "targetOverrides": {"voice": {"provider": "elevenlabs"}}}, "targetOverrides.voice.provider must be one of the following values: {voices}"),
    # campaigns carry customers with overrides
    ("POST", "/campaign", {"name": "Reminders", "assistantId": "{assistant}", "phoneNumberId": "{number}", "customers": [{"number": "+14155550123", "assistantOverrides": {"firstMessageMode": "shout"}}]}, "customers.0.assistantOverrides.firstMessageMode must be one of the following values: {first_modes}"),
]  # fmt: skip


def expected(message: str) -> str:
    return message.format(
        voices=union_tags("CreateAssistantDTO", "voice"),
        models=union_tags("CreateAssistantDTO", "model"),
        transcribers=union_tags("CreateAssistantDTO", "transcriber"),
        tool_types=", ".join(schema(b["$ref"].rsplit("/", 1)[1])["properties"]["type"]["enum"][0] for b in request_body("post", "/tool")["oneOf"]),
        hooks=", ".join(["call.ending", "assistant.speech.interrupted", "customer.speech.interrupted", "customer.speech.timeout", "session.created"]),
        openai=enum("OpenAIModel", "model"),
        anthropic=enum("AnthropicModel", "model"),
        workflow_openai=enum("WorkflowOpenAIModel", "model"),
        deepgram=enum("DeepgramTranscriber", "language"),
        elevenlabs=enum("ElevenLabsVoice", "model"),
        first_modes=enum("CreateAssistantDTO", "firstMessageMode"),
        server_messages=", ".join(schema("CreateAssistantDTO")["properties"]["serverMessages"]["items"]["enum"]),
    )


def fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
        return ids[value[1:-1]]
    return value


def world(sandbox: Sandbox) -> dict[str, int]:
    return {kind: len(sandbox.store.collection(kind)) for kind in ("assistants", "squads", "tools", "calls", "chats", "sessions", "structured_outputs", "evals", "scenarios", "campaigns")}


@pytest.mark.parametrize(("method", "path", "body", "message"), REFUSED, ids=[f"{m} {p} {i}" for i, (m, p, _, _) in enumerate(REFUSED)])
async def test_what_vapi_refuses_is_a_400_that_names_the_field_and_changes_nothing(api, sandbox, ids, method, path, body, message):
    before = world(sandbox)
    response = await api.request(method, path.format(**ids), json=fill(body, ids))
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["error"] == "Bad Request" and answer["statusCode"] == 400
    assert expected(message) in answer["message"], answer["message"]
    assert world(sandbox) == before


ACCEPTED: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/assistant", {"name": "Sunny Paws", "voice": VOICE, "model": MODEL, "transcriber": {"provider": "deepgram", "model": "nova-3", "language": "en"}}),
    ("POST", "/assistant", {"voice": {"provider": "11labs", "voiceId": "a-custom-voice-id", "model": "eleven_turbo_v2_5", "stability": 0.5}}),
    ("POST", "/assistant", {"model": {"provider": "anthropic", "model": "claude-sonnet-4-20250514", "messages": [{"role": "system", "content": "Be brief."}]}}),
    ("POST", "/assistant", {"voicemailDetection": "off", "backgroundSound": "office", "firstMessageMode": "assistant-waits-for-user"}),
    ("POST", "/assistant", {"voicemailDetection": {"provider": "vapi"}, "hooks": [{"on": "customer.speech.timeout[timeoutSeconds=10]", "do": [{"type": "say", "exact": "Are you there?"}]}]}),
    ("POST", "/assistant", {"metadata": {"anything": {"goes": [1, 2]}}, "analysisPlan": {"summaryPlan": {"enabled": False}}, "artifactPlan": {"structuredOutputIds": [MISSING]}}),
    ("POST", "/assistant", {"model": {**MODEL, "tools": [{"type": "function", "function": {"name": "book_slot", "parameters": {"type": "object", "properties": {"day": {"type": "string"}}}}}]}}),
    ("POST", "/assistant", {"credentials": [{"provider": "anything-not-modelled"}]}),
    ("POST", "/tool", {"type": "function", "function": {"name": "lookup"}, "messages": [{"type": "request-start", "content": "One moment."}]}),
    ("POST", "/call", {"assistantId": "{assistant}", "phoneNumber": {"twilioPhoneNumber": "+14155550100", "twilioAccountSid": "AC123", "twilioAuthToken": "t"}, "customer": {"number": "+14155550123"}}),
    ("POST", "/call", {"assistantId": "{assistant}", "phoneNumberId": "{number}", "customer": {"number": "+14155550123", "assistantOverrides": {"variableValues": {"name": "Ada"}}}}),
    ("POST", "/chat", {"assistantId": "{assistant}", "input": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "How much is a nail trim?"}]}),
    ("POST", "/session", {"assistantId": "{assistant}", "name": "Nail trims", "expirationSeconds": 3600}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body"), ACCEPTED, ids=[f"{m} {p} {i}" for i, (m, p, _) in enumerate(ACCEPTED)])
async def test_what_the_document_allows_is_accepted(api, ids, method, path, body):
    response = await api.request(method, path, json=fill(body, ids))
    assert response.status_code in (200, 201), response.text
