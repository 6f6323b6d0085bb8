"""The sandbox's conversations come from the assistant's configuration, by rule, the same every time (issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from tests.engine_kit import NOW, says_word, sunny
from vapi_mcp.sandbox import conversation as engine
from vapi_mcp.sandbox.conversation import (
    ANYTHING_ELSE,
    CANNOT_BOOK,
    NO_INFO,
    NOTE_KEY,
    RULE_NOTE,
    Agent,
    Document,
    Line,
    as_lines,
    assistant_turn,
    converse,
    noted,
    opening,
    parse_slot,
    parse_transcript,
    transcript_text,
    with_overrides,
)
from vapi_mcp.sandbox.prompt import Prompt, system_prompt

PROBES = (
    "What should I bring?",
    "Do I need my ID?",
    "Do you take insurance cards?",
    "Do I need to bring anything for my dog?",
    "What about my insurance card, should I bring it?",
    "Can I show my photo ID at the desk?",
)


def without_rule(assistant: dict, rule: str) -> dict:
    assistant["model"]["messages"][0]["content"] = assistant["model"]["messages"][0]["content"].replace(rule, "")
    return assistant


def test_sunny_paws_never_mentions_id_or_insurance_cards() -> None:
    agent = Agent(sunny(), now=NOW)
    replies = [agent.reply([], probe) for probe in PROBES]
    played = converse(Agent(sunny(), now=NOW), engine.Tester(" ".join(f'Ask "{p}"' for p in PROBES)), max_turns=12)
    replies += [line.text for line in played.lines if line.role == "assistant"]
    assert len(replies) > len(PROBES) + 3
    for reply in replies:
        assert not says_word(reply, "ID") and "insurance card" not in reply.lower(), reply
    # The prompt's own last rule tells callers to bring both: the prohibition is what keeps them out.
    unruled = Agent(without_rule(sunny(), "- Never mention ID or insurance cards.\n"), now=NOW)
    assert says_word(unruled.reply([], "What should I bring?"), "ID")


def test_a_question_is_answered_from_the_matching_part_of_the_prompt() -> None:
    assert "$15" in assistant_turn(sunny(), [], "How much is a nail trim?", now=NOW)
    assert "$40" in assistant_turn(sunny(), [], "And what does a bath cost?", now=NOW)
    assert assistant_turn(sunny(), [], "Is there parking?", now=NOW) == "There is free parking behind the salon."
    hours = assistant_turn(sunny(), [], "What are your hours?", now=NOW)
    assert "Monday to Friday" in hours and "Sundays" in hours


def test_prompt_words_are_spoken_from_the_assistants_side() -> None:
    prompt = (
        "You are Riley. Your office is at 12 Main Street. New patient visits last 60 minutes. Patients must bring their insurance card. "
        'Please arrive 15 minutes before your appointment. If a caller asks about the wifi, say "The password is on the desk, you can ask me."'
    )
    agent = Agent({"model": {"messages": [{"role": "system", "content": prompt}]}}, now=NOW)
    assert agent.reply([], "Where is your office?") == "My office is at 12 Main Street."
    assert agent.reply([], "How long is a new patient visit?") == "New patient visits last 60 minutes."  # "patient" here is no person
    assert agent.reply([], "Do I need my insurance card?") == "You must bring your insurance card."
    assert agent.reply([], "When should I arrive?") == "Please arrive 15 minutes before your appointment."
    assert agent.reply([], "What's the wifi?") == "The password is on the desk, you can ask me."  # quoted words are said as written


def test_a_changed_prompt_changes_the_reply() -> None:
    before = assistant_turn(sunny(nail_trim="$15"), [], "How much is a nail trim?", now=NOW)
    after = assistant_turn(sunny(nail_trim="$18"), [], "How much is a nail trim?", now=NOW)
    assert "$15" in before and "$18" in after and "$15" not in after


@pytest.mark.parametrize("question", ["How much is a unicorn ride?", "Do you groom cats?", "What is your refund policy?"])
def test_nothing_in_the_prompt_answers_so_the_assistant_says_it_does_not_have_that_information(question: str) -> None:
    reply = assistant_turn(sunny(), [], question, now=NOW)
    assert reply == NO_INFO
    empty = assistant_turn({"name": "Blank"}, [], "How much is a nail trim?", now=NOW)
    assert empty == NO_INFO


def test_no_reply_echoes_the_user_or_plays_a_canned_script() -> None:
    played = converse(Agent(sunny(), now=NOW), engine.Tester("Ask how much a nail trim costs. Then ask whether they sell unicorn rides."))
    text = played.transcript
    assert "You said" not in text and "dental" not in text.lower() and "Thursday at 2 PM" not in text
    for i, line in enumerate(played.lines):
        if line.role == "assistant" and i and played.lines[i - 1].role == "user":
            assert played.lines[i - 1].text.rstrip("?.!") not in line.text


def test_the_first_message_is_rendered_with_the_customer_and_variable_values() -> None:
    assert opening(sunny(), now=NOW, customer={"name": "Ana", "number": "+14155550123"}) == "Hi Ana, thanks for calling Sunny Paws! How can I help?"
    assert opening(sunny(), now=NOW).startswith("Hi there,")  # its `default` filter
    plain = {"firstMessage": "Hi {{customer.name}}, this is {{agent}} on {{date}}."}
    assert opening(plain, now=NOW, variables={"agent": "Riley"}, customer={"name": "Ana"}) == "Hi Ana, this is Riley on Nov 2, 2026."
    assert opening(plain, now=NOW) == "Hi , this is  on Nov 2, 2026."  # LiquidJS renders a missing variable as nothing


def test_first_message_mode_decides_who_speaks_first() -> None:
    assert opening(sunny(firstMessageMode="assistant-waits-for-user"), now=NOW) is None
    assert opening({"name": "Quiet"}, now=NOW) is None  # no firstMessage: Vapi's assistant waits for the user
    generated = sunny(firstMessageMode="assistant-speaks-first-with-model-generated-message")
    assert opening(generated, now=NOW) == "Hello, this is Riley from Sunny Paws Dog Grooming. How can I help you today?"
    reminder = {
        "firstMessageMode": "assistant-speaks-first-with-model-generated-message",
        "model": {"messages": [{"role": "system", "content": "You are Sam from Bright Smile Dental. You are calling to remind patients of their cleaning tomorrow at 10 AM."}]},
    }
    said = opening(reminder, now=NOW, direction="outbound", customer={"name": "Jordan"})
    assert said == "Hi Jordan, this is Sam from Bright Smile Dental. I'm calling to remind you of your cleaning tomorrow at 10 AM."


def test_outbound_the_customer_answers_the_phone_inbound_the_caller_states_why_they_call() -> None:
    waits = sunny(firstMessageMode="assistant-waits-for-user")
    outbound = converse(Agent(waits, now=NOW, direction="outbound"), engine.Tester(direction="outbound"))
    assert outbound.lines[0] == Line("user", "Hello?")
    assert not any("calling" in line.text.lower() for line in outbound.lines if line.role == "user")
    inbound = converse(Agent(sunny(), now=NOW), engine.Tester("You are calling to ask about a bath for your dog."))
    assert inbound.lines[1].text == "Hi, I'm calling to ask about a bath for my dog."
    assert "$40" in inbound.lines[2].text


def test_an_outbound_customer_who_asks_why_hears_the_prompts_purpose() -> None:
    reminder = {
        "firstMessage": "Hi {{customer.name}}, this is Sam from Bright Smile Dental. Do you have a minute?",
        "model": {"messages": [{"role": "system", "content": "You are Sam. You are calling to remind patients of their cleaning tomorrow at 10 AM."}]},
    }
    played = converse(Agent(reminder, now=NOW, direction="outbound", customer={"name": "Jordan"}), engine.Tester(direction="outbound"))
    assert played.lines[0].text == "Hi Jordan, this is Sam from Bright Smile Dental. Do you have a minute?"
    assert played.lines[1] == Line("user", "Yes.")
    assert played.lines[2].text == "Great. I'm calling to remind you of your cleaning tomorrow at 10 AM."


def test_a_booking_request_gets_a_time_within_the_prompts_hours_and_yes_confirms_it() -> None:
    agent = Agent(sunny(), now=NOW)
    hours = Prompt(system_prompt(sunny())).hours
    assert hours is not None
    proposal = agent.reply([], "I'd like to book a nail trim.")
    slot = parse_slot(proposal, NOW)
    assert proposal.startswith("I can book that for you. How about") and slot is not None
    assert hours.open_at(slot) and slot >= NOW + timedelta(hours=1)
    history = [Line("user", "I'd like to book a nail trim."), Line("assistant", proposal)]
    confirmation = agent.reply(history, "Yes, that works.")
    assert confirmation == f"You're booked for {proposal.split('How about ')[1].rstrip('?')}. {ANYTHING_ELSE}"


@pytest.mark.parametrize(
    ("request_text", "weekday", "earliest_hour"),
    [("Can I come in Tuesday afternoon?", 1, 13), ("Do you have anything Saturday morning?", 5, 10), ("Book me for Wednesday at 3pm", 2, 15)],
)
def test_the_proposed_time_follows_the_day_and_time_asked_for(request_text: str, weekday: int, earliest_hour: int) -> None:
    reply = assistant_turn(sunny(), [], request_text, now=NOW)
    slot = parse_slot(reply, NOW)
    assert slot is not None and slot.weekday() == weekday and slot.hour >= earliest_hour, reply


def test_a_time_outside_the_hours_is_refused_with_the_hours_and_another_time() -> None:
    reply = assistant_turn(sunny(), [], "Can I book a bath on Sunday at 11am?", now=NOW)
    slot = parse_slot(reply, NOW)
    assert reply.startswith("We're not open then. Our hours are Monday to Friday 9:00 AM to 5:00 PM, Saturday 10:00 AM to 2:00 PM.")
    assert slot is not None and slot.weekday() != 6
    later = sunny()
    later["model"]["messages"][0]["content"] = later["model"]["messages"][0]["content"].replace("9am to 5pm", "11am to 7pm")
    assert parse_slot(assistant_turn(later, [], "Can I book a bath on Tuesday?", now=NOW), NOW).hour == 11  # type: ignore[union-attr]


def test_declining_a_time_gets_the_next_one() -> None:
    agent = Agent(sunny(), now=NOW)
    first = agent.reply([], "I want to schedule a bath.")
    second = agent.reply([Line("user", "I want to schedule a bath."), Line("assistant", first)], "No, that doesn't work for me.")
    assert second.startswith("How about") and parse_slot(second, NOW) > parse_slot(first, NOW)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("You cannot book appointments; you only answer questions.", CANNOT_BOOK),
        ("You answer questions about grooming.", CANNOT_BOOK),  # nothing says it can book
        ("Appointments are booked online at sunnypaws.com.", "I can't book appointments myself. Appointments are booked online at sunnypaws.com."),
    ],
)
def test_an_assistant_that_cannot_book_says_so(rule: str, expected: str) -> None:
    reply = assistant_turn(sunny(booking=rule), [], "I'd like to book a nail trim for Tuesday.", now=NOW)
    assert reply == expected
    assert parse_slot(reply, NOW) is None


def test_without_hours_the_assistant_asks_for_a_day_and_time_instead_of_inventing_one() -> None:
    assistant = {"model": {"messages": [{"role": "system", "content": "You are the booking line of Acme Tutoring. You can schedule tutoring sessions."}]}}
    agent = Agent(assistant, now=NOW)
    assert agent.reply([], "I'd like to book a session.") == "I can book that for you. What day and time would work for you?"
    history = [Line("user", "I'd like to book a session."), Line("assistant", "I can book that for you. What day and time would work for you?")]
    assert agent.reply(history, "Thursday at 4pm") == "I can book Thursday, November 5 at 4:00 PM. Shall I book it?"


def test_greetings_thanks_and_goodbyes() -> None:
    agent = Agent(sunny(endCallMessage="Bye from Sunny Paws, {{customer.name | default: 'friend'}}!"), now=NOW)
    greeted = [Line("assistant", "Hi there, thanks for calling Sunny Paws! How can I help?")]
    assert agent.reply(greeted, "Hello!") == "Hi! How can I help you today?"
    assert agent.reply(greeted, "Thanks so much!") == f"You're welcome! {ANYTHING_ELSE}"
    assert agent.reply([Line("assistant", ANYTHING_ELSE)], "No, that's all.") == "Bye from Sunny Paws, friend!"
    assert agent.reply([Line("assistant", ANYTHING_ELSE)], "Yes") == "Sure, what else can I help you with?"
    assert agent.reply([], "Who am I speaking with?") == "I'm Riley, the friendly receptionist for Sunny Paws Dog Grooming."


def test_the_tester_turns_instructions_into_one_intent_per_turn() -> None:
    instructions = (
        "You are calling to book a nail trim for your dog Max. Your name is Jordan Lee. "
        "Ask how much a bath costs, then ask about parking. If offered a time, decline the first one. Be friendly."
    )
    assert engine.tester_turns(instructions) == [
        "I'm calling to book a nail trim for my dog Max.",
        "Could you tell me how much a bath costs?",
        "Can you tell me about parking?",
    ]
    played = converse(Agent(sunny(), now=NOW), engine.Tester(instructions))
    users = [line.text for line in played.lines if line.role == "user"]
    assert users[0] == "Hi, I'm calling to book a nail trim for my dog Max."
    assert users[1] == "No, that doesn't work for me. Do you have another time?"  # the first offer, declined
    assert users[2] == "Yes, that works for me."
    assert users[3:5] == ["Could you tell me how much a bath costs?", "Can you tell me about parking?"]
    assert users[-1] == "Okay, thank you. Goodbye!" and played.ended_reason == "customer-ended-call"
    assert sum("$40" in line.text for line in played.lines if line.role == "assistant") == 1


def test_the_tester_gives_the_facts_it_was_given_when_asked() -> None:
    tester = engine.Tester("Your name is Jordan Lee and your phone number is +1 415 555 0100. Your dog is called Max. Ask to book a bath.")
    asked = [Line("assistant", "Sure. May I have your name and your phone number?")]
    assert tester.next_line(asked) == "My name is Jordan Lee. My number is +1 415 555 0100."
    assert tester.next_line([Line("assistant", "And what's your dog's name?")]) == "My dog's name is Max."
    assert tester.next_line([Line("assistant", "Is this Jordan?")]) == "Yes, this is Jordan Lee."
    assert engine.Tester("Ask about prices.").next_line([Line("assistant", "Can I get your email?")]) == "I'd rather not say."


def test_a_conversation_ends_on_an_end_call_phrase_or_after_max_turns() -> None:
    phrase = converse(Agent(sunny(endCallPhrases=["goodbye"]), now=NOW), engine.Tester("Ask about parking."))
    assert phrase.ended_reason == "assistant-said-end-call-phrase" and phrase.lines[-1].text == "Thank you for calling. Goodbye!"
    chatty = converse(Agent(sunny(), now=NOW), engine.Tester(" ".join(["Ask about parking."] * 10)), max_turns=3)
    assert chatty.ended_reason == "exceeded-max-duration" and sum(line.role == "user" for line in chatty.lines) == 3


def test_documents_answer_questions_and_a_changed_document_changes_the_reply() -> None:
    assistant = {"model": {"messages": [{"role": "system", "content": "You are the Sunny Paws receptionist. Never mention insurance."}]}}
    prices = Document("price-list.txt", "Puppy bath - $25\nTeeth brushing - $10\nWe do not bill insurance.")
    assert "$10" in assistant_turn(assistant, [], "How much is teeth brushing?", now=NOW, documents=[prices])
    cheaper = {"name": "price-list.txt", "text": "Teeth brushing - $8"}
    assert "$8" in assistant_turn(assistant, [], "How much is teeth brushing?", now=NOW, documents=[cheaper])
    assert "insurance" not in assistant_turn(assistant, [], "Do you bill insurance?", now=NOW, documents=[prices]).lower()


def test_a_workflows_prompts_are_the_prompt() -> None:
    workflow = {
        "name": "Clinic flow",
        "globalPrompt": "You are the Harbor Clinic line. Never mention billing.",
        "nodes": [
            {"type": "conversation", "name": "faq", "prompt": "Flu shots cost $30."},
            {"type": "conversation", "name": "start", "isStart": True, "prompt": "The clinic opens at 8am on weekdays."},
        ],
    }
    assert system_prompt(workflow).split("\n\n") == [workflow["globalPrompt"], "The clinic opens at 8am on weekdays.", "Flu shots cost $30."]
    vapi_model = {"model": {"provider": "vapi", "workflow": workflow}}
    assert assistant_turn(vapi_model, [], "How much is a flu shot?", now=NOW) == "Flu shots cost $30."


def test_assistant_overrides_replace_fields_and_bring_variable_values() -> None:
    assistant, variables = with_overrides(sunny(), {"firstMessage": "Hey {{name}}!", "variableValues": {"name": "Sam"}})
    assert opening(assistant, now=NOW, variables=variables) == "Hey Sam!"
    assert with_overrides(sunny(), None) == (sunny(), {})


def test_an_eval_mock_system_message_adds_to_the_prompt() -> None:
    history = [{"role": "system", "content": "Today's special: a free nail trim with every bath."}]
    assert assistant_turn(sunny(), history, "Is there a special today?", now=NOW) == "Today's special: a free nail trim with every bath."
    assert assistant_turn(sunny(), [], "Is there a special today?", now=NOW) == NO_INFO


def test_the_same_inputs_give_the_same_transcript() -> None:
    def play() -> list[Line]:
        return converse(Agent(sunny(), now=NOW, customer={"name": "Ana"}), engine.Tester("Ask to book a bath. Ask about parking.")).lines

    assert play() == play()


def test_the_same_inputs_give_the_same_transcript_in_other_processes() -> None:
    script = (
        "import json; from tests.engine_kit import NOW, sunny; from vapi_mcp.sandbox.conversation import Agent, Tester, converse;"
        "c = converse(Agent(sunny(), now=NOW), Tester('Ask to book a bath. Ask about your prices. Ask about parking.'));"
        "print(json.dumps([[l.role, l.text] for l in c.lines]))"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed}, check=True, cwd=os.getcwd())
        outputs.add(done.stdout)
    assert len(outputs) == 1 and len(json.loads(outputs.pop())) >= 6


def test_results_say_once_that_replies_come_from_rules() -> None:
    body = noted({"id": "chat-1", "output": [{"role": "assistant", "content": "Nail trim: $15."}]})
    assert body[NOTE_KEY] == RULE_NOTE and "not generated by a model" in RULE_NOTE
    assert noted(body) == body and list(body).count(NOTE_KEY) == 1


def test_conversations_are_read_from_chat_and_call_messages_and_transcripts() -> None:
    chat = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    call = [{"role": "system", "message": "prompt"}, {"role": "bot", "message": "Hello!"}, {"role": "user", "message": "Hi"}]
    assert as_lines(chat) == [Line("user", "Hi"), Line("assistant", "Hello!")]
    assert as_lines(call) == [Line("system", "prompt"), Line("assistant", "Hello!"), Line("user", "Hi")]
    lines = [Line("assistant", "Hello!"), Line("user", "How much is a bath?")]
    assert transcript_text(lines) == "AI: Hello!\nUser: How much is a bath?"
    assert parse_transcript(transcript_text(lines)) == lines
