"""Serving HTTP: uvicorn with limits that hold under slow or hostile clients, and the Host check.

uvicorn on its own waits forever for a request's headers and holds any number of connections,
so a few hundred half-sent requests exhaust the process's file descriptors and lock out every
client. Here each connection has `request_read_timeout` seconds to send a whole request, and at
`max_connections` (kept below the descriptor limit) a new connection closes the oldest one that is
still waiting for its request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .config import HttpLimits

logger = logging.getLogger("vapi_mcp.web")

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
KEEP_ALIVE = 5
"""Seconds an idle kept-alive connection stays open (uvicorn's default, stated)."""
MAX_HEADER_BYTES = 16 * 1024
"""Request line and headers at most; more is a 400 (h11's default, stated)."""
FD_RESERVE = 128
"""File descriptors kept for everything but client connections: Vapi, the audit log, state, imports."""


def is_loopback(host: str) -> bool:
    """True for a bind address only this machine can reach."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def url(host: str, port: int, path: str) -> str:
    return f"http://[{host}]:{port}{path}" if ":" in host else f"http://{host}:{port}{path}"


# The Host check: DNS-rebinding protection that never locks out a legitimate client


def _split_host(value: str) -> tuple[str, str | None]:
    """(name, port) of a Host header or an --allowed-hosts entry; IPv6 names lose their brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        return name, rest[1:] if rest.startswith(":") else None
    if value.count(":") == 1:
        name, port = value.split(":")
        return name, port
    return value, None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostCheck:
    """ASGI middleware against DNS rebinding and cross-site requests: the Host (and any Origin) must name this server.

    A rebinding attack always arrives under the attacker's own host name, so loopback names and IP
    addresses are always accepted in Host (any port), as are the bound host and the `--allowed-hosts`
    entries (`name` for any port, `name:port` for one). Anything else is answered 421, naming the flag.

    An Origin is the page a browser request comes from, so an IP address proves nothing there: a page
    served from any address (http://203.0.113.5) could drive this server (on loopback, with no token)
    with a POST a browser sends without asking first. An Origin must be the Host's own name, a
    loopback name or address, an `--allowed-hosts` name, or an `--allowed-origins` origin; anything
    else is answered 403.
    """

    def __init__(self, app: Any, allowed: Iterable[str], origins: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed = [_split_host(entry) for entry in allowed if entry.strip()]
        self.origins = frozenset(origins)
        """Origins the user allowed browsers to call from (`--allowed-origins`), accepted whole."""

    def accepts(self, name: str, port: str | None) -> bool:
        if name in LOOPBACK_NAMES or _is_ip(name):
            return True
        return any(name == allowed and (want in (None, "*") or want == port) for allowed, want in self.allowed)

    def accepts_origin(self, origin: str, host: str) -> bool:
        if origin == host or is_loopback(origin):
            return True
        return any(origin == allowed for allowed, _ in self.allowed)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1")
        name, port = _split_host(host)
        if not name or not self.accepts(name, port):
            await _refuse(scope, receive, send, 421, f"Host {host!r} is not served here; add it to --allowed-hosts (VAPI_MCP_ALLOWED_HOSTS).")
            return
        origin = headers.get(b"origin")
        if origin is not None:
            parts = urlsplit(origin.decode("latin-1"))
            origin_name = (parts.hostname or "").lower()
            listed = _origin(origin) in self.origins
            if not listed and (parts.scheme not in ("http", "https") or not self.accepts_origin(origin_name, name)):
                await _refuse(
                    scope, receive, send, 403,
                    f"Origin {origin.decode('latin-1')!r} is not allowed; add its host to --allowed-hosts (VAPI_MCP_ALLOWED_HOSTS), "
                    "or, for a browser page, the origin to --allowed-origins (VAPI_MCP_ALLOWED_ORIGINS).",
                )
                return
        await self.app(scope, receive, send)


# Browser pages on other origins: CORS for the origins the user allows, and no other

CORS_METHODS = ("GET", "POST", "DELETE")
"""What a streamable HTTP client sends: POST messages, GET the server's stream, DELETE its session."""
CORS_HEADERS = frozenset(
    {
        "accept",
        "authorization",
        "content-type",
        "dpop",
        "last-event-id",
        "mcp-method",
        "mcp-name",
        "mcp-protocol-version",
        "mcp-session-id",
        "x-vapi-key",
        "x-vapi-tools",
        "x-vapi-toolsets",
    }
)
"""Request headers an MCP client sets (the official TypeScript client's, 2026-07-28's `Mcp-Method` and `Mcp-Name`
among them), and this server's own; `Mcp-Param-*` headers (a tool's arguments mirrored, SEP-2243) are allowed too."""
CORS_EXPOSED = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After"
"""Response headers a page may read: the session a client must send back, and why a request was refused."""
CORS_MAX_AGE = "600"


def _origin(raw: bytes) -> str | None:
    from .config import origin_entry

    try:
        return origin_entry(raw.decode("latin-1"))
    except ValueError:
        return None


class Cors:
    """ASGI middleware: pages of the `origins` the user allowed may call this server from a browser; no other page.

    A preflight (`OPTIONS` with `Access-Control-Request-Method`) from an allowed origin, for the methods and
    headers MCP clients send, is answered 204 with them; any other preflight is answered 403, naming the setting
    or the method or header refused. Answers to an allowed origin carry `Access-Control-Allow-Origin` (the
    origin itself, never `*`) and expose `Mcp-Session-Id`; no answer allows credentials (cookies): MCP clients
    authenticate with the `Authorization` header, which needs none. Requests of other origins are passed on
    without CORS headers, so a browser keeps their answers from the page (the Host check refused most already).
    """

    def __init__(self, app: Any, origins: Iterable[str]) -> None:
        self.app = app
        self.origins = frozenset(origins)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        raw = dict(scope["headers"]).get(b"origin") if scope["type"] == "http" else None
        if raw is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = _origin(raw)
        allowed = origin is not None and origin in self.origins
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            problem = self.preflight_problem(raw.decode("latin-1"), allowed, headers)
            if problem:
                await _refuse(scope, receive, send, 403, problem)
                return
            requested = headers.get(b"access-control-request-headers", b"").decode("latin-1").lower()
            answer = [
                (b"access-control-allow-origin", raw),
                (b"access-control-allow-methods", ", ".join(CORS_METHODS).encode()),
                (b"access-control-max-age", CORS_MAX_AGE.encode()),
                (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
            ]
            if requested.strip():
                answer.append((b"access-control-allow-headers", ", ".join(_names(requested)).encode()))
            await send({"type": "http.response.start", "status": 204, "headers": answer})
            await send({"type": "http.response.body", "body": b""})
            return
        if not allowed:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_cors_headers(raw)]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def preflight_problem(self, origin: str, allowed: bool, headers: dict[bytes, bytes]) -> str | None:
        if not allowed:
            return f"Origin {origin!r} may not call this server from a browser page; add it to --allowed-origins (VAPI_MCP_ALLOWED_ORIGINS)."
        method = headers[b"access-control-request-method"].decode("latin-1").strip()
        if method not in CORS_METHODS:
            return f"Method {method!r} is not served here; a browser page may send {', '.join(CORS_METHODS)}."
        requested = _names(headers.get(b"access-control-request-headers", b"").decode("latin-1").lower())
        refused = [name for name in requested if name not in CORS_HEADERS and not name.startswith("mcp-param-")]
        if refused:
            return f"Request header {refused[0]!r} is not accepted from a browser page; MCP clients send {', '.join(sorted(CORS_HEADERS))} and Mcp-Param-*."
        return None


def _names(header_list: str) -> list[str]:
    return [name.strip() for name in header_list.split(",") if name.strip()]


def _cors_headers(origin: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"access-control-allow-origin", origin), (b"access-control-expose-headers", CORS_EXPOSED.encode()), (b"vary", b"Origin")]


async def _refuse(scope: Any, receive: Any, send: Any, status: int, message: str) -> None:
    from starlette.responses import JSONResponse

    await JSONResponse({"error": "misdirected request" if status == 421 else "forbidden", "message": message}, status_code=status)(scope, receive, send)


# Connections: a deadline to receive each request, and a cap that sheds the idle first


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request and a connection cap.

    A connection is *waiting* while the server waits for its client to send a whole request: from
    the moment it opens or its previous answer ends until the request's last body byte arrives. A
    waiting connection is closed after `read_timeout` seconds; at `max_connections` a new connection
    closes the longest-waiting one. A connection whose request is being answered is never shed.
    """

    read_timeout: float = HttpLimits.request_read_timeout
    max_connections: int = HttpLimits.max_connections
    waiting: dict[GuardedH11Protocol, None] = {}
    """Waiting connections of one server, oldest first (each server gets its own subclass)."""

    _deadline: Any = None

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()
        if len(self.connections) > self.max_connections:
            self._shed_oldest_waiting()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def _watch(self) -> None:
        if self.transport.is_closing():
            self._stop_waiting()
        elif self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            if self._deadline is None:  # the deadline runs from the start of the wait, not the last byte
                self._deadline = self.loop.call_later(self.read_timeout, self._expire)
                self.waiting[self] = None
        else:
            self._stop_waiting()

    def _stop_waiting(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self.waiting.pop(self, None)

    def _expire(self) -> None:
        self._deadline = None
        self.waiting.pop(self, None)
        if not self.transport.is_closing():
            self.transport.close()

    def _shed_oldest_waiting(self) -> None:
        for other in self.waiting:
            if other is not self:
                other._expire()
                return


def protocol_for(limits: HttpLimits, max_connections: int) -> type[GuardedH11Protocol]:
    """The protocol class of one server: its own limits and its own waiting list."""
    attributes = {"read_timeout": limits.request_read_timeout, "max_connections": max_connections, "waiting": {}}
    return type("GuardedH11Protocol", (GuardedH11Protocol,), attributes)


def connection_cap(wanted: int) -> tuple[int, int | None]:
    """The connection cap that fits the file-descriptor limit (raised toward it first), and that limit."""
    try:
        import resource
    except ImportError:  # not Unix: no limit to read
        return wanted, None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted, None
    room = soft - FD_RESERVE if soft > 2 * FD_RESERVE else soft // 2
    return max(1, min(wanted, room)), soft


def config(app: Any, host: str, port: int, limits: HttpLimits, *, log_level: str = "warning", **extra: Any) -> uvicorn.Config:
    """uvicorn's configuration with this module's limits (the one place HTTP serving is configured)."""
    cap, _ = connection_cap(limits.max_connections)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_for(limits, cap),
        ws="none",
        timeout_keep_alive=KEEP_ALIVE,
        limit_concurrency=cap + 1,  # beyond the cap with nobody waiting to shed: 503
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        log_level=log_level,
        **extra,
    )


class Server(uvicorn.Server):
    """uvicorn's server that says where it listens once it does (on stderr: stdout may be a protocol channel)."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[int], str] | None = None) -> None:
        super().__init__(config)
        self.announce = announce
        self.port: int | None = None

    async def startup(self, sockets: list[Any] | None = None) -> None:
        _quiet_accept_errors(asyncio.get_running_loop())
        await super().startup(sockets)
        if self.started:
            self.port = self.servers[0].sockets[0].getsockname()[1]
            if self.announce:
                print(self.announce(self.port), file=sys.stderr, flush=True)


def _quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """One warning per 10 s when accept() runs out of file descriptors, instead of a traceback per
    pending connection (asyncio logs one for every connection left in the backlog, and retries alone)."""
    previous = loop.get_exception_handler()
    last = 0.0

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        nonlocal last
        if context.get("message") == "socket.accept() out of system resource":
            if time.monotonic() - last >= 10:
                last = time.monotonic()
                logger.warning("out of file descriptors: new connections wait (lower --max-connections or raise ulimit -n)")
            return
        callback = getattr(context.get("handle"), "_callback", None)
        if getattr(callback, "__name__", "") == "_start_serving" and isinstance(context.get("exception"), (OSError, ValueError)):
            return  # asyncio's accept() retry firing after the listening socket closed at shutdown
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


def serve(
    app: Any, host: str, port: int, limits: HttpLimits, *, announce: Callable[[int], str], log_level: str = "warning", **extra: Any
) -> None:
    """Serve `app` until interrupted; `announce(port)` is printed on stderr once it listens."""
    cap, fd_limit = connection_cap(limits.max_connections)
    if cap < limits.max_connections:
        print(
            f"vapi-mcp: at most {cap} HTTP connections (the file-descriptor limit is {fd_limit}; raise it with ulimit -n)",
            file=sys.stderr,
        )
    Server(config(app, host, port, limits, log_level=log_level, **extra), announce).run()
