"""The sandbox's memory: one world per user in the state directory, shared by every process, private,
started over with `vapi-mcp sandbox --reset`, seeded only when empty."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.ledger_kit import stop, wait_for_port
from tests.loopback import free_port
from tests.mcp_kit import result_json, result_text
from tests.stdio_kit import RawServer, server_env
from vapi_mcp.cli import main
from vapi_mcp.config import ConfigError, Settings
from vapi_mcp.sandbox import Sandbox, WorldUnusable
from vapi_mcp.sandbox.clock import parse_iso
from vapi_mcp.sandbox.seed import seed
from vapi_mcp.sandbox.simulations import DEFAULT_PERSONALITIES
from vapi_mcp.sandbox.store import Store

KEY = {"Authorization": "Bearer any"}
INITIALIZE = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]


def world_of(folder: Path) -> Path:
    """The default world of a server whose XDG_STATE_HOME is `folder / "state"` (stdio_kit.server_env)."""
    return folder / "state" / "vapi-mcp" / "sandbox.sqlite3"


async def get(sandbox: Sandbox, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url="http://sandbox.vapi.local", headers=KEY) as api:
        return await api.get(path)


def stdio(env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "vapi_mcp", "serve", "--sandbox"], env=env)


# where the world lives, and who may read it


def test_the_server_keeps_its_world_in_the_state_directory_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    state = Path(os.environ["XDG_STATE_HOME"])
    assert Settings.load({}).sandbox_world == str(state / "vapi-mcp" / "sandbox.sqlite3")  # beside the guard's state.sqlite3
    assert Settings.load({"VAPI_MCP_SANDBOX_WORLD": "memory"}).sandbox_world == "memory"
    assert Settings.load({}, sandbox_world="~/w.sqlite3").sandbox_world == str(Path.home() / "w.sqlite3")
    with pytest.raises(ConfigError, match="must be `memory` or an absolute file path"):
        Settings.load({"VAPI_MCP_SANDBOX_WORLD": "worlds/mine.sqlite3"})  # another file in every working directory


async def test_the_world_file_is_private_and_one_others_can_read_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "private" / "sandbox.sqlite3"
    assert (await get(Sandbox(world=path), "/assistant")).status_code == 200
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.chmod(0o644)
    refused = await get(Sandbox(world=path), "/assistant")
    assert refused.status_code == 500 and f"fix it with: chmod 600 {path}" in refused.json()["message"]
    assert main(["sandbox", "--world", str(path), "--advance", "1h"]) == 2
    assert f"chmod 600 {path}" in capsys.readouterr().err
    link = tmp_path / "link.sqlite3"
    link.symlink_to(path)
    path.chmod(0o600)
    with pytest.raises(WorldUnusable, match="is a symbolic link"):
        Store(link).counts()


def test_the_stdio_server_opens_no_world_until_a_tool_reaches_the_sandbox(tmp_path: Path) -> None:
    """The stdio server starts at every agent session: the handshake and tools/list leave the world file alone."""
    env = server_env(tmp_path)
    server = RawServer(env)
    server.send(*INITIALIZE)
    server.answer(2)
    assert server.close() == 0 and not world_of(tmp_path).exists()
    server = RawServer(env)
    server.send(*INITIALIZE, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_calls", "arguments": {}}})
    assert not server.answer(3)["result"]["isError"]
    assert server.close() == 0 and world_of(tmp_path).exists()


# every process shares it


WRITER = """
import sys, time, uuid
from pathlib import Path
from vapi_mcp.sandbox.store import Store
path, tag, rounds, counter = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
go = Path(path).with_name("go")
while not go.exists():
    time.sleep(0.01)
store = Store(path)
for i in range(rounds):
    with store.transaction():
        store.assistants[counter]["count"] += 1  # read, change in place, written back at the end
        ident = str(uuid.uuid4())
        store.assistants[ident] = {"id": ident, "name": f"{tag}-{i}", "createdAt": "2026-11-02T16:00:00.000Z"}
store.close()
"""


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    """Each process adds 150 assistants and increments one shared counter 150 times, at the same moment:
    every assistant is there and the counter says 300 (no write of one process undoes the other's)."""
    path = tmp_path / "sandbox.sqlite3"
    counter = str(uuid.uuid4())
    store = Store(path)
    store.assistants[counter] = {"id": counter, "count": 0, "createdAt": "2026-11-02T16:00:00.000Z"}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag, "150", counter]) for tag in ("a", "b")]
    (tmp_path / "go").touch()
    assert [w.wait(120) for w in writers] == [0, 0]
    assert store.assistants[counter]["count"] == 300
    names = {a.get("name") for a in store.assistants.values()}
    assert {f"{tag}-{i}" for tag in "ab" for i in range(150)} <= names and len(store.assistants) == 301


