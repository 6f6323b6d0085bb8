"""The official MCP conformance suite (`@modelcontextprotocol/conformance` from npm) against `vapi-mcp serve
--transport http`, on the sandbox.

The suite's server scenarios are written for its reference server: most call tools, prompts and resources only
that server has (`test_image_content`, `test_simple_prompt`, `test://static-text`...). These are the ones that
hold any server to the specification: the handshake, ping, listing tools, resources and prompts, the
streamable HTTP transport's streams, and the DNS-rebinding protection. `logging/setLevel` is not among them:
vapi-mcp declares no `logging` capability (it sends no log messages), so the method is -32601, as the
specification says for a capability not declared.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from tests.loopback import serving
from tests.npm_kit import npm_installed
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import Sandbox

VERSION = "0.1.13"
"""The newest release that runs on Node.js 20 (Debian 12's; 0.1.14 and later need Node.js 22)."""
SCENARIOS = [
    "server-initialize",
    "ping",
    "tools-list",
    "resources-list",
    "prompts-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
]


@pytest.fixture(scope="module")
def suite() -> Path:
    folder = npm_installed("@modelcontextprotocol/conformance", VERSION, "to run the MCP conformance suite")
    return folder / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"


async def test_the_official_conformance_suite_passes_every_scenario_that_applies(suite: Path, settings: Settings, sandbox: Sandbox, tmp_path: Path) -> None:
    failed: dict[str, list[str]] = {}
    async with serving("--transport", "http", settings=settings, sandbox=sandbox) as base:
        for scenario in SCENARIOS:
            out = tmp_path / scenario
            with anyio.fail_after(120):
                done = await anyio.run_process(["node", str(suite), "server", "--url", f"{base}/mcp", "--scenario", scenario, "-o", str(out)], check=False)
            checks = [check for path in out.rglob("checks.json") for check in json.loads(path.read_text())]
            bad = [f"{c.get('id')}: {c.get('status')} {c.get('errorMessage') or ''}" for c in checks if c.get("status") not in ("SUCCESS", "INFO")]
            if done.returncode != 0 or bad or not any(c.get("status") == "SUCCESS" for c in checks):
                failed[scenario] = bad or [f"exit {done.returncode}: {done.stdout.decode()[-800:]}{done.stderr.decode()[-800:]}"]
    assert not failed, failed
