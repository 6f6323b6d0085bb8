"""A state store that loses its memory (issue 17): a real redis-server killed with SIGKILL and started again, with
each of Redis's persistence settings. A token must die with the memory that made it single-use, a daily cap must not
reset because the store lost its data, and a human's no must win over a store that is down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.apps_kit import APPS, one_server, pending_of
from tests.guard_kit import NY, audit_lines, posts, with_policy
from tests.mcp_kit import confirmed, result_json, result_text
from tests.redis_kit import RestartableRedis
from vapi_mcp.cli import main
from vapi_mcp.config import Settings
from vapi_mcp.guard.app import APPROVE_TOOL, DECLINE_TOOL
from vapi_mcp.sandbox import ManualClock, Sandbox

pytestmark = pytest.mark.usefixtures("family")

NO_PERSISTENCE = ("--save", "", "--appendonly", "no")
"""redis-server with nothing on disk: a restart starts empty."""
SNAPSHOTS = ("--appendonly", "no")
"""RDB snapshots only (with `--save ""` here, so the test decides when one is taken, as `save 3600 1` would later)."""
EVERY_WRITE = ("--save", "", "--appendonly", "yes", "--appendfsync", "always")
"""An append-only file fsynced at every write: what a restart must keep."""


@pytest.fixture
def redis_of_its_own(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    redis = RestartableRedis(tmp_path / "redis", persistence=request.param)
    yield redis
    redis.stop()


def on(settings: Settings, redis: RestartableRedis, **changes: Any) -> Settings:
    return with_policy(settings, state_url=redis.url, confirm_secret="replicas-share-this-secret-42", **changes)


def dial_args(number: str = NY) -> dict[str, Any]:
    return {"customer": {"number": number}}


def confirm_the_ledger(redis: RestartableRedis, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["state", "init", "--state-url", redis.url]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("redis_of_its_own", [NO_PERSISTENCE], indirect=True)
async def test_a_token_used_before_redis_was_killed_is_refused_after_it_restarts_empty(
    redis_of_its_own: RestartableRedis, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A default redis-server killed with SIGKILL and restarted forgot used tokens: one confirm token dialled the
    same callee twice. And daily counters reset the same way."""
    redis = redis_of_its_own
    confirm_the_ledger(redis, capsys)  # a deployment's first step
    capped = on(settings, redis, daily_cap=1)
    async with one_server(capped, stub_sandbox, clock) as server, Client(server) as client:
        token = result_json(await client.call_tool("dial", dial_args()))["confirmToken"]
        first = await client.call_tool("dial", {**dial_args(), "confirmToken": token})
        assert not first.is_error, result_text(first)
        redis.kill()
        redis.start()
        again = await client.call_tool("dial", {**dial_args(), "confirmToken": token})
        fresh = await confirmed(client, "dial", dial_args("+14155550123"))
        status = main(["state", "--state-url", redis.url])
        shown = capsys.readouterr().out
        after_init = confirm_the_ledger(redis, capsys)
        still = await client.call_tool("dial", {**dial_args(), "confirmToken": token})  # the user confirmed the new ledger
        resumed = await confirmed(client, "dial", dial_args("+14155550123"))
    assert again.is_error and "Refused by rule `state`" in result_text(again), result_text(again)
    assert fresh.is_error and "Refused by rule `state`" in result_text(fresh), result_text(fresh)
    assert "vapi-mcp state init" in result_text(fresh) and "do-not-call" in result_text(fresh)
    assert status == 0 and "NOT CONFIRMED" in shown and "complete" in after_init
    assert still.is_error and "Refused by rule `confirm_token`" in result_text(still) and "lost its memory" in result_text(still)
    assert not resumed.is_error, result_text(resumed)
    assert posts(stub_sandbox) == 2
    assert [line["decision"] for line in audit_lines(capped)].count("sent") == 2


