"""Tool families, one module each. `FAMILIES` is the catalogue order of tools/list.

A family module names its toolset (`toolset = "<id>"`, one declared in `vapi_mcp/catalogue.py`), fills a
`tools = ToolGroup()` whose decorator states each tool's safety facts (`read_only`, `sends`: see `base.py`),
may define `register_extras(server, host)` (a `base.Host`) for resources and prompts, and is appended here.
Then regenerate what is generated from the catalogue and review the diff: the tools' schema snapshots
(tests/snapshots/) and the README's tool table
(`UPDATE_SNAPSHOTS=1 python -m pytest tests/test_schema_snapshots.py tests/test_readme.py`).
"""

from __future__ import annotations

from . import (
    analytics,
    assistants,
    calls,
    campaigns,
    chat,
    chats,
    evals,
    files,
    knowledge_bases,
    numbers,
    sandbox_clock,
    scorecards,
    sessions,
    simulations,
    structured_outputs,
    vapi_tools,
)

FAMILIES = (calls, sandbox_clock, chat, numbers, assistants, vapi_tools, evals, simulations, structured_outputs, files, knowledge_bases, chats, sessions, scorecards, campaigns, analytics)
