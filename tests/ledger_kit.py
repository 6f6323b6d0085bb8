"""Real processes sharing one ledger (a pytest plugin): a `vapi-mcp sandbox --port` backend that stands in
for api.vapi.ai, stdio sessions and HTTP replicas of `python -m vapi_mcp serve` pointed at it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import httpx2 as httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.loopback import free_port, stop
from vapi_mcp.sandbox.seed import stable_id

BACKEND_KEY = "sk-ledger-test-key-0d9e"
CONFIRM_SECRET = "a-confirm-secret-every-replica-shares"
AUTH_TOKEN = "replicas-share-this-bearer-token-7f3a"
ASSISTANT_ID = stable_id("assistant", 0)
"""Riley, in the `demo` seed."""
PHONE_NUMBER_ID = stable_id("phone-number", 1)
"""The demo seed's Twilio number (+12125550147)."""
CALLEE = "+12125550199"


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise AssertionError(f"{what} exited with {process.returncode}: {err[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{what} did not listen on port {port} within {timeout} s")


@pytest.fixture
def vapi_backend() -> Iterator[str]:
    """`vapi-mcp sandbox --port N --seed demo` in its own process: the one api.vapi.ai every server here talks to."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "vapi_mcp", "sandbox", "--port", str(port), "--seed", "demo"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, process, "vapi-mcp sandbox")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def calls_to(backend: str, number: str = CALLEE) -> list[dict[str, Any]]:
    """The calls the backend holds to `number`: what really reached 'Vapi'."""
    response = httpx.get(f"{backend}/call", params={"limit": 1000}, headers={"Authorization": f"Bearer {BACKEND_KEY}"}, timeout=10)
    response.raise_for_status()
    return [call for call in response.json() if (call.get("customer") or {}).get("number") == number]


def call_args(number: str = CALLEE, **extra: Any) -> dict[str, Any]:
    return {"assistantId": ASSISTANT_ID, "phoneNumberId": PHONE_NUMBER_ID, "customer": {"number": number}, **extra}


def server_env(home: Path, backend: str, **extra: str) -> dict[str, str]:
    """The environment of a server on `backend` whose default state (SQLite ledger, audit files) lives in `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    env.update(
        VAPI_API_KEY=BACKEND_KEY,
        VAPI_BASE_URL=backend,
        VAPI_MCP_NO_QUIET_HOURS="1",  # the tests run at any hour
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    env.update(extra)
    return env


def stdio_server(env: dict[str, str]) -> StdioServerParameters:
    """A stdio session, as an agent starts it: a new `python -m vapi_mcp serve` process."""
    return StdioServerParameters(command=sys.executable, args=["-m", "vapi_mcp", "serve"], env=env)


@contextmanager
def http_replicas(env: dict[str, str], count: int = 2) -> Iterator[list[str]]:
    """`count` streamable-HTTP replicas (real uvicorn processes, --stateless) on loopback; their /mcp URLs."""
    processes, urls = [], []
    try:
        for i in range(count):
            port = free_port()
            replica_env = {**env, "VAPI_MCP_AUDIT_LOG": str(Path(env["XDG_STATE_HOME"]) / f"replica-{i}" / "audit.jsonl")}
            process = subprocess.Popen(
                [sys.executable, "-m", "vapi_mcp", "serve", "--transport", "http", "--stateless", "--port", str(port)],
                env=replica_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            processes.append(process)
            urls.append(f"http://127.0.0.1:{port}/mcp")
        for process, url in zip(processes, urls, strict=True):
            wait_for_port(int(url.rsplit(":", 1)[1].split("/")[0]), process, "an HTTP replica")
        yield urls
    finally:
        for process in processes:
            stop(process)


@asynccontextmanager
async def tenant(url: str, key: str | None) -> AsyncIterator[Client]:
    headers = {"X-Vapi-Key": key} if key else None
    async with httpx.AsyncClient(headers=headers, timeout=10) as http, Client(streamable_http_client(url, http_client=http)) as client:
        yield client


@contextmanager
def sqlite_locked(store: Any, timeout: float = 0.2) -> Iterator[None]:
    """Another connection holds the SQLite state file's write lock: every write of `store` (an `SQLiteStore`) fails
    after `timeout` seconds, as when the file cannot be written (tests run as root, where chmod would not stop them)."""
    import sqlite3

    store.close()
    store.timeout = timeout  # reopened with this busy timeout on its next operation
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def raw_bytes(path: Path) -> bytes:
    """Everything SQLite keeps for a state file: the file, its write-ahead log and its shared memory, as bytes on disk."""
    return b"".join(Path(f"{path}{suffix}").read_bytes() for suffix in ("", "-wal", "-shm") if Path(f"{path}{suffix}").exists())
