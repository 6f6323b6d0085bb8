"""Knowledge bases through a real MCP client: files with their status, the guarded deletes, and connecting one
to an assistant the way Vapi's document does (the base's search tool in the assistant's model.toolIds)."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.knowledge_kit import PRICE_LIST, assistant, put_file
from tests.mcp_kit import confirmed, result_json, result_text
from tests.openapi import assert_valid
from vapi_mcp.sandbox import ManualClock, Sandbox

MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


async def new_base(client: Client, name: str = "Sunny Paws prices") -> dict[str, Any]:
    result = await client.call_tool("create_knowledge_base", {"name": name, "description": "What things cost."})
    assert not result.is_error, result_text(result)
    return result_json(result)


def changes(sandbox: Sandbox, prefix: str) -> list[Any]:
    return [r for r in sandbox.requests if r.method != "GET" and r.path.startswith(prefix)]


async def test_a_base_shows_each_files_processing_status_on_the_clock(client: Client, sandbox: Sandbox, clock: ManualClock) -> None:
    base = await new_base(client)
    assert_valid("CreateKnowledgeBaseV2DTO", changes(sandbox, "/v2/knowledge-base")[0].body)
    prices = await put_file(sandbox, "prices.txt", PRICE_LIST)
    scan = await put_file(sandbox, "scan.pdf", b"%PDF-1.7")
    for file in (prices, scan):
        attached = result_json(await client.call_tool("attach_file", {"knowledgeBaseId": base["id"], "fileId": file["id"]}))
        assert attached["status"] == "indexing" and attached["fileId"] == file["id"]
    for sent in changes(sandbox, f"/v2/knowledge-base/{base['id']}/file"):
        assert sent.body == {"fileId": sent.body["fileId"]}
        assert_valid("AttachKnowledgeBaseV2FileDTO", sent.body)
    indexing = result_json(await client.call_tool("get_knowledge_base", {"id": base["id"]}))
    assert indexing["byStatus"] == {"indexing": 2} and "still indexing" in indexing["note"] and indexing["toolId"]
    clock.advance(10)
    settled = result_json(await client.call_tool("get_knowledge_base", {"id": base["id"]}))
    assert settled["files"] == [
        {"fileId": prices["id"], "name": "prices.txt", "status": "ready", "bytes": len(PRICE_LIST.encode())},
        {"fileId": scan["id"], "name": "scan.pdf", "status": "failed", "bytes": 8},
    ]
    assert settled["byStatus"] == {"ready": 1, "failed": 1} and "retry_file" in settled["note"]
    retried = result_json(await client.call_tool("retry_file", {"knowledgeBaseId": base["id"], "fileId": scan["id"]}))
    assert retried["status"] == "indexing"
    clock.advance(10)
    again = result_json(await client.call_tool("get_knowledge_base", {"id": base["id"]}))
    assert again["byStatus"] == {"ready": 1, "failed": 1}  # its text still cannot be read
    listed = result_json(await client.call_tool("list_knowledge_bases", {}))
    assert listed["knowledgeBases"] == [{"id": base["id"], "name": "Sunny Paws prices", "description": "What things cost.", "createdAt": base["createdAt"]}]


async def test_update_sends_only_what_changes(client: Client, sandbox: Sandbox) -> None:
    base = await new_base(client)
    changed = result_json(await client.call_tool("update_knowledge_base", {"id": base["id"], "name": "Prices 2026"}))
    assert changed["name"] == "Prices 2026" and changed["changed"] == ["name"]
    [patch] = [r for r in sandbox.requests if r.method == "PATCH"]
    assert patch.body == {"name": "Prices 2026"}
    assert_valid("UpdateKnowledgeBaseV2DTO", patch.body)
    nothing = await client.call_tool("update_knowledge_base", {"id": base["id"]})
    assert nothing.is_error and "give a name or a description" in result_text(nothing)


async def test_deleting_a_base_asks_first_naming_it_and_then_removes_its_search_tool(client: Client, sandbox: Sandbox) -> None:
    base = await new_base(client)
    await client.call_tool("attach_file", {"knowledgeBaseId": base["id"], "fileId": (await put_file(sandbox, "prices.txt", PRICE_LIST))["id"]})
    tool = result_json(await client.call_tool("get_knowledge_base", {"id": base["id"]}))["toolId"]
    preview = result_json(await client.call_tool("delete_knowledge_base", {"id": base["id"]}))
    assert preview["confirmToken"] and '"Sunny Paws prices"' in preview["summary"] and "1 file stay uploaded" in preview["summary"]
    assert base["id"] in sandbox.store.knowledge_bases and tool in sandbox.store.tools
    deleted = result_json(await confirmed(client, "delete_knowledge_base", {"id": base["id"]}))
    assert deleted["deleted"]["id"] == base["id"]
    assert base["id"] not in sandbox.store.knowledge_bases and tool not in sandbox.store.tools and len(sandbox.store.files) == 1


async def test_detaching_a_file_asks_first_and_a_file_not_attached_is_refused_before_asking(client: Client, sandbox: Sandbox) -> None:
    base = await new_base(client)
    prices = await put_file(sandbox, "prices.txt", PRICE_LIST)
    await client.call_tool("attach_file", {"knowledgeBaseId": base["id"], "fileId": prices["id"]})
    stranger = await client.call_tool("detach_file", {"knowledgeBaseId": base["id"], "fileId": MISSING})
    assert stranger.is_error and "`fileId`" in result_text(stranger) and '"prices.txt"' in result_text(stranger)
    preview = result_json(await client.call_tool("detach_file", {"knowledgeBaseId": base["id"], "fileId": prices["id"]}))
    assert '"prices.txt"' in preview["summary"] and '"Sunny Paws prices"' in preview["summary"] and not changes(sandbox, "/v2/knowledge-base/")[1:]
    detached = result_json(await confirmed(client, "detach_file", {"knowledgeBaseId": base["id"], "fileId": prices["id"]}))
    assert detached["detached"]["fileId"] == prices["id"]
    assert result_json(await client.call_tool("get_knowledge_base", {"id": base["id"]})).get("files") is None
    assert prices["id"] in sandbox.store.files


async def test_connecting_adds_the_bases_search_tool_to_the_assistants_model_and_disconnecting_removes_it(
    client: Client, sandbox: Sandbox, clock: ManualClock
) -> None:
    riley = assistant(sandbox, model={"toolIds": []})
    base = await new_base(client)
    await client.call_tool("attach_file", {"knowledgeBaseId": base["id"], "fileId": (await put_file(sandbox, "prices.txt", PRICE_LIST))["id"]})
    early = result_json(await client.call_tool("connect_knowledge_base", {"assistantId": riley, "knowledgeBaseId": base["id"]}))
    tool = early["toolId"]
    assert early["connected"] is True and early["readyFiles"] == 0 and "not ready yet" in early["note"] and "chat_with_assistant" in early["next"]
    [patch] = [r for r in sandbox.requests if r.method == "PATCH"]
    assert patch.path == f"/assistant/{riley}" and patch.body["model"]["toolIds"] == [tool]
    assert patch.body["model"]["messages"] == sandbox.store.assistants[riley]["model"]["messages"]
    assert_valid("UpdateAssistantDTO", patch.body)
    clock.advance(10)
    again = result_json(await client.call_tool("connect_knowledge_base", {"assistantId": riley, "knowledgeBaseId": base["id"]}))
    assert again["unchanged"] is True and again["readyFiles"] == 1 and len([r for r in sandbox.requests if r.method == "PATCH"]) == 1
    gone = result_json(await client.call_tool("connect_knowledge_base", {"assistantId": riley, "knowledgeBaseId": base["id"], "disconnect": True}))
    assert gone["connected"] is False and sandbox.store.assistants[riley]["model"]["toolIds"] == []


async def test_connecting_an_assistant_whose_model_carries_a_transfer_asks_the_user(client: Client, sandbox: Sandbox) -> None:
    """The PATCH resends the whole model, so the guard sees the transfer destination in it, as update_assistant's would."""
    transfer = {"type": "transferCall", "destinations": [{"type": "number", "number": "+14155550123"}]}
    riley = assistant(sandbox, model={"tools": [transfer]})
    base = await new_base(client)
    preview = result_json(await client.call_tool("connect_knowledge_base", {"assistantId": riley, "knowledgeBaseId": base["id"]}))
    assert preview["confirmToken"] and "+14155550123" in preview["summary"] and '"Riley"' in preview["summary"]
    assert [r for r in sandbox.requests if r.method == "PATCH"] == []
    done = result_json(await confirmed(client, "connect_knowledge_base", {"assistantId": riley, "knowledgeBaseId": base["id"]}))
    assert done["connected"] is True and sandbox.store.assistants[riley]["model"]["toolIds"] == [done["toolId"]]


