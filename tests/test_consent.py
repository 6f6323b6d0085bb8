"""Consent: only a human's explicit yes confirms; every answer is bounded in time; every audit line names its channel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp_types import ElicitResult, InputRequiredResult

from tests.mcp_kit import result_json, result_text
from tests.guard_kit import LA, NY, audit_lines, posts, serve, with_policy
from vapi_mcp.cli import main
from vapi_mcp.config import Settings
from vapi_mcp.sandbox import ManualClock, Sandbox

pytestmark = pytest.mark.usefixtures("family")

MODES = pytest.mark.parametrize("mode", ["legacy", "auto"])
"""`legacy`: elicitation mid-call (2025-11-25); `auto`: InputRequiredResult and a retry (2026-07-28)."""


def dial_args(**extra: Any) -> dict[str, Any]:
    return {"customer": {"number": NY, "name": "Jane"}, **extra}


def answering_with(content: Any, action: str = "accept") -> tuple[Any, list[str]]:
    """An elicitation callback that answers `action` with exactly `content`, and the questions it was asked."""
    asked: list[str] = []

    async def callback(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult.model_construct(action=action, content=content)  # unvalidated: what a sloppy client sends

    return callback, asked


def decisions(settings: Settings) -> list[str]:
    return [line["decision"] for line in audit_lines(settings)]


# 1. only the JSON boolean true confirms, in both protocol modes


NOT_TRUE = ["false", "no", "0", "off", "true", "yes", 1, 0, 1.0, None, ["yes"], ["true"]]


@MODES
@pytest.mark.parametrize("confirm", NOT_TRUE, ids=json.dumps)
async def test_only_the_boolean_true_confirms(
    mode: str, confirm: Any, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    await _declined(mode, {"confirm": confirm}, settings, stub_sandbox, clock)


@pytest.mark.parametrize("confirm", [[True], {"value": True}, [1]], ids=json.dumps)
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the client serializes what it was made to send
async def test_an_answer_the_schema_cannot_hold_is_declined_under_the_new_protocol(
    confirm: Any, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    """The SDK would refuse such a retry as invalid parameters, before the guard could audit it."""
    await _declined("auto", {"confirm": confirm}, settings, stub_sandbox, clock)


async def _declined(mode: str, content: Any, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    callback, asked = answering_with(content)
    async with serve(settings, stub_sandbox, clock, elicitation_callback=callback, mode=mode) as client:
        result = await client.call_tool("dial", dial_args())
    assert posts(stub_sandbox) == 0, "the call was placed"
    assert len(asked) == 1 and not result.is_error, result_text(result)
    view = result_json(result)
    assert view["decision"] == "declined" and "confirmToken" not in view, view
    assert decisions(settings) == (["asked"] if mode == "auto" else []) + ["declined"]
    assert [line["channel"] for line in audit_lines(settings)] == [None] * len(audit_lines(settings))


@MODES
async def test_the_boolean_true_confirms_once(mode: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    callback, _ = answering_with({"confirm": True})
    async with serve(settings, stub_sandbox, clock, elicitation_callback=callback, mode=mode) as client:
        result = await client.call_tool("dial", dial_args())
    assert not result.is_error, result_text(result)
    assert posts(stub_sandbox) == 1
    assert audit_lines(settings)[-1]["channel"] == "elicitation"


# 2. a malformed answer (older protocol) is a refusal, never a fallback to a token


@pytest.mark.parametrize(
    ("action", "content"),
    [("accept", None), ("accept", {"confirm": "nope"}), ("accept", {"other": 1}), ("accept", {})],
    ids=["accept-without-content", "confirm-nope", "other-field", "empty"],
)
async def test_a_malformed_legacy_answer_is_a_refusal_never_a_token(
    action: str, content: Any, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    callback, asked = answering_with(content, action)
    async with serve(settings, stub_sandbox, clock, elicitation_callback=callback, mode="legacy") as client:
        result = await client.call_tool("dial", dial_args())
    assert len(asked) == 1 and not result.is_error, result_text(result)
    view = result_json(result)
    assert view["decision"] == "declined" and "confirmToken" not in result_text(result), view
    assert posts(stub_sandbox) == 0
    [line] = audit_lines(settings)
    assert (line["decision"], line["channel"]) == ("declined", None)


async def test_a_client_that_cannot_ask_gets_the_agent_relayed_preview_only_under_consent_any(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    """The client declared elicitation but answered the request with an error: nobody was asked, so no yes or no.

    Under `any` the agent may still relay the user's answer with a confirm token; under `human` the action is refused."""

    async def broken(context: Any, params: Any) -> Any:
        raise RuntimeError("no UI")

    async with serve(settings, stub_sandbox, clock, elicitation_callback=broken, mode="legacy") as client:
        preview = result_json(await client.call_tool("dial", dial_args()))
    assert preview["confirmToken"] and preview["channel"] == "agent-relayed"
    assert "relayed by you, the agent" in preview["message"]

    human = with_policy(settings, consent="human")
    async with serve(human, stub_sandbox, clock, elicitation_callback=broken, mode="legacy") as client:
        refused = await client.call_tool("dial", dial_args())
    assert refused.is_error and "confirmToken" not in result_text(refused)
    assert "could not put the question" in result_text(refused)
    assert posts(stub_sandbox) == 0
    assert [(line["decision"], line["channel"]) for line in audit_lines(settings)] == [("previewed", None), ("refused", None)]


