"""Browser pages on other origins (CORS): the origins the user allows connect, no other page does, and the
Host check (DNS rebinding) and the Origin check stay. Real uvicorn on loopback; a real Chromium for the browser."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2 as httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.cdp import Page, chromium
from tests.http_kit import MODERN, tools_call
from tests.loopback import on_loopback, serving
from vapi_mcp.cli import main
from vapi_mcp.config import ConfigError, Settings
from vapi_mcp.sandbox import Sandbox

TOKEN = "test-auth-token-5b1f-9c2e"
APP = "https://app.example.com"
"""A browser host's origin, off this machine (the Host check alone would refuse it as an Origin)."""
MCP_HEADERS = "authorization, content-type, mcp-protocol-version, mcp-method, mcp-name, mcp-session-id, last-event-id, x-vapi-key"
"""What MCP clients put in a preflight's Access-Control-Request-Headers (the official TypeScript client's, and ours)."""


def with_origins(settings: Settings, *origins: str) -> Settings:
    return dataclasses.replace(settings, allowed_origins=origins)


async def preflight(base: str, origin: str, method: str = "POST", headers: str = MCP_HEADERS, host: str | None = None) -> httpx.Response:
    sent = {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.options(f"{base}/mcp", headers={**sent, **({"Host": host} if host else {})})


# The setting


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://App.Example.com", ("https://app.example.com",)),
        ("https://app.example.com:443/, http://127.0.0.1:5173", ("https://app.example.com", "http://127.0.0.1:5173")),
        ("http://[::1]:8080;http://localhost:80", ("http://[::1]:8080", "http://localhost")),
        ("", ()),
    ],
)
def test_allowed_origins_are_kept_as_browsers_send_them(given: str, kept: tuple[str, ...]) -> None:
    assert Settings.load({"VAPI_MCP_ALLOWED_ORIGINS": given}).allowed_origins == kept


@pytest.mark.parametrize(
    ("given", "rule"),
    [
        ("*", "a wildcard would let any web page"),
        ("https://app.example.com,*", "a wildcard"),
        ("null", "null is the origin of any sandboxed or local page"),
        ("app.example.com", "scheme://host[:port] with http or https"),
        ("https://app.example.com/mcp", "no path"),
        ("https://user@app.example.com", "scheme://host[:port]"),
        ("ftp://app.example.com", "http or https"),
        ("https://app.example.com:99999", "is not an origin"),
    ],
)
def test_an_origin_that_is_not_one_is_refused_naming_the_setting(given: str, rule: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.load({"VAPI_MCP_ALLOWED_ORIGINS": given})
    assert "--allowed-origins / VAPI_MCP_ALLOWED_ORIGINS" in str(refused.value) and rule in str(refused.value)


def test_a_wildcard_flag_stops_the_start(capsys: pytest.CaptureFixture[str], never_serves: None) -> None:
    assert main(["serve", "--transport", "http", "--port", "0", "--allowed-origins", "*"]) == 2
    assert "--allowed-origins / VAPI_MCP_ALLOWED_ORIGINS: '*' is not an origin" in capsys.readouterr().err


# Preflights, as a browser sends them


async def test_a_preflight_from_an_allowed_origin_gets_what_mcp_clients_send(settings: Settings, sandbox: Sandbox) -> None:
    async with serving("--transport", "http", "--auth-token", TOKEN, settings=with_origins(settings, APP), sandbox=sandbox) as base:
        for method in ("POST", "GET", "DELETE"):
            answer = await preflight(base, APP, method, MCP_HEADERS + ", mcp-param-region")  # no token: a browser never sends one here
            assert answer.status_code == 204, answer.text
            assert answer.headers["access-control-allow-origin"] == APP
            assert {m.strip() for m in answer.headers["access-control-allow-methods"].split(",")} == {"GET", "POST", "DELETE"}
            allowed = {h.strip() for h in answer.headers["access-control-allow-headers"].split(",")}
            assert allowed == {h.strip() for h in MCP_HEADERS.split(",")} | {"mcp-param-region"}
            assert "access-control-allow-credentials" not in answer.headers and "Origin" in answer.headers["vary"]
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("origin", "method", "headers", "named"),
    [
        ("http://localhost:6274", "POST", MCP_HEADERS, "add it to --allowed-origins (VAPI_MCP_ALLOWED_ORIGINS)"),  # loopback, but not listed
        ("https://app.example.com:8443", "POST", MCP_HEADERS, "--allowed-origins"),  # another port is another origin
        ("http://app.example.com", "POST", MCP_HEADERS, "--allowed-origins"),  # another scheme too
        (APP, "PUT", MCP_HEADERS, "Method 'PUT' is not served here"),
        (APP, "POST", "content-type, x-forwarded-for", "Request header 'x-forwarded-for' is not accepted"),
    ],
)
async def test_any_other_preflight_is_refused_with_the_reason(settings: Settings, sandbox: Sandbox, origin: str, method: str, headers: str, named: str) -> None:
    async with serving("--transport", "http", settings=with_origins(settings, APP), sandbox=sandbox) as base:
        refused = await preflight(base, origin, method, headers)
    assert refused.status_code == 403 and named in refused.json()["message"], refused.text
    assert not any(name.startswith("access-control-") for name in refused.headers)


async def test_with_no_allowed_origin_no_page_gets_a_preflight_through(settings: Settings, sandbox: Sandbox) -> None:
    """The default: no browser page on another origin can call the server (the page's own is a same-origin request)."""
    async with serving("--transport", "http", settings=settings, sandbox=sandbox) as base:
        for origin in ("http://localhost:6274", APP, base):
            refused = await preflight(base, origin)
            assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers


