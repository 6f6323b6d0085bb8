"""Shared by the conversational-testing tests (no tests here): assistants in the sandbox, a clock that moves as runs are read."""

from __future__ import annotations

from typing import Any

from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.core import stamp

DEFAULT_TESTER = "00000000-0000-4000-8000-000000000001"
"""Skeptical Sam, one of the sandbox's (Vapi's) default personalities."""
MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def add_assistant(sandbox: Sandbox, name: str = "Riley", **fields: Any) -> str:
    """A saved assistant (its first message "Hi, this is <name>." unless `fields` give one)."""
    fields.setdefault("firstMessage", f"Hi, this is {name}.")
    assistant = stamp(sandbox.clock, name=name, **fields)
    sandbox.store.assistants[assistant["id"]] = assistant
    return assistant["id"]


def tick_on_reads(sandbox: Sandbox, clock: ManualClock, prefix: str, seconds: float) -> list[str]:
    """Move the sandbox clock `seconds` forward before each GET under `prefix` (a run progresses as it is polled,
    whatever the poll interval); returns the paths read, in order."""
    inner = sandbox.app.app
    reads: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(prefix):
            reads.append(scope["path"])
            clock.advance(seconds)
        await inner(scope, receive, send)

    sandbox.app.app = app
    return reads


def bodies(sandbox: Sandbox, method: str, path: str) -> list[Any]:
    """The bodies of the requests with this method and exact path."""
    return [r.body for r in sandbox.requests_to(method, path)]
