"""vapi-mcp side by side with the official Vapi MCP server, on one loopback backend.

    python bench/run.py [--rounds 10] [--calls 100] [--seconds 5] [--connections 32] [--ours-from DIR]

Installs `@vapi-ai/mcp-server` (pinned) from the npm registry into bench/.work/, serves the
seeded sandbox (`vapi-mcp sandbox --seed bench`) to both servers, measures them
interleaved, then our HTTP throughput with wrk (bench/throughput.py), writes
bench/RESULTS.md and prints it. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx2 as httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
OFFICIAL, OFFICIAL_VERSION = "@vapi-ai/mcp-server", "0.0.11"
PROTOCOL = "2025-06-18"
"""The protocol of the plain initialize session used for the per-call measures."""
CLIENTS = {"claude-code": "Claude Code 2.1.332", "sdk-client": "mcp 2.3.0 Client"}
"""The recorded openings replayed for the start-up measures (bench/handshakes/<name>.json)."""
ACKNOWLEDGED = "notifications/subscriptions/acknowledged"
HOST = "127.0.0.1"
KEY = "bench"
STEP_TIMEOUT = 30.0
"""Seconds any single step (a start, a request) may take before the run fails."""
LIST_LIMIT = 10
"""The official list_calls always asks Vapi for 10 calls; ours is asked for the same."""

from vapi_mcp.sandbox.seed import RICH_CALL_ID

# ---- the official package -------------------------------------------------------------


def install_official() -> Path:
    """The official server's package folder, packed from the npm registry and installed once."""
    folder = WORK / f"mcp-server-{OFFICIAL_VERSION}"
    package = folder / "package"
    if (package / "dist" / "index.js").exists() and (package / "node_modules").is_dir():
        return package
    folder.mkdir(parents=True, exist_ok=True)
    packed = run(["npm", "pack", f"{OFFICIAL}@{OFFICIAL_VERSION}", "--silent", "--pack-destination", str(folder)], folder)
    with tarfile.open(folder / packed.strip().splitlines()[-1]) as tar:
        tar.extractall(folder, filter="data")
    run(["npm", "install", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--silent"], package)
    return package


def run(argv: list[str], cwd: Path) -> str:
    return subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True, timeout=300).stdout


def node_package_version(package: Path, name: str) -> str:
    return json.loads((package / "node_modules" / name / "package.json").read_text())["version"]


# ---- processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def base_env(**extra: str) -> dict[str, str]:
    """A clean environment: no inherited Vapi settings, only what each server needs."""
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, **extra}


