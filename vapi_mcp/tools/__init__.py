"""Tool families, one module each. `FAMILIES` is the catalogue order of tools/list.

A family module declares `toolset = "<name>"` (one of `config.TOOLSETS`; see `vapi_mcp/toolsets.py`),
fills a `tools = ToolGroup()`, may define `register_extras(server, app)` for resources and prompts,
and is appended here. That is all a new family needs.
"""

from __future__ import annotations

from . import analytics, assistants, calls, campaigns, chat, evals, numbers, sandbox_clock, simulations, structured_outputs, vapi_tools

FAMILIES = (calls, sandbox_clock, chat, numbers, assistants, vapi_tools, evals, simulations, structured_outputs, campaigns, analytics)
