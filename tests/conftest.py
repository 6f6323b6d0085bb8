"""Shared fixtures: a sandbox on a hand-driven clock, and MCP clients connected to the server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from mcp import Client

from tests.mcp_kit import connect
from tests.package_kit import Dist, build
from vapi_mcp.config import SANDBOX_BASE_URL, Settings
from vapi_mcp.sandbox import ManualClock, Sandbox

pytest_plugins = ["tests.guard_kit", "tests.redis_kit", "tests.ledger_kit"]
"""Fixtures for every test module without importing them: the guard kit (`family`, `stub_sandbox`), a real redis-server (`redis_url`), a `vapi-mcp sandbox` process (`vapi_backend`)."""


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tests never write to the user's real cache or state (the stdio start-up cache, the audit log,
    the state store): both XDG folders point into a temporary folder, for every server process a test
    starts too (they inherit the environment)."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    return home


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """The wheel and sdist of this checkout, built once per test session (`python -m build`)."""
    return build(tmp_path_factory.mktemp("dist"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Sandbox:
    return Sandbox(clock=clock)


@pytest.fixture(params=["memory", "file"])
def either_world(request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox on a hand-driven clock whose world is in memory, then (the second run) in an SQLite file:
    the sandbox's own tests run on both (a module opts in by making its `sandbox` this one)."""
    sandbox = Sandbox(clock=clock, world=None if request.param == "memory" else tmp_path / "sandbox.sqlite3")
    yield sandbox
    sandbox.close()


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client on the sandbox (what curl or another MCP server would be), with a bearer key."""
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_BASE_URL, headers={"Authorization": "Bearer test"}) as client:
        yield client


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Sandbox settings with the audit log and the state store in a temporary folder, quiet hours off
    (tests run at any hour) and every toolset offered (tests of the default selection build their own)."""
    return Settings.load(
        {}, audit_log=str(tmp_path / "audit.jsonl"), state_url=f"sqlite://{tmp_path / 'state.sqlite3'}", quiet_hours=False, toolsets=("all",)
    )


@pytest.fixture
async def client(settings: Settings, sandbox: Sandbox) -> AsyncIterator[Client]:
    # pytest-asyncio runs a fixture's setup and teardown in different tasks, and the client's
    # anyio task group must be left in the task that entered it: hold it open in a task of its own.
    entered: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def hold() -> None:
        async with connect(settings, sandbox) as c:
            entered.set_result(c)
            await done.wait()

    holder = asyncio.create_task(hold())
    await asyncio.wait({holder, entered}, return_when=asyncio.FIRST_COMPLETED)
    if not entered.done():
        holder.result()  # raises what went wrong while connecting
    yield entered.result()
    done.set()
    await holder


@pytest.fixture
def never_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests of a refused start: any server that gets as far as serving (HTTP or stdio) fails the
    test, and binds or reads nothing."""
    import uvicorn

    def started(*args: Any, **kwargs: Any) -> None:
        pytest.fail("the server started")

    monkeypatch.setattr(uvicorn.Server, "run", started)
    monkeypatch.setattr("vapi_mcp.stdio.serve", started)
