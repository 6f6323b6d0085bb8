"""Talking to the server as an MCP client does: connect in-process, read results, confirm as a user would."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from mcp import Client

from vapi_mcp.config import Settings
from vapi_mcp.guard.facts import REHEARSALS
from vapi_mcp.sandbox import Sandbox
from vapi_mcp.server import build_server


SANDBOX = REHEARSALS["sandbox"]
"""How every question on the sandbox starts."""


@asynccontextmanager
async def connect(settings: Settings, sandbox: Sandbox, **client_kwargs: Any) -> AsyncIterator[Client]:
    """An SDK `Client` connected in-process to a server built for `settings` on `sandbox`."""
    server, app = build_server(settings, sandbox=sandbox)
    try:
        async with Client(server, **client_kwargs) as client:
            yield client
    finally:
        await app.aclose()



def result_json(result: Any) -> dict[str, Any]:
    """The JSON object in a tool result's text content."""
    assert result.content, result
    return json.loads(result.content[0].text)


def result_text(result: Any) -> str:
    return result.content[0].text


async def confirmed(client: Client, name: str, arguments: dict[str, Any], *, seen: list[str] | None = None, **kwargs: Any) -> Any:
    """Call a tool; when the guard answers with a preview, repeat it with identical arguments plus its
    confirmToken, as after a user's yes. `seen` collects the text of every result, previews included."""
    result = await client.call_tool(name, arguments, **kwargs)
    if seen is not None:
        seen.append(result_text(result))
    token = None if result.is_error else result_json(result).get("confirmToken")
    if token is None:
        return result
    result = await client.call_tool(name, {**arguments, "confirmToken": token}, **kwargs)
    if seen is not None:
        seen.append(result_text(result))
    return result