def start_background(argv: list[str], env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / log, "wb") as out:
        return subprocess.Popen(argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


async def wait_until(ready: Callable[[], Awaitable[bool]], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see {WORK}")
        try:
            async with asyncio.timeout(max(0.1, deadline - time.monotonic())):
                if await ready():
                    return
        except (httpx.TransportError, TimeoutError):
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{what} not ready within {STEP_TIMEOUT:g} s")


class StdioServer:
    """One MCP server over stdio, driven with newline-delimited JSON-RPC (identically for both)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        self.process: asyncio.subprocess.Process | None = None
        self.next_id = 0
        self.last_response_bytes = 0

    async def start(self) -> None:
        WORK.mkdir(parents=True, exist_ok=True)
        with open(WORK / f"{self.name}.stderr.log", "ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, limit=1 << 24
            )

    async def send(self, message: dict[str, Any]) -> None:
        assert self.process and self.process.stdin
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        await self.process.stdin.drain()

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        assert self.process and self.process.stdout
        self.next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        async with asyncio.timeout(STEP_TIMEOUT):
            while True:
                line = await self.process.stdout.readline()
                if not line:
                    raise RuntimeError(f"{self.name} closed stdout; see {WORK}/{self.name}.stderr.log")
                message = json.loads(line)
                if message.get("id") == self.next_id and "method" not in message:
                    self.last_response_bytes = len(line.rstrip(b"\n"))
                    break
        if "error" in message:
            raise RuntimeError(f"{self.name} {method}: {message['error']}")
        return message["result"]

    async def handshake(self) -> list[dict[str, Any]]:
        """initialize, notifications/initialized, tools/list: the tools."""
        await self.request(
            "initialize", {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "vapi-mcp-bench", "version": "1"}}
        )
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return (await self.request("tools/list", {}))["tools"]

    async def exchange(self, step: dict[str, Any], answers: dict[Any, dict[str, Any]]) -> None:
        """Send one step of a recorded opening, then wait for what the client waited for."""
        assert self.process and self.process.stdin and self.process.stdout
        for message in step["send"]:
            self.process.stdin.write(json.dumps(message).encode() + b"\n")
        await self.process.stdin.drain()
        waiting = {json.dumps(i) for i in step["await"]}
        acknowledgement = step.get("await_acknowledgement")
        async with asyncio.timeout(STEP_TIMEOUT):
            while waiting or acknowledgement is not None:
                line = await self.process.stdout.readline()
                if not line:
                    raise RuntimeError(f"{self.name} closed stdout; see {WORK}/{self.name}.stderr.log")
                message = json.loads(line)
                if message.get("method") == ACKNOWLEDGED and message["params"]["_meta"].get("io.modelcontextprotocol/subscriptionId") == acknowledgement:
                    acknowledgement = None
                elif "method" not in message and "id" in message:
                    answers[message["id"]] = message
                    waiting.discard(json.dumps(message["id"]))

    async def open_as(self, recording: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        """Replay a client's recorded opening, falling back to `initialize` where it did: the era and the tools."""
        answers: dict[Any, dict[str, Any]] = {}
        probe, *rest = recording["modern"]
        await self.exchange(probe, answers)
        era, steps = ("modern", rest) if "result" in answers[probe["await"][0]] else ("legacy", recording["legacy"])
        for step in steps:
            await self.exchange(step, answers)
        listing = next(m for step in steps for m in step["send"] if m.get("method") == "tools/list")
        return era, answers[listing["id"]]["result"]["tools"]

    async def call_tool(self, name: str, arguments: dict[str, Any], meta: dict[str, Any] | None = None) -> str:
        """The result's text content; a failed call fails the run."""
        params = {"name": name, "arguments": arguments, **({"_meta": meta} if meta else {})}
        result = await self.request("tools/call", params)
        text = "".join(c.get("text", "") for c in result["content"] if c.get("type") == "text")
        if result.get("isError") or text.startswith("Error:"):
            raise RuntimeError(f"{self.name} {name} failed: {text[:300]}")
        return text

    async def close(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        assert self.process.stdin
        self.process.stdin.close()
        try:
            async with asyncio.timeout(5):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


@dataclass
class Side:
    """One server under test: how to start it and how its tools are called."""

    label: str
    make: Callable[..., StdioServer]
    get_call: dict[str, Any]
    list_calls: dict[str, Any]
    listed_ms: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in CLIENTS})
    """Per client opening: spawn → the opening replayed → tools/list answered."""
    ready_ms: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in CLIENTS})
    """The same start, on to the first get_call answered: when an agent can really use the server."""
    first_ms: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in CLIENTS})
    """Ours only: spawn → tools/list with an empty start-up cache (the first start after an install or upgrade)."""
    plain_ms: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in CLIENTS})
    """Ours only: spawn → tools/list with the fast start off (VAPI_MCP_FAST_START=0): the plain start."""
    eras: dict[str, str] = field(default_factory=dict)
    """Per client: which era the opening ended in (modern: server/discover answered; legacy: initialize)."""
    cache: Path | None = None
    latency: dict[str, list[float]] = field(default_factory=lambda: {"get_call": [], "list_calls": []})
    tools: list[dict[str, Any]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    wire: dict[str, int] = field(default_factory=dict)
    """Bytes of the whole JSON-RPC response line (the result and the envelope)."""


def sides(backend: str, package: Path, ours_from: Path = ROOT) -> tuple[Side, Side]:
    extra = {} if ours_from == ROOT else {"PYTHONPATH": str(ours_from)}
    ours = Side(
        "vapi-mcp",
        lambda **env: StdioServer(
            "ours",
            [sys.executable, "-m", "vapi_mcp", "serve"],
            base_env(VAPI_API_KEY=KEY, VAPI_BASE_URL=backend, VAPI_MCP_AUDIT_LOG=str(WORK / "audit.jsonl"), XDG_CACHE_HOME=str(WORK / "cache"), **extra, **env),
            ours_from,
        ),
        get_call={"id": RICH_CALL_ID},
        list_calls={"limit": LIST_LIMIT},
        cache=WORK / "cache",
    )
    theirs = Side(
        f"official {OFFICIAL_VERSION}",
        lambda: StdioServer(
            "official",
            ["node", "--import", (BENCH / "redirect.mjs").as_uri(), "dist/index.js"],
            base_env(VAPI_TOKEN=KEY, VAPI_BENCH_BACKEND=backend),
            package,
        ),
        get_call={"callId": RICH_CALL_ID},
        list_calls={},
    )
    return ours, theirs


# ---- measurements ---------------------------------------------------------------------


def recording(client: str) -> dict[str, Any]:
    return json.loads((BENCH / "handshakes" / f"{client}.json").read_text())


async def start(side: Side, client: str, *, empty_cache: bool = False, plain: bool = False) -> tuple[float, float]:
    """Spawn → the client's recorded opening → tools/list answered, then its first get_call: both in ms."""
    if empty_cache and side.cache is not None:
        shutil.rmtree(side.cache, ignore_errors=True)
    opening = recording(client)
    server = side.make(**({"VAPI_MCP_FAST_START": "0"} if plain else {}))
    began = time.perf_counter()
    await server.start()
    side.eras[client], side.tools = await server.open_as(opening)
    listed = (time.perf_counter() - began) * 1000
    meta = opening["first_call"]["params"].get("_meta") if side.eras[client] == "modern" else None
    await server.call_tool("get_call", side.get_call, meta)
    ready = (time.perf_counter() - began) * 1000
    await server.close()
    return listed, ready


async def startups(pair: tuple[Side, Side], rounds: int) -> None:
    """Both servers, both clients' openings, interleaved: per round and client, our first start
    (an empty cache, which this start fills), our start from the cache, and the official's start."""
    ours, theirs = pair
    for _ in range(rounds):
        for client in CLIENTS:
            ours.first_ms[client].append((await start(ours, client, empty_cache=True))[0])
            ours.plain_ms[client].append((await start(ours, client, plain=True))[0])
            for side in (ours, theirs):
                listed, ready = await start(side, client)
                side.listed_ms[client].append(listed)
                side.ready_ms[client].append(ready)


async def per_call(pair: tuple[Side, Side], raw: httpx.AsyncClient, calls: int) -> dict[str, list[float]]:
    """Tool-call latency through each server and the raw backend request, interleaved."""
    servers = [side.make() for side in pair]
    raw_ms: dict[str, list[float]] = {"get_call": [], "list_calls": []}
    raw_paths = {"get_call": (f"/call/{RICH_CALL_ID}", None), "list_calls": ("/call", {"limit": LIST_LIMIT})}

    async def raw_request(op: str) -> None:
        path, params = raw_paths[op]
        (await raw.get(path, params=params)).raise_for_status()

    try:
        for server in servers:
            await server.start()
            await server.handshake()
        for side, server in zip(pair, servers):
            for op in ("get_call", "list_calls"):
                side.texts[op] = await server.call_tool(op, getattr(side, op))  # also warms up
                side.wire[op] = server.last_response_bytes
        for i in range(calls):
            for op in ("get_call", "list_calls"):
                steps: list[tuple[list[float], Callable[[], Awaitable[Any]]]] = [
                    (side.latency[op], lambda s=server, a=getattr(side, op), o=op: s.call_tool(o, a))
                    for side, server in zip(pair, servers)
                ]
                steps.append((raw_ms[op], lambda o=op: raw_request(o)))
                for samples, step in steps[i % 3 :] + steps[: i % 3]:  # rotate who goes first
                    began = time.perf_counter()
                    await step()
                    samples.append((time.perf_counter() - began) * 1000)
    finally:
        for server in servers:
            await server.close()
    return raw_ms


# ---- figures --------------------------------------------------------------------------


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def compact_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in leaves(v)]
    return [value]


