"""Streamable HTTP: one JSON body for a request that can be sent nothing but its answer.

The SDK answers every POSTed request with an SSE stream unless the whole transport is in
JSON-response mode, which would also take away the stream where it carries something:
progress notifications (`wait_for_call` reports each status) and, in a stateful session,
the server's own requests (elicitation, the guard's way to ask the human). A stream costs
~0.3 ms of CPU per call on the 2026-07-28 path and ~0.7 ms on the stateless 2025 path
(bench/STARTUP.md). So a request goes to a second, JSON-response session manager of the
same server exactly when nothing but its answer could be sent on its stream:

- it is stateless (`--stateless`, or any request carrying a 2026-07-28 protocol header,
  which the SDK serves without a session either way): no server request can reach the
  client before the answer;
- and it asks for no progress (`params._meta.progressToken`): the SDK sends progress only
  to a request that asks for it, and this server sends no other notification in a request.

Everything else, and anything this cannot read (a body over the SDK's limit, not JSON, a
batch), is served by the SDK's app as before. Both managers have the same security settings
and body limit; the bearer check and Host checks wrap both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

Scope = dict[str, Any]


class JsonWhenSilent:
    """ASGI: route each request that can be sent nothing but its answer to a JSON-response manager."""

    def __init__(self, app: Any, manager: StreamableHTTPSessionManager, *, stateless: bool, path: str = "/mcp") -> None:
        """`app` is the SDK's Starlette app for `manager` (`MCPServer.streamable_http_app`, then `.session_manager`)."""
        self.app = app
        self.stateless = stateless
        self.path = path
        self.json = StreamableHTTPSessionManager(
            app=manager.app,
            json_response=True,
            stateless=True,
            security_settings=manager.security_settings,
            max_request_body_size=manager.max_request_body_size,
        )
        self.limit = manager.max_request_body_size
        sdk_lifespan = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(starlette: Any) -> AsyncIterator[Any]:
            async with sdk_lifespan(starlette) as state, self.json.run():
                yield state

        app.router.lifespan_context = lifespan

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path or not self._sessionless(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        pending: list[dict[str, Any]] = []  # what was received after the body, or instead of it (a disconnect)
        size, complete = 0, False
        while not complete and size <= self.limit:
            message = await receive()
            if message["type"] != "http.request":
                pending.append(message)
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            complete = not message.get("more_body", False)
        body = b"".join(chunks)
        pending.insert(0, {"type": "http.request", "body": body, "more_body": not complete})

        async def replay() -> dict[str, Any]:
            return pending.pop(0) if pending else await receive()

        target = self.json.handle_request if complete and size <= self.limit and _asks_no_progress(body) else self.app
        await target(scope, replay, send)

    def _sessionless(self, scope: Scope) -> bool:
        if self.stateless:
            return True
        version = next((v for k, v in scope["headers"] if k == b"mcp-protocol-version"), None)
        return version is not None and version.decode("latin-1") not in HANDSHAKE_PROTOCOL_VERSIONS


def _asks_no_progress(body: bytes) -> bool:
    """A single JSON-RPC message whose params ask for no progress notifications."""
    try:
        message = orjson.loads(body)
    except ValueError:
        return False
    if not isinstance(message, dict):
        return False
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return not (isinstance(meta, dict) and "progressToken" in meta)
