"""A stdio server driven line by line, as a client process would, with every read bounded in time."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HANDSHAKES = ROOT / "bench" / "handshakes"
READ_TIMEOUT = 60.0
"""Seconds a test waits for an answer before it fails (a start on a loaded machine can take several)."""


def server_env(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a sandboxed server whose cache, state and audit live in `folder`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    env.update(
        XDG_CACHE_HOME=str(folder / "cache"),
        XDG_STATE_HOME=str(folder / "state"),
        VAPI_MCP_AUDIT_LOG=str(folder / "audit.jsonl"),
        VAPI_MCP_NO_QUIET_HOURS="1",
    )
    env.update(extra)
    return env


def recording(client: str) -> dict[str, Any]:
    """What a real client sent (bench/handshakes/<client>.json says how it was recorded)."""
    return json.loads((HANDSHAKES / f"{client}.json").read_text())


def recorded_opening(client: str) -> list[dict[str, Any]]:
    """The messages a real client opens a session with, against a server that answers server/discover."""
    return [message for step in recording(client)["modern"] for message in step["send"]]


def line(message: dict[str, Any] | bytes) -> bytes:
    return message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n"


class RawServer:
    """`vapi-mcp serve --sandbox --log-level DEBUG` over pipes; stderr goes to a file (see `log`)."""

    def __init__(self, env: dict[str, str], *flags: str, stdin: Any = subprocess.PIPE) -> None:
        self.stderr_path = Path(env["XDG_CACHE_HOME"]).parent / f"stderr-{time.monotonic_ns()}.log"
        self.stderr_path.parent.mkdir(parents=True, exist_ok=True)
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vapi_mcp", "serve", "--sandbox", "--log-level", "DEBUG", *flags],
                stdin=stdin, stdout=subprocess.PIPE, stderr=stderr, env=env,
            )
        self.buffer = b""
        self.seen: list[Any] = []

    def send(self, *messages: dict[str, Any] | bytes) -> None:
        assert self.process.stdin is not None
        for message in messages:
            self.process.stdin.write(line(message))
        self.process.stdin.flush()

    def read(self, timeout: float = READ_TIMEOUT) -> Any:
        """The next message from the server (a JSON value); fails the test after `timeout` seconds."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise AssertionError(f"no answer within {timeout:g} s; server log:\n{self.log[-3000:]}")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise AssertionError(f"the server closed stdout (exit {self.process.poll()}); log:\n{self.log[-3000:]}")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\n", 1)
        message = json.loads(raw)
        self.seen.append(message)
        return message

    def answer(self, request_id: Any, timeout: float = READ_TIMEOUT) -> dict[str, Any]:
        """The answer to `request_id`, reading past other messages (kept in `seen`)."""
        for message in self.seen:
            if isinstance(message, dict) and message.get("id") == request_id and "method" not in message:
                return message
        while True:
            message = self.read(timeout)
            if isinstance(message, dict) and message.get("id") == request_id and "method" not in message:
                return message

    def close(self, timeout: float = 60) -> int:
        """Close stdin and wait for the exit code."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()

    def rest(self) -> list[Any]:
        """Everything the server wrote until it closed stdout (call after `close`)."""
        assert self.process.stdout is not None
        self.buffer += self.process.stdout.read()
        while b"\n" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\n", 1)
            self.seen.append(json.loads(raw))
        return self.seen

    @property
    def log(self) -> str:
        return self.stderr_path.read_text(errors="replace")
