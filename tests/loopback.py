"""What tests run on loopback: a free port, an ASGI app (or `vapi-mcp serve`'s HTTP app) under uvicorn in
the test's own loop, and child processes stopped cleanly."""

from __future__ import annotations

import socket
import subprocess
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, AsyncIterator

import anyio
import uvicorn

from vapi_mcp import web
from vapi_mcp.cli import http_app, parser
from vapi_mcp.server import build_server

if TYPE_CHECKING:
    from vapi_mcp.config import Settings
    from vapi_mcp.sandbox import ManualClock, Sandbox


def free_port() -> int:
    """A loopback port nothing listens on right now (another process may still take it first)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bound_socket() -> socket.socket:
    """A socket bound to a free loopback port, for a server started later (the port is known at once)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def running(server: uvicorn.Server, sock: socket.socket) -> AsyncIterator[None]:
    """Serve on `sock` for the block: it starts once uvicorn says so, and is told to exit at the end."""
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(server.serve, [sock])
            with anyio.fail_after(10):
                while not server.started:
                    await anyio.sleep(0.01)
            try:
                yield
            finally:
                server.should_exit = True
    finally:
        sock.close()


@asynccontextmanager
async def on_loopback(app: Any, *, lifespan: str = "off") -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port; its base URL (`http://127.0.0.1:<port>`)."""
    sock = bound_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    async with running(server, sock):
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@asynccontextmanager
async def serving(*flags: str, settings: Settings, sandbox: Sandbox, clock: ManualClock | None = None) -> AsyncIterator[str]:
    """`vapi-mcp serve <flags>`'s HTTP app under the CLI's own uvicorn configuration (its limits) on a free
    loopback port; its base URL. With `clock`, the guard keeps time by it."""
    ns = parser().parse_args(["serve", *flags])
    server, app = build_server(settings, sandbox=sandbox)
    if clock is not None:
        app.guard.now = clock.now
    sock = bound_socket()
    port = sock.getsockname()[1]
    config = web.config(http_app(server, ns, ns.auth_token, settings.http, settings.allowed_origins), "127.0.0.1", port, settings.http, lifespan="on")
    try:
        async with running(web.Server(config), sock):
            yield f"http://127.0.0.1:{port}"
    finally:
        await app.aclose()


def stop(process: subprocess.Popen[Any]) -> None:
    """End a child process: terminate, kill if it lingers past 10 s, then close its pipes."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
