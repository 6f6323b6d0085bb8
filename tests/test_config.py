"""Settings from the environment and flags, and the client configs shipped with the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from vapi_mcp.cli import main, parser, settings_from
from vapi_mcp.config import DEFAULT_BASE_URL, SANDBOX_BASE_URL, Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({}, None),
        ({"VAPI_API_KEY": "k-123456"}, "k-123456"),
        ({"VAPI_TOKEN": "t-123456"}, "t-123456"),
        ({"VAPI_API_KEY": "k-123456", "VAPI_TOKEN": "t-123456"}, "k-123456"),
        ({"VAPI_API_KEY": "  "}, None),
        ({"VAPI_API_KEY": "${VAPI_API_KEY}"}, None),  # a client that did not expand the placeholder
        ({"VAPI_API_KEY": "${env:VAPI_API_KEY}", "VAPI_TOKEN": "t-123456"}, "t-123456"),
    ],
)
def test_api_key_from_the_environment(env: dict[str, str], key: str | None) -> None:
    settings = Settings.load(env)
    assert settings.api_key == key
    assert settings.sandbox is (key is None)


def test_no_key_means_the_sandbox() -> None:
    settings = Settings.load({})
    assert settings.sandbox and settings.effective_base_url == SANDBOX_BASE_URL


def test_a_key_means_vapi_unless_sandbox_is_forced() -> None:
    real = Settings.load({"VAPI_API_KEY": "k-123456"})
    assert not real.sandbox and real.effective_base_url == DEFAULT_BASE_URL
    forced = Settings.load({"VAPI_API_KEY": "k-123456", "VAPI_MCP_SANDBOX": "1"})
    assert forced.sandbox and forced.effective_base_url == SANDBOX_BASE_URL


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "VAPI_API_KEY": "k-123456",
        "VAPI_BASE_URL": "https://env.example",
        "VAPI_MCP_BATCH_CAP": "7",
        "VAPI_MCP_LOG_LEVEL": "error",
    }.items():
        monkeypatch.setenv(name, value)
    ns = parser().parse_args(["serve", "--sandbox", "--read-only", "--base-url", "https://flag.example", "--batch-cap", "3", "--log-level", "debug"])
    settings = settings_from(ns)
    assert settings.sandbox and settings.read_only
    assert settings.base_url == "https://flag.example"
    assert settings.policy.batch_cap == 3
    assert settings.log_level == "DEBUG"
    assert settings_from(parser().parse_args(["serve"])).policy.batch_cap == 7


def test_policy_lists_from_the_environment() -> None:
    settings = Settings.load({"VAPI_MCP_ALLOW_NUMBERS": "+14155550100; +14155550101", "VAPI_MCP_NO_QUIET_HOURS": "true"})
    assert settings.policy.allow_numbers == ("+14155550100", "+14155550101")
    assert settings.policy.quiet_hours is False


# client configs


def load(name: str) -> dict:
    return json.loads((ROOT / name).read_text())["mcpServers"]["vapi"]


@pytest.mark.parametrize("name", [".mcp.json", "examples/claude_desktop_config.json", "examples/cursor_mcp.json"])
def test_client_configs_run_this_server_over_stdio_without_downloads(name: str) -> None:
    server = load(name)
    assert server["command"].endswith(".venv/bin/python")
    assert server["args"] == ["-m", "vapi_mcp", "serve"]
    assert "uvx" not in json.dumps(server) and "npx" not in json.dumps(server)


def test_claude_codes_mcp_json_passes_the_users_environment_through() -> None:
    # Claude Code gives a stdio server its own environment; an unset "${VAPI_API_KEY}" would arrive literally.
    assert "env" not in load(".mcp.json")


def test_mcp_json_connects_from_the_repository_root(tmp_path: Path) -> None:
    """What Claude Code does at start: spawn the command from the project root, then list tools."""
    server = load(".mcp.json")
    if not (ROOT / server["command"]).exists():
        pytest.skip(f"no {server['command']} here (.ci/run and the README's install create it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    env["VAPI_MCP_AUDIT_LOG"] = str(tmp_path / "audit.jsonl")
    params = StdioServerParameters(command=server["command"], args=server["args"], env=env, cwd=ROOT)

    async def tools() -> set[str]:
        async with Client(params, mode="legacy") as client:
            assert "SANDBOX MODE" in (client.session.instructions or "")
            return {t.name for t in (await client.list_tools()).tools}

    assert "list_calls" in anyio.run(tools)


def test_tests_keep_the_users_cache_and_state_untouched(tmp_path: Path) -> None:
    """The server a test starts (here as Claude Code starts it, with the test's environment) writes its
    start-up cache and state under the test's temporary folders, never under the user's home."""
    for name in ("XDG_CACHE_HOME", "XDG_STATE_HOME"):
        assert Path(os.environ.get(name, "~")).resolve().is_relative_to(Path(tempfile.gettempdir()).resolve()), name
    server = load(".mcp.json")
    command = ROOT / server["command"] if (ROOT / server["command"]).exists() else Path(sys.executable)
    opening = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    done = subprocess.run(
        [str(command), *server["args"]], input="".join(json.dumps(m) + "\n" for m in opening).encode(), capture_output=True, env=env, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 2, done.stderr.decode()[-2000:]
    assert list((Path(os.environ["XDG_CACHE_HOME"]) / "vapi-mcp").glob("stdio-*/*.json")), "the start-up cache went elsewhere"


@pytest.mark.parametrize(
    ("env", "flags", "message"),
    [
        ({"VAPI_MCP_BATCH_CAP": "fifty"}, [], "VAPI_MCP_BATCH_CAP must be a whole number, got 'fifty'"),
        ({"VAPI_MCP_TIMEOUT": "soon"}, [], "VAPI_MCP_TIMEOUT must be a number"),
        ({}, ["--quiet-start", "25"], "--quiet-start / VAPI_MCP_QUIET_START must be between 0 and 23, got 25"),
        ({"VAPI_MCP_BATCH_CAP": "0"}, [], "must be between 1 and 10000, got 0"),
    ],
)
def test_a_bad_setting_stops_the_server_with_a_message_naming_it(monkeypatch, capsys, env, flags, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["policy", *flags]) == 2
    assert message in capsys.readouterr().err
