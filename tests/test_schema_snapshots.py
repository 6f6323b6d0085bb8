"""What agents see is deliberate: every tool's schema and annotations match a reviewed snapshot.

After an intended change, regenerate with `UPDATE_SNAPSHOTS=1 python -m pytest tests/test_schema_snapshots.py`
and review the diff of tests/snapshots/.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import connect

SNAPSHOTS = Path(__file__).parent / "snapshots"
TOOLS_LIST_BUDGET = 17_000
"""Bytes of the compact tools/list JSON without the opt-in toolsets; the official server's 13 tools take 17,431."""
TESTING_BUDGET = 15_500
"""Bytes of the testing toolset (chat, evals, simulations, structured outputs: 26 tools), which agents opt into."""
OUTBOUND_BUDGET = 9_500
"""Bytes of the campaigns and analytics toolsets (8 tools), which agents opt into."""


def _toolset(name: str) -> set[str]:
    """The tools of the families that declare `toolset = name`."""
    from vapi_mcp.tools import FAMILIES

    return {spec.name for family in FAMILIES if getattr(family, "toolset", None) == name for spec in family.tools.specs}


def _dump(tool) -> dict:
    return tool.model_dump(mode="json", by_alias=True, exclude_none=True)


async def test_every_tool_matches_its_snapshot(settings, sandbox):
    async with connect(settings, sandbox) as client:
        tools = (await client.list_tools()).tools
    update = os.environ.get("UPDATE_SNAPSHOTS") == "1"
    names = set()
    for tool in tools:
        names.add(tool.name)
        path = SNAPSHOTS / f"{tool.name}.json"
        current = _dump(tool)
        if update:
            path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
            continue
        assert path.exists(), f"no snapshot for {tool.name}; run with UPDATE_SNAPSHOTS=1 and review it"
        assert current == json.loads(path.read_text()), f"{tool.name}'s schema changed; review and update its snapshot"
    stale = {p.stem for p in SNAPSHOTS.glob("*.json")} - names
    if update:
        for name in stale:
            (SNAPSHOTS / f"{name}.json").unlink()
    else:
        assert not stale, f"snapshots without a tool: {sorted(stale)}"


async def test_tools_list_stays_within_its_byte_budget(settings, sandbox):
    async with connect(settings, sandbox) as client:
        tools = (await client.list_tools()).tools
    testing, outbound = _toolset("testing"), _toolset("campaigns") | _toolset("analytics")
    size = len(json.dumps([_dump(t) for t in tools if t.name not in testing | outbound], separators=(",", ":")))
    assert size <= TOOLS_LIST_BUDGET, f"tools/list is {size} bytes, over the {TOOLS_LIST_BUDGET} budget"
    size = len(json.dumps([_dump(t) for t in tools if t.name in testing], separators=(",", ":")))
    assert 20 <= len(testing) and size <= TESTING_BUDGET, f"the testing toolset is {size} bytes, over its {TESTING_BUDGET} budget"
    size = len(json.dumps([_dump(t) for t in tools if t.name in outbound], separators=(",", ":")))
    assert len(outbound) == 8 and size <= OUTBOUND_BUDGET, f"the campaigns and analytics toolsets are {size} bytes, over their {OUTBOUND_BUDGET} budget"


async def test_read_only_mode_registers_no_mutating_tool_nor_a_prompt_that_needs_one(tmp_path, sandbox):
    from vapi_mcp.config import Settings

    settings = Settings.load({}, read_only=True, audit_log=str(tmp_path / "a.jsonl"))
    async with connect(settings, sandbox) as client:
        tools = (await client.list_tools()).tools
        prompts = (await client.list_prompts()).prompts
    assert tools, "read-only mode still offers the read tools"
    assert all(t.annotations and t.annotations.read_only_hint for t in tools)
    assert "create_call" not in {t.name for t in tools} and prompts == []


async def test_every_input_schema_is_a_plain_object_that_claude_accepts(settings, sandbox):
    """Anthropic's API refuses a tool whose input schema has oneOf/anyOf/allOf at the top level,
    and one such tool breaks every request of a Claude Code session, so none may have it."""
    async with connect(settings, sandbox) as client:
        tools = (await client.list_tools()).tools
    for tool in tools:
        schema = tool.input_schema
        assert schema.get("type") == "object", tool.name
        assert not {"oneOf", "anyOf", "allOf"} & set(schema), tool.name
