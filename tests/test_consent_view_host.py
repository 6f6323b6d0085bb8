"""The confirmation view in a web host built on the official MCP Apps SDK, in a real headless Chromium.

The host (tests/apps_host_kit.py, bundled from npm at test time) is built as the SDK's basic-host example
is: the official MCP client reaches this server over streamable HTTP from the host page's origin (allowed
by CORS), the official AppBridge renders the view inside a sandbox proxy on another origin, served with the
spec's default CSP as an HTTP header, in a frame 600 px wide and 150 px high to start with. Clicks are real
mouse events (tests/cdp.py); the Vapi behind the server is the sandbox, which records every request.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.apps_host_kit import bridge_host
from tests.cdp import Page, chromium
from tests.guard_kit import add_number, audit_lines
from tests.loopback import serving
from tests.testing_kit import add_assistant
from vapi_mcp.config import Settings
from vapi_mcp.guard.app import APP_MIME_TYPE, APPROVE_TOOL, DECLINE_TOOL
from vapi_mcp.sandbox import ManualClock, Sandbox

CALLEE = "+14155550123"
FRAME_WIDTH, FIRST_HEIGHT = 600, 150
COLOR_SCHEMES = {"dark": "--blink-settings=preferredColorScheme=0", "light": "--blink-settings=preferredColorScheme=1"}
"""The operating system's colour scheme as Chromium reports it to pages (prefers-color-scheme)."""
HOST_STYLES = {
    "--color-background-primary": "light-dark(rgb(250, 249, 245), rgb(11, 16, 32))",
    "--color-text-primary": "light-dark(rgb(28, 25, 23), rgb(231, 229, 228))",
    "--font-sans": "Georgia, serif",
}
"""A host's style variables (MCP Apps' standard names), with light and dark values as the spec recommends."""
HOST_BACKGROUND = {"light": "rgb(250, 249, 245)", "dark": "rgb(11, 16, 32)"}
HOST_TEXT = {"light": "rgb(28, 25, 23)", "dark": "rgb(231, 229, 228)"}


def host_context(theme: str) -> dict[str, Any]:
    return {
        "theme": theme,
        "styles": {"variables": HOST_STYLES},
        "displayMode": "inline",
        "availableDisplayModes": ["inline"],
        "platform": "web",
        "containerDimensions": {"width": FRAME_WIDTH, "maxHeight": 2000},
    }


@dataclasses.dataclass
class Hosted:
    page: Page
    sandbox: Sandbox

    async def log(self) -> dict[str, Any]:
        return await self.page.evaluate("window.hostLog")

    async def frame(self) -> dict[str, float]:
        """The view's frame (the sandbox proxy's iframe) on the host page."""
        return await self.page.evaluate("(() => { const r = document.getElementById('view').getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })()")

    async def view(self, expression: str) -> Any:
        """An expression over the view's `win` and `doc`."""
        return await self.page.in_document(expression)


@asynccontextmanager
async def hosted(
    settings: Settings, sandbox: Sandbox, clock: ManualClock, tool: str, arguments: dict[str, Any], *, theme: str = "dark", os_scheme: str = "light", cancel: str | None = None
) -> AsyncIterator[Hosted]:
    """The host calls `tool` with `arguments` (or has the call cancelled) and renders the view it names."""
    async with bridge_host() as host:
        allowed = dataclasses.replace(settings, allowed_origins=(host.origin,))
        async with serving("--transport", "http", settings=allowed, sandbox=sandbox, clock=clock) as base, chromium(COLOR_SCHEMES[os_scheme]) as browser:
            page = await browser.open(host.page, nested=True)
            await page.wait_for(lambda: page.evaluate("typeof window.startHost === 'function'"), "the host page to load")
            options = {"server": f"{base}/mcp", "sandbox": host.sandbox, "tool": tool, "arguments": arguments, "hostContext": host_context(theme), "height": FIRST_HEIGHT, "cancel": cancel}
            await page.evaluate(f"window.startHost({json.dumps(options)})")
            hosted = Hosted(page, sandbox)
            log = await hosted.log()
            assert log["stage"] == "shown" and log["errors"] == [], log
            yield hosted


async def question(hosted: Hosted) -> tuple[float, float]:
    """The view shows the question; where its Approve button is."""
    return await hosted.page.wait_for(lambda: hosted.page.box_center("#approve"), "the view to show Approve")


