"""What the agent is told: the toolsets that are off and how the user turns them on, what read-only means,
a key that is an unexpanded placeholder, and why a call from a free Vapi number never rang (issue 18)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.mcp_kit import connect, result_json, result_text
from vapi_mcp.cli import _note_sandbox
from vapi_mcp.config import Settings
from vapi_mcp.sandbox.core import stamp


def settings_for(tmp_path: Any, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    return Settings.load(env or {}, audit_log=str(tmp_path / "audit.jsonl"), state_url=f"sqlite://{tmp_path / 'state.sqlite3'}", **overrides)


async def test_the_default_selection_names_what_is_off_and_the_setting_that_turns_it_on(tmp_path, sandbox) -> None:
    """Before: asked for an eval or a campaign, the agent got `Unknown tool: run_eval` and nothing said why."""
    async with connect(settings_for(tmp_path), sandbox) as client:
        told = client.session.instructions or ""
        refused = await client.call_tool("run_eval", {"evalId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "target": {"assistantId": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}})
        campaign = await client.call_tool("create_campaign", {"name": "x"})
    assert "NOT OFFERED NOW: tools (" in told and "campaigns (" in told and "analytics (" in told
    assert "the rest of testing (create_eval, list_evals, get_eval, update_eval, ...)" in told
    assert "only they can turn them on" in told and "VAPI_MCP_TOOLSETS (or --toolsets)" in told
    text = result_text(refused)
    assert refused.is_error and "Unknown tool" not in text and "toolset `testing`" in text
    assert "VAPI_MCP_TOOLSETS=default,testing" in text and "only they can turn it on" in text
    assert campaign.is_error and "toolset `campaigns`" in result_text(campaign)
    assert sandbox.requests == []


async def test_with_every_toolset_nothing_is_said_to_be_off(client) -> None:
    assert "NOT OFFERED NOW" not in (client.session.instructions or "")


async def test_read_only_instructions_do_not_tell_the_agent_to_place_calls_or_chat(tmp_path, sandbox) -> None:
    """Before: under --read-only the instructions still told the agent to place calls and chat."""
    async with connect(settings_for(tmp_path, read_only=True), sandbox) as client:
        told = client.session.instructions or ""
        names = {tool.name for tool in (await client.list_tools()).tools}
        refused = await client.call_tool("create_call", {"assistantId": "3fa85f64-5717-4562-b3fc-2c963f66afa6"})
    assert "chat_with_assistant" not in told and "place and inspect" not in told and "confirmToken" not in told
    assert "READ-ONLY MODE" in told and "cannot place a call, start a chat" in told and "VAPI_MCP_READ_ONLY" in told
    assert "create_call" not in names and "get_call" in names
    assert refused.is_error and "read-only" in result_text(refused) and "VAPI_MCP_READ_ONLY" in result_text(refused)


@pytest.mark.parametrize("placeholder", ["${env:VAPI_API_KEY}", "${VAPI_API_KEY}", "$VAPI_API_KEY", "{{VAPI_API_KEY}}", "%VAPI_API_KEY%"])
async def test_an_unexpanded_placeholder_key_is_said_to_mean_the_sandbox(tmp_path, sandbox, caplog, placeholder) -> None:
    """Before: `${env:VAPI_API_KEY}` silently meant the sandbox (the warning said only "no VAPI_API_KEY")."""
    settings = settings_for(tmp_path, {"VAPI_API_KEY": placeholder})
    assert settings.sandbox and settings.api_key is None and settings.unexpanded_key == f"VAPI_API_KEY={placeholder}"
    with caplog.at_level(logging.WARNING, logger="vapi_mcp"):
        _note_sandbox(settings)
    assert placeholder in caplog.text and "placeholder" in caplog.text and "sandbox" in caplog.text
    async with connect(settings, sandbox) as client:
        told = client.session.instructions or ""
    assert f"VAPI_API_KEY looks like a placeholder the MCP client did not expand ({placeholder})" in told
    assert "SANDBOX MODE" in told and "only they can fix it" in told


def test_a_real_looking_key_is_a_key() -> None:
    settings = Settings.load({"VAPI_API_KEY": "9f1c2e4a-1b2c-4d5e-8f90-123456789abc"})
    assert not settings.sandbox and settings.unexpanded_key is None


async def test_get_call_says_a_call_from_a_free_number_never_rang_and_what_to_import(client, sandbox, clock) -> None:
    assistant = stamp(clock, name="Riley")
    free = stamp(clock, provider="vapi", number="+14155550100", status="active")
    sandbox.store.assistants[assistant["id"]] = assistant
    sandbox.store.phone_numbers[free["id"]] = free
    call = (await sandbox_post(sandbox, "/call", {"assistantId": assistant["id"], "phoneNumberId": free["id"], "customer": {"number": "+12125550123"}}))
    view = result_json(await client.call_tool("get_call", {"id": call["id"]}))
    assert view["endedReason"] == "call.start.error-get-transport"
    assert view["endedBecause"].startswith("The calling number is a free Vapi number: Vapi's free numbers take inbound calls only")
    assert "import_number" in view["nextStep"]


async def sandbox_post(sandbox: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A request straight to the sandbox (what Vapi holds), as another client of the account would send it."""
    import httpx2

    from vapi_mcp.config import SANDBOX_BASE_URL

    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=sandbox.app), base_url=SANDBOX_BASE_URL, headers={"Authorization": "Bearer k"}) as http:
        response = await http.post(path, json=body)
    response.raise_for_status()
    return response.json()


