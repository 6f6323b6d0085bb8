"""The stdio wire under bad input and at the end of input: every bad line is answered, every request too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .stdio_kit import RawServer, recorded_opening, recording, server_env

PING_AFTER = {**recording("sdk-client")["first_call"], "id": "after"}
"""A tool call (list_calls), as the SDK client sends it after its opening."""


def nested(depth: int, request_id: int = 9, id_last: bool = False) -> bytes:
    """A tools/call whose arguments nest `depth` arrays (the message, its params and arguments are 3 levels more)."""
    arguments = ("[" * depth + "]" * depth).encode()
    if id_last:
        return b'{"jsonrpc":"2.0","method":"tools/call","params":{"name":"list_calls","arguments":{"limit":%s}},"id":%d}\n' % (arguments, request_id)
    return b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_calls","arguments":{"limit":%s}}}\n' % (request_id, arguments)


BAD_LINES: dict[str, tuple[bytes, Any]] = {
    # name: (the line, the answer expected: (code, id), "batch" for an array of errors, None for no answer)
    # Nested deeper than MAX_DEPTH: -32700 with the request's id on every Python, whether its `json` reads the
    # line (3.12 reads 1000 levels, 3.13 5000) or not (3.11 stops before 1000, every Python before 100000).
    "nested 100000 deep": (nested(100_000), (-32700, 9)),
    "nested 5000 deep": (nested(5000), (-32700, 9)),
    "nested 1000 deep": (nested(1000), (-32700, 9)),
    "nested 1000 deep, the id last": (nested(1000, id_last=True), (-32700, 9)),
    "nested 1000 deep in the id": (b'{"jsonrpc":"2.0","id":' + b"[" * 1000 + b"]" * 1000 + b',"method":"ping"}\n', (-32700, None)),
    "nested 300 deep": (nested(300), (-32700, 9)),
    "nested 200 deep": (nested(200), (-32700, 9)),
    "not JSON": (b"hello, server\n", (-32700, None)),
    "lone surrogate escape": (b'{"jsonrpc":"2.0","id":11,"method":"ping","params":{"note":"\\ud800"}}\n', (-32700, 11)),
    "lone surrogate in a cached request's id": (b'{"jsonrpc":"2.0","id":"\\udc00","method":"tools/list","params":%s}\n' % json.dumps(recorded_opening("sdk-client")[1]["params"]).encode(), (-32700, None)),
    "lone surrogate bytes": (b'{"jsonrpc":"2.0","id":12,"method":"ping","params":{"note":"\xed\xa0\x80"}}\n', (-32700, None)),
    "batch": (b'[{"jsonrpc":"2.0","id":5,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"}]\n', "batch"),
    "empty batch": (b"[]\n", (-32600, None)),
    "a JSON string": (b'"ping"\n', (-32600, None)),
    "no jsonrpc version": (b'{"id":13,"method":"ping"}\n', (-32600, 13)),
    "an id that is a number with a fraction": (b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}\n', (-32600, None)),
    "params that are not an object": (b'{"jsonrpc":"2.0","id":14,"method":"tools/call","params":[1]}\n', (-32600, 14)),
    "over 32 MiB": (b'{"jsonrpc":"2.0","id":15,"method":"ping","params":{"pad":"' + b"x" * (33 << 20) + b'"}}\n', (-32600, None)),
    "blank lines": (b"\n   \r\n\t\n", None),
}


def test_the_nesting_rule_is_the_sdk_parsers_on_every_python() -> None:
    """MAX_DEPTH is where the SDK's JSON-RPC parser stops: a line it reads passes the wire's check, one level more
    is refused by both (so the fast start never queues for the SDK a line the SDK cannot take)."""
    import mcp_types

    from vapi_mcp.stdio import MAX_DEPTH, check

    deepest, too_deep = nested(MAX_DEPTH - 3), nested(MAX_DEPTH - 2)
    mcp_types.jsonrpc_message_adapter.validate_json(deepest, by_name=False)
    with pytest.raises(ValueError, match="recursion limit"):
        mcp_types.jsonrpc_message_adapter.validate_json(too_deep, by_name=False)
    assert check(deepest) == (json.loads(deepest), None)
    message, error = check(too_deep)
    assert message is None and error is not None
    assert json.loads(error) == {"jsonrpc": "2.0", "id": 9, "error": {"code": -32700, "message": f"Parse error: the JSON nests deeper than {MAX_DEPTH} levels"}}


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A server environment whose start-up cache holds the SDK client's opening."""
    env = server_env(tmp_path_factory.mktemp("warm"))
    server = RawServer(env)
    server.send(*recorded_opening("sdk-client"), PING_AFTER)
    server.answer("after")
    assert server.close() == 0
    return env


def expect(server: RawServer, expected: Any) -> None:
    """The bad line's answer arrives (or, for a blank line, nothing but the other answers)."""
    if expected is None:
        return
    while True:
        for message in server.seen:
            if expected == "batch" and isinstance(message, list):
                assert [(m["id"], m["error"]["code"]) for m in message] == [(5, -32600), (None, -32600)]
                assert "batches are not supported" in message[0]["error"]["message"]
                return
            if isinstance(message, dict) and "error" in message and (message["error"]["code"], message["id"]) == expected:
                return
        server.read()


