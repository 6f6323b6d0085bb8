"""Our streamable HTTP transport's tool calls per second next to the raw backend's, driven by wrk.

    python bench/throughput.py [--seconds 5] [--connections 32]

Serves the seeded sandbox (`vapi-mcp sandbox --seed bench`) and, against it,
`vapi-mcp serve --transport http --stateless --read-only` with 1 and then 2 workers, all on
127.0.0.1. wrk (Debian's `wrk` package; a C load generator, so the generator is not what
limits the figures) POSTs MCP tools/call requests (bench/wrk/mcp_call.lua) and GETs the raw
backend request each tool call costs (bench/wrk/raw_get.lua), interleaved raw, ours, raw,
ours. Every response is checked (200, the expected id, not an error). The server's CPU per
call is its processes' CPU time (/proc) over the calls answered. `bench/run.py` includes
this section in RESULTS.md; run alone, it prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
from run import BENCH, HOST, KEY, LIST_LIMIT, RICH_CALL_ID, STEP_TIMEOUT, WORK, base_env, free_port, start_background, stop

WORKERS = (1, 2)
MODERN, LEGACY = "2026-07-28", "2025-06-18"
CELLS = (("get_call", MODERN), ("list_calls", MODERN), ("get_call", LEGACY))
"""(tool, protocol): today's clients (Claude Code 2.1, the SDK 2.x client) send 2026-07-28; older ones 2025-06-18."""
RAW_PATH = {"get_call": f"/call/{RICH_CALL_ID}", "list_calls": f"/call?limit={LIST_LIMIT}"}
ARGUMENTS = {"get_call": {"id": RICH_CALL_ID}, "list_calls": {"limit": LIST_LIMIT}}


@dataclass
class Run:
    """One wrk run: requests per second and latency percentiles (ms)."""

    rate: float
    p50: float
    p99: float
    requests: int


@dataclass
class Cell:
    tool: str
    protocol: str
    workers: int
    ours: Run
    raw: list[Run]
    cpu_ms: float
    """The server's CPU (all its processes) per tool call."""

    @property
    def raw_rate(self) -> float:
        return statistics.median(r.rate for r in self.raw)


@dataclass
class Result:
    connections: int
    seconds: float
    cells: list[Cell] = field(default_factory=list)


