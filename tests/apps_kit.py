"""An MCP Apps host as the server sees it: what it declares, one server several clients share, the view's pending id."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from mcp.client.extension import advertise

from vapi_mcp.config import Settings
from vapi_mcp.guard.app import APP_MIME_TYPE, EXTENSION_ID, META_KEY, VIEW_URI
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.server import build_server

APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
"""What an MCP Apps host (Claude Desktop, ChatGPT, VS Code...) declares."""


@asynccontextmanager
async def one_server(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> AsyncIterator[Any]:
    """One server (one guard, one state store) that several clients connect to."""
    server, app = build_server(settings, sandbox=sandbox)
    app.guard.now = clock.now
    try:
        yield server
    finally:
        await app.aclose()


def pending_of(result: Any) -> dict[str, Any]:
    """What the view receives in the result's `_meta`."""
    assert result.meta and result.meta["ui"] == {"resourceUri": VIEW_URI}, result.meta
    return result.meta[META_KEY]
