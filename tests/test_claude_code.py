"""Claude Code, the real binary, connects to this server: through the checkout's `.mcp.json` from any directory
of the checkout, and through the `claude mcp add` lines the README gives (stdio and HTTP)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from tests.claude_kit import claude, claude_binary, claude_home, status_of
from tests.loopback import serving
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "claude-code-test-token-0123456789"


@pytest.fixture(scope="module")
def binary() -> str:
    return claude_binary()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout as a user has it: this repository's `.mcp.json` and package at its root, a `.venv` there, and
    subdirectories. The venv's python is the test environment's (where vapi_mcp is installed)."""
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "vapi_mcp", root / "vapi_mcp", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".mcp.json", root / ".mcp.json")
    for sub in ("tests/snapshots", "examples"):
        (root / sub).mkdir(parents=True)
    python = root / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return root


@pytest.mark.parametrize("where", [".", "tests", "tests/snapshots", "vapi_mcp", "vapi_mcp/guard", "examples"])
def test_the_project_server_connects_from_any_directory_of_the_checkout(binary: str, checkout: Path, tmp_path: Path, where: str) -> None:
    """Before the fix `.mcp.json` named `.venv/bin/python` relative to where Claude Code started, so from
    `tests/` or `vapi_mcp/` it failed: `ENOENT ... posix_spawn '.venv/bin/python'`."""
    done = claude(binary, claude_home(tmp_path), checkout / where, "mcp", "get", "vapi")
    assert "Project config" in done.stdout, done.stdout + done.stderr
    assert status_of(done.stdout) == "✔ Connected", done.stdout + done.stderr


def test_without_a_venv_it_says_how_to_make_one(binary: str, checkout: Path, tmp_path: Path) -> None:
    shutil.rmtree(checkout / ".venv")
    done = claude(binary, claude_home(tmp_path), checkout / "tests", "mcp", "get", "vapi")
    assert "Failed" in status_of(done.stdout), done.stdout
    server = ["sh", "-c", _command_of(checkout)]
    answer = subprocess.run(server, cwd=checkout / "tests", capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert answer.returncode == 1 and "python3 -m venv .venv" in answer.stderr


def test_claude_code_asks_once_before_it_starts_a_projects_servers(binary: str, checkout: Path, tmp_path: Path) -> None:
    """Until the user approves the project's `.mcp.json` (a prompt at the first start), its servers are not run."""
    done = claude(binary, claude_home(tmp_path, approve_project_servers=False), checkout / "tests", "mcp", "list")
    assert "Pending approval" in done.stdout, done.stdout + done.stderr


def test_the_readme_stdio_line_connects(binary: str, tmp_path: Path) -> None:
    """`claude mcp add vapi -- <python -m vapi_mcp serve>` (the README's line, with the checkout's python for uvx)."""
    home, anywhere = claude_home(tmp_path), tmp_path / "elsewhere"
    anywhere.mkdir()
    added = claude(binary, home, anywhere, "mcp", "add", "vapi", "--", sys.executable, "-m", "vapi_mcp", "serve")
    assert added.returncode == 0, added.stdout + added.stderr
    done = claude(binary, home, anywhere, "mcp", "get", "vapi")
    assert status_of(done.stdout) == "✔ Connected", done.stdout + done.stderr


async def test_the_readme_http_line_connects_with_the_bearer_token(binary: str, tmp_path: Path, settings: Settings, sandbox: Sandbox) -> None:
    home, anywhere = claude_home(tmp_path), tmp_path / "elsewhere"
    anywhere.mkdir()
    async with serving("--transport", "http", "--auth-token", TOKEN, settings=settings, sandbox=sandbox) as base:
        for name, header in (("vapi", f"Authorization: Bearer {TOKEN}"), ("wrong", "Authorization: Bearer not-the-token-0123456789")):
            added = await anyio.to_thread.run_sync(
                lambda n=name, h=header: claude(binary, home, anywhere, "mcp", "add", "--transport", "http", n, f"{base}/mcp", "--header", h)
            )
            assert added.returncode == 0, added.stdout + added.stderr
        right = await anyio.to_thread.run_sync(lambda: claude(binary, home, anywhere, "mcp", "get", "vapi"))
        wrong = await anyio.to_thread.run_sync(lambda: claude(binary, home, anywhere, "mcp", "get", "wrong"))
    assert status_of(right.stdout) == "✔ Connected", right.stdout + right.stderr
    assert status_of(wrong.stdout) != "✔ Connected", wrong.stdout


def _command_of(checkout: Path) -> str:
    return json.loads((checkout / ".mcp.json").read_text())["mcpServers"]["vapi"]["args"][1]
