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
    if name == ".mcp.json":  # from whatever directory Claude Code starts in: the checkout root's venv (tests/test_claude_code.py)
        assert server["command"] == "sh" and server["args"][0] == "-c"
        assert server["args"][1].endswith('cd "$d" && exec .venv/bin/python -m vapi_mcp serve')
    else:
        assert server["command"].endswith(".venv/bin/python")
        assert server["args"] == ["-m", "vapi_mcp", "serve"]
    assert "uvx" not in json.dumps(server) and "npx" not in json.dumps(server)


def test_claude_codes_mcp_json_passes_the_users_environment_through() -> None:
    # Claude Code gives a stdio server its own environment; an unset "${VAPI_API_KEY}" would arrive literally.
    assert "env" not in load(".mcp.json")


@pytest.mark.parametrize("where", [".", "tests", "vapi_mcp"])
def test_mcp_json_connects_from_the_repository_and_its_subdirectories(tmp_path: Path, where: str) -> None:
    """What Claude Code does at start: spawn the command from where it was started, then list tools."""
    server = load(".mcp.json")
    if not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("no .venv/bin/python here (.ci/run and the README's install create it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    env["VAPI_MCP_AUDIT_LOG"] = str(tmp_path / "audit.jsonl")
    params = StdioServerParameters(command=server["command"], args=server["args"], env=env, cwd=ROOT / where)

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
    venv = ROOT / ".venv" / "bin" / "python"
    command = [server["command"], *server["args"]] if venv.exists() else [sys.executable, "-m", "vapi_mcp", "serve"]
    opening = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    done = subprocess.run(
        command, input="".join(json.dumps(m) + "\n" for m in opening).encode(), capture_output=True, env=env, cwd=ROOT, timeout=120
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
        ({"VAPI_MCP_SANDBOX": "y"}, [], "VAPI_MCP_SANDBOX must be one of 1/0, true/false, yes/no, on/off; got 'y'"),
        ({"VAPI_MCP_READ_ONLY": "maybe"}, [], "VAPI_MCP_READ_ONLY must be one of 1/0, true/false, yes/no, on/off; got 'maybe'"),
        ({"VAPI_MCP_DRY_RUN": "enabled"}, [], "VAPI_MCP_DRY_RUN must be one of"),
        ({"VAPI_MCP_NO_QUIET_HOURS": "2"}, [], "VAPI_MCP_NO_QUIET_HOURS must be one of"),
        ({"VAPI_MCP_AUTO_APPROVE_ALLOWLISTED": "yes please"}, [], "VAPI_MCP_AUTO_APPROVE_ALLOWLISTED must be one of"),
        ({"VAPI_MCP_FAST_START": "nope"}, [], "VAPI_MCP_FAST_START must be one of"),
        ({"VAPI_MCP_LOG_LEVEL": "verbose"}, [], "--log-level / VAPI_MCP_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ({"VAPI_MCP_MAX_SESSIONS": "0"}, [], "--max-sessions / VAPI_MCP_MAX_SESSIONS must be between 1 and 100000, got 0"),
    ],
)
def test_a_bad_setting_stops_the_server_with_a_message_naming_it(monkeypatch, capsys, env, flags, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["policy", *flags]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value", "named"),
    [
        ("--deny-numbers", "4155550123", "'4155550123'"),
        ("--allow-numbers", "+14155550123,+1 555", "'+1 555'"),
        ("--deny-countries", "GBR", "'GBR'"),
        ("--allow-countries", "UK", "GB"),
        ("--deny-countries", "999", "'999' is not a country calling code"),
    ],
)
def test_a_malformed_policy_entry_stops_the_start_naming_it(flag: str, value: str, named: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", flag, value]) == 2
    err = capsys.readouterr().err
    assert flag in err and named in err, err


def test_a_malformed_entry_in_the_environment_is_named_too(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VAPI_MCP_DENY_COUNTRIES", "44,UK")
    assert main(["policy"]) == 2
    assert "VAPI_MCP_DENY_COUNTRIES" in capsys.readouterr().err


def test_serve_with_a_malformed_entry_exits_2_before_serving(tmp_path: Path) -> None:
    """Over HTTP (and from a terminal) a bad entry stops the start; a client-spawned stdio server serves it as an error instead."""
    import subprocess
    import sys

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path), "VAPI_MCP_DENY_NUMBERS": "4155550123"}
    env.pop("VAPI_API_KEY", None)
    argv = [sys.executable, "-m", "vapi_mcp", "serve", "--transport", "http", "--port", "0"]
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "VAPI_MCP_DENY_NUMBERS" in done.stderr and "'4155550123'" in done.stderr and "Traceback" not in done.stderr


def test_policy_prints_the_normalized_values_in_force(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "--deny-numbers", "+1 (415) 555-0123,tel:+44-20-7946-0958", "--allow-countries", "44,us", "--allow-numbers", "＋１４１５５５５０１２３"]) == 0
    out = capsys.readouterr().out
    assert "deny numbers:        +14155550123, +442079460958" in out
    assert "allow numbers:       +14155550123" in out
    assert "allow countries:     +44 GB/GG/IM/JE, +1 US" in out


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1", True), (" TRUE ", True), ("Yes", True), ("on", True), ("0", False), ("false", False), ("NO", False), ("Off ", False), ("", False)],
)
def test_every_boolean_spelling_means_what_it_says(raw: str, value: bool) -> None:
    settings = Settings.load({"VAPI_MCP_SANDBOX": raw, "VAPI_MCP_READ_ONLY": raw, "VAPI_MCP_NO_QUIET_HOURS": raw, "VAPI_API_KEY": "k-123456"})
    assert settings.force_sandbox is value and settings.read_only is value and settings.policy.quiet_hours is not value


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["serve", "--transport", "http", "--port", "0", "--log-level", "verbose"], "--log-level / VAPI_MCP_LOG_LEVEL must be one of"),
        (["serve", "--transport", "http", "--port", "99999"], "argument --port: must be a port number from 0 to 65535, got '99999'"),
        (["serve", "--transport", "sse", "--port", "-1"], "argument --port: must be a port number from 0 to 65535"),
        (["serve", "--transport", "http", "--port", "0", "--max-connections", "many"], "argument --max-connections: invalid int value: 'many'"),
        (["sandbox", "--port", "99999"], "argument --port: must be a port number"),
        (["sandbox", "--port", "0", "--log-level", "verbose"], "--log-level must be one of"),
    ],
)
def test_a_bad_flag_value_is_a_clear_error_and_exit_2(argv, named, capsys, never_serves) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert named in err
    assert "Traceback" not in err


