"""Secrets and data that leaked (issue 17): call resources outside the tool selection, credentials inside URLs and
under header names the masking did not know, and a Redis password given as `?password=` in the state URL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx2 as httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.guard_kit import NY, audit_file_lines, serve, with_policy
from tests.loopback import serving
from tests.mcp_kit import connect, result_json, result_text
from vapi_mcp.cli import main
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.core import stamp

CALL_TEMPLATES = {"vapi://calls/{id}", "vapi://calls/{id}/transcript"}


async def a_call(api: httpx.AsyncClient, sandbox: Sandbox) -> str:
    """A web call placed at the sandbox directly (no guard involved)."""
    riley = stamp(sandbox.clock, name="Riley")
    sandbox.store.assistants[riley["id"]] = riley
    answer = await api.post("/call/web", json={"assistantId": riley["id"]})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def templates_and_read(client: Client, call_id: str) -> tuple[set[str], Any]:
    templates = {str(t.uri_template) for t in (await client.list_resource_templates()).resource_templates}
    try:
        read: Any = await client.read_resource(f"vapi://calls/{call_id}")
    except Exception as exc:  # the SDK raises the server's error
        read = exc
    return templates, read


# resources follow the selection


@pytest.mark.parametrize("tools", [("list_assistants",), ("create_call", "list_calls")])
async def test_call_resources_are_not_offered_without_get_call(
    tools: tuple[str, ...], settings: Settings, sandbox: Sandbox, api: httpx.AsyncClient
) -> None:
    """Call resources (vapi://calls/{id}, /transcript) were listed and readable with --tools list_assistants."""
    call_id = await a_call(api, sandbox)
    async with connect(replace(settings, toolsets=None, tools=tools), sandbox) as client:
        templates, read = await templates_and_read(client, call_id)
    assert not templates & CALL_TEMPLATES, templates
    assert isinstance(read, Exception), read
    async with connect(replace(settings, toolsets=None, tools=("get_call",)), sandbox) as client:
        templates, read = await templates_and_read(client, call_id)
    assert CALL_TEMPLATES <= templates and not isinstance(read, Exception) and call_id in read.contents[0].text


async def test_a_request_narrowed_to_other_toolsets_neither_lists_nor_reads_call_resources(
    settings: Settings, sandbox: Sandbox, api: httpx.AsyncClient
) -> None:
    """Over HTTP, `X-Vapi-Toolsets: assistants` (or `X-Vapi-Tools`) narrowed tools/list but not the resources."""
    call_id = await a_call(api, sandbox)
    seen: dict[str, tuple[set[str], Any]] = {}
    async with serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox) as base:
        for header, value in (("X-Vapi-Toolsets", "assistants"), ("X-Vapi-Tools", "list_calls"), ("X-Vapi-Toolsets", "calls")):
            async with httpx.AsyncClient(headers={header: value}, timeout=10) as http:
                async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                    seen[f"{header}: {value}"] = await templates_and_read(client, call_id)
    for narrowed in ("X-Vapi-Toolsets: assistants", "X-Vapi-Tools: list_calls"):
        templates, read = seen[narrowed]
        assert not templates & CALL_TEMPLATES and isinstance(read, Exception), (narrowed, templates, read)
        assert "headers leave it out" in str(read)
    templates, read = seen["X-Vapi-Toolsets: calls"]
    assert CALL_TEMPLATES <= templates and not isinstance(read, Exception)


# credentials inside URLs and headers

SECRETS = {
    "token": "url-token-secret-4f1a",
    "api_key": "url-api-key-secret-9b2c",
    "password": "userinfo-password-secret-7d3e",
    "Authentication": "authentication-header-secret-1a2b",
    "X-Auth": "x-auth-header-secret-3c4d",
    "X-Hub-Signature-256": "sha256=signature-header-secret-5e6f",
}


def server_with_secrets() -> dict[str, Any]:
    return {
        "url": f"https://bob:{SECRETS['password']}@hooks.example.com/vapi?token={SECRETS['token']}&api_key={SECRETS['api_key']}&region=eu",
        "headers": {name: SECRETS[name] for name in ("Authentication", "X-Auth", "X-Hub-Signature-256")} | {"Content-Type": "application/json"},
    }


async def test_credentials_in_urls_and_auth_headers_never_come_back_in_results(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    """`?token=`, `?api_key=`, `user:password@` in URLs and header values named `Authentication`, `X-Auth`,
    `...-Signature` came back in get_tool / get_assistant results."""
    tool = stamp(clock, type="apiRequest", method="POST", url=server_with_secrets()["url"], server=server_with_secrets())
    sandbox.store.tools[tool["id"]] = tool
    riley = stamp(clock, name="Riley", server=server_with_secrets())
    sandbox.store.assistants[riley["id"]] = riley
    async with connect(settings, sandbox) as client:
        seen = [await client.call_tool("get_tool", {"id": tool["id"]}), await client.call_tool("get_assistant", {"id": riley["id"]})]
    for result in seen:
        text = result_text(result)
        assert not [name for name, value in SECRETS.items() if value in text], text
        server = result_json(result)["server"]
        assert server["url"] == "https://bob:***@hooks.example.com/vapi?token=***&api_key=***&region=eu"
        assert server["headers"] == {"Authentication": "***", "X-Auth": "***", "X-Hub-Signature-256": "***", "Content-Type": "application/json"}


async def test_credentials_in_urls_never_reach_the_audit(settings: Settings, sandbox: Sandbox) -> None:
    """The same URLs in a guarded request's body landed in the audit file."""
    body = {"type": "transferCall", "destinations": [{"type": "number", "number": NY}], "server": server_with_secrets()}
    async with connect(settings, sandbox) as client:
        preview = await client.call_tool("create_tool", body)
    assert result_json(preview)["confirmationRequired"] is True
    for path in (settings.audit_log, settings.sandbox_audit_path):
        text = path.read_text() if path.exists() else ""
        assert not [name for name, value in SECRETS.items() if value in text]
    [line] = audit_file_lines(settings)
    assert line["request"]["body"]["server"]["url"] == "https://bob:***@hooks.example.com/vapi?token=***&api_key=***&region=eu"


# the state store's own password


@pytest.mark.usefixtures("family")
async def test_a_redis_password_in_the_state_urls_query_is_never_written_or_printed(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Redis password given as ?password= in the state URL was written in clear into audit lines when the store
    was unreachable, and printed by `vapi-mcp policy`."""
    url = "redis://127.0.0.1:1/0?password=store-query-password-8f7e&socket_timeout=1"
    unreachable = with_policy(settings, state_url=url)
    async with serve(unreachable, stub_sandbox, clock) as client:
        refused = await client.call_tool("dial", {"customer": {"number": NY}})
    assert refused.is_error and "Refused by rule `state`" in result_text(refused)
    assert "store-query-password-8f7e" not in result_text(refused) and "password=***" in result_text(refused)
    audit = unreachable.sandbox_audit_path.read_text()
    assert "store-query-password-8f7e" not in audit and "password=***" in audit
    assert main(["policy", "--state-url", url]) == 0
    printed = capsys.readouterr().out
    assert "store-query-password-8f7e" not in printed and "password=***" in printed
