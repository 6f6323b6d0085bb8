"""Toolsets: which tools agents see, from settings and, over HTTP, per request (narrowing only)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.mcp_kit import connect, result_json
from tests.loopback import serving
from vapi_mcp.cli import main
from vapi_mcp.catalogue import TOOLSET_IDS
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import Sandbox
from vapi_mcp.tools import FAMILIES
from vapi_mcp.toolsets import catalogue

NEW_USER = ("create_assistant", "buy_number", "assign_assistant", "create_call", "wait_for_call", "get_call", "chat_with_assistant")
"""The demo's path: what a new user does first."""


def chosen(tmp_path: Path, **selection: Any) -> Settings:
    return Settings.load({}, audit_log=str(tmp_path / "a.jsonl"), **selection)


async def names(settings: Settings, sandbox: Sandbox) -> list[str]:
    async with connect(settings, sandbox) as client:
        return [tool.name for tool in (await client.list_tools()).tools]


def test_every_family_declares_a_known_toolset() -> None:
    for family in FAMILIES:
        assert family.toolset in TOOLSET_IDS, family.__name__
    assert dict((spec.name, toolset) for toolset, spec in catalogue())["chat_with_assistant"] == "testing"


async def test_the_default_set_has_what_a_new_user_needs(tmp_path: Path, sandbox: Sandbox) -> None:
    offered = await names(chosen(tmp_path), sandbox)
    assert set(NEW_USER) <= set(offered)
    assert "list_tools" not in offered  # Vapi's /tool resource is opt-in: --toolsets default,tools


async def test_named_tools_alone_are_an_allowlist_in_catalogue_order(tmp_path: Path, sandbox: Sandbox) -> None:
    assert await names(chosen(tmp_path, tools=("get_call", "list_calls")), sandbox) == ["list_calls", "get_call"]


async def test_named_tools_add_to_named_toolsets(tmp_path: Path, sandbox: Sandbox) -> None:
    offered = await names(chosen(tmp_path, toolsets=("tools",), tools=("get_call",)), sandbox)
    assert offered == ["get_call", *(spec.name for toolset, spec in catalogue() if toolset == "tools")] and "create_tool" in offered
    with_default = await names(chosen(tmp_path, toolsets=("default", "tools")), sandbox)
    assert set(with_default) == set(await names(chosen(tmp_path), sandbox)) | set(offered) - {"get_call"} | {"get_call"}


async def test_read_only_always_wins(tmp_path: Path, sandbox: Sandbox) -> None:
    settings = chosen(tmp_path, toolsets=("all",), tools=("create_call", "delete_tool"), read_only=True)
    async with connect(settings, sandbox) as client:
        tools = (await client.list_tools()).tools
        refused = await client.call_tool("create_call", {"customer": {"number": "+14155550123"}})
    assert tools and all(t.annotations and t.annotations.read_only_hint for t in tools)
    assert refused.is_error and "create_call changes something, and this server is read-only" in refused.content[0].text
    assert "VAPI_MCP_READ_ONLY" in refused.content[0].text and "Unknown tool" not in refused.content[0].text
    assert sandbox.requests == []


async def test_a_tool_not_offered_cannot_be_called(tmp_path: Path, sandbox: Sandbox) -> None:
    async with connect(chosen(tmp_path, toolsets=("numbers",)), sandbox) as client:
        result = await client.call_tool("list_calls", {})
    assert result.is_error and "list_calls is not offered by this server: it belongs to the toolset `calls`" in result.content[0].text
    assert sandbox.requests == []


async def test_the_walk_through_prompt_comes_only_with_the_tools_it_uses(tmp_path: Path, sandbox: Sandbox) -> None:
    for selection, expected in (({}, ["test-assistant"]), ({"toolsets": ("calls",)}, []), ({"toolsets": ("numbers",)}, [])):
        async with connect(chosen(tmp_path, **selection), sandbox) as client:
            assert [p.name for p in (await client.list_prompts()).prompts] == expected, selection


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["tools", "--toolsets", "calls,phones"], "unknown toolset 'phones'; valid: calls, numbers, assistants, tools, testing, knowledge, campaigns, analytics, all, default"),
        (["tools", "--tools", "get_call,dial_everyone"], "--tools / VAPI_MCP_TOOLS: unknown tool 'dial_everyone'; valid: create_call,"),
        (["serve", "--transport", "http", "--port", "0", "--toolsets", "phones"], "--toolsets / VAPI_MCP_TOOLSETS: unknown toolset 'phones'"),
        (["serve", "--transport", "http", "--port", "0", "--tools", "dial_everyone"], "unknown tool 'dial_everyone'"),
    ],
)
def test_an_unknown_name_exits_2_naming_the_valid_ones(argv: list[str], named: str, capsys: pytest.CaptureFixture[str], never_serves: None) -> None:
    assert main(argv) == 2
    assert named in capsys.readouterr().err


