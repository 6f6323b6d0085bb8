"""A real redis-server on a free loopback port, for the tests of the Redis state store (a pytest plugin).

Without redis-server the tests that need it are skipped, saying why; under CI (env `CI`
set) they fail instead, since CI installs it (.ci/run)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.loopback import free_port, stop


def unavailable(reason: str) -> None:
    """Skip, or fail under CI: CI installs redis-server and must run these tests."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI installs redis-server (.ci/run) and must not skip the Redis tests", pytrace=False)
    pytest.skip(f"{reason} (install Debian's redis-server to run the Redis state-store tests)")


def start_redis(directory: Path, *, port: int | None = None, persistence: tuple[str, ...] = ("--save", "", "--appendonly", "no")) -> tuple[subprocess.Popen[bytes], str]:
    """redis-server on loopback (no persistence unless told); (process, URL) once it answers PING.

    `port`: that port (a restart of the same server), else a free one."""
    exe = shutil.which("redis-server")
    if exe is None:
        unavailable("redis-server is not installed")
    problem = "it did not start"
    for _ in range(3 if port is None else 20):  # another process may take the free port first; a restart waits for its port
        chosen = port or free_port()
        process = subprocess.Popen(
            [exe, "--port", str(chosen), "--bind", "127.0.0.1", *persistence, "--dir", str(directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", chosen), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return process, f"redis://127.0.0.1:{chosen}"
            except OSError:
                time.sleep(0.05)
        if process.poll() is None:
            process.kill()
        out = process.communicate()[0].decode(errors="replace").strip().splitlines()
        problem = out[-1] if out else f"exit status {process.returncode}"
        if port is not None:
            time.sleep(0.25)
    unavailable(f"redis-server could not start on loopback: {problem}")
    raise AssertionError("unreachable")


class RestartableRedis:
    """A redis-server of a test's own that it can kill (SIGKILL, as a crash or the OOM killer does) and start again
    on the same port and directory: what a replica sees when its Redis crashes."""

    def __init__(self, directory: Path, persistence: tuple[str, ...] = ("--save", "", "--appendonly", "no")) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.persistence = persistence
        self.process, self.base = start_redis(directory, persistence=persistence)
        self.port = int(self.base.rsplit(":", 1)[1])
        self.url = self.base + "/0"

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last save."""
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def start(self) -> None:
        self.process, _ = start_redis(self.directory, port=self.port, persistence=self.persistence)

    def command(self, *args: str) -> Any:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            return client.execute_command(*args)
        finally:
            client.close()

    def stop(self) -> None:
        stop(self.process)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a redis-server started for this test session."""
    process, url = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield url
    finally:
        stop(process)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """Database 0 of the session's redis-server, emptied for this test, and its ledger confirmed as a deployment's
    first `vapi-mcp state init` does (a new Redis holds no ledger the guard can take as complete)."""
    import redis

    from vapi_mcp.state import open_store

    client = redis.Redis.from_url(redis_server + "/0")
    try:
        client.flushdb()
    finally:
        client.close()
    store = open_store(redis_server + "/0")
    try:
        store.trust()
    finally:
        store.close()
    return redis_server + "/0"
