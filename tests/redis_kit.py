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
from typing import Iterator

import pytest

from tests.loopback import free_port, stop


def unavailable(reason: str) -> None:
    """Skip, or fail under CI: CI installs redis-server and must run these tests."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI installs redis-server (.ci/run) and must not skip the Redis tests", pytrace=False)
    pytest.skip(f"{reason} (install Debian's redis-server to run the Redis state-store tests)")


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """redis-server on loopback, no persistence; (process, URL) once it answers PING."""
    exe = shutil.which("redis-server")
    if exe is None:
        unavailable("redis-server is not installed")
    problem = "it did not start"
    for _ in range(3):  # another process may take the free port first
        port = free_port()
        process = subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return process, f"redis://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.05)
        if process.poll() is None:
            process.kill()
        out = process.communicate()[0].decode(errors="replace").strip().splitlines()
        problem = out[-1] if out else f"exit status {process.returncode}"
    unavailable(f"redis-server could not start on loopback: {problem}")
    raise AssertionError("unreachable")


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
    """Database 0 of the session's redis-server, emptied for this test."""
    import redis

    client = redis.Redis.from_url(redis_server + "/0")
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_server + "/0"
