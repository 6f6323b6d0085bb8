"""An MCP Apps web host built on the official SDK (`@modelcontextprotocol/ext-apps`' AppBridge), for the view's tests.

`tests/mcp_apps_host/` holds the recipe: `host.js` (the host, as the SDK's basic-host example is built),
`host.html`, `sandbox.html` (the sandbox proxy) and the npm packages it needs, pinned (`package.json`,
`package-lock.json`). The host is bundled at test time with esbuild from the npm registry into a folder of the
machine's temporary directory, once per content of the recipe; nothing built is kept in the repository.
The host page and the sandbox proxy are served from two loopback origins, the proxy with the spec's default
CSP as an HTTP header.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Route

from tests.cdp import unavailable
from tests.loopback import on_loopback

RECIPE = Path(__file__).with_name("mcp_apps_host")
BUILT_FROM = ("package.json", "package-lock.json", "host.js")
SPEC_DEFAULT_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "media-src 'self' data:; connect-src 'none'; frame-src 'none'; object-src 'none'; base-uri 'self'"
)
"""MCP Apps 2026-01-26: what a host must apply to a view that declares no `ui.csp` (ours declares none), with the
sandbox's `frame-src`, `object-src` and `base-uri` defaults."""


def host_bundle() -> Path:
    """host.js and the official SDK in one browser script, built once per recipe (npm ci, then esbuild)."""
    digest = hashlib.sha256(b"".join((RECIPE / name).read_bytes() for name in BUILT_FROM)).hexdigest()[:16]
    bundle = Path(tempfile.gettempdir()) / f"vapi-mcp-apps-host-{digest}" / "bundle.js"
    if bundle.exists():
        return bundle
    npm = shutil.which("npm")
    if npm is None:
        unavailable("no npm on PATH (Debian: apt-get install nodejs npm): the official MCP Apps host is bundled from the npm registry")
    work = Path(tempfile.mkdtemp(prefix="vapi-mcp-apps-host-build-"))
    try:
        for name in BUILT_FROM:
            shutil.copy(RECIPE / name, work / name)
        steps = (
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            [str(work / "node_modules" / ".bin" / "esbuild"), "host.js", "--bundle", "--format=iife", "--platform=browser", "--outfile=bundle.js", "--log-level=warning"],
        )
        for step in steps:
            done = subprocess.run(step, cwd=work, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                unavailable(f"building the MCP Apps test host failed ({' '.join(step[:2])}): {(done.stderr or done.stdout)[-800:]}")
        bundle.parent.mkdir(parents=True, exist_ok=True)
        partial = bundle.with_name(f"bundle.{os.getpid()}.tmp")
        shutil.copy(work / "bundle.js", partial)
        os.replace(partial, bundle)  # another test run building at the same time finds a whole file or none
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return bundle


@dataclass(frozen=True)
class BridgeHost:
    """Where the test host is served."""

    page: str
    """The host page (http://127.0.0.1:<port>/)."""
    origin: str
    """The host page's origin: the MCP server must allow it (CORS)."""
    sandbox: str
    """The sandbox proxy, on another origin (http://localhost:<port>/sandbox.html)."""


@asynccontextmanager
async def bridge_host() -> AsyncIterator[BridgeHost]:
    """The host page and its sandbox proxy, each served on a loopback origin of its own."""
    bundle = host_bundle()
    host_app = Starlette(routes=[
        Route("/", lambda _: FileResponse(RECIPE / "host.html")),
        Route("/bundle.js", lambda _: FileResponse(bundle, media_type="text/javascript")),
    ])
    sandbox_app = Starlette(routes=[
        Route("/sandbox.html", lambda _: FileResponse(RECIPE / "sandbox.html", headers={"Content-Security-Policy": SPEC_DEFAULT_CSP, "Cache-Control": "no-store"})),
    ])
    async with on_loopback(host_app) as host, on_loopback(sandbox_app) as sandbox:
        port = sandbox.rsplit(":", 1)[1]
        yield BridgeHost(page=f"{host}/", origin=host, sandbox=f"http://localhost:{port}/sandbox.html")