# documents and sizes


def wire_tools_list(tmp_path: Any, capabilities: dict[str, Any]) -> tuple[int, int]:
    """(tools, bytes of the `tools` array as compact JSON) in the tools/list answer a stdio server writes to a client."""
    import json
    import subprocess
    import sys

    from tests.stdio_kit import server_env

    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": capabilities, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
    ]
    done = subprocess.run(
        [sys.executable, "-m", "vapi_mcp", "serve", "--sandbox"],
        input="".join(json.dumps(line) + "\n" for line in lines).encode(),
        capture_output=True,
        env=server_env(tmp_path, VAPI_MCP_FAST_START="0"),
        timeout=60,
    )
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    [listed] = [a for a in answers if a.get("id") == 2]
    tools = listed["result"]["tools"]
    return len(tools), len(json.dumps(tools, separators=(",", ":"), ensure_ascii=False).encode())


def test_the_tools_list_size_the_readme_and_vapi_mcp_tools_state_is_what_clients_get(tmp_path, capsys) -> None:
    """Before: README and `vapi-mcp tools` said 15,925 B; a plain client got 14,857 B and an MCP Apps client 16,715 B
    (26 tools): the figure counted the app-only tools a plain client never sees, without the bindings an Apps client gets."""
    from pathlib import Path

    from vapi_mcp.cli import main
    from vapi_mcp.guard.app import APP_MIME_TYPE, EXTENSION_ID

    plain = wire_tools_list(tmp_path / "plain", {})
    apps = wire_tools_list(tmp_path / "apps", {"extensions": {EXTENSION_ID: {"mimeTypes": [APP_MIME_TYPE]}}})
    assert apps[0] == plain[0] + 2  # the view's Approve and Decline
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"{plain[0]} tools, whose tools/list a client gets in {plain[1]:,} bytes" in readme
    assert f"an MCP Apps client gets {apps[0]} tools in {apps[1]:,} bytes" in readme
    assert main(["tools"]) == 0
    out = capsys.readouterr().out
    assert f"{plain[0]} tools; tools/list is {plain[1]:,} bytes" in out and f"an MCP Apps client gets {apps[0]} tools in {apps[1]:,} bytes" in out


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_list_changed_is_false_on_initialize_and_on_server_discover_alike(client_mode_server, mode) -> None:
    """Before: `listChanged` was false on `initialize` but true on `server/discover` (the list never changes)."""
    caps = await client_mode_server(mode)
    assert caps.tools.list_changed is False and caps.prompts.list_changed is False
    assert caps.resources.list_changed is False and caps.resources.subscribe is False


@pytest.fixture
def client_mode_server(settings, sandbox):
    from mcp import Client

    from vapi_mcp.server import build_server

    async def capabilities(mode: str) -> Any:
        server, app = build_server(settings, sandbox=sandbox)
        try:
            async with Client(server, mode=mode) as client:
                return client.server_capabilities
        finally:
            await app.aclose()

    return capabilities
