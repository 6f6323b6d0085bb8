"""The stdio fast start: today's clients are answered from the SDK's own earlier answers while the SDK loads."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import ElicitResult

from vapi_mcp.config import Settings

from .mcp_kit import result_json
from .stdio_kit import RawServer, recorded_opening, recording, server_env

LEGACY = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_calls", "arguments": {"limit": 1}}},
]
TAKES_OVER = "the SDK takes over"


def from_cache(method: str) -> str:
    return f"answered {method} from the start-up cache while the SDK loads"


def handshake(client: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A real client's recorded opening against this server (bench/handshakes/), and its first tool call."""
    return recorded_opening(client), recording(client)["first_call"]


def session(env: dict[str, str], messages: list[dict[str, Any]], *flags: str) -> tuple[list[Any], str]:
    """Send the messages at once, read an answer for every request, close: (everything written, the log)."""
    server = RawServer(env, *flags)
    server.send(*messages)
    for message in messages:
        if "id" in message and message["method"] != "subscriptions/listen":  # a listen request is answered when it ends
            server.answer(message["id"])
    assert server.close() == 0
    return server.rest(), server.log


def answered_ids(written: list[Any]) -> list[Any]:
    return [m["id"] for m in written if isinstance(m, dict) and "id" in m and "method" not in m]


def by_id(written: list[Any]) -> dict[Any, Any]:
    return {m["id"]: m for m in written if isinstance(m, dict) and "id" in m and "method" not in m}


@pytest.mark.parametrize("client", ["claude-code", "sdk-client"])
def test_todays_clients_are_answered_from_the_cache_before_the_sdk_has_loaded(tmp_path: Path, client: str) -> None:
    """Claude Code 2.1.3xx and the SDK 2.x client open with server/discover (2026-07-28): on the second
    start their whole opening is answered from the cache, before the SDK takes over, with the very
    answers the SDK gave; the first tool call then goes to the SDK."""
    opening, first_call = handshake(client)
    env = server_env(tmp_path)
    cold, cold_log = session(env, [*opening, first_call])
    assert "start-up cache" not in cold_log
    warm, warm_log = session(env, [*opening, first_call])
    requests = {m["method"] for m in opening if "id" in m}
    takeover = warm_log.index(TAKES_OVER)
    for method in requests:
        assert -1 < warm_log.find(from_cache(method)) < takeover, method
    assert "differently from the SDK" not in warm_log
    cold_answers, warm_answers = by_id(cold), by_id(warm)
    for message in opening:
        if "id" in message and message["method"] != "subscriptions/listen":
            assert warm_answers[message["id"]] == cold_answers[message["id"]]
    assert sorted(map(str, answered_ids(warm))) == sorted(map(str, answered_ids(cold)))  # once each: the SDK's duplicates are dropped
    acknowledgements = [m for m in warm if m.get("method") == "notifications/subscriptions/acknowledged"]
    assert len(acknowledgements) == (client == "claude-code")
    call = warm_answers[first_call["id"]]["result"]
    assert not call["isError"] and json.loads(call["content"][0]["text"])["sandbox"] is True


