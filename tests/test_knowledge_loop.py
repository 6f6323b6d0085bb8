"""Issue 19 done: on the sandbox, an agent goes from a local price-list file to an assistant whose chat answers quote
it, and reads back the chats it had, through a real MCP client (the SDK's, declaring roots), and the same loop as a
stdio subprocess client (without roots: the directory the server was started in). Every body the loop sends passes
the strict check of Vapi's document."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.knowledge_kit import PRICE_LIST, multipart, price_list_loop, roots_of
from tests.mcp_kit import connect
from tests.openapi import assert_valid
from tests.stdio_kit import server_env
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import Sandbox
from vapi_mcp.sandbox.conversation import RULE_NOTE

NAIL_TRIM = "Nail trim: $15."
FULL_GROOM = "Full groom: $75 for small dogs, $95 for large dogs."
BODIES = {
    ("POST", "/assistant"): "CreateAssistantDTO",
    ("POST", "/v2/knowledge-base"): "CreateKnowledgeBaseV2DTO",
    ("POST", "/v2/knowledge-base/{id}/file"): "AttachKnowledgeBaseV2FileDTO",
    ("PATCH", "/assistant/{id}"): "UpdateAssistantDTO",
    ("POST", "/chat"): "CreateChatDTO",
}
"""The JSON bodies the loop sends, by route, and the DTO of Vapi's document each must satisfy."""


def checked(seen: dict[str, Any]) -> None:
    """What the loop must have seen, whichever client drove it."""
    assert seen["upload"]["name"] == "prices.txt" and seen["upload"]["status"] == "processing"
    assert seen["attach"]["status"] == "indexing" and seen["indexing"]["byStatus"] == {"indexing": 1}
    assert seen["ready"]["files"] == [{"fileId": seen["upload"]["id"], "name": "prices.txt", "status": "ready", "bytes": len(PRICE_LIST.encode())}]
    assert seen["connect"]["connected"] is True and seen["connect"]["readyFiles"] == 1
    assert seen["replies"] == [NAIL_TRIM, FULL_GROOM]
    assert sorted(row["id"] for row in seen["chats"]["chats"]) == sorted(seen["ids"]["chats"]) and seen["chats"]["sandboxNote"] == RULE_NOTE
    assert {row["asked"] for row in seen["chats"]["chats"]} == {"How much is a nail trim?", "And what does a full groom cost?"}
    assert seen["conversation"]["turns"] == ["User: How much is a nail trim?", f"AI: {NAIL_TRIM}", "User: And what does a full groom cost?", f"AI: {FULL_GROOM}"]


def template(path: str) -> str:
    return "/".join("{id}" if len(part) == 36 else part for part in path.split("/"))


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_an_mcp_client_with_roots_goes_from_a_price_list_to_an_assistant_that_quotes_it(mode: str, tmp_path: Path, sandbox: Sandbox) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "prices.txt").write_text(PRICE_LIST)
    settings = Settings.load(
        {}, audit_log=str(tmp_path / "audit.jsonl"), state_url=f"sqlite://{tmp_path / 'state.sqlite3'}", quiet_hours=False, toolsets=("default", "knowledge")
    )
    async with connect(settings, sandbox, list_roots_callback=roots_of(folder), mode=mode) as client:
        seen = await price_list_loop(client, "prices.txt")
    checked(seen)
    sent = [r for r in sandbox.requests if r.method in ("POST", "PATCH") and r.path != "/sandbox/clock"]
    [upload] = [r for r in sent if r.path == "/file"]
    assert multipart(upload)["file"] == ("prices.txt", "text/plain", PRICE_LIST)
    assert_valid("CreateFileDTO", {**multipart(upload), "file": "(binary)"})
    for request in sent:
        if request.path != "/file":
            assert_valid(BODIES[(request.method, template(request.path))], request.body)
    [patch] = [r for r in sent if r.method == "PATCH"]
    assert patch.body["model"]["toolIds"] == [seen["ready"]["toolId"]]


def test_a_stdio_client_without_roots_does_the_same_from_the_folder_the_server_started_in(tmp_path: Path) -> None:
    import anyio

    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "prices.txt").write_text(PRICE_LIST)
    (tmp_path / "secret.txt").write_text("not for upload\n")
    env = server_env(tmp_path, VAPI_MCP_TOOLSETS="default,knowledge")
    params = StdioServerParameters(command=sys.executable, args=["-m", "vapi_mcp", "serve", "--sandbox"], env=env, cwd=str(folder))

    async def drive() -> tuple[dict[str, Any], Any]:
        async with Client(params) as client:
            seen = await price_list_loop(client, "prices.txt")
            outside = await client.call_tool("upload_file", {"path": "../secret.txt"})
        return seen, outside

    seen, outside = anyio.run(drive)
    checked(seen)
    assert outside.is_error and "the directory the server was started in" in outside.content[0].text
