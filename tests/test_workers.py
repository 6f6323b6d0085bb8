"""`serve --transport http --stateless --workers N`: N real processes on one port, and refusals where that is unsafe."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import anyio
import httpx2 as httpx
import orjson
import pytest

from vapi_mcp.cli import main
from vapi_mcp.sandbox.seed import RICH_CALL_ID

from .http_kit import tools_call

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see which worker holds each connection")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv: list[str], tmp_path: Path, name: str, **env: str) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    clean |= {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"), **env}
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen([sys.executable, "-m", "vapi_mcp", *argv], env=clean, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return found


ESTABLISHED, LISTEN = "01", "0A"
"""TCP states as /proc/net/tcp writes them."""


def sockets_held(port: int, state: str, pids: list[int]) -> dict[int, set[str]]:
    """The sockets (inodes) on local `port` in `state` that each of `pids` holds."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == state and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    held: dict[int, set[str]] = {}
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        held[pid] = {link[8:-1] for link in links if link.startswith("socket:[") and link[8:-1] in inodes}
    return held


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[str]:
    """`vapi-mcp sandbox --seed bench` on loopback: the Vapi every worker reaches."""
    port = free_port()
    process = start(["sandbox", "--port", str(port), "--seed", "bench"], tmp_path, "sandbox")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/call/{RICH_CALL_ID}", headers={"Authorization": "Bearer any"}).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "sandbox.log").read_text()
        time.sleep(0.1)
    yield base
    stop(process)


async def test_two_workers_serve_one_port_and_share_its_connections(tmp_path: Path, backend: str) -> None:
    """Bursts of 16 new connections reach both workers, on every Python: each worker listens on a socket
    of its own (SO_REUSEPORT) and the kernel spreads connections over them. With one socket shared by both,
    the first worker to wake took every queued connection, 16/0 as often as not (on 3.11 as on 3.13)."""
    port = free_port()
    argv = ["serve", "--transport", "http", "--stateless", "--read-only", "--port", str(port), "--base-url", backend]
    server = start(argv, tmp_path, "server", VAPI_API_KEY="sk-any", VAPI_MCP_WORKERS="2", VAPI_MCP_AUDIT_LOG=str(tmp_path / "audit.jsonl"))
    url = f"http://127.0.0.1:{port}/mcp"
    body, headers = tools_call("2026-07-28", "get_call", {"id": RICH_CALL_ID})

    async def get_call(http: httpx.AsyncClient) -> None:
        response = await http.post(url, json=body, headers=headers)
        assert response.status_code == 200, response.text
        result = orjson.loads(response.content)["result"]
        assert not result.get("isError") and orjson.loads(result["content"][0]["text"])["id"] == RICH_CALL_ID

    try:
        with anyio.fail_after(60):
            while True:  # until both workers answer (a worker still starting leaves its socket unbound)
                try:
                    async with httpx.AsyncClient(timeout=30) as http:
                        await get_call(http)
                    workers = [p for p in children(server.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
                    listening = sockets_held(port, LISTEN, workers)
                    if len(workers) == 2 and all(listening.get(p) for p in workers):
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, (tmp_path / "server.log").read_text()
                await anyio.sleep(0.2)
        assert len(listening[workers[0]] | listening[workers[1]]) == 2, listening  # two sockets, one each: not one shared
        owners: dict[int, int] = {}
        for _ in range(4):  # the kernel hashes each connection's ports: a few bursts make a 0/N split vanishingly rare
            async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=16, max_keepalive_connections=16)) as http:
                async with anyio.create_task_group() as burst:
                    for _ in range(16):
                        burst.start_soon(get_call, http)
                for pid, inodes in sockets_held(port, ESTABLISHED, workers).items():
                    owners[pid] = owners.get(pid, 0) + len(inodes)
            if sorted(owners) == sorted(workers) and all(owners.values()):
                break
        assert sorted(owners) == sorted(workers) and all(owners.values()), owners
    finally:
        stop(server)
    assert server.returncode == 0, (tmp_path / "server.log").read_text()
    assert not [p for p in workers if Path(f"/proc/{p}").exists()], "a worker outlived the server"


