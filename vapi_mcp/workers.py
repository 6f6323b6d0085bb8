"""`vapi-mcp serve --transport http --stateless --workers N`: one uvicorn worker process per core.

One Python process serves tool calls on one core (~1 ms of CPU each, bench/RESULTS.md);
N workers listen on one port and serve on N. On Linux each worker has a listening socket of
its own on the port (SO_REUSEPORT), and the kernel spreads new connections over them by a hash
of each connection's addresses. One socket shared by every worker spreads nothing: each new
connection wakes every worker, and the first to run accepts all that are queued (uvloop accepts
until none is left), so a burst of connections often lands on one worker whatever the Python.
Elsewhere (no load-balancing SO_REUSEPORT) the workers share one socket, as uvicorn does.

That is safe only where no request depends on the process that served the previous one:

- no sessions (`--stateless`): a session lives in the worker that opened it, and the next
  request of its client may reach another (sticky sessions in front of one-worker replicas
  are the alternative);
- an embedded sandbox only with its world in a file (the default, `--sandbox-world`): every worker
  opens the same SQLite world, as every stdio and HTTP server of the user does, and serves each
  request in one transaction of it; a world kept in `memory` lives in one process, so it is refused;
- the guard's state shared by every worker: confirm tokens are signed with one key (a
  random one is made here for the workers when VAPI_MCP_CONFIRM_SECRET is not set), and used
  tokens, daily dial counts and pending confirmations must live in a state store that every
  worker reads and writes (VAPI_MCP_STATE_URL), or no tool may change anything (`--read-only`).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import sys
from dataclasses import dataclass
from typing import Any

from .config import SANDBOX_MEMORY, Serving, Settings

WORKERS_ENV = "VAPI_MCP_WORKERS"
NAMESPACE_ENV = "VAPI_MCP_WORKER_ARGS"
"""The parent's parsed command line, for each worker to read again (a worker is a fresh process)."""


def worker_count(ns: argparse.Namespace) -> int:
    """`--workers`, else VAPI_MCP_WORKERS, else 1 (`config.Serving.workers`); anything but a whole number ≥ 1 is refused."""
    return Serving.load(flags=vars(ns)).workers


def refusal(ns: argparse.Namespace, settings: Settings | None, count: int) -> str | None:
    """Why `count` workers cannot serve these settings safely, naming what to change; None when they can."""
    if count == 1:
        return None
    if ns.transport != "http":
        return f"--workers {count} needs --transport http --stateless (stdio serves one client; SSE sessions live in one process)"
    if not ns.stateless:
        return (
            f"--workers {count} needs --stateless: a session lives in the worker that opened it, and its next request "
            "may reach another worker. Add --stateless, or run one worker per replica behind sticky sessions."
        )
    assert settings is not None
    if settings.sandbox and settings.sandbox_world == SANDBOX_MEMORY:
        return (
            f"--workers {count} cannot share a sandbox world kept in memory: it lives in one process. Keep it in a file "
            "(the default, or --sandbox-world /path/world.sqlite3), which every worker opens."
        )
    if not settings.read_only and not shared_state(settings):
        return (
            f"--workers {count} needs the guard's state (used confirm tokens, daily dial caps, pending confirmations) "
            "shared by every worker: a state store (VAPI_MCP_STATE_URL). Without one, serve with --read-only or one worker."
        )
    return None


def shared_state(settings: Settings) -> bool:
    """Whether the guard's state store is shared by processes (the SQLite or Redis store of VAPI_MCP_STATE_URL)."""
    return bool(getattr(settings, "state_url", None))


def serve(ns: argparse.Namespace, settings: Settings, count: int, *, log_level: str = "warning", lifespan: str = "on") -> None:
    """Run `count` uvicorn workers on one socket, each building the server from the same command line
    and environment, each with the HTTP limits of `vapi_mcp.web` (timeouts, connection cap)."""
    from uvicorn.supervisors import Multiprocess

    from . import web

    if not settings.confirm_secret:  # a token one worker signs must verify in every other
        os.environ["VAPI_MCP_CONFIRM_SECRET"] = secrets.token_urlsafe(32)
    os.environ[NAMESPACE_ENV] = json.dumps({k: v for k, v in vars(ns).items() if k != "func"})
    config = web.config(
        "vapi_mcp.workers:app", ns.host, ns.port, settings.http, log_level=log_level, lifespan=lifespan, factory=True, workers=count
    )
    config.http = "vapi_mcp.workers:WorkerProtocol"  # built in each worker, from the same limits (a class made at run time cannot be sent)
    if SPREADS_BY_REUSE_PORT:
        sock = _hold_port(ns.host, ns.port)
        listeners: list[Any] = [ReusePort(ns.host, sock.getsockname()[1])]
    else:
        sock = config.bind_socket()
        listeners = [sock]
    print(f"vapi-mcp: serving streamable HTTP (stateless) on {web.url(ns.host, sock.getsockname()[1], '/mcp')} with {count} workers", file=sys.stderr, flush=True)
    try:
        Multiprocess(config, sockets=listeners).run()
    finally:
        sock.close()


SPREADS_BY_REUSE_PORT = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
"""Linux spreads connections over the listening sockets of one SO_REUSEPORT group (other systems give them all to one)."""


@dataclass(frozen=True)
class ReusePort:
    """The port a worker listens on, sent to it in place of a socket: unpickled there (uvicorn sends each worker
    its sockets pickled) as a listening socket of the worker's own in the port's SO_REUSEPORT group. A worker
    uvicorn restarts gets a new one the same way."""

    host: str
    port: int

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reuse_port_socket, (self.host, self.port))


def _hold_port(host: str, port: int) -> socket.socket:
    """The workers' port, held for them by a socket bound (never listening) in its SO_REUSEPORT group.

    The port is first bound without SO_REUSEPORT, so one another server listens on (even in an SO_REUSEPORT
    group of its own) is refused, not shared; this also picks the port when `port` is 0."""
    try:
        with _bound(host, port, reuse_port=False) as probe:
            port = probe.getsockname()[1]
        return _bound(host, port, reuse_port=True)
    except OSError as exc:
        print(f"vapi-mcp: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        raise SystemExit(1) from None


def _reuse_port_socket(host: str, port: int) -> socket.socket:
    """A worker's own listening socket on the port (uvicorn listens on it)."""
    return _bound(host, port, reuse_port=True)


def _bound(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to (host, port) with SO_REUSEADDR, as uvicorn binds one, and SO_REUSEPORT if asked."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    return sock


def _namespace() -> argparse.Namespace:
    return argparse.Namespace(**json.loads(os.environ[NAMESPACE_ENV]))


def __getattr__(name: str) -> Any:
    """`WorkerProtocol`: the guarded HTTP protocol with this deployment's limits, made where a worker loads it."""
    if name != "WorkerProtocol":
        raise AttributeError(name)
    from . import web
    from .cli import settings_from

    limits = settings_from(_namespace()).http
    cap, _ = web.connection_cap(limits.max_connections)
    return web.protocol_for(limits, cap)


def app() -> Any:
    """One worker's ASGI app (a uvicorn factory): the parent's command line and environment, read again here."""
    from .cli import auth_token, configure_logging, http_app, settings_from
    from .redact import install_access_log_filter, scrubber
    from .server import build_server

    ns = _namespace()
    settings = settings_from(ns)
    configure_logging(settings.log_level)
    token = auth_token(ns)
    scrubber.add(token)
    install_access_log_filter()
    server, _ = build_server(settings)
    return http_app(server, ns, token, settings.http, settings.allowed_origins)