def test_over_stdio_from_a_terminal_a_bad_setting_still_exits_2(monkeypatch, capsys, never_serves) -> None:
    """A person who typed the command gets the error at once; only a spawning client gets the served error."""
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setenv("VAPI_MCP_READ_ONLY", "maybe")
    assert main(["serve"]) == 2
    assert "VAPI_MCP_READ_ONLY must be one of" in capsys.readouterr().err
    monkeypatch.delenv("VAPI_MCP_READ_ONLY")
    assert main(["serve", "--port", "99999"]) == 2
    assert "--port" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("env", "flags", "named"),
    [
        ({"VAPI_MCP_READ_ONLY": "maybe"}, [], "VAPI_MCP_READ_ONLY"),
        ({"VAPI_MCP_BATCH_CAP": "fifty"}, [], "VAPI_MCP_BATCH_CAP"),
        ({}, ["--quiet-start", "25"], "--quiet-start"),
        ({}, ["--log-level", "verbose"], "--log-level"),
        ({}, ["--daily-cap", "lots"], "--daily-cap"),
        ({"VAPI_MCP_TOOLSETS": "calls,phones"}, [], "VAPI_MCP_TOOLSETS"),
        ({}, ["--tools", "list_calls,dial_everyone"], "--tools"),
        ({"VAPI_MCP_DENY_NUMBERS": "4155550123"}, [], "VAPI_MCP_DENY_NUMBERS"),
        ({"VAPI_MCP_CONSENT": "maybe"}, [], "VAPI_MCP_CONSENT"),
        ({"VAPI_MCP_STATE_URL": "ftp://nowhere"}, [], "VAPI_MCP_STATE_URL"),
    ],
)
async def test_over_stdio_a_bad_setting_reaches_the_agent_and_nothing_runs(tmp_path: Path, env, flags, named) -> None:
    """What Claude Code would otherwise show as "Failed to connect": the server starts, its instructions
    and every tool result name the setting, and nothing runs (a misconfigured guard never fails open)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    clean.update(VAPI_MCP_AUDIT_LOG=str(tmp_path / "audit.jsonl"), XDG_CACHE_HOME=str(tmp_path / "cache"), **env)
    params = StdioServerParameters(command=sys.executable, args=["-m", "vapi_mcp", "serve", *flags], env=clean)
    dial = {"phoneNumberId": "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b", "assistantId": "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5c", "customer": {"number": "+14155550123"}}
    async with Client(params, mode="legacy") as client:
        instructions = client.session.instructions or ""
        assert "NOT CONFIGURED" in instructions and named in instructions
        assert {"list_calls", "create_call", "buy_number"} <= {t.name for t in (await client.list_tools()).tools}
        for name, arguments in (("list_calls", {}), ("create_call", dial), ("buy_number", {"numberDesiredAreaCode": "415"})):
            result = await client.call_tool(name, arguments)
            assert result.is_error, name
            assert named in result.content[0].text and "restart" in result.content[0].text
    assert not (tmp_path / "audit.jsonl").exists()  # no guarded action was even attempted


# Each setting is declared once (config.setting): its flags, on every command, come from the declaration.


def sample(setting) -> tuple[list[str], object]:
    """A flag's command-line words for a value other than the default, and the value the setting then holds."""
    if setting.kind == "bool":
        return [setting.flag], not setting.default
    text = {
        "log_level": ("debug", "DEBUG"),
        "consent": ("human", "human"),
        "toolsets": ("tools,testing", ("tools", "testing")),
        "tools": ("list_calls", ("list_calls",)),
        "allow_numbers": ("+14155550100", ("+14155550100",)),
        "deny_numbers": ("+14155550101", ("+14155550101",)),
        "allow_countries": ("44", ("44",)),
        "deny_countries": ("GB", ("GB",)),
        "state_url": ("sqlite:///tmp/vapi-mcp-flag-test.sqlite3", "sqlite:///tmp/vapi-mcp-flag-test.sqlite3"),
        "base_url": ("https://flag.example", "https://flag.example"),
        "audit_log": ("/tmp/flag-audit.jsonl", Path("/tmp/flag-audit.jsonl")),
        "sandbox_audit_log": ("/tmp/flag-sandbox.jsonl", Path("/tmp/flag-sandbox.jsonl")),
        "auth_token": ("a-bearer-token-of-some-length", "a-bearer-token-of-some-length"),
        "allowed_hosts": ("mcp.example.com,api.example.com:8443", ("mcp.example.com", "api.example.com:8443")),
        "workers": ("3", 3),
        "auth": ("oauth", "oauth"),
        "oauth_issuer": ("https://login.example.com", "https://login.example.com"),
        "oauth_audience": ("https://mcp.example.com/mcp", "https://mcp.example.com/mcp"),
        "public_url": ("https://mcp.example.com/mcp", "https://mcp.example.com/mcp"),
        "sandbox_world": ("/tmp/flag-world.sqlite3", "/tmp/flag-world.sqlite3"),
        "allowed_origins": ("https://App.example.com:443,http://127.0.0.1:5173", ("https://app.example.com", "http://127.0.0.1:5173")),
    }.get(setting.name)
    if text is None:  # a number within its range
        value = int(setting.low) + 1 if setting.kind == "int" else float(setting.low) + 0.5
        text = (str(value), value)
    return [setting.flag, text[0]], text[1]


