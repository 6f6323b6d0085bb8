"""Judges, structured outputs and analysis are written rules on the transcript: a check passes only when the transcript supports it (issue 16)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine_kit import NOW, sunny
from tests.openapi import schema
from vapi_mcp.sandbox import conversation as engine
from vapi_mcp.sandbox.conversation import CANNOT_BOOK, NO_INFO, Agent, Line, assistant_turn, converse, transcript_text
from vapi_mcp.sandbox.judging import (
    RUBRICS,
    analyse,
    at_path,
    call_outputs,
    compare,
    conditions_met,
    evaluate_success,
    extract,
    judge,
    summarise,
)

ECHO = "Sunny Paws Receptionist here (turn 1). You said: How much is a nail trim?"
"""What the sandbox's chat and evals answered before issue 16."""
BOOKED = {"name": "booked", "description": "Whether the caller's grooming appointment was booked.", "schema": {"type": "boolean"}}


def ai_judge(criteria: str) -> dict[str, Any]:
    return {"type": "ai", "model": {"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": criteria}, {"role": "user", "content": "{{messages}}"}]}}


def checkpoint(plan: dict[str, Any], question: str, assistant: dict[str, Any] | None = None) -> tuple[bool, str | None]:
    """An eval checkpoint after one user turn: the engine answers, the judge rules."""
    reply = assistant_turn(assistant or sunny(), [], question, now=NOW)
    return judge(plan, reply, history=[Line("user", question)])


def booking_call(assistant: dict[str, Any], instructions: str = "Ask to book a nail trim for Tuesday. Accept the first time offered.") -> list[Line]:
    return converse(Agent(assistant, now=NOW), engine.Tester(instructions)).lines


def test_a_regex_checkpoint_the_prompt_satisfies_passes_and_one_it_does_not_fails() -> None:
    assert checkpoint({"type": "regex", "content": r"\$15\b"}, "How much is a nail trim?") == (True, None)
    passed, reason = checkpoint({"type": "regex", "content": r"\$20\b"}, "How much is a nail trim?")
    assert not passed and reason is not None and "Nail trim: $15." in reason
    assert checkpoint({"type": "regex", "content": r"\$20\b"}, "How much is a nail trim?", sunny(nail_trim="$20"))[0]  # fix the prompt, the eval passes


def test_an_exact_checkpoint_matches_the_prompts_own_answer() -> None:
    assert checkpoint({"type": "exact", "content": "There is free parking behind the salon."}, "Is there parking?") == (True, None)
    assert not checkpoint({"type": "exact", "content": "Parking is free."}, "Is there parking?")[0]


def test_an_ai_judge_passes_only_a_reply_that_gives_what_it_asks_for() -> None:
    price = ai_judge("Pass if the assistant tells the caller the price of a nail trim. Respond with pass or fail only.")
    assert checkpoint(price, "How much is a nail trim?") == (True, None)
    assert checkpoint(price, "How much is a unicorn ride?") == (False, "The assistant said it does not have that information.")
    assert judge(price, "Bath: $40.")[0] is False


def test_an_ai_judge_fails_an_echo() -> None:
    """Regression: the old rule passed any non-empty reply when the judge quoted nothing, so the echo passed."""
    passed, reason = judge(ai_judge("Pass if the assistant tells the caller the price of a nail trim."), ECHO, history=[Line("user", "How much is a nail trim?")])
    assert not passed and reason


def test_an_ai_judge_checks_quoted_and_forbidden_words() -> None:
    plan = ai_judge('The reply must say "vaccination". Fail if the assistant mentions insurance cards.')
    assert checkpoint(plan, "Do I need to bring anything?", sunny(booking="Tell callers to bring their dog's vaccination records.")) == (True, None)
    assert judge(plan, "Bring your insurance card and vaccination records.") == (False, 'The reply mentions "insurance cards", which the judge forbids.')
    assert judge(plan, "Please arrive early.") == (False, 'The reply does not contain "vaccination".')


