"""What agents see is deliberate: every tool of every toolset matches a reviewed snapshot, every
toolset lists the same tools in the same order every time, and the default set stays within budget.

After an intended change, regenerate with `UPDATE_SNAPSHOTS=1 python -m pytest tests/test_schema_snapshots.py`
and review the diff of tests/snapshots/.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.mcp_kit import connect
from vapi_mcp.catalogue import TOOLSET_IDS, default_tools, default_toolsets
from vapi_mcp.config import Settings
from vapi_mcp.toolsets import catalogue

SNAPSHOTS = Path(__file__).parent / "snapshots"
TOOLS_LIST_BUDGET = 17_431
"""Bytes of the default tools/list `tools` array as compact JSON (as bench/run.py counts them):
the official Vapi MCP server's 13 tools take 17,431."""
TESTING_BUDGET = 15_500
"""Bytes of the testing toolset (chat, evals, simulations, structured outputs: 26 tools), which agents opt into."""
OUTBOUND_BUDGET = 9_500
"""Bytes of the campaigns and analytics toolsets (8 tools), which agents opt into."""
KNOWLEDGE_BUDGET = 15_000
"""Bytes of the knowledge toolset (files, knowledge bases, chat history, sessions, scorecards: 27 tools), which agents opt into."""


def _dump(tool) -> dict:
    return tool.model_dump(mode="json", by_alias=True, exclude_none=True)


def _bytes(tools) -> bytes:
    return json.dumps([_dump(t) for t in tools], separators=(",", ":"), ensure_ascii=False).encode()


async def test_every_tool_matches_its_snapshot(settings, sandbox):
    """`settings` offers every toolset, so every tool of every toolset is covered."""
    assert settings.toolsets == ("all",)
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


async def test_the_default_tools_list_stays_within_its_byte_budget(tmp_path, sandbox):
    settings = Settings.load({}, audit_log=str(tmp_path / "a.jsonl"))
    async with connect(settings, sandbox) as client:
        tools = (await client.list_tools()).tools
    size = len(_bytes(tools))
    assert size <= TOOLS_LIST_BUDGET, f"the default tools/list is {size} bytes, over the {TOOLS_LIST_BUDGET} budget"


@pytest.mark.parametrize(
    ("toolsets", "budget", "at_least"),
    [(("testing",), TESTING_BUDGET, 20), (("campaigns", "analytics"), OUTBOUND_BUDGET, 8), (("knowledge",), KNOWLEDGE_BUDGET, 27)],
    ids=["testing", "campaigns+analytics", "knowledge"],
)
async def test_the_opt_in_toolsets_stay_within_their_budgets(tmp_path, sandbox, toolsets, budget, at_least):
    settings = Settings.load({}, audit_log=str(tmp_path / "a.jsonl"), toolsets=toolsets)
    async with connect(settings, sandbox) as client:
        tools = (await client.list_tools()).tools
    size = len(_bytes(tools))
    assert len(tools) >= at_least and size <= budget, f"{'+'.join(toolsets)} lists {len(tools)} tools in {size} bytes, over its {budget} budget"


SELECTIONS = [(name,) for name in TOOLSET_IDS if any(toolset == name for toolset, _ in catalogue())] + [("default",), ("all",)]


@pytest.mark.parametrize("toolsets", SELECTIONS, ids=[s[0] for s in SELECTIONS])
async def test_every_toolset_lists_the_same_tools_in_catalogue_order_every_time(tmp_path, sandbox, toolsets):
    settings = Settings.load({}, audit_log=str(tmp_path / "a.jsonl"), toolsets=toolsets)
    listings = []
    for _ in range(2):  # two servers: nothing may depend on construction or set order
        async with connect(settings, sandbox) as client:
            listings.append(_bytes((await client.list_tools()).tools))
    assert listings[0] == listings[1]
    names = [tool["name"] for tool in json.loads(listings[0])]
    if toolsets == ("all",):
        expected = [spec.name for _, spec in catalogue()]
    elif toolsets == ("default",):
        expected = [spec.name for toolset, spec in catalogue() if toolset in default_toolsets() or spec.name in default_tools()]
    else:
        expected = [spec.name for toolset, spec in catalogue() if toolset == toolsets[0]]
    assert names == expected and names


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
