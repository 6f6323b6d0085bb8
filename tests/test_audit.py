"""The audit file: one fsynced line per guarded attempt, the right decision, no secrets; unwritable means refused."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from starlette.responses import JSONResponse

from tests.mcp_kit import result_json, result_text
from tests.guard_kit import (
    NY,
    answering,
    audit_file_lines,
    audit_lines,
    posts,
    serve,
    with_policy,
)
from vapi_mcp.cli import main
from vapi_mcp.config import Settings
from vapi_mcp.guard.audit import AuditLog, parse_since
from vapi_mcp.redact import scrubber
from vapi_mcp.sandbox import Fault, ManualClock, Sandbox

pytestmark = pytest.mark.usefixtures("family")

TWILIO_SECRET = "tw-auth-token-5d41402abc4b"
API_KEY = "vapi-key-7c9e6679-7425-40de-944b"


def dial_args(**extra: Any) -> dict[str, Any]:
    return {"customer": {"number": NY, "name": "Jane"}, **extra}


async def test_every_attempt_appends_its_lines_with_their_decision(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    async with serve(settings, stub_sandbox, clock) as plain:
        token = result_json(await plain.call_tool("dial", dial_args()))["confirmToken"]
        sent_id = result_json(await plain.call_tool("dial", dial_args(confirmToken=token)))["id"]
        await plain.call_tool("dial", {"customer": {"number": "+1555"}})
        stub_sandbox.inject(Fault("POST", "/call", status=500))
        token = result_json(await plain.call_tool("dial", dial_args(firstMessage="Hi")))["confirmToken"]
        failed = await plain.call_tool("dial", dial_args(firstMessage="Hi", confirmToken=token))
        assert failed.is_error
    for answer in ("decline", "cancel"):
        callback, _ = answering(answer)
        async with serve(settings, stub_sandbox, clock, elicitation_callback=callback) as eliciting:
            await eliciting.call_tool("dial", dial_args())
    callback, _ = answering("accept")
    async with serve(with_policy(settings, dry_run=True), stub_sandbox, clock, elicitation_callback=callback) as dry:
        await dry.call_tool("dial", dial_args())

    lines = audit_file_lines(settings, sandbox=True)
    assert [line["decision"] for line in lines] == [
        "previewed", "sending", "sent", "refused", "previewed", "sending", "unknown",
        "asked", "declined", "asked", "cancelled", "asked", "dry-run",  # the SDK client's default protocol: asked, then answered
    ]
    assert [line["channel"] for line in lines] == [None, "agent-relayed", "agent-relayed", None, None] + ["agent-relayed"] * 2 + [None] * 5 + ["elicitation"]
    assert audit_file_lines(settings, sandbox=False) == [], "sandbox attempts never go to the real audit file"
    sending, sent, refused, unknown = lines[1], lines[2], lines[3], lines[6]
    assert sending["attempt"] == sent["attempt"] != lines[0]["attempt"]
    assert sending["request"] == {"method": "POST", "path": "/call", "body": {"customer": {"number": NY, "name": "Jane"}}}
    assert sending["rules"]["e164"] == "passed" and sending["channel"] == "agent-relayed" and sending["ids"] == []
    assert sent["ids"] == [sent_id] and sent["tool"] == "dial" and sent["kind"] == "dial" and sent["time"] == "2026-11-02T16:00:00Z"
    assert refused["rules"]["e164"] == "refused" and "Refused by rule `e164`" in refused["error"]
    assert lines[5]["attempt"] == unknown["attempt"] and "500" in unknown["error"] and "may have reached Vapi" in unknown["error"]
    accounts = {line["account"] for line in lines}
    assert len(accounts) == 1 and len(accounts.pop()) == 16, "the account is a fingerprint, never the key"
    for line in lines:
        assert (line["target"], line["tenant"]) == ("sandbox", "local")
        assert "channel" in line and "attempt" in line
    assert posts(stub_sandbox) == 2


async def test_no_secret_reaches_the_audit_file(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    scrubber.add(API_KEY)  # as App does with the real key
    callback, _ = answering("accept")
    async with serve(settings, stub_sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool(
            "dial",
            dial_args(
                twilioAuthToken=TWILIO_SECRET,
                metadata={"apiKey": "meta-api-key-123456", "note": f"key {API_KEY}"},
                firstMessage=f"Bearer {API_KEY}",
            ),
        )
    assert not result.is_error, result_text(result)
    text = settings.sandbox_audit_path.read_text()
    for secret in (TWILIO_SECRET, API_KEY, "meta-api-key-123456"):
        assert secret not in text
    body = audit_lines(settings)[0]["request"]["body"]
    assert body["twilioAuthToken"] == "***" and body["metadata"]["apiKey"] == "***"


async def test_the_sending_line_is_on_disk_before_the_request_leaves(
    settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    """Write-ahead: when Vapi receives the POST, a fsynced line already says it may have been sent."""
    seen_at_the_backend: list[list[str]] = []
    inner = sandbox.app.app

    async def backend(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = settings.sandbox_audit_path
            seen_at_the_backend.append(path.read_text().splitlines() if path.exists() else [])
            await JSONResponse({"id": "call-1"}, status_code=201)(scope, receive, send)
        else:
            await inner(scope, receive, send)

    sandbox.app.app = backend
    callback, _ = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool("dial", dial_args())
    assert not result.is_error, result_text(result)
    [on_disk] = seen_at_the_backend
    assert [json.loads(line)["decision"] for line in on_disk] == ["asked", "sending"]  # asked: the 2026-07-28 question
    assert [line["decision"] for line in audit_file_lines(settings)] == ["asked", "sending", "sent"]


async def test_each_line_is_fsynced_before_the_next_step(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        real_fsync(fd)
        synced.append(os.fstat(fd).st_ino)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    callback, _ = answering("accept")
    async with serve(settings, stub_sandbox, clock, elicitation_callback=callback) as client:
        await client.call_tool("dial", dial_args())
        with open(settings.sandbox_audit_path, encoding="utf-8") as separate:  # what a crash right now would leave
            on_disk = separate.read().splitlines()
        assert [json.loads(line)["decision"] for line in on_disk] == ["asked", "sending", "sent"]
        inode = os.stat(settings.sandbox_audit_path).st_ino
        assert [i for i in synced if i == inode] == [inode] * 3
        await client.call_tool("dial", {"customer": {"number": "+1555"}})
    assert [i for i in synced if i == inode] == [inode] * 4 and len(audit_lines(settings)) == 3


async def test_the_audit_directory_is_created_and_the_file_is_private(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, tmp_path: Path
) -> None:
    nested = with_policy(settings, audit_log=tmp_path / "state" / "vapi-mcp" / "audit.jsonl")
    async with serve(nested, stub_sandbox, clock) as client:
        await client.call_tool("dial", dial_args())
    assert nested.sandbox_audit_path == tmp_path / "state" / "vapi-mcp" / "audit-sandbox.jsonl"
    assert len(audit_lines(nested)) == 1
    assert stat.S_IMODE(os.stat(nested.sandbox_audit_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(nested.sandbox_audit_path.parent).st_mode) == 0o700


@pytest.mark.parametrize("elicit", [True, False])
async def test_an_unwritable_audit_log_refuses_the_action(
    elicit: bool, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, tmp_path: Path
) -> None:
    (tmp_path / "not-a-dir").write_text("")
    broken = with_policy(settings, audit_log=tmp_path / "not-a-dir" / "audit.jsonl")
    callback, asked = answering("accept")
    kwargs = {"elicitation_callback": callback} if elicit else {}
    async with serve(broken, stub_sandbox, clock, **kwargs) as client:
        result = await client.call_tool("dial", dial_args())
    assert result.is_error and "Refused by rule `audit`" in result_text(result)
    assert "nothing was sent" in result_text(result).lower()
    assert posts(stub_sandbox) == 0
    assert asked == []  # a question that cannot be audited is not asked


async def test_a_full_disk_refuses_the_preview_and_hands_out_no_token(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    async with serve(settings, stub_sandbox, clock) as client:
        preview = await client.call_tool("dial", dial_args())
    assert preview.is_error and "Refused by rule `audit`" in result_text(preview)
    assert "No space left" in result_text(preview) and "confirmToken" not in result_text(preview)
    assert stub_sandbox.requests == []


# After the send: what the audit says when the outcome is not a clean answer


CALL_ID = "7d1c5e0a-0000-4000-8000-00000000abcd"


def full_disk_after_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills up between the `sending` line and the outcome line."""
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        if b'"decision":"sent"' in data:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


