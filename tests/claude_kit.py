"""The real Claude Code binary (`@anthropic-ai/claude-code` from npm), run with a temporary HOME.

`claude mcp list` / `claude mcp get` start each configured MCP server and report whether they connected;
neither needs a login or the network. The binary is `VAPI_MCP_CLAUDE_BIN`, else `claude` on PATH, else
the copy `.ci/run` installs (`~/.cache/vapi-mcp-ci/claude-code`). Without it the tests are skipped
outside CI and fail under CI (`CI` set), which installs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

CI_COPY = Path.home() / ".cache" / "vapi-mcp-ci" / "claude-code" / "node_modules" / ".bin" / "claude"


def claude_binary() -> str:
    for candidate in (os.environ.get("VAPI_MCP_CLAUDE_BIN"), shutil.which("claude"), str(CI_COPY) if CI_COPY.exists() else None):
        if candidate:
            return candidate
    reason = "the Claude Code binary is not installed (npm install @anthropic-ai/claude-code, or set VAPI_MCP_CLAUDE_BIN)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; .ci/run installs it and CI must run this test", pytrace=False)
    pytest.skip(reason)


def claude_home(root: Path, *, approve_project_servers: bool = True) -> Path:
    """A HOME of Claude Code's own: no login, no user servers; project `.mcp.json` servers pre-approved
    (what the one-time approval prompt records) unless told otherwise."""
    home = root / "claude-home"
    (home / ".claude").mkdir(parents=True, exist_ok=True)
    settings = {"enableAllProjectMcpServers": True} if approve_project_servers else {}
    (home / ".claude" / "settings.json").write_text(json.dumps(settings))
    return home


def claude(binary: str, home: Path, cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "VAPI_MCP_FAST_START": "1",
    }
    for name in ("XDG_CACHE_HOME", "XDG_STATE_HOME"):  # the server it starts keeps its state in the test's folders
        if name in os.environ:
            env[name] = os.environ[name]
    return subprocess.run([binary, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def status_of(output: str) -> str:
    """The `Status:` line of `claude mcp get`, e.g. '✔ Connected' or '✘ Failed to connect'."""
    for line in output.splitlines():
        if line.strip().startswith("Status:"):
            return line.split(":", 1)[1].strip()
    return f"(no status line in: {output!r})"
