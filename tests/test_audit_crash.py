"""kill -9 at every point of a dial, then read the audit: no call that reached Vapi is ever missing from it.

The server is a real `python -m vapi_mcp serve` process on stdio, spoken to line by line (so the test
holds its pid and can kill it mid-request); Vapi is the sandbox served by uvicorn on loopback, in this
process, so the test sees exactly which requests reached it and can hold one there."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import anyio
import pytest
import uvicorn

from tests.guard_kit import add_number
from tests.ledger_kit import server_env
from vapi_mcp.cli import main
from vapi_mcp.guard.audit import attempts, read_lines
from vapi_mcp.sandbox import Fault, Sandbox
from vapi_mcp.sandbox.core import stamp

CALLEE = "+12125550177"


class Backend:
    """The sandbox on a loopback port, with two ways to stand between it and the server:
    `hold_in_network` keeps a POST /call from ever reaching it, `stop_after_answer` freezes
    the server (SIGSTOP) the moment the sandbox has answered a POST /call."""

    def __init__(self) -> None:
        self.sandbox = Sandbox()
        assistant = stamp(self.sandbox.clock, name="Riley")
        self.sandbox.store.assistants[assistant["id"]] = assistant
        self.assistant_id = assistant["id"]
        self.phone_number_id = add_number(self.sandbox, "twilio", "+14155550100")
        self.hold_in_network = False
        self.held = threading.Event()
        self.stop_after_answer: int | None = None
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._web = uvicorn.Server(uvicorn.Config(self.app, log_level="critical", lifespan="off", interface="asgi3"))
        self._thread = threading.Thread(target=self._web.run, kwargs={"sockets": [sock]}, daemon=True)
        self._sock = sock

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        is_dial = scope["type"] == "http" and (scope["method"], scope["path"]) == ("POST", "/call")
        if is_dial and self.hold_in_network:
            self.held.set()
            await anyio.sleep_forever()
        await self.sandbox.app(scope, receive, send)
        if is_dial and self.stop_after_answer:
            os.kill(self.stop_after_answer, signal.SIGSTOP)

    def dials_received(self) -> list[Any]:
        return self.sandbox.requests_to("POST", "/call")

    def __enter__(self) -> Backend:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._web.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._web.should_exit = self._web.force_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


class StdioServer:
    """`python -m vapi_mcp serve` spoken to over its stdin/stdout, one JSON-RPC line at a time."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vapi_mcp", "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, env=env
        )
        self._next = 0

    def send(self, method: str, params: dict[str, Any] | None = None, *, notify: bool = False) -> int | None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, **({"params": params} if params is not None else {})}
        if not notify:
            self._next += 1
            message["id"] = self._next
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()
        return message.get("id")

    def answer(self, request_id: int | None) -> dict[str, Any]:
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            assert line, "the server closed its output"
            message = json.loads(line)
            if message.get("id") == request_id:
                return message

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.answer(self.send(method, params))

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self._log.close()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.005)


def stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


@pytest.fixture
def held_backend() -> Iterator[Backend]:
    with Backend() as running:
        yield running


POINTS = ["before the sending line", "after the sending line, before Vapi has the request", "while Vapi holds the request", "after Vapi answered, before the outcome line"]


def crash_at(point: str, backend: Backend, tmp_path: Path) -> Path:
    """Preview a dial, confirm it with its token, SIGKILL the server at `point`; the audit file it wrote."""
    env = server_env(tmp_path, backend.url, VAPI_MCP_FAST_START="0")
    server = StdioServer(env, tmp_path / "server.log")
    arguments = {"assistantId": backend.assistant_id, "phoneNumberId": backend.phone_number_id, "customer": {"number": CALLEE}}
    try:
        server.call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "crash-test", "version": "1"}})
        server.send("notifications/initialized", notify=True)
        preview = json.loads(server.call("tools/call", {"name": "create_call", "arguments": arguments})["result"]["content"][0]["text"])
        lookups = len(backend.sandbox.requests)
        if point == POINTS[0]:
            backend.sandbox.inject(Fault("GET", "/phone-number", delay=600))  # the policy's lookup hangs at Vapi
        elif point == POINTS[1]:
            backend.hold_in_network = True
        elif point == POINTS[2]:
            backend.sandbox.inject(Fault("POST", "/call", delay=600, then_pass=True))
        else:
            backend.stop_after_answer = server.process.pid
        server.send("tools/call", {"name": "create_call", "arguments": {**arguments, "confirmToken": preview["confirmToken"]}})
        if point == POINTS[0]:
            wait_until(lambda: len(backend.sandbox.requests) > lookups, "the policy lookup reached the backend")
        elif point == POINTS[1]:
            wait_until(backend.held.is_set, "the POST was on its way")
        elif point == POINTS[2]:
            wait_until(lambda: len(backend.dials_received()) == 1, "the backend held the POST")
        else:
            wait_until(lambda: stopped(server.process.pid), "the server was frozen right after Vapi answered")
    finally:
        server.kill()
    return tmp_path / "state" / "vapi-mcp" / "audit.jsonl"


@pytest.mark.parametrize("point", POINTS)
def test_a_crash_at_any_point_of_a_dial_never_hides_a_call_from_the_audit(point: str, held_backend: Backend, tmp_path: Path) -> None:
    audit = crash_at(point, held_backend, tmp_path)
    received = held_backend.dials_received()
    rows = [row for row in attempts(read_lines([audit])) if row["tool"] == "create_call"]
    may_have_reached_vapi = [row for row in rows if "sending" in row["decisions"]]
    assert len(may_have_reached_vapi) >= len(received), f"a call Vapi received is missing from the audit: {rows}"
    if point == POINTS[0]:
        assert received == [] and [row["decision"] for row in rows] == ["previewed"]
    elif point in POINTS[1:3]:
        assert len(received) == (0 if point == POINTS[1] else 1)
        [attempt] = may_have_reached_vapi
        assert attempt["decision"] == "may-have-been-sent" and "may have reached Vapi" in attempt["error"]
        assert attempt["request"]["body"]["customer"]["number"] == CALLEE
        assert attempt["target"] == held_backend.url and attempt["channel"] == "agent-relayed"
    else:
        [call_id] = list(held_backend.sandbox.store.calls)
        [attempt] = may_have_reached_vapi
        assert attempt["decision"] in ("may-have-been-sent", "sent") and attempt["ids"] in ([], [call_id])


def test_vapi_mcp_audit_shows_a_crashed_dial_as_may_have_been_sent(
    held_backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a human reviewing the audit after a crash sees, from the same file the server wrote."""
    monkeypatch.setenv("VAPI_MCP_AUDIT_LOG", str(crash_at(POINTS[2], held_backend, tmp_path)))
    assert main(["audit"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["TIME", "TOOL", "WHO", "TARGET", "DECISION", "RULE", "CHANNEL", "IDS"]
    assert "previewed" in out[1] and "may-have-been-sent" in out[2] and "agent-relayed" in out[2]