def held(settings: Settings, setting) -> object:
    return getattr(getattr(settings, setting.section) if setting.section else settings, setting.name)


COMMANDS = ("serve", "policy", "audit", "tools")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_setting_flag_of_every_command_reaches_the_settings(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before issue 21, settings_from forwarded a hand list through getattr(ns, name, None): a flag a command
    lacked, or one left off the list, was silently None. Now a command's setting flags are the declarations."""
    from vapi_mcp.config import Serving, declared

    for key in [k for k in os.environ if k.startswith("VAPI")]:
        monkeypatch.delenv(key)
    subcommand = parser()._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    flags = {option for action in subcommand._actions for option in action.option_strings}
    checked = 0
    for cls, load in ((Settings, settings_from), (Serving, lambda ns: Serving.load(flags=vars(ns)))):
        for setting in declared(cls):
            if setting.flag not in flags:
                continue
            words, value = sample(setting)
            assert held(load(parser().parse_args([command, *words])), setting) == value, setting.flag
            checked += 1
    assert checked == {"serve": 40, "policy": 33, "audit": 2, "tools": 3}[command]


def test_policy_takes_every_setting_it_prints(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Found behind getattr(ns, name, None): `vapi-mcp policy` prints the target (--base-url), the mode (--read-only)
    and the sandbox audit file (--sandbox-audit-log), but took none of those flags (exit 2, unrecognized
    arguments), so it could not show the policy of the server a command line would start."""
    monkeypatch.setenv("VAPI_API_KEY", "k-123456")
    sandbox_audit = tmp_path / "sandbox-attempts.jsonl"
    argv = ["policy", "--read-only", "--base-url", "https://eu.vapi.example", "--sandbox-audit-log", str(sandbox_audit)]
    assert main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "target:              https://eu.vapi.example" in out
    assert "mode:                confirmed actions are sent, read-only" in out
    assert f"(sandbox attempts: {sandbox_audit})" in out
