"""Every `endedReason` in Vapi's document has a meaning and a next step, and the table holds nothing else."""

from __future__ import annotations

import pytest

from tests.openapi import schema
from vapi_mcp.tools import ended_reasons
from vapi_mcp.tools.ended_reasons import EXACT, FAULTS, PROBLEMS, PROVIDERS, describe, explain, parse


@pytest.fixture(scope="module")
def enum() -> set[str]:
    return set(schema("Call")["properties"]["endedReason"]["enum"])


def test_every_value_of_the_documents_enum_is_explained(enum: set[str]) -> None:
    missing = sorted(reason for reason in enum if explain(reason) is None)
    assert not missing, f"{len(missing)} endedReasons without an explanation: {missing[:10]}"
    for reason in enum:
        meaning, step = explain(reason)
        assert meaning.endswith(".") and step and "{" not in meaning + step, reason
        assert len(meaning) <= 160 and len(step) <= 200, reason


def test_the_table_explains_nothing_the_document_does_not_list(enum: set[str]) -> None:
    assert set(EXACT) <= enum, sorted(set(EXACT) - enum)
    patterned = [parse(reason) for reason in enum if reason not in EXACT]
    assert {p[0] for p in patterned} == set(FAULTS)
    assert {p[1] for p in patterned} == set(PROVIDERS), "a provider no value uses"
    assert {p[2] for p in patterned} == set(PROBLEMS), "a problem no value uses"
    assert not [reason for reason in EXACT if parse(reason)], "an EXACT value the patterns already explain"


def test_the_other_schemas_that_carry_endedreason_use_the_same_enum(enum: set[str]) -> None:
    for name in ("ServerMessageEndOfCallReport", "ServerMessageStatusUpdate"):
        assert set(schema(name)["properties"]["endedReason"]["enum"]) == enum


def test_provider_failures_name_the_provider_the_part_and_whose_fault() -> None:
    meaning, step = explain("call.in-progress.error-providerfault-openai-503-server-overloaded-error")
    assert meaning == "The OpenAI model (LLM) was overloaded (503). Vapi files it as the provider's fault."
    assert "model.fallbackModels" in step
    meaning, step = explain("pipeline-error-eleven-labs-voice-not-found")
    assert meaning.startswith("The ElevenLabs voice (text-to-speech) could not find the voice") and "voice.voiceId" in step
    meaning, _ = explain("call.in-progress.error-vapifault-deepgram-returning-401-invalid-credentials")
    assert "Deepgram transcriber" in meaning and "Vapi-side fault" in meaning
    assert explain("pipeline-error-custom-llm-llm-failed")[0].startswith("The custom LLM model (LLM)")
    assert explain("pipeline-error-custom-voice-failed")[0].startswith("The custom voice")


def test_an_unknown_value_gets_a_generic_help_not_a_guess() -> None:
    assert explain("pipeline-error-openai-made-up-problem") is None
    assert explain("customer-sang-a-song") is None
    assert describe("pipeline-error-newvendor-voice-failed")["nextStep"].startswith("Read the call log")
    assert describe(None) == {}
    assert ended_reasons.describe("voicemail")["endedBecause"] == "The call reached voicemail."
