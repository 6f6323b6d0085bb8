"""The benchmark harness's judges: what a get_call result carries, and the fetch redirect."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
import run  # noqa: E402

CALL: dict[str, Any] = {
    "messages": [
        {"role": "system", "message": "You are Riley."},
        {"role": "bot", "message": "Hello, how can I help?"},
        {"role": "user", "message": "Move my appointment."},
    ],
    "analysis": {"summary": "Moved the appointment."},
    "artifact": {"recordingUrl": "https://storage.vapi.ai/x-mono.wav"},
    "cost": 0.1234,
}


def test_carries_finds_each_part_by_value_whatever_the_field_names() -> None:
    ours = {
        "transcript": [{"role": "assistant", "text": "Hello, how can I help?"}, {"role": "user", "text": "Move my appointment."}],
        "analysis": {"summary": "Moved the appointment."},
        "recording": {"recordingUrl": "https://storage.vapi.ai/x-mono.wav"},
        "cost": 0.1234,
    }
    assert run.carries(json.dumps(ours), CALL) == {"transcript": True, "summary": True, "recordings": True, "cost": True}


def test_carries_reports_what_is_missing() -> None:
    partial = {"id": "c1", "status": "ended", "lines": ["Hello, how can I help?"], "costUsd": 0.12}
    assert run.carries(json.dumps(partial), CALL) == {"transcript": False, "summary": False, "recordings": False, "cost": False}


def test_rows_in_counts_a_bare_list_or_a_wrapped_one() -> None:
    assert run.rows_in('[{"id":1},{"id":2}]') == 2
    assert run.rows_in('{"calls":[{"id":1}],"count":1}') == 1


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({"path": self.path, "auth": self.headers.get("authorization")}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_backend() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def node(script: str, backend: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", "--import", (BENCH / "redirect.mjs").as_uri(), "--input-type=module", "-e", script],
        env=run.base_env(VAPI_BENCH_BACKEND=backend),
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")
def test_redirect_sends_vapi_requests_to_the_loopback_backend(echo_backend: str) -> None:
    script = "const r = await fetch('https://api.vapi.ai/call/abc?limit=2', {headers: {authorization: 'Bearer k'}}); console.log(await r.text());"
    done = node(script, echo_backend)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"path": "/call/abc?limit=2", "auth": "Bearer k"}


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")
def test_redirect_refuses_any_other_destination(echo_backend: str) -> None:
    done = node("await fetch('https://example.com/')", echo_backend)
    assert done.returncode != 0 and "refusing a request off loopback" in done.stderr
    done = node("1", "http://10.0.0.1:80")
    assert done.returncode != 0 and "must be http://127.0.0.1:PORT" in done.stderr


# the recorded openings and their replay


@pytest.mark.parametrize("client", list(run.CLIENTS))
def test_recorded_openings_are_whole(client: str) -> None:
    """Each step waits only for what it sent; both eras end in tools/list; the probe comes first."""
    recording = run.recording(client)
    assert recording["modern"][0]["send"][0]["method"] == "server/discover" and recording["source"]
    for era in ("modern", "legacy"):
        sent = [m for step in recording[era] for m in step["send"]]
        assert "tools/list" in {m["method"] for m in sent}
        for step in recording[era]:
            ids = {json.dumps(m["id"]) for m in step["send"] if "id" in m}
            assert {json.dumps(i) for i in step["await"]} <= ids
            if "await_acknowledgement" in step:
                assert json.dumps(step["await_acknowledgement"]) in ids
    assert recording["first_call"]["method"] == "tools/call"


STUB = r"""
import json, sys
modern = sys.argv[1] == "modern"
log = open(sys.argv[2], "a")
for line in sys.stdin:
    m = json.loads(line)
    log.write(line); log.flush()
    if "id" not in m:
        continue
    if m["method"] == "server/discover" and not modern:
        out = {"jsonrpc": "2.0", "id": m["id"], "error": {"code": -32601, "message": "Method not found"}}
    elif m["method"] == "subscriptions/listen":
        out = {"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
               "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": m["id"]}, "notifications": {}}}
    elif m["method"] == "tools/list":
        out = {"jsonrpc": "2.0", "id": m["id"], "result": {"tools": [{"name": "stub_tool"}]}}
    else:
        out = {"jsonrpc": "2.0", "id": m["id"], "result": {}}
    print(json.dumps(out), flush=True)
