"""The audit file: one fsynced line per guarded attempt, the right decision, no secrets; unwritable means refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import result_json, result_text
from tests.guard_kit import (
    NY,
    answering,
    audit_lines,
    posts,
    serve,
    with_policy,
)
from vapi_mcp.config import Settings
from vapi_mcp.redact import scrubber
from vapi_mcp.sandbox import Fault, ManualClock, Sandbox

pytestmark = pytest.mark.usefixtures("family")

TWILIO_SECRET = "tw-auth-token-5d41402abc4b"
API_KEY = "vapi-key-7c9e6679-7425-40de-944b"


def dial_args(**extra: Any) -> dict[str, Any]:
    return {"customer": {"number": NY, "name": "Jane"}, **extra}


async def test_every_attempt_appends_one_line_with_its_decision(
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

    lines = audit_lines(settings)
    assert [line["decision"] for line in lines] == [
        "previewed", "sent", "refused", "previewed", "failed",
        "asked", "declined", "asked", "cancelled", "asked", "dry-run",  # the SDK client's default protocol: asked, then answered
    ]
    assert [line["channel"] for line in lines] == [None, "agent-relayed", None, None, "agent-relayed"] + [None] * 5 + ["elicitation"]
    sent, refused, failed_line = lines[1], lines[2], lines[4]
    assert sent["ids"] == [sent_id] and sent["tool"] == "dial" and sent["kind"] == "dial"
    assert sent["request"] == {"method": "POST", "path": "/call", "body": {"customer": {"number": NY, "name": "Jane"}}}
    assert sent["rules"]["e164"] == "passed" and sent["time"] == "2026-11-02T16:00:00Z"
    assert refused["rules"]["e164"] == "refused" and "Refused by rule `e164`" in refused["error"]
    assert "500" in failed_line["error"] or "Vapi" in failed_line["error"]
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
    text = Path(settings.audit_log).read_text()
    for secret in (TWILIO_SECRET, API_KEY, "meta-api-key-123456"):
        assert secret not in text
    body = audit_lines(settings)[0]["request"]["body"]
    assert body["twilioAuthToken"] == "***" and body["metadata"]["apiKey"] == "***"


async def test_the_line_is_fsynced_and_on_disk_before_the_tool_returns(
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
        with open(settings.audit_log, encoding="utf-8") as separate:  # what a crash right now would leave
            on_disk = separate.read().splitlines()
        assert len(on_disk) == 2 and '"decision":"asked"' in on_disk[0] and '"decision":"sent"' in on_disk[1]
        assert synced == [os.stat(settings.audit_log).st_ino] * 2
        await client.call_tool("dial", {"customer": {"number": "+1555"}})
    assert len(synced) == 3 and len(audit_lines(settings)) == 3


async def test_the_audit_directory_is_created_and_the_file_is_private(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock, tmp_path: Path
) -> None:
    nested = with_policy(settings, audit_log=tmp_path / "state" / "vapi-mcp" / "audit.jsonl")
    async with serve(nested, stub_sandbox, clock) as client:
        await client.call_tool("dial", dial_args())
    assert len(audit_lines(nested)) == 1
    assert stat.S_IMODE(os.stat(nested.audit_log).st_mode) == 0o600


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