async def test_a_base_whose_search_tool_is_gone_cannot_be_connected(client: Client, sandbox: Sandbox) -> None:
    riley = assistant(sandbox)
    base = await new_base(client)
    tool = result_json(await client.call_tool("get_knowledge_base", {"id": base["id"]}))["toolId"]
    del sandbox.store.tools[tool]
    result = await client.call_tool("connect_knowledge_base", {"assistantId": riley, "knowledgeBaseId": base["id"]})
    assert result.is_error and "has no search tool" in result_text(result) and "nothing was changed" in result_text(result)


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("create_knowledge_base", {"name": ""}, "`name`"),
        ("create_knowledge_base", {"name": "x" * 81}, "`name`"),
        ("create_knowledge_base", {"name": "Prices", "description": "x" * 1001}, "`description`"),
        ("get_knowledge_base", {"id": "../file"}, "`id` must be a Vapi id"),
        ("attach_file", {"knowledgeBaseId": MISSING, "fileId": "nope"}, "`fileId` must be a Vapi id"),
        ("detach_file", {"knowledgeBaseId": "x", "fileId": MISSING}, "`knowledgeBaseId` must be a Vapi id"),
        ("connect_knowledge_base", {"assistantId": MISSING}, "`knowledgeBaseId` is required"),
    ],
)
async def test_bad_input_is_refused_before_any_request(client: Client, sandbox: Sandbox, name: str, arguments: dict[str, Any], says: str) -> None:
    result = await client.call_tool(name, arguments)
    assert result.is_error and says in result_text(result)
    assert sandbox.requests == []


async def test_vapis_refusal_is_an_error_the_agent_can_act_on(client: Client, sandbox: Sandbox) -> None:
    base = await new_base(client)
    result = await client.call_tool("attach_file", {"knowledgeBaseId": base["id"], "fileId": MISSING})
    assert result.is_error and "Couldn't Get File" in result_text(result) and "nothing was changed" in result_text(result)