# 3. an unanswered question is refused after the wait, and audited


async def test_an_elicitation_never_answered_is_refused_after_the_wait(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    asked: list[str] = []

    async def never(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    patient = with_policy(settings, confirm_wait=1)
    with anyio.fail_after(30):  # the bound is the server's; this only keeps a regression from hanging the suite
        async with serve(patient, stub_sandbox, clock, elicitation_callback=never, mode="legacy") as client:
            result = await client.call_tool("dial", dial_args())
    assert len(asked) == 1 and not result.is_error, result_text(result)
    view = result_json(result)
    assert view["decision"] == "timed-out" and "within 1 s" in view["message"] and "confirmToken" not in view
    assert posts(stub_sandbox) == 0
    [line] = audit_lines(patient)
    assert (line["decision"], line["channel"]) == ("timed-out", None)


async def test_a_question_under_the_new_protocol_is_audited_and_a_late_answer_is_refused(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    patient = with_policy(settings, confirm_wait=60)
    yes = {"confirm": ElicitResult(action="accept", content={"confirm": True})}
    async with serve(patient, stub_sandbox, clock, elicitation_callback=answering_with({"confirm": True})[0]) as client:
        first = await client.session.call_tool("dial", dial_args(), allow_input_required=True)
        assert isinstance(first, InputRequiredResult)
        assert [(line["decision"], line["channel"]) for line in audit_lines(patient)] == [("asked", None)]  # never answered: still on file
        clock.advance(60)
        late = await client.session.call_tool("dial", dial_args(), input_responses=yes, request_state=first.request_state)
    assert not late.is_error, result_text(late)
    assert result_json(late)["decision"] == "timed-out"
    assert posts(stub_sandbox) == 0
    assert decisions(patient) == ["asked", "timed-out"]


def test_the_wait_is_a_validated_setting(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert Settings.load({"VAPI_MCP_CONFIRM_WAIT": "45"}).policy.confirm_wait == 45
    assert Settings.load({}, confirm_wait=30).policy.confirm_wait == 30
    assert Settings.load({}).policy.confirm_wait == 180
    assert main(["policy", "--confirm-wait", "0"]) == 2
    assert "--confirm-wait / VAPI_MCP_CONFIRM_WAIT must be between 1 and 600, got 0" in capsys.readouterr().err
    monkeypatch.setenv("VAPI_MCP_CONFIRM_WAIT", "soon")
    assert main(["policy"]) == 2
    assert "VAPI_MCP_CONFIRM_WAIT must be a whole number" in capsys.readouterr().err


# 4. channels, and the consent mode


async def test_every_audit_line_names_its_channel(settings: Settings, stub_sandbox: Sandbox, clock: ManualClock) -> None:
    auto = with_policy(settings, allow_numbers=(LA,), auto_approve_allowlisted=True)
    async with serve(auto, stub_sandbox, clock) as plain:
        preview = result_json(await plain.call_tool("destroy", {"id": "thing-1"}))
        await plain.call_tool("destroy", {"id": "thing-1", "confirmToken": preview["confirmToken"]})
        await plain.call_tool("dial", {"customer": {"number": LA}})
        await plain.call_tool("dial", {"customer": {"number": "+1555"}})
    async with serve(auto, stub_sandbox, clock, elicitation_callback=answering_with({"confirm": True})[0], mode="legacy") as eliciting:
        await eliciting.call_tool("destroy", {"id": "thing-2"})
    lines = audit_lines(auto)
    assert all("channel" in line and "confirmedBy" not in line for line in lines)
    assert [(line["decision"], line["channel"]) for line in lines] == [
        ("previewed", None),
        ("sent", "agent-relayed"),
        ("sent", "auto-allowlist"),
        ("refused", None),
        ("sent", "elicitation"),
    ]


async def test_under_human_consent_no_token_is_issued_and_a_plain_client_is_refused(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    human = with_policy(settings, consent="human")
    async with serve(human, stub_sandbox, clock) as client:
        result = await client.call_tool("dial", dial_args())
        guessed = await client.call_tool("dial", dial_args(confirmToken="user-said-yes"))
    text = result_text(result)
    assert result.is_error and "confirmToken" not in text
    assert "consent mode `human`" in text and "elicitation" in text and "MCP Apps" in text
    assert "Claude Desktop" in text and "VS Code" in text and "Only the user can change" in text
    assert guessed.is_error and "confirm tokens are not accepted" in result_text(guessed)
    assert posts(stub_sandbox) == 0
    assert [(line["decision"], line["channel"]) for line in audit_lines(human)] == [("refused", None), ("refused", None)]


async def test_under_human_consent_a_token_minted_under_any_by_another_process_is_refused(
    settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    shared = with_policy(settings, confirm_secret="replica-secret-value")
    async with serve(shared, stub_sandbox, clock) as lenient:
        token = result_json(await lenient.call_tool("dial", dial_args()))["confirmToken"]
    async with serve(with_policy(shared, consent="human"), stub_sandbox, clock) as strict:
        result = await strict.call_tool("dial", dial_args(confirmToken=token))
    assert result.is_error and "confirm tokens are not accepted" in result_text(result)
    assert posts(stub_sandbox) == 0
    assert decisions(shared) == ["previewed", "refused"]


@MODES
async def test_under_human_consent_elicitation_still_confirms(
    mode: str, settings: Settings, stub_sandbox: Sandbox, clock: ManualClock
) -> None:
    human = with_policy(settings, consent="human")
    async with serve(human, stub_sandbox, clock, elicitation_callback=answering_with({"confirm": True})[0], mode=mode) as client:
        result = await client.call_tool("dial", dial_args())
    assert not result.is_error, result_text(result)
    assert posts(stub_sandbox) == 1
    assert audit_lines(human)[-1]["channel"] == "elicitation"


def test_the_consent_mode_is_a_validated_setting_and_the_policy_shows_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert Settings.load({}).policy.consent == "any"
    assert Settings.load({"VAPI_MCP_CONSENT": "Human"}).policy.consent == "human"
    assert main(["policy", "--consent", "human"]) == 0
    out = capsys.readouterr().out
    assert "consent:             human only" in out and "no confirm token is issued or accepted" in out
    assert "confirmation wait:   180 s" in out
    assert main(["policy"]) == 0
    assert "agent relays" in capsys.readouterr().out
    monkeypatch.setenv("VAPI_MCP_CONSENT", "maybe")
    assert main(["policy"]) == 2
    assert "--consent / VAPI_MCP_CONSENT must be one of any, human, got 'maybe'" in capsys.readouterr().err


# 2 (continued). malformed answers as a client other than the SDK's may put them on the wire


WIRE_ANSWERS = {
    "confirm-object": {"action": "accept", "content": {"confirm": {"value": True}}},
    "confirm-list-of-true": {"action": "accept", "content": {"confirm": [True]}},
    "content-not-an-object": {"action": "accept", "content": "confirm"},
    "unknown-action": {"action": "yes", "content": {"confirm": True}},
    "no-action": {"content": {"confirm": True}},
}


@pytest.mark.parametrize("answer", list(WIRE_ANSWERS.values()), ids=list(WIRE_ANSWERS))
def test_a_malformed_answer_on_the_wire_is_declined_never_a_token(answer: dict[str, Any], tmp_path: Path) -> None:
    """A raw JSON-RPC client over stdio (protocol 2025-06-18) answers the server's elicitation/create with `answer`."""
    audit = tmp_path / "audit-sandbox.jsonl"  # sandbox attempts are audited beside the real file
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAPI")}
    env.update(VAPI_MCP_AUDIT_LOG=str(tmp_path / "audit.jsonl"), VAPI_MCP_FAST_START="0", XDG_CACHE_HOME=str(tmp_path / "cache"))
    server = subprocess.Popen(
        [sys.executable, "-m", "vapi_mcp", "serve", "--sandbox"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
    )

    def send(message: dict[str, Any]) -> None:
        server.stdin.write(json.dumps(message).encode() + b"\n")
        server.stdin.flush()

    def receive() -> dict[str, Any]:
        line = server.stdout.readline()
        assert line, "the server closed the connection"
        return json.loads(line)

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}}, "clientInfo": {"name": "raw", "version": "1"}}})
        assert receive()["id"] == 1
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "create_assistant", "arguments": {"name": "Riley"}}})
        while (created := receive()).get("id") != 2:
            pass
        assistant_id = json.loads(created["result"]["content"][0]["text"])["id"]
        send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "delete_assistant", "arguments": {"id": assistant_id}}})
        while (message := receive()).get("method") != "elicitation/create":
            assert message.get("id") != 3, message  # the tool must ask first
        send({"jsonrpc": "2.0", "id": message["id"], "result": answer})
        while (message := receive()).get("id") != 3:
            pass
    finally:
        server.stdin.close()
        server.wait(timeout=20)
    result = message["result"]
    assert not result.get("isError"), result
    view = json.loads(result["content"][0]["text"])
    assert view["decision"] == "declined" and "confirmToken" not in view
    [line] = [json.loads(text) for text in audit.read_text().splitlines()]
    assert (line["tool"], line["decision"], line["channel"]) == ("delete_assistant", "declined", None)