def carries(text: str, call: dict[str, Any]) -> dict[str, bool]:
    """Which parts of the backend's call a get_call result carries (judged on values, not names)."""
    values = leaves(json.loads(text))
    strings = "\n".join(v for v in values if isinstance(v, str))
    turns = [m["message"] for m in call.get("messages", []) if m.get("role") in ("bot", "user")]
    artifact = call.get("artifact") or {}
    urls = [artifact.get("recordingUrl"), artifact.get("stereoRecordingUrl"), (artifact.get("recording") or {}).get("stereoUrl")]
    return {
        "transcript": bool(turns) and all(t in strings for t in turns),
        "summary": bool((call.get("analysis") or {}).get("summary")) and call["analysis"]["summary"] in strings,
        "recordings": any(u and u in strings for u in urls),
        "cost": call.get("cost") is not None and any(v == call["cost"] for v in values if isinstance(v, int | float)),
    }


def rows_in(text: str) -> int:
    """How many calls a list_calls result holds (a bare list, or an object with a list)."""
    parsed = json.loads(text)
    return len(parsed) if isinstance(parsed, list) else len(next(v for v in parsed.values() if isinstance(v, list)))


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "n/a"


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def versions(package: Path, ours_from: Path = ROOT) -> list[str]:
    from importlib.metadata import version

    node = run(["node", "--version"], ROOT).strip()
    python_packages = ", ".join(f"{p} {version(p)}" for p in ("vapi-mcp", "mcp", "pydantic", "httpx2", "starlette", "uvicorn"))
    commit = run(["git", "rev-parse", "--short", "HEAD"], ROOT).strip()
    return [
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; repository at {commit}"
        + ("" if ours_from == ROOT else f"; vapi-mcp itself run from {ours_from} (--ours-from)"),
        f"- Machine: `{' '.join(platform.uname())}`; {os.cpu_count()} CPUs",
        f"- Python {platform.python_version()} ({python_packages})",
        f"- Node {node}; {OFFICIAL} {OFFICIAL_VERSION} (@modelcontextprotocol/sdk "
        f"{node_package_version(package, '@modelcontextprotocol/sdk')}, @vapi-ai/server-sdk "
        f"{node_package_version(package, '@vapi-ai/server-sdk')})",
    ]