async def test_an_outcome_that_cannot_be_written_is_not_reported_as_plain_success(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full disk after the send: the call exists, so the result says it was sent, with its id, and not to repeat it."""
    inner = sandbox.app.app

    async def backend(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            await JSONResponse({"id": CALL_ID}, status_code=201)(scope, receive, send)
        else:
            await inner(scope, receive, send)

    sandbox.app.app = backend
    full_disk_after_sending(monkeypatch)
    callback, _ = answering("accept")
    async with serve(settings, sandbox, clock, elicitation_callback=callback, mode="legacy") as client:
        result = await client.call_tool("dial", dial_args())
    text = result_text(result)
    assert result.is_error, text
    assert "WAS SENT" in text and CALL_ID in text and "No space left" in text and "Do not repeat it" in text
    assert posts(sandbox) == 1
    [line] = audit_file_lines(settings)
    assert line["decision"] == "sending", "the line written before the request still says it may have been sent"


async def test_a_client_that_cancels_while_the_post_is_in_flight_leaves_unknown_not_failed(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    stub_sandbox.inject(Fault("POST", "/call", delay=30, then_pass=True))  # Vapi holds the request
    callback, _ = answering("accept")
    async with serve(settings, stub_sandbox, clock, elicitation_callback=callback, mode="legacy") as client:
        with pytest.raises(MCPError):  # the client gives up and tells the server (notifications/cancelled)
            await client.call_tool("dial", dial_args(), read_timeout_seconds=0.5)
        with anyio.fail_after(10):
            while len(audit_file_lines(settings)) < 2:
                await anyio.sleep(0.02)
    assert posts(stub_sandbox) == 1
    sending, outcome = audit_file_lines(settings)
    assert (sending["decision"], outcome["decision"]) == ("sending", "unknown")
    assert "cancelled while the request was in flight" in outcome["error"] and "may have reached Vapi" in outcome["error"]


@pytest.mark.parametrize(
    ("fault", "decision"),
    [
        (Fault("POST", "/call", status=400), "failed"),  # Vapi refused it: nothing was placed
        (Fault("POST", "/call", status=502), "unknown"),  # it may have been placed
        (Fault("POST", "/call", status=201, body=b"<html>ok</html>"), "unknown"),
    ],
)
async def test_only_a_definite_refusal_gives_the_dial_back_to_the_daily_cap(
    fault: Fault, decision: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    capped = with_policy(settings, daily_cap=1)
    callback, _ = answering("accept")
    async with serve(capped, stub_sandbox, clock, elicitation_callback=callback, mode="legacy") as client:
        stub_sandbox.inject(fault)
        first = await client.call_tool("dial", dial_args())
        assert first.is_error
        second = await client.call_tool("dial", dial_args())
    assert [line["decision"] for line in audit_file_lines(capped)][:2] == ["sending", decision]
    if decision == "failed":
        assert not second.is_error, result_text(second)
        assert posts(stub_sandbox) == 2
    else:
        assert second.is_error and "Refused by rule `daily_cap`" in result_text(second), "a call that may exist stays counted"
        assert posts(stub_sandbox) == 1


# The file itself: private, never through a link, refused when others can use it


async def test_a_symlink_at_the_audit_path_is_never_followed(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    settings.sandbox_audit_path.symlink_to(victim)
    callback, asked = answering("accept")
    async with serve(settings, stub_sandbox, clock, elicitation_callback=callback) as client:
        result = await client.call_tool("dial", dial_args())
    assert result.is_error and "Refused by rule `audit`" in result_text(result) and "symbolic link" in result_text(result)
    assert victim.read_text() == "precious\n"
    assert posts(stub_sandbox) == 0


async def test_a_symlinked_audit_directory_is_refused(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, tmp_path: Path
) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir()
    (tmp_path / "linked").symlink_to(real)
    linked = with_policy(settings, audit_log=tmp_path / "linked" / "audit.jsonl")
    async with serve(linked, stub_sandbox, clock, elicitation_callback=answering("accept")[0]) as client:
        result = await client.call_tool("dial", dial_args())
    assert result.is_error and "Refused by rule `audit`" in result_text(result)
    assert list(real.iterdir()) == [] and posts(stub_sandbox) == 0


async def test_an_audit_file_others_can_read_is_refused_at_run_time(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    path = settings.sandbox_audit_path
    path.write_text("")
    path.chmod(0o644)
    async with serve(settings, stub_sandbox, clock, elicitation_callback=answering("accept")[0]) as client:
        result = await client.call_tool("dial", dial_args())
    assert result.is_error and f"chmod 600 {path}" in result_text(result)
    assert path.read_text() == "" and posts(stub_sandbox) == 0


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`vapi-mcp serve --sandbox` over HTTP: a bad setting stops the start (exit 2). (A stdio server spawned by
    a client starts anyway and answers every call with the same message: tests/test_config.py.)"""
    return subprocess.run(
        [sys.executable, "-m", "vapi_mcp", "serve", "--sandbox", "--transport", "http", "--port", "0"],
        env={**os.environ, **env}, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize("which", ["audit", "sandbox"])
def test_an_audit_file_others_can_use_stops_the_start_with_the_fix(which: str, tmp_path: Path) -> None:
    real, sandboxed = tmp_path / "audit.jsonl", tmp_path / "audit-sandbox.jsonl"
    path = real if which == "audit" else sandboxed
    path.write_text("")
    path.chmod(0o666)
    started = start({"VAPI_MCP_AUDIT_LOG": str(real)})
    assert started.returncode == 2, started.stderr
    assert str(path) in started.stderr and f"chmod 600 {path}" in started.stderr and "0666" in started.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o666, "the server changes nothing itself"


def test_a_symlink_at_the_audit_path_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "audit.jsonl").symlink_to(tmp_path / "elsewhere.jsonl")
    started = start({"VAPI_MCP_AUDIT_LOG": str(tmp_path / "audit.jsonl")})
    assert started.returncode == 2 and "symbolic link" in started.stderr
    assert not (tmp_path / "elsewhere.jsonl").exists()


# `vapi-mcp audit`: the review a human reads without jq


async def test_vapi_mcp_audit_prints_one_row_per_attempt_from_both_files(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    callback, _ = answering("accept")
    async with serve(settings, stub_sandbox, clock, elicitation_callback=callback, mode="legacy") as client:
        placed = result_json(await client.call_tool("dial", dial_args()))
        clock.advance(3600)
        await client.call_tool("dial", {"customer": {"number": "+1555"}})
    AuditLog(settings.audit_log).append(  # a real dial from another session, in the real file
        {"time": "2026-11-02T16:30:00Z", "attempt": "a1", "tool": "create_call", "decision": "sending", "channel": "elicitation",
         "target": "https://api.vapi.ai", "account": "0123456789abcdef", "tenant": "local", "ids": [], "error": None}
    )
    monkeypatch.setenv("VAPI_MCP_AUDIT_LOG", str(settings.audit_log))

    assert main(["audit"]) == 0
    out, err = capsys.readouterr()
    assert f"{settings.audit_log} (real)" in err and f"{settings.sandbox_audit_path} (sandbox)" in err
    header, *rows = out.splitlines()
    assert header.split() == ["TIME", "TOOL", "WHO", "TARGET", "DECISION", "RULE", "CHANNEL", "IDS"]
    assert len(rows) == 3
    assert rows[0].split()[:2] == ["2026-11-02", "16:00:00"] and "dial" in rows[0] and "sent" in rows[0]
    assert "elicitation" in rows[0] and placed["id"] in rows[0] and "sandbox" in rows[0] and "local @" in rows[0]
    assert "may-have-been-sent" in rows[1] and "api.vapi.ai" in rows[1] and "local @01234567" in rows[1]
    assert "refused" in rows[2] and "17:00:00" in rows[2] and re.search(r"refused\s+e164\s", rows[2])  # the rule that refused it

    assert main(["audit", "--since", "2026-11-02T16:15Z", "--json"]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["decision"], e["target"]) for e in entries] == [("may-have-been-sent", "https://api.vapi.ai"), ("refused", "sandbox")]
    assert entries[1]["rules"]["e164"] == "refused" and entries[1]["decisions"] == ["refused"]

    assert main(["audit", "--only", "sandbox", "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["audit", "--since", "2h"]) == 0  # the hand-driven clock's lines are a month old
    assert capsys.readouterr().out == ""


def test_vapi_mcp_audit_refuses_a_since_it_cannot_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--since", "yesterday"]) == 2
    assert "--since must be" in capsys.readouterr().err


def test_since_accepts_spans_and_times() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
    assert parse_since("2h", now) == datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
    assert parse_since("1d", now) == datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_since("30m", now) == datetime(2026, 12, 2, 11, 30, tzinfo=timezone.utc)
    assert parse_since("2026-12-01", now) == datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert parse_since("2026-12-01T09:00+01:00", now) == datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


async def test_a_client_that_cancels_while_the_human_is_asked_leaves_a_line_and_sends_nothing(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    async def never_answers(context: Any, params: Any) -> Any:
        await anyio.sleep_forever()

    async with serve(settings, stub_sandbox, clock, elicitation_callback=never_answers, mode="legacy") as client:
        with pytest.raises(MCPError):  # the client gives up and tells the server (notifications/cancelled)
            await client.call_tool("dial", dial_args(), read_timeout_seconds=0.5)
        with anyio.fail_after(10):
            while not audit_file_lines(settings):
                await anyio.sleep(0.02)
    [line] = audit_file_lines(settings)
    assert line["decision"] == "cancelled" and "before anything was sent" in line["error"]
    assert posts(stub_sandbox) == 0
