"""The README says what the code declares: its tool table is what the catalogue generates.

After an intended change (a tool, a toolset, a default), regenerate with
`UPDATE_SNAPSHOTS=1 python -m pytest tests/test_readme.py` and review the diff of README.md.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from vapi_mcp.catalogue import TOOLSETS
from vapi_mcp.cli import main
from vapi_mcp.toolsets import README_END, README_START, catalogue, markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def generated_block(text: str, start: str, end: str) -> tuple[int, int]:
    """Where the generated block between the two markers is in `text` (markers included)."""
    assert text.count(start) == 1 and text.count(end) == 1, f"README.md must hold one {start!r} ... {end!r} block"
    first = text.index(start)
    return first, text.index(end, first) + len(end)


def test_the_readmes_tool_table_is_what_the_catalogue_generates() -> None:
    """Like github-mcp-server's generated docs: a tool or toolset changed in code and not in the README fails here."""
    text = README.read_text()
    first, last = generated_block(text, README_START, README_END)
    expected = markdown()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        README.write_text(text[:first] + expected + text[last:])
        return
    assert text[first:last] == expected, "README.md's tool table differs from the catalogue: regenerate it (see this module's docstring)"


def test_vapi_mcp_tools_markdown_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools", "--markdown"]) == 0
    assert capsys.readouterr().out.strip() == markdown()


def test_every_toolset_of_the_catalogue_has_tools_and_its_help() -> None:
    from vapi_mcp.cli import parser

    used = {toolset for toolset, _ in catalogue()}
    assert used == {toolset.id for toolset in TOOLSETS}, "a toolset of the catalogue has no family, or a family names no toolset of it"
    helped = " ".join(parser()._subparsers._group_actions[0].choices["serve"].format_help().split())  # type: ignore[union-attr]
    for toolset in TOOLSETS:
        assert f"{toolset.id}: {' '.join(toolset.description.split())}" in helped, toolset.id


def configuration_rows() -> list[tuple[list[str], list[str]]]:
    """(variables, flags) of every row of the README's configuration table."""
    text = README.read_text()
    table = text[text.index("## Configuration") :]
    table = table[: table.index("\n## ", 1)]
    rows = []
    for line in table.splitlines():
        if line.startswith("| `VAPI"):
            variables, flags = line.split("|")[1:3]
            rows.append((re.findall(r"`(VAPI_[A-Z_]+)", variables), re.findall(r"`(--[a-z-]+)`", flags)))
    return rows


def test_the_readmes_configuration_table_names_every_variable_and_no_other() -> None:
    """Each setting is declared once, in config.py: the README's table must name every variable it reads,
    with its flag (or none), and no variable the code no longer reads."""
    from vapi_mcp.config import SETTINGS_CLASSES, declared

    settings = [s for cls in SETTINGS_CLASSES for s in declared(cls)]
    rows = configuration_rows()
    documented = [name for variables, _ in rows for name in variables]
    assert len(documented) == len(set(documented)), "a variable has two rows"
    read = {name for s in settings for name in s.env}
    assert set(documented) - read == set(), f"the README names variables no setting reads: {sorted(set(documented) - read)}"
    assert read - set(documented) == set(), f"the README's configuration table misses: {sorted(read - set(documented))}"
    flags_of = {name: flags for variables, flags in rows for name in variables}
    for s in settings:
        shown = flags_of[s.env[0]]
        assert (s.flag in shown) if s.flag else not shown, f"{s.env[0]}: the README shows flags {shown}, the setting has {s.flag or 'none'}"