async def test_two_workers_share_the_embedded_sandboxs_world(tmp_path: Path) -> None:
    """Before, --workers refused the embedded sandbox ("it lives in one process's memory"), though its world is an
    SQLite file every process shares. Now an assistant made through one worker is seen by every worker."""
    port = free_port()
    world = tmp_path / "world.sqlite3"
    argv = ["serve", "--transport", "http", "--stateless", "--port", str(port), "--sandbox-world", str(world)]
    server = start(argv, tmp_path, "server", VAPI_MCP_WORKERS="2", VAPI_MCP_AUDIT_LOG=str(tmp_path / "audit.jsonl"))
    url = f"http://127.0.0.1:{port}/mcp"

    async def call(http: httpx.AsyncClient, name: str, arguments: dict[str, object]) -> dict[str, object]:
        body, headers = tools_call("2026-07-28", name, arguments)
        response = await http.post(url, json=body, headers=headers)
        assert response.status_code == 200, response.text
        result = orjson.loads(response.content)["result"]
        assert not result.get("isError"), result
        return orjson.loads(result["content"][0]["text"])

    try:
        with anyio.fail_after(60):
            while True:
                try:
                    async with httpx.AsyncClient(timeout=30) as http:
                        made = await call(http, "create_assistant", {"name": "Shared Desk", "firstMessage": "Hello!"})
                    break
                except httpx.TransportError:
                    assert server.poll() is None, (tmp_path / "server.log").read_text()
                    await anyio.sleep(0.2)
            workers = [p for p in children(server.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
            served: set[int] = set()
            while served != set(workers):  # new connections until each worker has answered one
                async with httpx.AsyncClient(timeout=30) as http:
                    listed = await call(http, "list_assistants", {})
                    owner = [pid for pid, inodes in sockets_held(port, ESTABLISHED, workers).items() if inodes]
                names = [row.get("name") for row in listed["assistants"]]  # type: ignore[union-attr]
                assert made["id"] and "Shared Desk" in names, (owner, listed)
                served.update(owner)
    finally:
        stop(server)
    assert len(workers) == 2 and server.returncode == 0, (tmp_path / "server.log").read_text()


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["--workers", "2"], {}, "--workers 2 needs --transport http --stateless"),
        (["--transport", "http", "--workers", "2"], {}, "needs --stateless"),
        (["--transport", "sse"], {"VAPI_MCP_WORKERS": "2"}, "--workers 2 needs --transport http"),
        (["--transport", "http", "--stateless", "--workers", "2", "--sandbox", "--sandbox-world", "memory"], {}, "--sandbox-world /path/world.sqlite3"),
        (["--transport", "http", "--stateless", "--workers", "0"], {}, "1 or more; got '0'"),
        (["--transport", "http", "--stateless"], {"VAPI_MCP_WORKERS": "many"}, "VAPI_MCP_WORKERS must be a whole number"),
    ],
)
def test_workers_where_unsafe_are_refused_naming_the_flags(argv: list[str], env: dict[str, str], named: str, tmp_path: Path) -> None:
    """A real start (a subprocess, so a server that starts serving instead fails rather than hangs the suite)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    clean |= {"VAPI_API_KEY": "sk-any", "VAPI_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "XDG_STATE_HOME": str(tmp_path), **env}
    argv = [*argv, "--port", str(free_port())]
    done = subprocess.run([sys.executable, "-m", "vapi_mcp", "serve", *argv], env=clean, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and named in done.stderr, done.stderr


def test_workers_with_guarded_tools_need_a_shared_state_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Used tokens and daily caps kept per process would let N workers dial N times the cap, and redeem a token N times."""
    from vapi_mcp import workers
    from vapi_mcp.cli import parser, settings_from

    for key in [k for k in os.environ if k.startswith("VAPI")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("VAPI_API_KEY", "sk-any")
    monkeypatch.setenv("VAPI_MCP_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    ns = parser().parse_args(["serve", "--transport", "http", "--stateless", "--workers", "2"])
    settings = settings_from(ns)
    problem = workers.refusal(ns, settings, 2)
    if workers.shared_state(settings):  # the state store (VAPI_MCP_STATE_URL) is shared by every worker
        assert problem is None
    else:
        assert problem is not None and "VAPI_MCP_STATE_URL" in problem and "--read-only" in problem
        assert main(["serve", "--transport", "http", "--stateless", "--workers", "2"]) == 2
        assert "VAPI_MCP_STATE_URL" in capsys.readouterr().err
    ns = parser().parse_args(["serve", "--transport", "http", "--stateless", "--workers", "2", "--read-only"])
    assert workers.refusal(ns, settings_from(ns), 2) is None