def report(pair: tuple[Side, Side], raw_ms: dict[str, list[float]], http: list[str], call: dict[str, Any], args: argparse.Namespace, package: Path) -> str:
    ours, theirs = pair
    transcript = len((call["artifact"]["transcript"]).encode())
    to_list = {c: [statistics.median(s.listed_ms[c]) for s in pair] for c in CLIENTS}
    ready = {c: [statistics.median(s.ready_ms[c]) for s in pair] for c in CLIENTS}
    first = {c: statistics.median(ours.first_ms[c]) for c in CLIENTS}
    plain = {c: statistics.median(ours.plain_ms[c]) for c in CLIENTS}
    tool_bytes = [compact_bytes(s.tools) for s in pair]
    get_bytes = [len(s.texts["get_call"].encode()) for s in pair]
    list_bytes = [len(s.texts["list_calls"].encode()) for s in pair]
    listed = [rows_in(s.texts["list_calls"]) for s in pair]
    carried = [carries(s.texts["get_call"], call) for s in pair]
    stats = {op: [(pct(s.latency[op], 0.5), pct(s.latency[op], 0.95)) for s in pair] for op in ("get_call", "list_calls")}
    raw = {op: (pct(raw_ms[op], 0.5), pct(raw_ms[op], 0.95)) for op in raw_ms}
    overhead = {op: [stats[op][i][0] - raw[op][0] for i in range(2)] for op in stats}

    def row(name: str, a: Any, b: Any, r: str = "") -> str:
        return f"| {name} | {a} | {b} | {r} |"

    lines = [
        "# Benchmark: vapi-mcp vs the official Vapi MCP server",
        "",
        f"Generated by `python bench/run.py --rounds {args.rounds} --calls {args.calls} --seconds {args.seconds:g} --connections {args.connections}`; "
        "both servers over stdio against the same loopback sandbox (`vapi-mcp sandbox --seed bench`), "
        "measured interleaved. Start-up replays the opening messages Claude Code and the SDK client really send "
        "(bench/handshakes/, recorded with bench/record.py), including their fallback to `initialize` when a server "
        "refuses `server/discover` (the official one does: `legacy` below); the per-call measures use a plain "
        f"`{PROTOCOL}` initialize session. Tokens are estimated as bytes/4 (no tokenizer package is installed). "
        "Ratios are ours/theirs: below 1.00x means ours is smaller or faster.",
        "",
        *versions(package, args.ours_from.resolve()),
        "",
        f"| Measure | {ours.label} | {theirs.label} | ratio |",
        "|---|---|---|---|",
        *(
            line
            for c, name in CLIENTS.items()
            for line in (
                row(f"**{name}** opening ({' / '.join(s.eras[c] for s in pair)}): spawn → tools/list, median of {args.rounds} (ms)", f"{to_list[c][0]:.0f}", f"{to_list[c][1]:.0f}", ratio(*to_list[c])),
                row("… min–max (ms)", *(f"{min(s.listed_ms[c]):.0f}–{max(s.listed_ms[c]):.0f}" for s in pair)),
                row("… first start after an install or upgrade (empty start-up cache) (ms)", f"{first[c]:.0f}", "(no cache)", ratio(first[c], to_list[c][1])),
                row("… with the fast start off (`VAPI_MCP_FAST_START=0`) (ms)", f"{plain[c]:.0f}", "", ratio(plain[c], to_list[c][1])),
                row("… spawn → first get_call answered (ms)", f"{ready[c][0]:.0f}", f"{ready[c][1]:.0f}", ratio(*ready[c])),
            )
        ),
        row("tools", len(ours.tools), len(theirs.tools), ratio(len(ours.tools), len(theirs.tools))),
        row("tools/list `tools` bytes (compact JSON)", *tool_bytes, ratio(*tool_bytes)),
        row("tools/list tokens (bytes/4)", *(b // 4 for b in tool_bytes), ratio(*tool_bytes)),
        row("tools/list bytes per tool", *(b // max(1, len(s.tools)) for b, s in zip(tool_bytes, pair))),
        row("get_call result bytes (20-turn call)", *get_bytes, ratio(*get_bytes)),
        row("… carries transcript / summary / recordings / cost", *(" / ".join("yes" if v else "no" for v in c.values()) for c in carried)),
        row(f"list_calls result bytes ({LIST_LIMIT} calls)", *list_bytes, ratio(*list_bytes)),
        row("list_calls bytes per call", *(b // max(1, n) for b, n in zip(list_bytes, listed))),
        *(row(f"{op} whole JSON-RPC response line (bytes)", *(s.wire[op] for s in pair), ratio(*(s.wire[op] for s in pair))) for op in ("get_call", "list_calls")),
        *(
            row(f"{op} latency p50 / p95 (ms, {args.calls} calls)", *(f"{p50:.2f} / {p95:.2f}" for p50, p95 in stats[op]), ratio(stats[op][0][0], stats[op][1][0]))
            for op in stats
        ),
        *(row(f"raw backend {('GET /call/{id}' if op == 'get_call' else f'GET /call?limit={LIST_LIMIT}')} p50 / p95 (ms)", f"{raw[op][0]:.2f} / {raw[op][1]:.2f}", "same backend") for op in raw),
        *(row(f"{op} overhead over raw, p50 (ms)", f"{overhead[op][0]:.2f}", f"{overhead[op][1]:.2f}", ratio(*overhead[op])) for op in overhead),
        "",
        f"The 20-turn call's transcript (`artifact.transcript`) is {transcript} bytes; the backend's whole call object is {compact_bytes(call)} bytes. "
        "Result bytes are the text content a model reads; the response line also counts the JSON-RPC envelope (no `structuredContent`: a result is sent once).",
        "",
        *http,
        "## Targets (ratios to the official server in this run)",
        "",
        *(
            f"- {name}: spawn to tools/list ≤ 1.0x: {ratio(*to_list[c])} — {verdict(to_list[c][0] <= to_list[c][1])}; "
            f"the 2.0x bound: {verdict(to_list[c][0] <= 2 * to_list[c][1])}. The first start after an install is "
            f"{ratio(first[c], to_list[c][1])}, a start with the fast start off {ratio(plain[c], to_list[c][1])}, and the first tool "
            f"result comes {ratio(*ready[c])} as late as the official's"
            for c, name in CLIENTS.items()
        ),
        f"- tools/list bytes ≤ 1.0x with at least twice the tools: {ratio(*tool_bytes)} with {len(ours.tools)} vs {len(theirs.tools)} tools — "
        + verdict(tool_bytes[0] <= tool_bytes[1] and len(ours.tools) >= 2 * len(theirs.tools)),
        f"- get_call carries transcript, summary, recordings and cost within 1.3 × transcript + 1 KB "
        f"({1.3 * transcript + 1024:.0f} bytes): {get_bytes[0]} bytes, carries {', '.join(k for k, v in carried[0].items() if v) or 'nothing'} — "
        + verdict(all(carried[0].values()) and get_bytes[0] <= 1.3 * transcript + 1024),
        f"- list_calls ≤ 300 bytes per call: {list_bytes[0] // max(1, listed[0])} — " + verdict(list_bytes[0] <= 300 * listed[0]),
        *(
            f"- {op} overhead over the raw backend ≤ the official's: {overhead[op][0]:.2f} ms vs {overhead[op][1]:.2f} ms — "
            + verdict(overhead[op][0] <= overhead[op][1])
            for op in overhead
        ),
        "",
    ]
    return "\n".join(lines)


# ---- the run --------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> str:
    package = install_official()
    backend_port = free_port()
    backend = f"http://{HOST}:{backend_port}"
    sandbox = start_background(
        [sys.executable, "-m", "vapi_mcp", "sandbox", "--port", str(backend_port), "--seed", "bench", "--world", "memory"], base_env(), "sandbox.log"
    )
    try:
        async with httpx.AsyncClient(base_url=backend, headers={"Authorization": f"Bearer {KEY}"}, timeout=STEP_TIMEOUT) as raw:
            await wait_until(lambda: _ok(raw.get("/call", params={"limit": 1})), sandbox, "sandbox")
            call = (await raw.get(f"/call/{RICH_CALL_ID}")).json()
            pair = sides(backend, package, args.ours_from.resolve())
            await startups(pair, args.rounds)
            raw_ms = await per_call(pair, raw, args.calls)
        import throughput  # bench/throughput.py: wrk against our HTTP transport (1 and 2 workers) and the raw backend

        http = throughput.section(throughput.measure(backend, args.seconds, args.connections))
    finally:
        stop(sandbox)
    return report(pair, raw_ms, http, call, args, package)


async def _ok(response: Awaitable[httpx.Response]) -> bool:
    return (await response).status_code == 200


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="cold starts per server, interleaved (default 10)")
    parser.add_argument("--calls", type=int, default=100, help="timed calls per tool per server (default 100)")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each wrk run of the HTTP throughput (default 5)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent HTTP clients for the throughput (default 32)")
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md", help="where to write the table")
    parser.add_argument("--ours-from", type=Path, default=ROOT, help="run vapi-mcp from this folder (an older checkout, to compare)")
    args = parser.parse_args()
    text = asyncio.run(main(args))
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    cli()