"""


@pytest.mark.parametrize("client", list(run.CLIENTS))
@pytest.mark.parametrize("era", ["modern", "legacy"])
async def test_a_recorded_opening_is_replayed_as_the_client_sent_it(tmp_path: Path, client: str, era: str) -> None:
    """Against a server that refuses server/discover the replay falls back to initialize, as the client
    did; either way the server receives exactly the recorded messages, in order."""
    received = tmp_path / "received.jsonl"
    server = run.StdioServer("stub", [sys.executable, "-c", STUB, era, str(received)], run.base_env(), tmp_path)
    await server.start()
    try:
        assert await server.open_as(run.recording(client)) == (era, [{"name": "stub_tool"}])
    finally:
        await server.close()
    recording = run.recording(client)
    expected = recording["modern"] if era == "modern" else recording["modern"][:1] + recording["legacy"]
    assert [json.loads(line) for line in received.read_text().splitlines()] == [m for step in expected for m in step["send"]]
# The HTTP throughput (bench/throughput.py): wrk's requests must be real tool calls our server
# answers, and a run in which any answer is not the expected result must fail, not count.

import throughput  # noqa: E402


def _serving_app(settings: Any, sandbox: Any) -> Any:
    from tests.loopback import serving

    return serving("--transport", "http", "--stateless", settings=settings, sandbox=sandbox)


@pytest.mark.skipif(shutil.which("wrk") is None and not os.environ.get("CI"), reason="needs wrk (Debian package; .ci/run installs it, and under CI this fails instead)")
@pytest.mark.parametrize(("tool", "protocol"), throughput.CELLS)
async def test_wrk_sends_the_bench_tool_calls_and_our_server_answers_them(settings: Any, sandbox: Any, tool: str, protocol: str) -> None:
    import anyio

    from vapi_mcp.sandbox.seed import seed

    seed(sandbox, "bench")
    async with _serving_app(settings, sandbox) as base:
        done = await anyio.to_thread.run_sync(lambda: throughput.wrk(f"{base}/mcp", "mcp_call.lua", throughput.tool_call(tool, protocol), 1, 2))
    path = throughput.RAW_PATH[tool].split("?")[0]
    assert done.requests > 0 and len(sandbox.requests_to("GET", path)) >= done.requests


@pytest.mark.skipif(shutil.which("wrk") is None and not os.environ.get("CI"), reason="needs wrk (Debian package; .ci/run installs it, and under CI this fails instead)")
async def test_a_wrk_run_with_any_wrong_answer_fails(settings: Any, sandbox: Any) -> None:
    import anyio

    async with _serving_app(settings, sandbox) as base:
        unknown = ["get_call", '{"id":"0b4f8a1e-2c3d-4e5f-8a9b-1c2d3e4f5a6b"}', throughput.MODERN, "0b4f8a1e"]  # 404: an error result
        with pytest.raises(RuntimeError, match="bad responses"):
            await anyio.to_thread.run_sync(lambda: throughput.wrk(f"{base}/mcp", "mcp_call.lua", unknown, 1, 2))
        with pytest.raises(RuntimeError, match="bad responses"):  # the raw script checks the status too
            await anyio.to_thread.run_sync(lambda: throughput.wrk(f"{base}/call/0b4f8a1e", "raw_get.lua", ["0b4f8a1e"], 1, 2))
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/call"
        with pytest.raises(RuntimeError, match=r"0 bad responses and 0 socket errors in 0 "):  # no answer at all is no figure
            await anyio.to_thread.run_sync(lambda: throughput.wrk(url, "raw_get.lua", ["["], 1, 2))
