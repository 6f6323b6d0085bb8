"""Reading back chats through a real MCP client (list_chats, get_chat, a guarded delete_chat), and the sandbox's
GET /chat and DELETE /chat/{id} as a plain HTTP client sees them."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest
from mcp import Client

from tests.knowledge_kit import assistant
from tests.mcp_kit import confirmed, result_json, result_text
from tests.openapi import assert_answer, document
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox import chat as sandbox_chat
from vapi_mcp.sandbox.conversation import NOTE_HEADER, RULE_NOTE

PROMPT = "You are Riley, the receptionist at Sunny Paws grooming. A nail trim is $15. A bath is $40."


async def chat(client: Client, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool("chat_with_assistant", arguments)
    assert not result.is_error, result_text(result)
    return result_json(result)


async def test_list_and_get_read_back_the_conversation_the_agent_had(client: Client, sandbox: Sandbox, clock: ManualClock) -> None:
    riley = assistant(sandbox, PROMPT)
    first = await chat(client, assistantId=riley, input="How much is a nail trim?")
    clock.advance(5)
    second = await chat(client, previousChatId=first["chatId"], input="And a bath?")
    clock.advance(5)
    other = await chat(client, assistantId=assistant(sandbox, "You are Max at Max's Garage."), input="Hello")
    listed = await client.call_tool("list_chats", {"assistantId": riley})
    view = result_json(listed)
    assert view["sandboxNote"] == RULE_NOTE and view["total"] == 2 and view["page"] == 1 and "next" not in view
    assert [row["id"] for row in view["chats"]] == [second["chatId"], first["chatId"]]
    newest = view["chats"][0]
    assert newest["turns"] == 2 and newest["asked"] == "And a bath?" and newest["reply"] == second["reply"] and newest["assistantId"] == riley
    assert sandbox.requests_to("GET", "/chat")[-1].query == {"assistantId": riley, "page": "1", "limit": "20"}
    got = result_json(await client.call_tool("get_chat", {"id": second["chatId"]}))
    assert got["turns"] == ["User: How much is a nail trim?", f"AI: {first['reply']}", "User: And a bath?", f"AI: {second['reply']}"]
    assert got["previousChatId"] == first["chatId"] and got["assistantId"] == riley and got["sandboxNote"] == RULE_NOTE
    assert "$15" in got["turns"][1] and "$40" in got["turns"][3]
    everyone = result_json(await client.call_tool("list_chats", {"limit": 1, "page": 2}))
    assert everyone["total"] == 3 and everyone["next"] == {"page": 3} and [r["id"] for r in everyone["chats"]] == [second["chatId"]]
    assert other["chatId"] not in [r["id"] for r in view["chats"]]


async def test_a_session_lists_the_chats_it_carried(client: Client, sandbox: Sandbox) -> None:
    riley = assistant(sandbox, PROMPT)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url="http://s", headers={"Authorization": "Bearer k"}) as http:
        session = (await http.post("/session", json={"assistantId": riley})).json()
    one = await chat(client, sessionId=session["id"], input="How much is a nail trim?")
    await chat(client, assistantId=riley, input="Hi")
    listed = result_json(await client.call_tool("list_chats", {"sessionId": session["id"]}))
    assert [row["id"] for row in listed["chats"]] == [one["chatId"]] and listed["chats"][0]["sessionId"] == session["id"]


async def test_delete_asks_first_naming_the_assistant_then_deletes(client: Client, sandbox: Sandbox) -> None:
    riley = assistant(sandbox, PROMPT)
    made = await chat(client, assistantId=riley, input="How much is a nail trim?")
    preview = result_json(await client.call_tool("delete_chat", {"id": made["chatId"]}))
    assert preview["confirmToken"] and 'the assistant "Riley"' in preview["summary"] and "1 user turn" in preview["summary"]
    assert made["chatId"] in sandbox.store.chats
    deleted = result_json(await confirmed(client, "delete_chat", {"id": made["chatId"]}))
    assert deleted["deleted"]["id"] == made["chatId"] and made["chatId"] not in sandbox.store.chats
    gone = await client.call_tool("get_chat", {"id": made["chatId"]})
    assert gone.is_error and "Chat Not Found" in result_text(gone)


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("list_chats", {"limit": 101}, "`limit`"),
        ("list_chats", {"page": 0}, "`page`"),
        ("list_chats", {"assistantId": "riley"}, "`assistantId` must be a Vapi id"),
        ("get_chat", {"id": "../call"}, "`id` must be a Vapi id"),
        ("delete_chat", {"id": "x"}, "`id` must be a Vapi id"),
    ],
)
async def test_bad_input_is_refused_before_any_request(client: Client, sandbox: Sandbox, name: str, arguments: dict[str, Any], says: str) -> None:
    result = await client.call_tool(name, arguments)
    assert result.is_error and says in result_text(result)
    assert sandbox.requests == []


async def test_the_sandbox_lists_chats_as_vapis_paginated_answer(api: httpx.AsyncClient, sandbox: Sandbox, clock: ManualClock) -> None:
    riley = assistant(sandbox, PROMPT)
    made = []
    for question in ("How much is a nail trim?", "How much is a bath?", "Hello"):
        made.append((await api.post("/chat", json={"assistantId": riley, "input": question})).json())
        clock.advance(1)
    listed = await api.get("/chat", params={"limit": 2})
    assert listed.headers[NOTE_HEADER] == RULE_NOTE
    answer = listed.json()
    assert_answer("PaginationMeta", answer["metadata"])  # (the chats' messages are held to the SDK's types in test_sdk_answers)
    assert [c["id"] for c in answer["results"]] == [made[2]["id"], made[1]["id"]]
    assert answer["metadata"] == {"itemsPerPage": 2, "totalItems": 3, "currentPage": 1}
    oldest = (await api.get("/chat", params={"sortOrder": "ASC", "limit": 1, "page": 2})).json()
    assert [c["id"] for c in oldest["results"]] == [made[1]["id"]]
    assert (await api.get("/chat", params={"idAny": f"{made[0]['id']},{made[2]['id']}"})).json()["metadata"]["totalItems"] == 2
    refused = await api.get("/chat", params={"sortBy": "name"})
    assert refused.status_code == 400 and refused.json()["message"] == ["sortBy must be one of the following values: createdAt, duration, cost"]
    assert {p["name"] for p in document()["paths"]["/chat"]["get"]["parameters"]} == set(sandbox_chat.LIST_QUERY)


async def test_the_sandbox_deletes_a_chat_and_answers_it(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    riley = assistant(sandbox, PROMPT)
    made = (await api.post("/chat", json={"assistantId": riley, "input": "Hi"})).json()
    deleted = await api.delete(f"/chat/{made['id']}")
    assert deleted.status_code == 200 and deleted.json()["id"] == made["id"] and deleted.json()["output"] == made["output"]
    assert (await api.delete(f"/chat/{made['id']}")).status_code == 404
    assert (await api.get("/chat")).headers.get(NOTE_HEADER) is None  # nothing listed, no conversation carried
