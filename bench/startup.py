"""Where vapi-mcp's start-up and per-call time go: `python bench/startup.py [--runs 7]`.

Prints (1) the median of each start-up phase, timed inside a fresh interpreter per run,
(2) `python -X importtime` self time per top-level package for a real start (spawn,
initialize, tools/list over stdio), biggest first, and (3) the median latency of one
get_call at each layer, in process, against a seeded loopback sandbox. The findings are
in STARTUP.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import time
from collections import Counter

import httpx2 as httpx
from run import (
    HOST,
    KEY,
    RICH_CALL_ID,
    ROOT,
    WORK,
    StdioServer,
    _ok,
    base_env,
    free_port,
    start_background,
    stop,
    wait_until,
)

PHASES = """
import time, json, asyncio
marks = [time.perf_counter()]
import mcp.server.mcpserver
marks.append(time.perf_counter())
import phonenumbers
marks.append(time.perf_counter())
import vapi_mcp.server as server
marks.append(time.perf_counter())
from vapi_mcp.config import Settings
mcp, _ = server.build_server(Settings.load({"VAPI_API_KEY": "x"}))
marks.append(time.perf_counter())
asyncio.run(mcp.list_tools())
marks.append(time.perf_counter())
print(json.dumps([(b - a) * 1000 for a, b in zip(marks, marks[1:])]))
"""
PHASE_NAMES = (
    "import mcp.server.mcpserver (the SDK, with mcp_types, pydantic, anyio, starlette, uvicorn)",
    "import phonenumbers (pulled in by vapi_mcp.guard)",
    "import vapi_mcp.server (our modules: tool Args models, guard, client)",
    "build_server (29 input schemas generated, MCPServer built)",
    "tools/list (the SDK serialises the cached tools)",
)
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def phases(runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PHASES], capture_output=True, text=True, check=True, cwd=ROOT).stdout
        samples.append(json.loads(out.strip().splitlines()[-1]))
    return [statistics.median(column) for column in zip(*samples)]


async def real_start_imports() -> Counter[str]:
    """Self import time (µs) per top-level package during spawn → initialize → tools/list."""
    log = WORK / "ours.stderr.log"
    log.unlink(missing_ok=True)
    env = base_env(VAPI_API_KEY=KEY, VAPI_BASE_URL="http://127.0.0.1:9", VAPI_MCP_AUDIT_LOG=str(WORK / "audit.jsonl"))
    server = StdioServer("ours", [sys.executable, "-X", "importtime", "-m", "vapi_mcp", "serve"], env, ROOT)
    await server.start()
    await server.handshake()
    await server.close()
    totals: Counter[str] = Counter()
    for line in log.read_text().splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            totals[match[4].split(".")[0]] += int(match[1])
    return totals


async def layers(samples: int = 300) -> dict[str, float]:
    """Median ms of one get_call: raw HTTP, VapiClient, App.invoke, and the SDK (in-memory client)."""
    from mcp import Client

    from vapi_mcp.client import VapiClient
    from vapi_mcp.config import Settings
    from vapi_mcp.server import build_server, tool_specs

    port = free_port()
    backend = f"http://{HOST}:{port}"
    sandbox = start_background([sys.executable, "-m", "vapi_mcp", "sandbox", "--port", str(port), "--seed", "bench", "--world", "memory"], base_env(), "sandbox.log")
    settings = Settings.load({"VAPI_API_KEY": KEY, "VAPI_BASE_URL": backend, "VAPI_MCP_AUDIT_LOG": str(WORK / "audit.jsonl")})
    server, app = build_server(settings)
    spec = next(s for s in tool_specs() if s.name == "get_call")
    path = f"/call/{RICH_CALL_ID}"
    try:
        async with httpx.AsyncClient(base_url=backend, headers={"Authorization": f"Bearer {KEY}"}) as raw, Client(server, mode="legacy") as client:
            await wait_until(lambda: _ok(raw.get(path)), sandbox, "sandbox")
            vapi = VapiClient(base_url=backend, api_key=KEY)
            steps = {
                "raw httpx2 GET /call/{id}": lambda: raw.get(path),
                "VapiClient.get (retry loop, fail_after)": lambda: vapi.get(path),
                "App.invoke (validation, call_view, JSON text + structuredContent)": lambda: app.invoke(spec, {"id": RICH_CALL_ID}, None),
                "SDK Client → MCPServer in memory (both sides' dispatch)": lambda: client.call_tool("get_call", {"id": RICH_CALL_ID}),
            }
            times: dict[str, list[float]] = {name: [] for name in steps}
            for i in range(samples + 20):
                for name, step in steps.items():
                    began = time.perf_counter()
                    await step()
                    if i >= 20:
                        times[name].append((time.perf_counter() - began) * 1000)
            await vapi.aclose()
    finally:
        await app.aclose()
        stop(sandbox)
    return {name: statistics.median(ms) for name, ms in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    medians = phases(args.runs)
    print(f"Start-up phases, median of {args.runs} fresh interpreters (ms):")
    for name, ms in zip(PHASE_NAMES, medians):
        print(f"  {ms:7.1f}  {name}")
    print(f"  {sum(medians):7.1f}  total after interpreter start")
    totals = asyncio.run(real_start_imports())
    print(f"\nReal start under -X importtime: self time per package (ms; importtime inflates it), total {sum(totals.values()) / 1000:.0f}:")
    for package, micros in totals.most_common(15):
        print(f"  {micros / 1000:7.1f}  {package}")
    print("\nOne get_call at each layer, in process, median of 300 (ms):")
    for name, ms in asyncio.run(layers()).items():
        print(f"  {ms:7.2f}  {name}")


if __name__ == "__main__":
    WORK.mkdir(parents=True, exist_ok=True)
    main()