def test_a_judge_with_nothing_to_check_fails_and_says_how_to_write_one() -> None:
    passed, reason = judge(ai_judge("You are an expert judge. Respond with pass or fail."), "Nail trim: $15.")
    assert not passed and reason is not None and "quote the words the reply must contain" in reason
    assert judge({"type": "exact", "content": "x", "toolCalls": [{"name": "bookAppointment"}]}, "x") == (False, "Expected tool call(s) bookAppointment but the assistant called none.")


def test_booked_is_true_when_the_assistant_confirms_a_booking_the_user_asked_for() -> None:
    lines = booking_call(sunny())
    assert any(line.text.startswith("You're booked for Tuesday") for line in lines)
    assert extract(BOOKED, lines) is True
    assert extract(BOOKED, transcript_text(lines)) is True  # the same from the transcript text


def test_booked_is_false_when_the_assistant_cannot_book() -> None:
    lines = booking_call(sunny(booking="You cannot book appointments; you only answer questions."))
    assert any(line.text == CANNOT_BOOK for line in lines)
    assert extract(BOOKED, lines) is False


def test_booked_is_false_when_the_assistant_only_echoes() -> None:
    """Regression: a simulation's `booked` came back true, and passed, while the assistant only echoed."""
    echoed = [
        Line("assistant", "Hi, this is Sunny Paws."),
        Line("user", "I'd like to book a nail trim, I booked last time too."),
        Line("assistant", "Sunny Paws Receptionist here (turn 1). You said: I'd like to book a nail trim, I booked last time too."),
    ]
    assert extract(BOOKED, echoed) is False


def test_booked_needs_the_user_to_have_asked_or_agreed() -> None:
    unasked = [Line("user", "What are your hours?"), Line("assistant", "You're booked for Tuesday, November 3 at 9:00 AM.")]
    assert extract(BOOKED, unasked) is False
    agreed = [
        Line("assistant", "Would you like me to book your annual checkup for Tuesday?"),
        Line("user", "Yes, please."),
        Line("assistant", "Done, you're all set: it is booked for Tuesday."),
    ]
    assert extract(BOOKED, agreed) is True
    assert extract(BOOKED, [*agreed[:2], Line("assistant", "I'm sorry, it could not be booked.")]) is False


def test_numbers_and_strings_are_extracted_only_when_the_conversation_states_them() -> None:
    lines = booking_call(sunny(), "Your name is Jordan Lee. Ask how much a bath costs. Then ask to book a bath on Tuesday. Accept the first time.")
    asked_name = [*lines[:2], Line("assistant", "Could I have your name?"), Line("user", "My name is Jordan Lee.")]
    assert extract({"name": "bathPrice", "schema": {"type": "number"}}, lines) == 40
    assert extract({"name": "nailTrimPrice", "schema": {"type": "number"}}, lines) is None  # the old rule gave the first number said: 40
    assert extract({"name": "customerName", "schema": {"type": "string"}}, asked_name) == "Jordan Lee"
    assert extract({"name": "customerName", "schema": {"type": "string"}}, lines) is None
    assert extract({"name": "appointmentTime", "schema": {"type": "string", "format": "date-time"}}, lines, now=NOW) == "2026-11-03T09:00:00+00:00"
    assert extract({"name": "service", "schema": {"type": "string", "enum": ["nail trim", "bath", "full groom"]}}, lines) == "bath"
    assert extract({"name": "email", "schema": {"type": "string", "format": "email"}}, lines) is None