async def outcome(hosted: Hosted) -> str:
    async def settled() -> str:
        text = await hosted.page.text("#outcome")
        return "" if text.endswith("…") else text

    try:
        return await hosted.page.wait_for(settled, "the view to show the outcome", timeout=60)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: the outcome reads {await hosted.page.text('#outcome')!r}; the host saw {await hosted.log()}") from None


async def fits(hosted: Hosted) -> None:
    """Everything the view shows is inside its frame: the host gave the frame the height the view last asked
    for, and then nothing is below the fold or beyond the frame's width, and nothing needs scrolling."""
    measure = "({scrollWidth: doc.documentElement.scrollWidth, scrollHeight: doc.documentElement.scrollHeight, width: win.innerWidth, height: win.innerHeight})"
    last: dict[str, Any] = {}

    async def settled() -> dict[str, Any] | None:
        log, frame, view = await hosted.log(), await hosted.frame(), await hosted.view(measure)
        last.update(sizes=log["sizes"][-3:], frame=frame, view=view)
        asked = log["sizes"][-1]["height"] if log["sizes"] else None
        return frame if view and asked and abs(frame["height"] - asked) < 1 and view["scrollHeight"] <= view["height"] else None

    try:
        frame = await hosted.page.wait_for(settled, "the frame to fit the view")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {last}") from None
    assert last["view"]["scrollWidth"] <= last["view"]["width"] == FRAME_WIDTH, last
    for selector in ("#status", "#question", "#outcome"):
        box = await hosted.page.box(selector)
        if box:
            assert box["x"] >= frame["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 0.5, (selector, box, frame)
            assert box["y"] >= frame["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"] + 0.5, (selector, box, frame)


async def reachable(hosted: Hosted, selector: str) -> tuple[float, float]:
    """The button's center on the page, once the view's own hit test finds that button there (inside the
    frame's viewport, and nothing covers it)."""
    hit = (
        f"(() => {{ const e = doc.querySelector({json.dumps(selector)}); if (!e) return false; const r = e.getBoundingClientRect();"
        " return r.width > 0 && doc.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === e; })()"
    )

    async def found() -> tuple[float, float] | None:
        return await hosted.page.box_center(selector) if await hosted.view(hit) else None

    return await hosted.page.wait_for(found, f"{selector} to be in reach in the view")


async def press(hosted: Hosted, selector: str) -> None:
    """Real double clicks on the button until the view takes the answer (the buttons are disabled then): a click
    Chromium delivers while it still routes input to the frame's previous size may not reach it; any number
    of clicks that do are one answer."""
    async def taken() -> bool:
        return bool(await hosted.view(f"doc.querySelector({json.dumps(selector)}).disabled"))

    for _ in range(10):
        x, y = await reachable(hosted, selector)
        await hosted.page.click(x, y, 2)
        try:
            await hosted.page.wait_for(taken, f"the view to take the {selector} click", timeout=3)
            return
        except AssertionError:
            continue
    raise AssertionError(f"{selector} never took a click")


def a_call(sandbox: Sandbox) -> dict[str, Any]:
    return {"assistantId": add_assistant(sandbox), "phoneNumberId": add_number(sandbox, "twilio"), "customer": {"number": CALLEE}}


APPROVALS = {
    "create_call": (a_call, ("POST", "/call"), rf"Approved: the call to \{CALLEE} was placed \(call id [0-9a-f-]{{36}}\)\."),
    "buy_number": (lambda _: {"provider": "vapi", "numberDesiredAreaCode": "415"}, ("POST", "/phone-number"), r"Approved: the number \+1415\d{7} was bought \(id [0-9a-f-]{36}\)\."),
}


@pytest.mark.parametrize("tool", list(APPROVALS))
async def test_approve_runs_the_action_once_and_says_what_was_done_in_a_sentence(tool: str, settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    arguments, (method, path), sentence = APPROVALS[tool]
    async with hosted(settings, sandbox, clock, tool, arguments(sandbox)) as view:
        await question(view)
        await fits(view)
        await reachable(view, "#approve")
        assert sandbox.requests_to(method, path) == []
        await press(view, "#approve")  # double clicks: still one approval
        said = await outcome(view)
        await fits(view)
        log = await view.log()
    assert re.fullmatch(sentence, said), said
    assert log["toolCalls"] == [APPROVE_TOOL] and log["rejected"] == []
    assert len(sandbox.requests_to(method, path)) == 1
    assert [(line["decision"], line["channel"]) for line in audit_lines(settings)] == [("previewed", None), ("sent", "app")]


async def test_decline_runs_nothing(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    async with hosted(settings, sandbox, clock, "create_call", a_call(sandbox)) as view:
        await question(view)
        await fits(view)
        await press(view, "#decline")
        said = await outcome(view)
        log = await view.log()
    assert said == "Declined. Nothing was sent."
    assert log["toolCalls"] == [DECLINE_TOOL]
    assert sandbox.requests_to("POST", "/call") == []
    assert [(line["decision"], line["channel"]) for line in audit_lines(settings)] == [("previewed", None), ("declined", None)]


async def test_the_view_asks_for_its_height_and_its_buttons_are_in_reach_of_a_small_frame(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    """The host starts the frame 150 px high: the view reports the height it needs (size-changed), the host
    gives it, and Approve and Decline are inside the frame; the handshake is the spec's."""
    async with hosted(settings, sandbox, clock, "create_call", a_call(sandbox)) as view:
        await question(view)
        await fits(view)
        for button in ("#approve", "#decline"):
            await reachable(view, button)
        log = await view.log()
        frame = await view.frame()
        await view.view("(win.fetched = 'pending', win.fetch(win.parent.location.href).then(() => { win.fetched = 'fetched'; }, (e) => { win.fetched = String(e); }), 1)")
        fetched = await view.page.wait_for(lambda: view.view("win.fetched === 'pending' ? null : win.fetched"), "the view's fetch to settle")
    assert log["sizes"] and log["sizes"][-1]["height"] > FIRST_HEIGHT and frame["width"] == FRAME_WIDTH, log["sizes"]
    assert log["appCapabilities"] == {"availableDisplayModes": ["inline"]}
    assert log["appInfo"]["name"] == "vapi-mcp confirmation" and log["resourceMimeType"] == APP_MIME_TYPE
    assert fetched == "TypeError: Failed to fetch"  # connect-src 'none': the view can reach no network, not even its own origin


@pytest.mark.parametrize(("theme", "os_scheme"), [("dark", "light"), ("light", "dark")], ids=["dark host, light OS", "light host, dark OS"])
async def test_the_view_follows_the_hosts_theme_and_styles_not_the_os(theme: str, os_scheme: str, settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    other = "light" if theme == "dark" else "dark"
    look = "(() => { const s = win.getComputedStyle(doc.body); return {background: s.backgroundColor, color: s.color, font: s.fontFamily," \
        " os: win.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'}; })()"
    async with hosted(settings, sandbox, clock, "create_call", a_call(sandbox), theme=theme, os_scheme=os_scheme) as view:
        await question(view)
        first = await view.view(look)
        await view.page.evaluate(f"window.bridge.setHostContext({json.dumps(host_context(other))})")  # the user switches the host's theme
        switched = await view.page.wait_for(
            lambda: view.view(f"(() => {{ const l = {look}; return l.background === {json.dumps(HOST_BACKGROUND[other])} ? l : null; }})()"),
            "the view to follow host-context-changed",
        )
    assert first == {"background": HOST_BACKGROUND[theme], "color": HOST_TEXT[theme], "font": "Georgia, serif", "os": os_scheme}
    assert switched["color"] == HOST_TEXT[other] and switched["os"] == os_scheme


async def test_a_cancelled_tool_call_does_not_leave_the_view_waiting(settings: Settings, sandbox: Sandbox, clock: ManualClock) -> None:
    async with hosted(settings, sandbox, clock, "create_call", a_call(sandbox), cancel="The user stopped the response.") as view:
        status = await view.page.wait_for(lambda: _not_waiting(view), "the view to say the call was cancelled")
        await fits(view)
        buttons = [await view.page.box_center(b) for b in ("#approve", "#decline")]
        log = await view.log()
    assert status == "The tool call was cancelled (The user stopped the response.). Nothing here needs your confirmation."
    assert buttons == [None, None] and log["toolCalls"] == []
    assert sandbox.requests == [] or all(r.method == "GET" for r in sandbox.requests)
    assert audit_lines(settings) == []


async def _not_waiting(view: Hosted) -> str:
    text = await view.page.text("#status")
    return "" if text.startswith("Waiting") else text
