"""chat_with_assistant: test an assistant by text through Vapi's /chat, turn after turn."""

from __future__ import annotations

import pytest

from tests.engine_kit import sunny
from tests.mcp_kit import result_json, result_text
from tests.openapi import assert_valid
from vapi_mcp.sandbox.conversation import RULE_NOTE
from vapi_mcp.sandbox.core import stamp


@pytest.fixture
def assistant_id(sandbox, clock) -> str:
    """Issue 16's Sunny Paws receptionist (prices, hours, booking, a rule)."""
    assistant = stamp(clock, **sunny())
    sandbox.store.assistants[assistant["id"]] = assistant
    return assistant["id"]


def chat_bodies(sandbox) -> list[dict]:
    return [r.body for r in sandbox.requests_to("POST", "/chat")]


async def test_a_message_gets_the_assistants_reply_and_a_chat_id(client, sandbox, assistant_id):
    result = await client.call_tool("chat_with_assistant", {"assistantId": assistant_id, "input": "What are your hours?"})
    view = result_json(result)
    assert view["reply"] == "We are open Monday to Friday, 9am to 5pm, and Saturday 10am to 2pm. Closed on Sundays."
    assert view["sandboxNote"] == RULE_NOTE and result_text(result).count(RULE_NOTE) == 1
    assert view["chatId"] in sandbox.store.chats
    [body] = chat_bodies(sandbox)
    assert body == {"assistantId": assistant_id, "input": "What are your hours?"}
    assert_valid("CreateChatDTO", body)


async def test_previous_chat_id_continues_the_conversation(client, sandbox, assistant_id):
    first = result_json(await client.call_tool("chat_with_assistant", {"assistantId": assistant_id, "input": "Hello"}))
    assert first["reply"] == "Hello, this is Riley from Sunny Paws Dog Grooming. How can I help you today?"
    second = result_json(
        await client.call_tool("chat_with_assistant", {"previousChatId": first["chatId"], "input": "Can I book Thursday?"})
    )
    assert second["reply"] == "I can book that for you. How about Thursday, November 5 at 9:00 AM?"
    third = result_json(await client.call_tool("chat_with_assistant", {"previousChatId": second["chatId"], "input": "Yes"}))
    assert third["reply"] == "You're booked for Thursday, November 5 at 9:00 AM. Is there anything else I can help you with?"
    assert second["chatId"] != first["chatId"]
    body = chat_bodies(sandbox)[1]
    assert body == {"previousChatId": first["chatId"], "input": "Can I book Thursday?"}
    assert_valid("CreateChatDTO", body)


async def test_a_transient_assistant_and_message_input_are_passed_through(client, sandbox):
    arguments = {
        "assistant": {"name": "Quick Test", "model": {"provider": "openai", "model": "gpt-4.1"}},
        "input": [{"role": "user", "content": "Hi there"}],
    }
    view = result_json(await client.call_tool("chat_with_assistant", arguments))
    assert view["reply"] == "Hello, this is Quick Test. How can I help you today?", "no prompt: a greeting by rule, in its name"
    assert chat_bodies(sandbox) == [arguments]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"input": "Hello"}, "assistantId"),
        ({"assistantId": "riley", "input": "Hello"}, "assistantId"),
        ({"assistantId": "0de062e5-715c-4e5a-be9e-9bc9644915f9", "assistant": {}, "input": "Hello"}, "assistant"),
        ({"assistantId": "0de062e5-715c-4e5a-be9e-9bc9644915f9"}, "input"),
    ],
)
async def test_broken_arguments_name_the_field_and_send_nothing(client, sandbox, arguments, field):
    result = await client.call_tool("chat_with_assistant", arguments)
    assert result.is_error and f"`{field}`" in result_text(result), result_text(result)
    assert not sandbox.requests


async def test_an_unknown_assistant_gets_vapis_message(client, sandbox):
    missing = "0de062e5-715c-4e5a-be9e-9bc9644915f9"
    result = await client.call_tool("chat_with_assistant", {"assistantId": missing, "input": "Hello"})
    assert result.is_error
    assert f"Couldn't Get Assistant. `assistantId` {missing} Not Found." in result_text(result)
