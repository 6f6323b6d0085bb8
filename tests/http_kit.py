"""Streamable HTTP as clients send it: a tools/call body and headers for either protocol generation."""

from __future__ import annotations

from typing import Any

MODERN = "2026-07-28"
ENVELOPE = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}


def tools_call(protocol: str, name: str, arguments: dict[str, Any], **meta: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """A tools/call body and headers as a client of `protocol` sends them (no session)."""
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": protocol}
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if protocol == MODERN:
        meta = {**ENVELOPE, **meta}
        headers |= {"Mcp-Method": "tools/call", "Mcp-Name": name}
    if meta:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}, headers
