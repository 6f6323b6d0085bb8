"""The sandbox's /session, as the document declares it, and a chat's `sessionId`: the session must exist,
and chats on one session share their history."""

from __future__ import annotations

from typing import Any

import pytest

from tests.openapi import assert_valid
from vapi_mcp.sandbox import Sandbox
from vapi_mcp.sandbox.core import stamp

MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@pytest.fixture
def sandbox(either_world: Sandbox) -> Sandbox:
    """Every test here runs on a world in memory and on one in an SQLite file."""
    return either_world


@pytest.fixture
def assistant_id(sandbox: Sandbox, clock: Any) -> str:
    assistant = stamp(clock, name="Sunny Paws", firstMessage="Hi, Sunny Paws grooming.")
    sandbox.store.assistants[assistant["id"]] = assistant
    return assistant["id"]


async def test_a_session_is_created_listed_read_updated_and_deleted(api, assistant_id, clock):
    created = await api.post("/session", json={"assistantId": assistant_id, "name": "Nail trims"})
    assert created.status_code == 201
    session = created.json()
    assert {"id", "orgId", "createdAt", "updatedAt"} <= session.keys()
    assert session["status"] == "active" and session["expirationSeconds"] == 86400 and session["assistantId"] == assistant_id
    assert_valid("Session", session)
    clock.advance(5)
    await api.post("/session", json={"name": "Other"})
    listed = (await api.get("/session", params={"assistantId": assistant_id})).json()
    assert [s["id"] for s in listed["results"]] == [session["id"]] and listed["metadata"]["totalItems"] == 1
    assert (await api.get(f"/session/{session['id']}")).json() == session
    updated = await api.patch(f"/session/{session['id']}", json={"status": "completed", "name": "Done"})
    assert updated.status_code == 200 and updated.json()["status"] == "completed" and updated.json()["name"] == "Done"
    refused = await api.patch(f"/session/{session['id']}", json={"assistantId": assistant_id})
    assert refused.status_code == 400 and refused.json()["message"] == ["property assistantId should not exist"]
    assert (await api.delete(f"/session/{session['id']}")).status_code == 200
    assert (await api.get(f"/session/{session['id']}")).status_code == 404


async def test_a_session_names_an_assistant_that_exists(api, sandbox):
    response = await api.post("/session", json={"assistantId": MISSING})
    assert response.status_code == 400 and "Couldn't Get Assistant" in str(response.json()["message"])
    assert not sandbox.store.sessions


async def test_a_chat_on_a_session_that_does_not_exist_is_refused(api, assistant_id, sandbox):
    """Any UUID used to answer 200: the session was never looked up."""
    response = await api.post("/chat", json={"assistantId": assistant_id, "sessionId": MISSING, "input": "Hi"})
    assert response.status_code == 400
    assert response.json()["message"] == f"Couldn't Get Session. `sessionId` {MISSING} Not Found."
    assert not sandbox.store.chats


async def test_two_chats_on_one_session_share_its_history(api, assistant_id):
    session = (await api.post("/session", json={"assistantId": assistant_id})).json()
    first = (await api.post("/chat", json={"sessionId": session["id"], "input": "My dog is called Rex."})).json()
    second = (await api.post("/chat", json={"sessionId": session["id"], "input": "What is my dog called?"})).json()
    assert said(first["messages"]) == [("user", "My dog is called Rex.")]
    assert second["messages"][:2] == [*first["messages"], *first["output"]] and said(second["messages"][2:]) == [("user", "What is my dog called?")]
    assert second["assistantId"] == assistant_id  # the session's assistant answers
    kept = (await api.get(f"/session/{session['id']}")).json()
    assert kept["messages"] == [*second["messages"], *second["output"]]
    other = (await api.post("/session", json={"assistantId": assistant_id})).json()
    alone = (await api.post("/chat", json={"sessionId": other["id"], "input": "What is my dog called?"})).json()
    assert said(alone["messages"]) == [("user", "What is my dog called?")]  # another session shares nothing


def said(messages: list[dict]) -> list[tuple[str, str]]:
    """Who said what, each message also in the document's transcript shape (`message`, `time`, `secondsFromStart`)."""
    assert all(m["message"] == m["content"] and isinstance(m["time"], int) for m in messages if m["role"] in ("system", "user")), messages
    return [(m["role"], m["content"]) for m in messages]


async def test_a_session_and_a_previous_chat_are_mutually_exclusive(api, assistant_id):
    session = (await api.post("/session", json={"assistantId": assistant_id})).json()
    first = (await api.post("/chat", json={"assistantId": assistant_id, "input": "Hi"})).json()
    response = await api.post("/chat", json={"sessionId": session["id"], "previousChatId": first["id"], "input": "Hi"})
    assert response.status_code == 400 and "mutually exclusive" in str(response.json()["message"])
