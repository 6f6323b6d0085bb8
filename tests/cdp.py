"""Headless Chromium driven over the DevTools protocol: just what the MCP Apps view tests need.

Real mouse events (`Input.dispatchMouseEvent`) at an element's box; the view's sandboxed
iframe is read through its own target when Chromium runs it out of process, else through an
isolated world in the page's process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from tests.loopback import stop

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
)


def unavailable(reason: str) -> None:
    """Skip with the reason; in CI (env CI set) fail instead: the view must be tested there."""
    if os.environ.get("CI"):
        pytest.fail(f"chromium is required in CI: {reason}")
    pytest.skip(reason)


@asynccontextmanager
async def chromium(*flags: str) -> AsyncIterator[Browser]:
    """A headless Chromium on a private profile (with `flags` added), and a DevTools connection to it."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        unavailable("no chromium on PATH (Debian: apt-get install chromium)")
    import websockets

    profile = tempfile.mkdtemp(prefix="vapi-mcp-chromium-")
    process = subprocess.Popen([executable, *FLAGS, *flags, f"--user-data-dir={profile}", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        port_file = Path(profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                error = process.stderr.read().decode(errors="replace")[-600:] if process.stderr else ""
                unavailable(f"chromium did not start (exit {process.poll()}): {error.strip() or 'no output'}")
            await asyncio.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        async with websockets.connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as socket:
            browser = Browser(socket)
            reader = asyncio.create_task(browser.read())
            try:
                yield browser
            finally:
                reader.cancel()
    finally:
        stop(process)
        shutil.rmtree(profile, ignore_errors=True)


class Browser:
    """DevTools commands over one websocket; responses matched by id; iframe targets remembered."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.frame_sessions: dict[str, str] = {}
        """Out-of-process iframes (Chromium isolates sandboxed frames): frame id to session id."""

    async def read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            method, params = message.get("method"), message.get("params") or {}
            if method == "Target.attachedToTarget" and params["targetInfo"]["type"] == "iframe":
                self.frame_sessions[params["targetInfo"]["targetId"]] = params["sessionId"]
            elif method == "Target.detachedFromTarget":
                self.frame_sessions = {f: s for f, s in self.frame_sessions.items() if s != params.get("sessionId")}
            future = self.waiting.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result(message)

    async def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        command_id = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[command_id] = future
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self.socket.send(json.dumps(message))
        answer = await asyncio.wait_for(future, 30)
        if "error" in answer:
            raise CommandFailed(method, answer["error"])
        return answer["result"]

    async def open(self, url: str, *, nested: bool = False) -> Page:
        """A new tab at `url`; `nested` when the view is a frame inside the page's frame (a host's sandbox proxy)."""
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        session = (await self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}))["sessionId"]
        await self.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": True}, session)
        await self.send("Page.navigate", {"url": url}, session)
        return Page(self, session, nested=nested)


class CommandFailed(Exception):
    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('message')}")


class Page:
    """The host page, and the view in its one iframe (or, `nested`, in the one iframe of that frame)."""

    def __init__(self, browser: Browser, session: str, *, nested: bool = False) -> None:
        self.browser = browser
        self.session = session
        self.window = "(document.querySelector('iframe') || {}).contentWindow" if nested else "window"
        """The view's window, as the page's frame sees it: a sandbox proxy's inner frame is of the proxy's own origin."""

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.send(method, params, self.session)

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of `expression` in the host page."""
        answer = await self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in answer:
            raise AssertionError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def in_view(self, expression: str) -> Any:
        """The JSON value of `expression` in the view's frame; None while there is no view to ask."""
        params: dict[str, Any] = {"expression": expression, "returnByValue": True}
        try:
            if self.browser.frame_sessions:  # out of process: the frame is a target of its own
                session = list(self.browser.frame_sessions.values())[-1]
                answer = await self.browser.send("Runtime.evaluate", params, session)
            else:  # in process: a world of our own in the page's child frame
                children = (await self.send("Page.getFrameTree"))["frameTree"].get("childFrames") or []
                if not children:
                    return None
                world = await self.send("Page.createIsolatedWorld", {"frameId": children[0]["frame"]["id"], "worldName": "test"})
                answer = await self.send("Runtime.evaluate", {**params, "contextId": world["executionContextId"]})
        except CommandFailed:  # the frame navigated meanwhile (the view is still loading)
            return None
        return None if "exceptionDetails" in answer else answer["result"].get("value")

    async def in_document(self, body: str) -> Any:
        """The JSON value of `body`, an expression over the view's `win` and `doc`; None while there is no view."""
        return await self.in_view(f"(() => {{ const win = {self.window}; if (!win || !win.document) return null; const doc = win.document; return ({body}); }})()")

    async def text(self, selector: str) -> str:
        return await self.in_document(f"(doc.querySelector({json.dumps(selector)}) || {{}}).textContent || ''") or ""

    async def count(self, selector: str) -> int:
        return await self.in_document(f"doc.querySelectorAll({json.dumps(selector)}).length") or 0

    async def box(self, selector: str) -> dict[str, float] | None:
        """`selector`'s box on the page (x, y, width, height), or None when it is absent or not rendered (hidden)."""
        inner = await self.in_document(
            f"(() => {{ const e = doc.querySelector({json.dumps(selector)}); if (!e) return null; const r = e.getBoundingClientRect();"
            " if (!r.width || !r.height) return null; const f = win.frameElement && win !== window ? win.frameElement : null;"
            " const o = f ? f.getBoundingClientRect() : {x: 0, y: 0}; const dx = f ? o.x + f.clientLeft : 0, dy = f ? o.y + f.clientTop : 0;"
            " return {x: r.x + dx, y: r.y + dy, width: r.width, height: r.height}; })()"
        )
        if not inner:
            return None
        frame = await self.evaluate("(() => { const f = document.querySelector('iframe'); const r = f.getBoundingClientRect(); return [r.x + f.clientLeft, r.y + f.clientTop]; })()")
        return {**inner, "x": frame[0] + inner["x"], "y": frame[1] + inner["y"]}

    async def box_center(self, selector: str) -> tuple[float, float] | None:
        """Where `selector`'s center is on the page, or None when it is absent or not rendered (hidden)."""
        box = await self.box(selector)
        return (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2) if box else None

    async def click(self, x: float, y: float, count: int = 1) -> None:
        """`count` real left clicks at (x, y): a double click is pressed and released twice."""
        for n in range(1, count + 1):
            for kind in ("mousePressed", "mouseReleased"):
                await self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": n})

    async def wait_for(self, check: Any, what: str, timeout: float = 20) -> Any:
        """Poll the async `check()` until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while True:
            value = await check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)