def test_the_environment_chooses_toolsets_too(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VAPI_MCP_TOOLSETS", "Tools, testing")
    assert main(["tools"]) == 0
    out = capsys.readouterr().out
    assert "list_tools" in out and "chat_with_assistant" in out and "create_call" not in out
    monkeypatch.setenv("VAPI_MCP_TOOLSETS", "tool")
    assert main(["tools"]) == 2


def test_the_tools_command_prints_the_selection_and_its_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools", "--read-only"]) == 0
    out = capsys.readouterr().out
    assert "calls:" in out and "list_calls" in out and "create_call" not in out
    assert "bytes of compact JSON" in out


# Over HTTP, per request: headers narrow what the server offers and never widen it


def header_client(base: str, headers: dict[str, str]) -> Client:
    return Client(streamable_http_client(f"{base}/mcp", http_client=httpx.AsyncClient(headers=headers, timeout=10)))


async def test_request_headers_narrow_the_toolsets(tmp_path: Path, sandbox: Sandbox) -> None:
    settings = chosen(tmp_path, toolsets=("all",))
    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
        async with header_client(base, {"X-Vapi-Toolsets": "numbers", "X-Vapi-Tools": "get_call"}) as client:
            listed = [t.name for t in (await client.list_tools()).tools]
            refused = await client.call_tool("list_calls", {})
            allowed = await client.call_tool("list_phone_numbers", {})
        async with Client(f"{base}/mcp") as plain:
            everything = [t.name for t in (await plain.list_tools()).tools]
    numbers = [spec.name for toolset, spec in catalogue() if toolset == "numbers"]
    assert listed == ["get_call", *numbers]
    assert refused.is_error and "X-Vapi-Toolsets" in refused.content[0].text
    assert "list_calls (toolset `calls`) is not offered to this request" in refused.content[0].text
    assert not allowed.is_error and result_json(allowed)["phoneNumbers"] == []
    assert everything == [spec.name for _, spec in catalogue()]
    assert not sandbox.requests_to("GET", "/call")


async def test_request_headers_cannot_widen_what_the_server_offers(tmp_path: Path, sandbox: Sandbox) -> None:
    settings = chosen(tmp_path, read_only=True, toolsets=("calls",))
    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
        async with header_client(base, {"X-Vapi-Toolsets": "all", "X-Vapi-Tools": "create_call,buy_number"}) as client:
            listed = [t.name for t in (await client.list_tools()).tools]
            refused = await client.call_tool("buy_number", {"numberDesiredAreaCode": "415"})
    assert listed == ["list_calls", "get_call", "wait_for_call"]
    assert refused.is_error
    assert sandbox.requests == []


async def test_an_unknown_name_in_a_header_is_an_error_naming_the_header(tmp_path: Path, sandbox: Sandbox) -> None:
    async with serving("--transport", "http", "--stateless", settings=chosen(tmp_path), sandbox=sandbox) as base:
        with pytest.raises(Exception) as failed:
            async with header_client(base, {"X-Vapi-Toolsets": "calls,phones"}) as client:
                await client.list_tools()
    assert "X-Vapi-Toolsets header: unknown toolset 'phones'" in repr(failed.value) or "phones" in str(failed.value)


# stdio answers tools/list from a cache of an earlier run: a change of toolsets must not reuse it


def stdio(tmp_path: Path, **env: str) -> StdioServerParameters:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    clean.update(VAPI_MCP_AUDIT_LOG=str(tmp_path / "audit.jsonl"), XDG_CACHE_HOME=str(tmp_path / "cache"), **env)
    return StdioServerParameters(command=sys.executable, args=["-m", "vapi_mcp", "serve"], env=clean)


async def test_over_stdio_each_selection_lists_its_own_tools_across_restarts(tmp_path: Path) -> None:
    async def listed(**env: str) -> list[str]:
        async with Client(stdio(tmp_path, **env), mode="legacy") as client:
            return [t.name for t in (await client.list_tools()).tools]

    default = await listed()
    assert await listed() == default  # the second start answers from the cache
    assert await listed(VAPI_MCP_TOOLSETS="tools") == [spec.name for toolset, spec in catalogue() if toolset == "tools"]
    assert await listed(VAPI_MCP_TOOLS="get_call") == ["get_call"]
    assert await listed() == default
