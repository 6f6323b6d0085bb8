"""One ledger for HTTP replicas behind a load balancer: two real uvicorn processes (`serve --transport http
--stateless`) on one real redis-server, both dialling one `vapi-mcp sandbox` backend."""

from __future__ import annotations

from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import anyio
import httpx2 as httpx
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import ElicitResult

from tests.mcp_kit import confirmed, result_json, result_text
from tests.ledger_kit import AUTH_TOKEN, CALLEE, CONFIRM_SECRET, call_args, calls_to, http_replicas, server_env
from vapi_mcp.guard.audit import attempts, read_lines


def replica_env(tmp_path: Path, vapi_backend: str, redis_url: str, **extra: str) -> dict[str, str]:
    """What every replica shares: the state store, the confirm secret and the bearer token."""
    return server_env(
        tmp_path, vapi_backend, VAPI_MCP_STATE_URL=redis_url, VAPI_MCP_CONFIRM_SECRET=CONFIRM_SECRET, VAPI_MCP_AUTH_TOKEN=AUTH_TOKEN, **extra
    )


@asynccontextmanager
async def clients(urls: list[str], **kwargs: Any) -> AsyncIterator[list[Client]]:
    """An MCP client (with the bearer token) per replica URL."""
    async with AsyncExitStack() as stack:
        opened = []
        for url in urls:
            http = await stack.enter_async_context(httpx.AsyncClient(headers={"Authorization": f"Bearer {AUTH_TOKEN}"}, timeout=30))
            opened.append(await stack.enter_async_context(Client(streamable_http_client(url, http_client=http), **kwargs)))
        yield opened


async def test_a_token_used_on_one_replica_is_refused_on_the_other(tmp_path: Path, vapi_backend: str, redis_url: str) -> None:
    with http_replicas(replica_env(tmp_path, vapi_backend, redis_url)) as urls:
        async with clients(urls) as (one, two):
            token = result_json(await one.call_tool("create_call", call_args()))["confirmToken"]
            placed = await two.call_tool("create_call", call_args(confirmToken=token))
            assert not placed.is_error, result_text(placed)
            again = await one.call_tool("create_call", call_args(confirmToken=token))
            assert again.is_error and "already used" in result_text(again)
    assert len(calls_to(vapi_backend)) == 1


async def test_25_parallel_uses_of_one_token_across_both_replicas_dial_once(tmp_path: Path, vapi_backend: str, redis_url: str) -> None:
    with http_replicas(replica_env(tmp_path, vapi_backend, redis_url)) as urls:
        async with clients(urls) as replicas:
            token = result_json(await replicas[0].call_tool("create_call", call_args()))["confirmToken"]
            results: list[Any] = []

            async def use(client: Client) -> None:
                results.append(await client.call_tool("create_call", call_args(confirmToken=token)))

            async with anyio.create_task_group() as tasks:
                for i in range(25):
                    tasks.start_soon(use, replicas[i % 2])
    placed = [r for r in results if not r.is_error]
    assert len(results) == 25 and len(placed) == 1, [result_text(r)[:120] for r in results if not r.is_error]
    assert all("already used" in result_text(r) for r in results if r.is_error)
    assert len(calls_to(vapi_backend)) == 1


async def test_the_daily_cap_holds_across_replicas(tmp_path: Path, vapi_backend: str, redis_url: str) -> None:
    with http_replicas(replica_env(tmp_path, vapi_backend, redis_url, VAPI_MCP_DAILY_CAP="1")) as urls:
        async with clients(urls) as (one, two):
            first = await confirmed(one, "create_call", call_args())
            assert not first.is_error, result_text(first)
            second = await confirmed(two, "create_call", call_args())
    assert second.is_error and "Refused by rule `daily_cap`: 1 of today's 1" in result_text(second)
    assert len(calls_to(vapi_backend)) == 1


async def test_parallel_dials_never_pass_the_cap_across_replicas(tmp_path: Path, vapi_backend: str, redis_url: str) -> None:
    """Ten allow-listed dials at once over both replicas with a cap of 3: the reservation is atomic, so 3 go out."""
    env = replica_env(
        tmp_path, vapi_backend, redis_url, VAPI_MCP_DAILY_CAP="3", VAPI_MCP_ALLOW_NUMBERS=CALLEE, VAPI_MCP_AUTO_APPROVE_ALLOWLISTED="1"
    )
    with http_replicas(env) as urls:
        async with clients(urls) as replicas:
            results: list[Any] = []

            async def dial(i: int) -> None:
                results.append(await replicas[i % 2].call_tool("create_call", call_args(name=f"dial {i}")))

            async with anyio.create_task_group() as tasks:
                for i in range(10):
                    tasks.start_soon(dial, i)
    assert sum(not r.is_error for r in results) == 3
    assert all("daily_cap" in result_text(r) for r in results if r.is_error)
    assert len(calls_to(vapi_backend)) == 3
    lines = read_lines(sorted((tmp_path / "state").glob("replica-*/audit.jsonl")))
    sent = [row for row in attempts(lines) if row["decision"] == "sent"]
    assert len(sent) == 3 and {row["channel"] for row in sent} == {"auto-allowlist"}
    assert {row["tenant"] for row in sent} == {"http:server-key"} and {row["target"] for row in sent} == {vapi_backend}


async def test_replicas_share_the_sealed_request_state(tmp_path: Path, vapi_backend: str, redis_url: str) -> None:
    """2026-07-28 clients: the question is asked by one replica and the answer may land on the other."""
    yes = {"confirm": ElicitResult(action="accept", content={"confirm": True})}

    async def never_called(context: Any, params: Any) -> ElicitResult:  # declares elicitation; this test answers by hand
        raise AssertionError("the answer is sent by the test")

    with http_replicas(replica_env(tmp_path, vapi_backend, redis_url)) as urls:
        async with clients(urls, elicitation_callback=never_called) as (one, two):
            asked = await one.session.call_tool("create_call", call_args(), allow_input_required=True)
            assert asked.request_state, asked
            answered = await two.session.call_tool("create_call", call_args(), input_responses=yes, request_state=asked.request_state)
            assert not answered.is_error, result_text(answered)
            replayed = await one.session.call_tool("create_call", call_args(), input_responses=yes, request_state=asked.request_state)
            assert replayed.is_error and "already used" in result_text(replayed)
    assert len(calls_to(vapi_backend)) == 1