def test_every_json_schema_type_of_the_document_is_extracted_by_a_rule() -> None:
    lines = [
        Line("assistant", "Hi, Sunny Paws here."),
        Line("user", "I have 2 dogs. How much is a nail trim? My email is jo@example.com."),
        Line("assistant", "Nail trim: $15."),
    ]
    outputs = {
        "boolean": ({"name": "askedAboutPrice", "description": "Did the customer ask about a price?"}, True),
        "string": ({"name": "email"}, "jo@example.com"),
        "number": ({"name": "nailTrimPrice"}, 15),
        "integer": ({"name": "numberOfDogs", "description": "how many dogs the caller has"}, 2),
        "array": ({"name": "questions", "description": "the questions the caller asked"}, ["How much is a nail trim?"]),
        "object": ({"name": "call", "schema_extra": {"properties": {"nailTrimPrice": {"type": "number"}, "email": {"type": "string"}}}}, {"nailTrimPrice": 15, "email": "jo@example.com"}),
    }
    assert set(schema("JsonSchema")["properties"]["type"]["enum"]) == set(outputs)
    for kind, (output, expected) in outputs.items():
        definition = {k: v for k, v in output.items() if k != "schema_extra"} | {"schema": {"type": kind, **output.get("schema_extra", {})}}  # type: ignore[dict-item]
        assert extract(definition, lines) == expected, kind


def test_social_acts_sentiments_and_reasons_are_read_from_the_lines_that_show_them() -> None:
    lines = booking_call(sunny())
    assert extract({"name": "greeted", "description": "Did the assistant greet the caller?", "schema": {"type": "boolean"}}, lines) is True
    assert extract({"name": "callerSatisfied", "schema": {"type": "boolean"}}, lines) is True
    assert extract({"name": "callerFrustrated", "schema": {"type": "boolean"}}, lines) is False
    assert extract({"name": "reasonForCall", "schema": {"type": "string"}}, lines) == "I'd like to book a nail trim for Tuesday."
    assert extract({"name": "callSummary", "schema": {"type": "string"}}, lines) == summarise(lines)
    upset = [Line("assistant", "Hello!"), Line("user", "This is ridiculous, I've waited an hour.")]
    assert extract({"name": "callerFrustrated", "schema": {"type": "boolean"}}, upset) is True
    assert extract({"name": "callerSatisfied", "schema": {"type": "boolean"}}, upset) is False


def test_regex_outputs_follow_the_documents_rule() -> None:
    transcript = "AI: Nail trim: $15.\nUser: And a bath?\nAI: Bath: $40."
    assert extract({"type": "regex", "regex": r"\$\d+", "schema": {"type": "boolean"}}, transcript) is True
    assert extract({"type": "regex", "regex": r"Bath: \$(\d+)", "schema": {"type": "string"}}, transcript) == "40"
    assert extract({"type": "regex", "regex": r"/bath: \$(\d+)/i", "schema": {"type": "number"}}, transcript) == 40
    assert extract({"type": "regex", "regex": r"\$(\d+)", "schema": {"type": "array"}}, transcript) == ["15", "40"]
    assert extract({"type": "regex", "regex": r"(unclosed", "schema": {"type": "string"}}, transcript) is None


def test_the_summary_tells_what_happened_in_this_conversation() -> None:
    lines = booking_call(sunny(), "Ask how much a bath costs. Then ask to book a bath on Tuesday. Accept the first time.")
    summary = summarise(lines, ended_reason="customer-ended-call")
    assert summary == (
        'The user asked "Hi, could you tell me how much a bath costs?". The assistant answered 1 of 1 from its prompt. '
        "A booking was confirmed for Tuesday, November 3 at 9:00 AM. The conversation ended with a goodbye. Ended reason: customer-ended-call."
    )
    refused = summarise(booking_call(sunny(booking="You cannot book appointments.")))
    assert refused is not None and "the assistant said it could not" in refused and "confirmed" not in refused
    assert summarise(lines, {"enabled": False}) is None


def test_success_is_passed_only_when_the_transcript_supports_it() -> None:
    prompt = sunny()["model"]["messages"][0]["content"]
    assert evaluate_success(booking_call(sunny()), system_prompt=prompt) == "true"
    assert evaluate_success(booking_call(sunny(booking="You cannot book appointments.")), system_prompt=prompt) == "false"
    unanswered = [Line("user", "How much is a unicorn ride?"), Line("assistant", NO_INFO)]
    assert evaluate_success(unanswered, {"rubric": "Checklist"}) == "[x] The assistant replied to every user turn\n[ ] Every question was answered from the prompt"
    broke_rule = [Line("user", "What should I bring?"), Line("assistant", "Bring your photo ID.")]
    assert evaluate_success(broke_rule, {"rubric": "PassFail"}, system_prompt=prompt) == "false"


