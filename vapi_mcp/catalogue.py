"""The toolsets agents choose from, each declared once: its id, what it is for, and what of it the
default selection offers.

Everything else is derived from `TOOLSETS`: the valid `--toolsets` / `VAPI_MCP_TOOLSETS` names and their
help, the default selection (`vapi_mcp.toolsets`), and the README's tool table (`vapi-mcp tools
--markdown`, checked by tests/test_readme.py). A tool belongs to the toolset its family module names
(`toolset = "calls"` in `vapi_mcp/tools/calls.py`). A new toolset is one `Toolset(...)` line here, in
catalogue order, and a family module that names it (listed in `tools.FAMILIES`).

This module imports nothing: settings are checked against it before the MCP SDK loads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Toolset:
    """One toolset of the catalogue."""

    id: str
    description: str
    """What it is for, in a line: the `--toolsets` help and the README's tool table show it."""
    default: bool | tuple[str, ...] = False
    """True: the default selection offers the whole toolset; a tuple of tool names: only these of its tools."""


TOOLSETS: tuple[Toolset, ...] = (
    Toolset("calls", "place phone and web calls (batch, scheduled), list and read them, wait for them, end and delete them", default=True),
    Toolset("numbers", "buy and import phone numbers, set their hooks and fallback, attach assistants or squads, release them", default=True),
    Toolset("assistants", "assistants and squads: list, read, create, update, delete", default=True),
    Toolset("tools", "Vapi's /tool resource: the functions, API requests and transfers an assistant calls (not MCP tools)"),
    Toolset("testing", "test assistants by chat, evals, simulations (chat or voice) and structured outputs", default=("chat_with_assistant",)),
    Toolset("knowledge", "files and knowledge bases an assistant answers from; chat history, sessions and scorecards"),
    Toolset("campaigns", "outbound campaigns: many contacts under one guarded action, their progress, cancel, delete"),
    Toolset("analytics", "Vapi's aggregate queries over calls (cost, counts, durations), one table per query"),
)
"""Every toolset, in catalogue order (the order of tools/list)."""

SELECTIONS = ("all", "default")
"""Words `--toolsets` takes besides toolset ids: every toolset, or the default selection."""
TOOLSET_IDS = tuple(toolset.id for toolset in TOOLSETS)


def default_toolsets() -> tuple[str, ...]:
    """The toolsets the default selection offers whole."""
    return tuple(toolset.id for toolset in TOOLSETS if toolset.default is True)


def default_tools() -> tuple[str, ...]:
    """Single tools the default selection offers from toolsets it does not offer whole."""
    return tuple(name for toolset in TOOLSETS if isinstance(toolset.default, tuple) for name in toolset.default)


def unknown_toolset(names: tuple[str, ...] | None) -> str | None:
    """The first name that is neither a toolset nor a selection word; None when all are known."""
    return next((name for name in names or () if name not in TOOLSET_IDS and name not in SELECTIONS), None)


def valid_names() -> str:
    return ", ".join(TOOLSET_IDS + SELECTIONS)


def toolsets_help() -> str:
    """The `--toolsets` help: every toolset with what it is for, then the selection words."""
    listed = "; ".join(f"{toolset.id}: {toolset.description}" for toolset in TOOLSETS)
    return f"comma list of toolsets agents see ({listed}), or all, or default ({', '.join(default_toolsets() + default_tools())})"
