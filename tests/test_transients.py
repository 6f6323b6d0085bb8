"""Transient assistants, squads and overrides are checked against Vapi's document wherever they sit, before anything is sent.

Before (issue 18): a transient `assistant` passed to chat_with_assistant was sent unchecked, and
`{"unexpected_92": []}` reached Vapi; `voice.provider: "elevenlabs"` (the document's value is `11labs`) too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.mcp_kit import result_text
from tests.openapi import schema
from tests.testing_kit import DEFAULT_TESTER
from vapi_mcp.sandbox.core import stamp
from vapi_mcp.tools.assistants import ASSISTANT_FIELDS, MEMBER_FIELDS, MODEL_PROVIDERS, OVERRIDE_FIELDS, SQUAD_FIELDS, TRANSCRIBER_PROVIDERS, VOICE_PROVIDERS

GOOD = {"name": "Temp", "firstMessage": "Hi", "voice": {"provider": "11labs", "voiceId": "rachel"}, "model": {"provider": "openai", "model": "gpt-4o"}}
EVALUATION = {"structuredOutput": {"name": "ok", "schema": {"type": "boolean"}}, "comparator": "=", "value": True}
SCENARIO = {"name": "Book", "instructions": "Ask to book.", "evaluations": [EVALUATION]}
CHECKPOINT = [{"role": "user", "content": "Hi"}, {"role": "assistant", "judgePlan": {"type": "regex", "content": "."}}]


def providers(field: str) -> tuple[str, ...]:
    branches = [ref["$ref"].rsplit("/", 1)[1] for ref in schema("CreateAssistantDTO")["properties"][field]["oneOf"]]
    return tuple(value for name in branches for value in schema(name)["properties"]["provider"]["enum"])


def test_the_providers_and_fields_are_the_documents() -> None:
    assert MODEL_PROVIDERS == providers("model")
    assert VOICE_PROVIDERS == providers("voice")
    assert TRANSCRIBER_PROVIDERS == providers("transcriber")
    assert OVERRIDE_FIELDS == set(schema("AssistantOverrides")["properties"])
    assert SQUAD_FIELDS == set(schema("CreateSquadDTO")["properties"])
    assert MEMBER_FIELDS == set(schema("SquadMemberDTO")["properties"])
    assert ASSISTANT_FIELDS == set(schema("CreateAssistantDTO")["properties"])


Place = Callable[[dict[str, Any], dict[str, str]], tuple[str, dict[str, Any]]]
"""(an assistant-like object, ids) -> (tool, arguments) that carry it in one place."""
PLACES: dict[str, Place] = {
    "chat_with_assistant assistant": lambda a, i: ("chat_with_assistant", {"assistant": a, "input": "Hi"}),
    "create_call assistant (web call)": lambda a, i: ("create_call", {"assistant": a}),
    "create_call assistant (phone call)": lambda a, i: ("create_call", {"assistant": a, "phoneNumberId": i["number"], "customer": {"number": "+14155550123"}}),
    "create_call assistantOverrides": lambda a, i: ("create_call", {"assistantId": i["assistant"], "assistantOverrides": a}),
    "create_call customer.assistantOverrides": lambda a, i: (
        "create_call",
        {"assistantId": i["assistant"], "phoneNumberId": i["number"], "customer": {"number": "+14155550123", "assistantOverrides": a}},
    ),
    "create_campaign customers.0.assistantOverrides": lambda a, i: (
        "create_campaign",
        {"name": "C", "assistantId": i["assistant"], "phoneNumberId": i["number"], "customers": [{"number": "+14155550123", "assistantOverrides": a}]},
    ),
    "create_call squad member": lambda a, i: ("create_call", {"squad": {"members": [{"assistant": a}]}}),
    "create_call squad member overrides": lambda a, i: ("create_call", {"squad": {"members": [{"assistantId": i["assistant"], "assistantOverrides": a}]}}),
    "create_call squad membersOverrides": lambda a, i: ("create_call", {"squad": {"members": [{"assistantId": i["assistant"]}], "membersOverrides": a}}),
    "create_squad member": lambda a, i: ("create_squad", {"members": [{"assistant": a}]}),
    "create_squad membersOverrides": lambda a, i: ("create_squad", {"members": [{"assistantId": i["assistant"]}], "membersOverrides": a}),
    "run_eval target.assistant": lambda a, i: ("run_eval", {"eval": {"messages": CHECKPOINT}, "target": {"assistant": a}, "wait": 0}),
    "run_eval target.assistantOverrides": lambda a, i: ("run_eval", {"eval": {"messages": CHECKPOINT}, "target": {"assistantId": i["assistant"], "assistantOverrides": a}, "wait": 0}),
    "run_simulation target.assistant": lambda a, i: ("run_simulation", {"simulations": [{"scenario": SCENARIO, "personalityId": DEFAULT_TESTER}], "target": {"assistant": a}, "wait": 0}),
    "run_simulation personality.assistant": lambda a, i: (
        "run_simulation",
        {"simulations": [{"scenario": SCENARIO, "personality": {"name": "Tester", "assistant": a}}], "target": {"assistantId": i["assistant"]}, "wait": 0},
    ),
    "save_personality assistant": lambda a, i: ("save_personality", {"name": "Tester", "assistant": a}),
    "save_scenario targetOverrides": lambda a, i: ("save_scenario", {**SCENARIO, "targetOverrides": a}),
    "create_campaign assistantOverrides": lambda a, i: (
        "create_campaign",
        {"name": "C", "assistantId": i["assistant"], "phoneNumberId": i["number"], "customers": [{"number": "+14155550123"}], "assistantOverrides": a},
    ),
    "create_campaign squadOverrides": lambda a, i: (
        "create_campaign",
        {"name": "C", "squadId": i["squad"], "phoneNumberId": i["number"], "customers": [{"number": "+14155550123"}], "squadOverrides": a},
    ),
}
BROKEN = {
    "an unknown field": ({"unexpected_92": []}, "unexpected_92"),
    "voice.provider elevenlabs": ({"voice": {"provider": "elevenlabs", "voiceId": "rachel"}}, "voice.provider must be one of Vapi's voice providers"),
    "model.provider gpt": ({"model": {"provider": "gpt", "model": "gpt-4o"}}, "model.provider must be one of Vapi's model providers"),
    "transcriber.provider": ({"transcriber": {"provider": "whisper"}}, "transcriber.provider must be one of"),
    "a name too long": ({"name": "x" * 41}, "name String should have at most 40 characters"),
}


@pytest.fixture
def ids(sandbox, clock) -> dict[str, str]:
    assistant = stamp(clock, name="Riley")
    number = stamp(clock, provider="twilio", number="+14155550100", status="active")
    squad = stamp(clock, name="Desk", members=[{"assistantId": assistant["id"]}])
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.phone_numbers[number["id"]] = number
    sandbox.store.squads[squad["id"]] = squad
    return {"assistant": assistant["id"], "number": number["id"], "squad": squad["id"]}


async def test_a_broken_transient_is_refused_naming_the_field_and_nothing_is_sent(client, sandbox, ids) -> None:
    """Every place a transient sits, each way to break it (one server: 85 calls)."""
    wrong = []
    for place, build in PLACES.items():
        for broken, (value, words) in BROKEN.items():
            tool, arguments = build({**GOOD, **value}, ids)
            result = await client.call_tool(tool, arguments)
            text = result_text(result)
            if not (result.is_error and text.startswith(f"Invalid arguments for {tool}:") and words in text):
                wrong.append(f"{place}, {broken}: {text}")
    assert not wrong, "\n".join(wrong)
    assert [r for r in sandbox.requests if r.method != "GET"] == []


async def test_a_documents_transient_goes_through_everywhere(client, ids) -> None:
    wrong = []
    for place, build in PLACES.items():
        tool, arguments = build(GOOD, ids)
        result = await client.call_tool(tool, arguments)
        if result.is_error and "Invalid arguments" in result_text(result):
            wrong.append(f"{place}: {result_text(result)}")
    assert not wrong, "\n".join(wrong)
