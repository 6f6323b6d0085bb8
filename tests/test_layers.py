"""Layers depend downward only: the guard knows nothing of the tools, a tool family nothing of the server that
hosts it, and the three ways a tool call ends early with a result share one base the server catches."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import vapi_mcp
from tests.guard_kit import serve
from tests.mcp_kit import result_json, result_text
from vapi_mcp.client import DryRun
from vapi_mcp.config import Settings
from vapi_mcp.errors import EarlyResult
from vapi_mcp.guard import InputRequired, Outcome
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.tools.base import Args, ToolContext, ToolGroup

PACKAGE = Path(vapi_mcp.__file__).parent


def imported(path: Path) -> set[str]:
    """Every module `path` imports, as an absolute name (imports under TYPE_CHECKING included)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    if path.name == "__init__.py":
        package = ".".join(path.relative_to(PACKAGE.parent).parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            found.add(f"{base}.{node.module}" if node.level and node.module else base if node.level else node.module or "")
    return found


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("guard", ("vapi_mcp.tools", "vapi_mcp.server", "vapi_mcp.apps", "vapi_mcp.toolsets")),
        ("tools", ("vapi_mcp.server", "vapi_mcp.apps", "vapi_mcp.web", "vapi_mcp.stdio", "vapi_mcp.cli")),
    ],
)
def test_a_layer_imports_nothing_from_the_layers_above_it(layer: str, forbidden: tuple[str, ...]) -> None:
    """Issue 21: the guard imported `tools.base.ToolContext` and probed it with getattr; calls and simulations
    reached for `server.App`. The guard now states what it needs (`guard.CallContext`), families get a `Host`."""
    for path in sorted((PACKAGE / layer).glob("*.py")):
        wrong = sorted(name for name in imported(path) if any(name == above or name.startswith(above + ".") for above in forbidden))
        assert not wrong, f"{path.relative_to(PACKAGE)} imports {wrong}"


def test_every_way_to_end_a_call_early_shares_the_base_the_server_catches() -> None:
    assert all(issubclass(kind, EarlyResult) for kind in (Outcome, InputRequired, DryRun))


early = ToolGroup()


class Finished(EarlyResult):
    """A kind of early result the server has never heard of."""


class NoArgs(Args):
    pass


@early.tool(title="Ends early (test)", read_only=True, sends=())
async def ends_early(args: NoArgs, call: ToolContext) -> Any:
    """Test only: ends with a result before returning one."""
    raise Finished("finished early", {"finished": True}, {"for": "the host"})


async def test_any_early_result_is_a_normal_result_through_the_one_boundary(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    monkeypatch.setattr("vapi_mcp.tools.FAMILIES", (SimpleNamespace(tools=early, toolset="calls"),))
    async with serve(settings, sandbox, clock) as client:
        result = await client.call_tool("ends_early", {})
    assert not result.is_error, result_text(result)
    assert result_json(result) == {"finished": True, "sandbox": True} and result.meta and result.meta["for"] == "the host"