async def test_the_host_check_stays_for_allowed_origins(settings: Settings, sandbox: Sandbox) -> None:
    """DNS rebinding: an allowed origin does not make an unknown Host name acceptable, for a preflight or a request."""
    async with serving("--transport", "http", "--stateless", settings=with_origins(settings, APP), sandbox=sandbox) as base:
        assert (await preflight(base, APP, host="attacker.example")).status_code == 421
        body, headers = tools_call(MODERN, "list_calls", {"limit": 1})
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.post(f"{base}/mcp", json=body, headers={**headers, "Origin": APP, "Host": "attacker.example"})
    assert answer.status_code == 421 and "access-control-allow-origin" not in answer.headers
    assert sandbox.requests == []


async def test_requests_from_an_allowed_origin_carry_cors_and_others_do_not(settings: Settings, sandbox: Sandbox) -> None:
    body, headers = tools_call(MODERN, "list_calls", {"limit": 1})
    async with serving("--transport", "http", "--stateless", "--auth-token", TOKEN, settings=with_origins(settings, APP), sandbox=sandbox) as base:
        async with httpx.AsyncClient(timeout=10) as http:
            post = lambda origin, token=TOKEN: http.post(  # noqa: E731
                f"{base}/mcp", json=body, headers={**headers, "Origin": origin, "Authorization": f"Bearer {token}"}
            )
            served = await post(APP)
            unauthorized = await post(APP, "wrong-token-wrong-token")
            unlisted = await post("http://localhost:6274")  # loopback: the Origin check lets it through, without CORS
            foreign = await post("https://attacker.example")
    assert served.status_code == 200 and not served.json()["result"]["isError"]
    assert served.headers["access-control-allow-origin"] == APP
    assert "Mcp-Session-Id" in served.headers["access-control-expose-headers"]
    assert unauthorized.status_code == 401 and unauthorized.headers["access-control-allow-origin"] == APP  # the page can read why
    assert "WWW-Authenticate" in unauthorized.headers["access-control-expose-headers"]
    assert unlisted.status_code == 200 and "access-control-allow-origin" not in unlisted.headers
    assert foreign.status_code == 403 and "--allowed-origins" in foreign.json()["message"]
    assert len(sandbox.requests_to("GET", "/call")) == 2  # served, and the unlisted loopback page (whose answer its browser keeps from it)


# A real browser page on another loopback origin

PAGE = "<!doctype html><html><head><title>a browser-based MCP host</title></head><body></body></html>"


async def post_from_page(page: Page, url: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    """fetch() in the page: the status, the headers the page may read, the body; or the error fetch() threw."""
    script = f"""fetch({json.dumps(url)}, {{method: "POST", headers: {json.dumps(headers)}, body: {json.dumps(json.dumps(body))}}})
        .then(async (r) => ({{status: r.status, headers: Object.fromEntries(r.headers.entries()), text: await r.text()}}),
              (e) => ({{error: String(e)}}))"""
    return await page.evaluate(script)


@asynccontextmanager
async def page_on_its_own_origin() -> AsyncIterator[tuple[Page, str]]:
    """A Chromium page served on a loopback origin of its own: (the page, its origin)."""
    async with on_loopback(Starlette(routes=[Route("/", lambda _: HTMLResponse(PAGE))])) as origin, chromium() as browser:
        page = await browser.open(f"{origin}/")
        await page.wait_for(lambda: page.evaluate("document.readyState === 'complete' && location.href !== 'about:blank'"), "the page to load")
        yield page, origin


async def test_a_page_on_an_allowed_origin_connects_and_one_on_another_cannot(settings: Settings, sandbox: Sandbox) -> None:
    body, headers = tools_call(MODERN, "list_calls", {"limit": 1})
    headers = {**headers, "Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    async with page_on_its_own_origin() as (page, origin):
        async with serving("--transport", "http", "--stateless", "--auth-token", TOKEN, settings=with_origins(settings, origin), sandbox=sandbox) as base:
            allowed = await post_from_page(page, f"{base}/mcp", headers, body)
        async with serving("--transport", "http", "--stateless", "--auth-token", TOKEN, settings=settings, sandbox=sandbox) as base:
            refused = await post_from_page(page, f"{base}/mcp", headers, body)
    assert allowed.get("status") == 200, allowed
    assert json.loads(json.loads(allowed["text"])["result"]["content"][0]["text"])["sandbox"] is True
    assert refused == {"error": "TypeError: Failed to fetch"}  # the preflight was refused: the request never left the browser
    assert len(sandbox.requests_to("GET", "/call")) == 1


async def test_a_page_reads_its_session_id_and_keeps_its_session(settings: Settings, sandbox: Sandbox) -> None:
    """Streamable HTTP with sessions: the page must read `Mcp-Session-Id` (exposed) to send it back."""
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "page", "version": "1"}}}
    base_headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    async with page_on_its_own_origin() as (page, origin):
        async with serving("--transport", "http", settings=with_origins(settings, origin), sandbox=sandbox) as base:
            opened = await post_from_page(page, f"{base}/mcp", base_headers, initialize)
            session = {**base_headers, "Mcp-Session-Id": opened["headers"].get("mcp-session-id", ""), "MCP-Protocol-Version": "2025-06-18"}
            await post_from_page(page, f"{base}/mcp", session, {"jsonrpc": "2.0", "method": "notifications/initialized"})
            listed = await post_from_page(page, f"{base}/mcp", session, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert opened["status"] == 200 and opened["headers"]["mcp-session-id"], opened
    assert listed["status"] == 200, listed
    text = listed["text"]
    message = json.loads(text if text.startswith("{") else next(line[5:] for line in text.splitlines() if line.startswith("data:")))
    assert "list_calls" in {tool["name"] for tool in message["result"]["tools"]}