async def test_an_assistant_made_through_one_process_is_found_by_another(tmp_path: Path) -> None:
    """`vapi-mcp sandbox --port` and a stdio MCP server, both on the default world: what one makes, the other finds."""
    env = server_env(tmp_path)
    port = free_port()
    backend = subprocess.Popen([sys.executable, "-m", "vapi_mcp", "sandbox", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, backend, "vapi-mcp sandbox")
        base = f"http://127.0.0.1:{port}"
        made = httpx.post(f"{base}/assistant", json={"name": "Sunny Paws"}, headers=KEY, timeout=10).json()
        async with Client(stdio(env), mode="legacy") as client:
            found = await client.call_tool("get_assistant", {"id": made["id"]})
            assert not found.is_error and result_json(found)["name"] == "Sunny Paws", result_text(found)
            created = result_json(await client.call_tool("create_assistant", {"name": "Riley"}))
        assert httpx.get(f"{base}/assistant/{created['id']}", headers=KEY, timeout=10).json()["name"] == "Riley"
    finally:
        stop(backend)


async def test_a_stdio_server_started_again_finds_yesterdays_assistant(tmp_path: Path) -> None:
    """What one agent session made is there the next day, in a new server process, on the moved clock."""
    env = server_env(tmp_path)
    async with Client(stdio(env), mode="legacy") as client:
        made = result_json(await client.call_tool("create_assistant", {"name": "Sunny Paws Receptionist"}))
        assert not (await client.call_tool("advance_sandbox_clock", {"advanceSeconds": 86400})).is_error
    async with Client(stdio(env), mode="legacy") as client:
        listed = result_json(await client.call_tool("list_assistants", {}))
        yesterdays = result_json(await client.call_tool("get_assistant", {"id": made["id"]}))
        moved = result_json(await client.call_tool("advance_sandbox_clock", {"advanceSeconds": 1}))
    assert [a["id"] for a in listed["assistants"]] == [made["id"]], listed
    assert (parse_iso(moved["from"]) - parse_iso(yesterdays["createdAt"])).total_seconds() >= 86400  # made yesterday, on the world's clock


# starting over, and seeds


async def test_reset_starts_over_and_says_what_it_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sandbox.sqlite3"
    sandbox = Sandbox(world=path)
    seed(sandbox, "demo")
    sandbox.advance_clock(seconds=7200)
    assert main(["sandbox", "--world", str(path), "--reset"]) == 0
    said = capsys.readouterr().out
    assert f"started over at {path}: removed 2 assistants, 2 phone numbers, 4 calls" in said and "(it was 2 h ahead)" in said
    again = Sandbox(world=path)
    assert again.store.counts() == {} and again.store.clock_offset == 0
    assert set(again.store.personalities) == set(DEFAULT_PERSONALITIES)  # Vapi's own objects are back
    assert main(["sandbox", "--world", str(path), "--reset"]) == 0
    assert "removed nothing" in capsys.readouterr().out


def test_reset_replaces_a_file_that_is_no_world(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sandbox.sqlite3"
    path.write_bytes(b"not a database, not at all" * 100)
    path.chmod(0o600)
    with pytest.raises(WorldUnusable, match="vapi-mcp sandbox --reset"):
        Store(path).counts()
    assert main(["sandbox", "--world", str(path), "--reset"]) == 0
    assert "not a world this version can read" in capsys.readouterr().out
    assert Sandbox(world=path).store.counts() == {}


def test_a_seed_goes_into_an_empty_world_only(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Any] = []
    monkeypatch.setattr("vapi_mcp.web.serve", lambda app, host, port, *args, **kwargs: served.append(port))
    path = tmp_path / "sandbox.sqlite3"
    assert main(["sandbox", "--world", str(path), "--seed", "demo", "--port", "0"]) == 0
    assert "seeded demo: 2 assistants, 2 phone numbers, 4 calls" in capsys.readouterr().out
    assert main(["sandbox", "--world", str(path), "--seed", "bench", "--port", "0"]) == 2
    refused = capsys.readouterr().err
    assert "already holds 2 assistants, 2 phone numbers, 4 calls" in refused and "nothing was changed" in refused and "--reset" in refused
    assert Sandbox(world=path).store.counts() == {"assistants": 2, "phone_numbers": 2, "calls": 4}
    assert main(["sandbox", "--world", str(path), "--reset", "--seed", "bench", "--port", "0"]) == 0
    assert Sandbox(world=path).store.counts() == {"assistants": 5, "phone_numbers": 3, "calls": 25}
    assert served == [0, 0]  # the refused one never served


async def test_a_world_another_process_holds_too_long_answers_503_and_changes_nothing(tmp_path: Path) -> None:
    """Vapi's way to say "try again": 503 with Retry-After (the client retries reads on it), never a half-made object."""
    import sqlite3

    from vapi_mcp.sandbox import built_in

    path = tmp_path / "sandbox.sqlite3"
    sandbox = Sandbox(world=path)
    sandbox.store = Store(path, built_in=built_in(), timeout=0.2)
    assert (await get(sandbox, "/assistant")).status_code == 200
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of its transaction
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url="http://sandbox.vapi.local", headers=KEY) as api:
            busy = await api.post("/assistant", json={"name": "Riley"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert busy.status_code == 503 and busy.headers["retry-after"] == "1" and "is busy" in busy.json()["message"]
    assert (await get(sandbox, "/assistant")).json() == []
