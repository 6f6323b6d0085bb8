"""The `vapi-mcp` command: the demo, the standalone sandbox, and the flags' safety checks."""

from __future__ import annotations

import time

import httpx2 as httpx
import pytest
from mcp import Client

from vapi_mcp import __version__
from vapi_mcp.cli import main, parser
from vapi_mcp.demo import Session, script

DEMO_TOOLS = ("create_assistant", "buy_number", "assign_assistant", "import_number", "create_call", "wait_for_call", "get_call", "chat_with_assistant")
DEMO_STEPS = 9
"""Each tool once, create_call twice (the refusal quiet hours give, then a call in the callee's daytime)."""


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"vapi-mcp {__version__}"


def test_flags_without_a_subcommand_mean_serve(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("VAPI_MCP_AUTH_TOKEN", raising=False)
    assert main(["--transport", "http", "--host", "0.0.0.0"]) == 2  # serve's own refusal
    assert "refusing to serve on 0.0.0.0" in capsys.readouterr().err
    assert parser().parse_args(["serve"]).host == "127.0.0.1"


def test_a_command_line_builds_only_its_subcommand_and_parses_as_the_whole_parser_does(capsys: pytest.CaptureFixture[str]) -> None:
    """`main` builds only the named subcommand's flags (a client spawns `serve` every session); the others are
    still listed with their help, and what one parses is what the whole parser parses."""
    from vapi_mcp.cli import COMMANDS

    argv = ["serve", "--transport", "http", "--read-only", "--batch-cap", "3"]
    assert vars(parser("serve").parse_args(argv)) == vars(parser().parse_args(argv))
    with pytest.raises(SystemExit):
        parser("serve").parse_args(["--help"])
    listed = capsys.readouterr().out
    assert all(name in listed for name in COMMANDS)
    assert main(["policy", "--no-such-flag"]) == 2
    assert "--no-such-flag" in capsys.readouterr().err


def test_demo_runs_the_whole_flow_and_exits_0(capfd: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    assert main(["demo"]) == 0
    assert time.monotonic() - started < 20
    out = capfd.readouterr().out
    for tool in DEMO_TOOLS:
        assert f"> {tool}" in out
    assert "Connected over stdio" in out
    assert "0 errors" in out and "(skipped" not in out
    assert "refused, as it should be: Refused by rule `quiet_hours`" in out and "VAPI_MCP_NO_QUIET_HOURS" in out
    assert "= AI: Hi Jordan, this is Riley from Bright Smile Dental." in out, "the call talks from the demo's assistant, its template rendered"
    assert "= AI: I'm calling to remind you that your six-month cleaning is due." in out
    assert out.count("(sandbox: Sandbox conversation: the assistant's replies are drawn from its own prompt") == 1


async def test_demo_goes_on_when_a_tool_is_missing(client: Client) -> None:
    import io

    out = io.StringIO()
    session = Session(client, {"list_calls"}, out)
    await script(session)
    text = out.getvalue()
    assert text.count("(not available yet)") == DEMO_STEPS
    assert session.errors == 0


@pytest.mark.parametrize("hour", [0, 3, 6, 9, 12, 15, 18, 21])
async def test_the_demo_shows_a_quiet_hours_refusal_and_places_a_call_at_any_hour(hour: int, tmp_path) -> None:
    """Issue 16, point 5: quiet hours apply on the sandbox, and the demo runs 0 errors at any hour of the day:
    one callee is in its night (refused, naming the setting only the user can change), one in its day (placed)."""
    import io
    from datetime import UTC, datetime

    from tests.guard_kit import answering, serve
    from vapi_mcp.config import Settings
    from vapi_mcp.sandbox import Clock, ManualClock, Sandbox

    when = datetime(2026, 7 if hour % 2 else 12, 7, hour, 10, tzinfo=UTC)  # summer and winter time zones both
    settings = Settings.load({}, audit_log=str(tmp_path / "audit.jsonl"), state_url=f"sqlite://{tmp_path / 'state.sqlite3'}")
    assert settings.policy.quiet_hours
    out = io.StringIO()
    yes, asked = answering("accept")
    async with serve(settings, Sandbox(clock=Clock(speed=50)), ManualClock(when), elicitation_callback=yes) as client:  # the guard's clock is fixed
        session = Session(client, {tool.name for tool in (await client.list_tools()).tools}, out)
        await script(session, when)
    text = out.getvalue()
    assert session.errors == 0 and "(skipped" not in text, text
    assert text.count("refused, as it should be: Refused by rule `quiet_hours`") == 1 and "VAPI_MCP_NO_QUIET_HOURS" in text
    assert len(asked) == 3 and asked[-1].startswith("SANDBOX (no real phone rings, nothing is billed): Call ")  # buy, import, the call
    assert "= ended, customer-ended-call" in text and "AI: " in text, text


def test_sandbox_refuses_to_serve_off_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--host", "0.0.0.0"]) == 2
    assert "loopback only" in capsys.readouterr().err


def test_sandbox_subcommand_serves_the_vapi_api(vapi_backend: str) -> None:
    """`vapi-mcp sandbox --port N --seed demo` (the ledger kit's `vapi_backend` process) answers like api.vapi.ai."""
    response = httpx.get(f"{vapi_backend}/call", headers={"Authorization": "Bearer any-key"})
    assert response.status_code == 200 and isinstance(response.json(), list) and response.json()
    assert httpx.get(f"{vapi_backend}/call").status_code == 401


async def test_a_served_sandbox_redirects_call_logs_to_its_storage_host_which_never_sees_the_key(vapi_backend: str) -> None:
    """On loopback the storage host is the other loopback name on the same port: a client that follows the
    redirect with its key (as Vapi's SDKs do) drops it there, and vapi-mcp's own download never sends it."""
    from vapi_mcp.client import VapiClient

    headers = {"Authorization": "Bearer any-key"}
    ended = next(c for c in httpx.get(f"{vapi_backend}/call", headers=headers).json() if c["status"] == "ended")
    redirect = httpx.get(f"{vapi_backend}/call/{ended['id']}/call-logs", headers=headers)
    assert redirect.status_code == 302 and redirect.headers["location"].startswith(vapi_backend.replace("127.0.0.1", "localhost") + "/presigned/")
    followed = httpx.get(f"{vapi_backend}/call/{ended['id']}/call-logs", headers=headers, follow_redirects=True)
    assert followed.status_code == 200 and "Call ended" in followed.text
    client = VapiClient(base_url=vapi_backend, api_key="any-key")
    try:
        assert "Call ended" in await client.download(f"/call/{ended['id']}/call-logs")
    finally:
        await client.aclose()