@pytest.mark.parametrize("redis_of_its_own", [SNAPSHOTS], indirect=True)
async def test_a_token_used_after_the_last_snapshot_is_refused_after_redis_restarts_from_it(
    redis_of_its_own: RestartableRedis, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Redis with RDB snapshots comes back from its last snapshot: the epoch is there, the used token is not.
    Its run id changed and it does not fsync every write, so the guard counts the restart as a loss."""
    redis = redis_of_its_own
    confirm_the_ledger(redis, capsys)
    async with one_server(on(settings, redis), stub_sandbox, clock) as server, Client(server) as client:
        token = result_json(await client.call_tool("dial", dial_args()))["confirmToken"]
        redis.command("SAVE")  # the snapshot holds the ledger up to here
        first = await client.call_tool("dial", {**dial_args(), "confirmToken": token})
        assert not first.is_error, result_text(first)
        redis.kill()
        redis.start()
        fresh = await confirmed(client, "dial", dial_args("+14155550123"))
        confirm_the_ledger(redis, capsys)
        again = await client.call_tool("dial", {**dial_args(), "confirmToken": token})
    assert fresh.is_error and "restarted from an older copy" in result_text(fresh), result_text(fresh)
    assert again.is_error and "lost its memory" in result_text(again), result_text(again)
    assert posts(stub_sandbox) == 1


@pytest.mark.parametrize("redis_of_its_own", [EVERY_WRITE], indirect=True)
async def test_a_redis_that_fsyncs_every_write_keeps_the_ledger_across_a_kill(
    redis_of_its_own: RestartableRedis, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """With appendonly yes and appendfsync always nothing acknowledged is lost: the token stays used, the count stays
    counted, and dialling goes on without anyone confirming the ledger again."""
    redis = redis_of_its_own
    assert "a restart keeps the ledger" in confirm_the_ledger(redis, capsys)
    capped = on(settings, redis, daily_cap=2)
    async with one_server(capped, stub_sandbox, clock) as server, Client(server) as client:
        token = result_json(await client.call_tool("dial", dial_args()))["confirmToken"]
        assert not (await client.call_tool("dial", {**dial_args(), "confirmToken": token})).is_error
        redis.kill()
        redis.start()
        again = await client.call_tool("dial", {**dial_args(), "confirmToken": token})
        second = await confirmed(client, "dial", dial_args("+14155550123"))
        third = await confirmed(client, "dial", dial_args("+14155550124"))
    assert again.is_error and "already used" in result_text(again), result_text(again)
    assert not second.is_error, result_text(second)
    assert third.is_error and "Refused by rule `daily_cap`: 2 of today's 2" in result_text(third), result_text(third)
    assert posts(stub_sandbox) == 2


@pytest.mark.parametrize("redis_of_its_own", [EVERY_WRITE], indirect=True)
async def test_a_decline_while_redis_is_down_wins_on_every_route_once_it_is_back(
    redis_of_its_own: RestartableRedis, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The redis-server stopped mid-way: the Decline is audited, said to be unrecorded, and neither the agent's token
    (here, or on another replica once the store is back) nor Approve runs the action."""
    redis = redis_of_its_own
    confirm_the_ledger(redis, capsys)
    shared = on(settings, redis)
    async with one_server(shared, stub_sandbox, clock) as server, Client(server, extensions=[APPS]) as host:
        preview = await host.call_tool("dial", dial_args())
        token, pending = result_json(preview)["confirmToken"], pending_of(preview)["id"]
        redis.kill()
        declined = await host.call_tool(DECLINE_TOOL, {"id": pending})
        redis.start()
        by_token = await host.call_tool("dial", {**dial_args(), "confirmToken": token})
        approved = await host.call_tool(APPROVE_TOOL, {"id": pending})
        async with one_server(shared, stub_sandbox, clock) as replica, Client(replica) as other:
            elsewhere = await other.call_tool("dial", {**dial_args(), "confirmToken": token})
    assert not declined.is_error and result_json(declined)["recorded"] is False, result_text(declined)
    assert by_token.is_error and "declined" in result_text(by_token), result_text(by_token)
    assert approved.is_error, result_text(approved)
    assert elsewhere.is_error and "already used" in result_text(elsewhere), result_text(elsewhere)
    assert posts(stub_sandbox) == 0
    assert [line["decision"] for line in audit_lines(shared)].count("declined") == 1