def test_nothing_heavy_loads_before_the_cache_can_answer(tmp_path: Path) -> None:
    """What runs before the fast start (flags, settings, the start-time audit-file check, the scrubbing log
    handler) loads neither the MCP SDK (~1 s) nor pydantic (~0.1 s), which every session would wait for: the
    loader thread imports them."""
    probe = (
        "import sys, vapi_mcp.stdio as stdio\n"
        "stdio.serve = lambda settings: print([m for m in ('mcp', 'pydantic', 'httpx2') if m in sys.modules])\n"
        "from vapi_mcp.cli import main\n"
        "sys.exit(main(['serve', '--sandbox']))\n"
    )
    env = {**server_env(tmp_path), "VAPI_MCP_LOG_LEVEL": "DEBUG"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", (done.stdout, done.stderr)


def test_an_older_client_is_answered_from_the_cache_too(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    cold, _ = session(env, LEGACY)
    warm, log = session(env, LEGACY)
    assert -1 < log.find(from_cache("initialize")) < log.find(from_cache("tools/list")) < log.index(TAKES_OVER)
    assert [m["id"] for m in warm] == [1, 2, 3]  # the SDK's duplicate answers are not on the wire
    assert warm[:2] == cold[:2]


def test_fast_start_can_be_turned_off(tmp_path: Path) -> None:
    env = server_env(tmp_path, VAPI_MCP_FAST_START="0")
    session(env, LEGACY)
    answers, log = session(env, LEGACY)
    assert "start-up cache" not in log
    assert not (tmp_path / "cache" / "vapi-mcp").exists()
    assert [a["id"] for a in answers] == [1, 2, 3]


def test_a_changed_setting_never_gets_the_cached_tools_list(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    opening, _ = handshake("sdk-client")
    full, _ = session(env, opening)
    limited, log = session(env, opening, "--read-only")
    assert "start-up cache" not in log
    names = lambda written: {t["name"] for t in by_id(written)[2]["result"]["tools"]}  # noqa: E731
    assert "create_call" in names(full) and "create_call" not in names(limited) and "list_calls" in names(limited)


def test_every_setting_is_part_of_the_cache_key_and_no_secret_is() -> None:
    """Whatever setting is added (toolsets, a tools allowlist...), a change of it is a new cache folder;
    a secret counts only as set or unset, and never reaches the folder's name."""
    from vapi_mcp.stdio import _SECRET_NAME as SECRET_NAME
    from vapi_mcp.stdio import fingerprint

    base = Settings.load({"VAPI_API_KEY": "key-1111"})
    seen = {fingerprint(base)}
    changed = expected = 0
    sections = [(None, base)] + [(f.name, getattr(base, f.name)) for f in dataclasses.fields(base) if dataclasses.is_dataclass(getattr(base, f.name))]
    for section, owner in sections:
        for field in dataclasses.fields(owner):
            value = getattr(owner, field.name)
            if dataclasses.is_dataclass(value):
                continue
            expected += 1
            other = _other(value)
            variant = _with(base, section, field.name, other)  # not validated: the key must cover any value
            if SECRET_NAME.search(field.name) and bool(value) == bool(other):
                assert fingerprint(variant) == fingerprint(base), field.name
                continue
            assert fingerprint(variant) not in seen, f"changing {field.name} does not change the cache key"
            seen.add(fingerprint(variant))
            changed += 1
    assert changed == expected - 1  # all but the key, which counts only as set
    other_key = dataclasses.replace(base, api_key="key-2222", confirm_secret=None)
    assert fingerprint(other_key) == fingerprint(base)


def _with(settings: Settings, section: str | None, name: str, value: Any) -> Settings:
    """A copy of `settings` with one field (of a section) changed, bypassing the settings' own checks."""
    import copy

    changed = copy.copy(settings)
    if section is None:
        object.__setattr__(changed, name, value)
    else:
        part = copy.copy(getattr(settings, section))
        object.__setattr__(part, name, value)
        object.__setattr__(changed, section, part)
    return changed


def _other(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, tuple | list):
        return type(value)([*value, "+14155550100"])
    if isinstance(value, set | frozenset):
        return type(value)({*value, "other"})
    if isinstance(value, dict):
        return {**value, "other": 1}
    if isinstance(value, Path):
        return value.with_name("other.jsonl")
    if value is None:
        return "set-now"
    raise AssertionError(f"no other value for {value!r}")


def test_a_stale_cached_answer_is_caught_and_corrected(tmp_path: Path) -> None:
    """Should the key ever miss something the answer depends on, the SDK's own answer (which it gives
    anyway, to the replayed request) shows it: the cache is corrected for the next start."""
    env = server_env(tmp_path)
    opening, first_call = handshake("sdk-client")
    opening.append(first_call)  # a session the SDK takes over (one that ends right after the opening just exits)
    first, _ = session(env, opening)
    tools_list = by_id(first)[2]["result"]
    stale = {**tools_list, "tools": tools_list["tools"][:1]}
    files = [p for p in (tmp_path / "cache" / "vapi-mcp").glob("stdio-*/*.json") if json.loads(p.read_text()) == tools_list]
    assert len(files) == 1
    files[0].write_text(json.dumps(stale))
    served, log = session(env, opening)
    assert by_id(served)[2]["result"] == stale and "differently from the SDK" in log
    again, log = session(env, opening)
    assert by_id(again)[2]["result"] == tools_list and "differently from the SDK" not in log


def test_the_cache_is_private_to_the_user(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    session(env, handshake("sdk-client")[0])
    [folder] = (tmp_path / "cache" / "vapi-mcp").glob("stdio-*")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {0o600}


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_cached_start_still_knows_the_client_can_elicit(tmp_path: Path, mode: str) -> None:
    """The SDK sees every line the client sent (the 2026-07-28 client's capabilities ride on each
    request), so the guard still asks the human through elicitation after a cached start."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "vapi_mcp", "serve", "--sandbox"], env=server_env(tmp_path))
    asked: list[str] = []

    async def accept(context: Any, request: Any) -> ElicitResult:
        asked.append(request.message)
        return ElicitResult(action="accept", content={"confirm": True})

    for _ in range(2):  # the second session starts from the cache
        async with Client(params, mode=mode, elicitation_callback=accept) as client:
            created = result_json(await client.call_tool("create_assistant", {"name": "Riley"}))
            line = {"provider": "twilio", "number": "+14155550100", "twilioAccountSid": "AC1", "twilioAuthToken": "tw-token", "assistantId": created["id"]}
            number = result_json(await client.call_tool("import_number", line))["phoneNumber"]  # free Vapi numbers take inbound calls only
            call = await client.call_tool(
                "create_call",
                {"assistantId": created["id"], "phoneNumberId": number["id"], "customer": {"number": "+14155550123"}},
            )
            assert not call.is_error and result_json(call)["status"] in ("queued", "ringing", "in-progress")
    assert len(asked) == 4 and all(q.endswith("Go ahead?") for q in asked)


def test_a_file_on_stdin_is_served_too(tmp_path: Path) -> None:
    """stdin need not be a pipe (a file, as in `vapi-mcp < session.jsonl`)."""
    lines = tmp_path / "session.jsonl"
    lines.write_text("".join(json.dumps(m) + "\n" for m in LEGACY))
    for _ in range(2):  # cold, then from the cache
        with lines.open("rb") as stdin:
            done = subprocess.run(
                [sys.executable, "-m", "vapi_mcp", "serve", "--sandbox"], stdin=stdin, capture_output=True, env=server_env(tmp_path), timeout=60
            )
        answers = [json.loads(line) for line in done.stdout.splitlines()]
        assert [a["id"] for a in answers] == [1, 2, 3], done.stderr.decode()[-2000:]


def test_caches_of_old_code_or_settings_do_not_pile_up(tmp_path: Path) -> None:
    from vapi_mcp.stdio import AnswerCache

    base = tmp_path / "vapi-mcp"
    for n in range(12):
        (base / f"stdio-old{n:02d}").mkdir(parents=True)
        os.utime(base / f"stdio-old{n:02d}", (n, n))  # old00 is the least recently written
    (base / "handshake-0123.json").write_text("{}")  # the layout before this one
    AnswerCache(base / "stdio-new").put("key", {"tools": []})
    left = sorted(p.name for p in base.iterdir())
    assert len(left) == AnswerCache.KEEP_FOLDERS and "stdio-new" in left and "stdio-old11" in left and "stdio-old00" not in left
    assert AnswerCache(base / "stdio-new").get("key") == (b'{"tools":[]}', {"tools": []})