def wrk(url: str, script: str, args: list[str], seconds: float, connections: int) -> Run:
    """Run wrk; a bad response or a socket error fails the run."""
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s", "--latency", "-s", str(BENCH / "wrk" / script), url, "--", *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    found = re.search(r"RESULT requests=(\d+) seconds=([\d.]+) bad=(\d+) errors=(\d+) p50_ms=([\d.]+) p99_ms=([\d.]+)", done.stdout)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed: {done.stdout}{done.stderr}")
    requests, elapsed, bad, errors = int(found[1]), float(found[2]), int(found[3]), int(found[4])
    if bad or errors or not requests:
        raise RuntimeError(f"wrk saw {bad} bad responses and {errors} socket errors in {requests} at {url}: {done.stderr[:500]}")
    return Run(requests / elapsed, float(found[5]), float(found[6]), requests)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (the workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def tool_call(tool: str, protocol: str) -> list[str]:
    expect = RICH_CALL_ID if tool == "get_call" else '\\"calls\\":[{'  # the result's text, JSON-escaped in the answer
    return [tool, json.dumps(ARGUMENTS[tool], separators=(",", ":")), protocol, expect]


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    """Until a get_call through the server succeeds."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_call", "arguments": ARGUMENTS["get_call"]}}
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": LEGACY}
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vapi-mcp serve exited with {process.returncode}; see {WORK}")
        try:
            if RICH_CALL_ID in httpx.post(url, json=body, headers=headers, timeout=5).text:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"vapi-mcp serve not ready within {STEP_TIMEOUT:g} s")


def measure(backend: str, seconds: float, connections: int) -> Result:
    """Every cell for 1 and 2 workers, each next to raw backend runs made just before and after it."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    result = Result(connections, seconds)
    for workers in WORKERS:
        port = free_port()
        env = base_env(
            VAPI_API_KEY=KEY,
            VAPI_BASE_URL=backend,
            VAPI_MCP_AUDIT_LOG=str(WORK / "audit.jsonl"),
            XDG_STATE_HOME=str(WORK / "state"),
            XDG_CACHE_HOME=str(WORK / "cache"),
        )
        argv = ["serve", "--transport", "http", "--host", HOST, "--port", str(port), "--stateless", "--read-only", "--workers", str(workers)]
        server = start_background([sys.executable, "-m", "vapi_mcp", *argv], env, f"http-server-{workers}.log")
        url = f"http://{HOST}:{port}/mcp"
        try:
            wait_ready(url, server)
            for tool, protocol in CELLS:
                wrk(url, "mcp_call.lua", tool_call(tool, protocol), 1, connections)  # warm-up: connections, both workers
                raw = [wrk(backend + RAW_PATH[tool], "raw_get.lua", [RICH_CALL_ID if tool == "get_call" else "["], seconds, connections)]
                before = cpu_seconds(server.pid)
                ours = wrk(url, "mcp_call.lua", tool_call(tool, protocol), seconds, connections)
                cpu_ms = (cpu_seconds(server.pid) - before) * 1000 / ours.requests
                raw.append(wrk(backend + RAW_PATH[tool], "raw_get.lua", [RICH_CALL_ID if tool == "get_call" else "["], seconds, connections))
                result.cells.append(Cell(tool, protocol, workers, ours, raw, cpu_ms))
        finally:
            stop(server)
    return result


def section(result: Result) -> list[str]:
    """The RESULTS.md section."""
    cells = result.cells

    def find(tool: str, protocol: str, workers: int) -> Cell:
        return next(c for c in cells if (c.tool, c.protocol, c.workers) == (tool, protocol, workers))

    lines = [
        f"## Throughput: our streamable HTTP transport, {result.connections} concurrent clients, wrk, {result.seconds:g} s per run",
        "",
        "`vapi-mcp serve --transport http --stateless --read-only --workers N` against the same sandbox; wrk POSTs "
        "MCP tools/call requests (bench/wrk/mcp_call.lua) and, just before and after, GETs the raw backend request each "
        "call costs (bench/wrk/raw_get.lua; median of the two). Server CPU is the CPU time of all the server's processes "
        "per call answered.",
        "",
        "| tool (client protocol) | workers | vapi-mcp tool calls/s | raw backend requests/s | ratio | server CPU per call (ms) | p50 / p99 (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        lines.append(
            f"| {c.tool} ({c.protocol}) | {c.workers} | {c.ours.rate:.0f} | {c.raw_rate:.0f} | {c.ours.rate / c.raw_rate:.2f}x "
            f"| {c.cpu_ms:.2f} | {c.ours.p50:.1f} / {c.ours.p99:.1f} |"
        )
    lines.append("")
    scaling = [(t, p, find(t, p, 2).ours.rate / find(t, p, 1).ours.rate) for t, p in CELLS]
    lines.append(
        "2 workers / 1 worker: " + ", ".join(f"{t} ({p}) {s:.2f}x" for t, p, s in scaling) + f". The machine has {os.cpu_count()} CPUs, "
        "shared by wrk, the sandbox (one process: the raw figure is its ceiling) and the server's workers, so a second worker "
        "competes with the load generator and the backend for the same cores. Each tool call costs one backend request. The "
        "official server has no HTTP transport in this package's entry point, so it has no column here."
    )
    lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each wrk run (default 5)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent clients (default 32)")
    args = parser.parse_args()
    port = free_port()
    backend = f"http://{HOST}:{port}"
    sandbox = start_background([sys.executable, "-m", "vapi_mcp", "sandbox", "--port", str(port), "--seed", "bench", "--world", "memory"], base_env(), "sandbox.log")
    try:
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            try:
                if httpx.get(f"{backend}/call/{RICH_CALL_ID}", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if sandbox.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not start; see {WORK}/sandbox.log")
            time.sleep(0.1)
        print("\n".join(section(measure(backend, args.seconds, args.connections))))
    finally:
        stop(sandbox)


if __name__ == "__main__":
    main()