def test_every_rubric_of_the_document_has_a_rule() -> None:
    assert set(schema("SuccessEvaluationPlan")["properties"]["rubric"]["enum"]) == set(RUBRICS)
    half = [Line("user", "How much is a bath?"), Line("assistant", "Bath: $40."), Line("user", "Do you groom cats?"), Line("assistant", NO_INFO)]
    answers = {rubric: evaluate_success(half, {"rubric": rubric}) for rubric in RUBRICS}
    assert answers["PassFail"] == "false" and answers["NumericScale"] == "6" and answers["PercentageScale"] == "50%"
    assert answers["DescriptiveScale"] == "Fair" and answers["LikertScale"] == "Neutral"
    assert answers["Matrix"] == "The assistant replied to every user turn: Meets\nEvery question was answered from the prompt: Does not meet"
    assert answers["AutomaticRubric"].endswith("Overall: 5/10")  # type: ignore[union-attr]


def test_analysis_follows_the_plan() -> None:
    lines = booking_call(sunny())
    plan = {
        "summaryPlan": {"enabled": False},
        "successEvaluationPlan": {"rubric": "PercentageScale"},
        "structuredDataPlan": {"enabled": True, "schema": {"type": "object", "properties": {"booked": {"type": "boolean"}}}},
        "structuredDataMultiPlan": [{"key": "price", "plan": {"enabled": True, "schema": {"type": "number", "description": "the nail trim price"}}}],
    }
    assert analyse(lines, plan) == {"successEvaluation": "100%", "structuredData": {"booked": True}, "structuredDataMulti": [{"price": None}]}
    assert analyse(lines[:1], {}) == {}  # fewer messages than minMessagesThreshold (2)
    assert set(analyse(lines, None)) == {"summary", "successEvaluation"}


def test_comparisons_paths_and_conditions() -> None:
    assert compare(15, ">=", 10) and not compare(None, "=", None) and not compare(True, ">", 0) and not compare({"a": 1}, "=", {"a": 1})
    assert at_path({"contact": {"booked": True}}, "contact.booked") is True and at_path({"a": 1}, "b.c") is None
    gated = {"conditions": [{"type": "minMessages", "count": 4}, {"type": "endedReason", "operator": "notOneOf", "values": ["voicemail"]}]}
    assert conditions_met(gated, messages=4, ended_reason="customer-ended-call")
    assert not conditions_met(gated, messages=3, ended_reason="customer-ended-call")
    assert not conditions_met(gated, messages=9, ended_reason="voicemail")


def test_a_calls_outputs_and_scorecards_come_from_its_transcript() -> None:
    lines = booking_call(sunny())
    call = {
        "_outputs_plan": {
            "outputs": [("so-1", BOOKED), ("so-2", {**BOOKED, "name": "gated", "conditions": [{"type": "minMessages", "count": 99}]})],
            "scorecards": [("card-1", {"name": "Booking", "metrics": [{"structuredOutputId": "so-1", "conditions": [{"comparator": "=", "value": True, "points": 10}]}]})],
        }
    }
    out = call_outputs(call, lines)
    assert out["structuredOutputs"] == {"so-1": {"name": "booked", "result": True}}
    assert out["scorecards"]["card-1"]["scoreNormalized"] == 100


@pytest.mark.parametrize("reply", [NO_INFO, "I'm sorry, I can't book appointments."])
def test_a_reply_without_the_fact_never_passes_a_topic_judge(reply: str) -> None:
    assert judge(ai_judge("Pass if the assistant gives the opening hours."), reply)[0] is False