def only_expected(server: RawServer, expected: Any, ids: set[Any]) -> None:
    errors = [m for m in server.seen if isinstance(m, list) or "error" in m]
    assert len(errors) == (0 if expected is None else 1), errors
    assert {m["id"] for m in server.seen if isinstance(m, dict) and "id" in m and "error" not in m} == ids


@pytest.mark.parametrize("name", list(BAD_LINES))
def test_a_bad_line_while_the_sdk_loads_is_answered_and_the_fast_start_goes_on(warm: dict[str, str], name: str) -> None:
    line, expected = BAD_LINES[name]
    server = RawServer(warm)
    server.send(line, *recorded_opening("sdk-client"), PING_AFTER)
    expect(server, expected)
    server.answer("after")
    assert server.close() == 0
    assert "answered tools/list from the start-up cache while the SDK loads" in server.log  # the bad line did not stop it
    only_expected(server, expected, {1, 2, "after"})
    assert "Traceback" not in server.log


@pytest.mark.parametrize("name", list(BAD_LINES))
def test_a_bad_line_after_the_sdk_took_over_is_answered_and_the_server_goes_on(tmp_path: Path, name: str) -> None:
    line, expected = BAD_LINES[name]
    server = RawServer(server_env(tmp_path, VAPI_MCP_FAST_START="0"))
    server.send(*recorded_opening("sdk-client"), {**PING_AFTER, "id": "before"})
    server.answer("before")  # a tool result: the SDK serves the wire now
    server.send(line, PING_AFTER)
    expect(server, expected)
    result = server.answer("after")["result"]
    assert not result["isError"]
    assert server.close() == 0
    only_expected(server, expected, {1, 2, "before", "after"})
    assert "Traceback" not in server.log


@pytest.mark.parametrize("fast_start", ["1", "0"])
@pytest.mark.parametrize("cache", ["empty", "warm"])
def test_serve_with_nothing_on_stdin_exits_0_at_once(tmp_path: Path, warm: dict[str, str], fast_start: str, cache: str) -> None:
    """`vapi-mcp serve </dev/null`: no traceback, no hang."""
    env = {**(warm if cache == "warm" else server_env(tmp_path)), "VAPI_MCP_FAST_START": fast_start}
    with open("/dev/null", "rb") as nothing:
        done = subprocess.run([sys.executable, "-m", "vapi_mcp", "serve", "--sandbox"], stdin=nothing, capture_output=True, env=env, timeout=60)
    assert done.returncode == 0 and done.stdout == b""
    assert b"Traceback" not in done.stderr, done.stderr.decode()


LEGACY_FILE = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "cat", "version": "1"}}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]
LEGACY_CALL = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_calls", "arguments": {"limit": 1}}}


@pytest.mark.parametrize(
    ("opening", "runs"),
    [(LEGACY_FILE, 10), (LEGACY_FILE + [LEGACY_CALL], 3), (None, 3)],
    ids=["initialize, initialized, tools/list", "... and a tool call", "server/discover, tools/list"],
)
def test_a_piped_requests_file_gets_every_answer_before_the_exit(tmp_path: Path, opening: list[dict[str, Any]] | None, runs: int) -> None:
    """`cat requests.jsonl | vapi-mcp serve`: the input ends right after the requests, on a cold start
    (nothing cached: the SDK answers them all); it was a race the SDK lost every time."""
    messages = opening or recorded_opening("sdk-client")
    payload = b"".join(json.dumps(m).encode() + b"\n" for m in messages)
    expected = [m["id"] for m in messages if "id" in m]
    for run in range(runs):
        env = server_env(tmp_path / f"run{run}")  # an empty cache each time
        done = subprocess.run([sys.executable, "-m", "vapi_mcp", "serve", "--sandbox"], input=payload, capture_output=True, env=env, timeout=120)
        answers = [json.loads(line) for line in done.stdout.splitlines()]
        assert sorted(map(str, (a["id"] for a in answers))) == sorted(map(str, expected)), (run, done.stderr.decode()[-2000:])
        assert all("result" in a for a in answers) and done.returncode == 0 and b"Traceback" not in done.stderr


def test_a_question_to_a_client_that_left_is_answered_for_it(tmp_path: Path) -> None:
    """The input ends while a guarded tool waits for the human's answer (elicitation): the question is
    answered "connection closed" for the departed client, the tool answers (nothing is deleted
    unconfirmed), and the server exits at once instead of waiting for a human who is gone."""
    server = RawServer(server_env(tmp_path))
    initialize = {**LEGACY_FILE[0], "params": {**LEGACY_FILE[0]["params"], "capabilities": {"elicitation": {}}}}
    server.send(initialize, LEGACY_FILE[1], {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "create_assistant", "arguments": {"name": "Riley"}}})
    created = json.loads(server.answer(2)["result"]["content"][0]["text"])
    server.send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "delete_assistant", "arguments": {"id": created["id"]}}})
    question = server.read()
    assert question["method"] == "elicitation/create"
    assert server.close(timeout=60) == 0
    answer = next(m for m in server.rest() if m.get("id") == 3 and "method" not in m)
    text = answer["result"]["content"][0]["text"]
    assert answer["result"].get("isError") or json.loads(text).get("confirmationRequired"), text
    assert "still running" not in server.log and "Traceback" not in server.log
