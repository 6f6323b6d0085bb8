"""The guard on its shared ledger, in process: tenants with their own daily caps, what each audit line says
about who and where, and a state store that cannot be reached (guarded actions refused, reads go on)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.ledger_kit import tenant
from tests.mcp_kit import confirmed, connect, result_json, result_text
from tests.guard_kit import LA, NY, answering, audit_file_lines, posts, serve, with_policy
from tests.loopback import on_loopback, serving
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import ManualClock, Sandbox

with_test_tools = pytest.mark.usefixtures("family")
"""The guard kit's `dial` and `destroy` tools instead of the catalogue."""


@with_test_tools
async def test_each_tenant_has_its_own_daily_cap_and_its_own_audit_identity(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    """Issue 10: over HTTP the cap was shared across tenants (one team's calls used another's allowance).
    The cap is per Vapi account: each X-Vapi-Key has its own."""
    async with on_loopback(stub_sandbox.app, lifespan="on") as vapi:
        capped = with_policy(settings, daily_cap=1, base_url=vapi)
        async with serving("--transport", "http", "--stateless", settings=capped, sandbox=stub_sandbox, clock=clock) as base:
            url = f"{base}/mcp"
            async with tenant(url, "team-a-key-3f9c2b") as a, tenant(url, "team-b-key-8d1e4a") as b, tenant(url, None) as operator:
                a_first = await confirmed(a, "dial", {"customer": {"number": NY}})
                b_first = await confirmed(b, "dial", {"customer": {"number": LA}})
                a_second = await confirmed(a, "dial", {"customer": {"number": LA}})
                on_sandbox = await confirmed(operator, "dial", {"customer": {"number": NY}})
    assert not a_first.is_error, result_text(a_first)
    assert not b_first.is_error, result_text(b_first)
    assert a_second.is_error and "Refused by rule `daily_cap`: 1 of today's 1" in result_text(a_second)
    assert not on_sandbox.is_error and result_json(on_sandbox)["sandbox"] is True
    assert posts(stub_sandbox) == 3

    real = [line for line in audit_file_lines(capped, sandbox=False) if line["decision"] in ("sent", "refused")]
    assert [(line["decision"], line["target"]) for line in real] == [("sent", vapi), ("sent", vapi), ("refused", vapi)]
    team_a, team_b = real[0], real[1]
    assert team_a["tenant"] == f"x-vapi-key:{team_a['account']}" and team_b["tenant"] == f"x-vapi-key:{team_b['account']}"
    assert team_a["account"] != team_b["account"] and real[2]["account"] == team_a["account"]
    text = capped.audit_log.read_text()
    assert "team-a-key-3f9c2b" not in text and "team-b-key-8d1e4a" not in text, "a fingerprint, never the key"
    [sandboxed] = [line for line in audit_file_lines(capped, sandbox=True) if line["decision"] == "sent"]
    assert (sandboxed["target"], sandboxed["tenant"]) == ("sandbox", "http:server-key")


@with_test_tools
async def test_an_unreachable_store_refuses_guarded_actions_and_reads_go_on(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    unreachable = with_policy(settings, state_url="redis://:store-password-91c@127.0.0.1:1/0")
    callback, asked = answering("accept")
    async with serve(unreachable, stub_sandbox, clock, elicitation_callback=callback) as client:
        dial = await client.call_tool("dial", {"customer": {"number": NY}})
        destroy = await client.call_tool("destroy", {"id": "thing-1"})
        token_free = await client.call_tool("dial", {"customer": {"number": NY}, "confirmToken": "x.y"})
    for result in (dial, destroy, token_free):
        text = result_text(result)
        assert result.is_error and "Refused by rule `state`" in text, text
        assert "redis://:***@127.0.0.1:1/0" in text and "VAPI_MCP_STATE_URL" in text and "Reading still works" in text
        assert "store-password-91c" not in text
    assert asked == [] and stub_sandbox.requests == []
    assert [line["decision"] for line in audit_file_lines(unreachable)] == ["refused"] * 3


async def test_reads_never_open_the_state_store(settings: Settings, sandbox: Sandbox, tmp_path: Path) -> None:
    store = tmp_path / "state.sqlite3"
    assert settings.state_url == f"sqlite://{store}"
    async with connect(settings, sandbox) as client:
        assert not (await client.call_tool("list_calls", {})).is_error
        assert not (await client.call_tool("list_assistants", {})).is_error
    assert not store.exists(), "start-up and reads leave the ledger closed"


async def test_reads_work_with_an_unreachable_store(settings: Settings, sandbox: Sandbox) -> None:
    async with connect(with_policy(settings, state_url="redis://127.0.0.1:1/0"), sandbox) as client:
        listed = await client.call_tool("list_calls", {})
    assert not listed.is_error, result_text(listed)


@with_test_tools
async def test_concurrent_uses_of_one_token_in_one_process_dial_once(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    async with serve(settings, stub_sandbox, clock) as client:
        token = result_json(await client.call_tool("dial", {"customer": {"number": NY}}))["confirmToken"]
        results: list[Any] = []

        async def use() -> None:
            results.append(await client.call_tool("dial", {"customer": {"number": NY}, "confirmToken": token}))

        async with anyio.create_task_group() as tasks:
            for _ in range(10):
                tasks.start_soon(use)
    assert sum(not r.is_error for r in results) == 1 and posts(stub_sandbox) == 1
    assert all("already used" in result_text(r) for r in results if r.is_error)
