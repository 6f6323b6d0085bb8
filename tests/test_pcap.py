"""get_call's `pcap` part: the SIP packet capture as a resource link with its expiry (for SIP and transfer failures),
from the call's artifact or where `GET /call/{id}/pcap` redirects (handed on, never fetched); and the sandbox's
capture, as the document describes which calls have one (placed from a BYO number: a free Vapi number takes inbound calls only)."""

from __future__ import annotations

import struct
from typing import Any

import httpx2 as httpx
import pytest
from mcp import Client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from tests.guard_kit import NY, add_number
from tests.knowledge_kit import assistant
from tests.mcp_kit import confirmed, result_json, result_text
from vapi_mcp.client import VapiClient
from vapi_mcp.errors import VapiError
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.tools.forensics import PCAP_NONE

PCAP_MAGIC = 0xA1B2C3D4


async def ended_phone_call(client: Client, sandbox: Sandbox, clock: ManualClock, provider: str = "byo-phone-number", **assistant_fields: Any) -> str:
    phone = add_number(sandbox, provider)
    riley = assistant(sandbox, **assistant_fields)
    placed = await confirmed(client, "create_call", {"assistantId": riley, "phoneNumberId": phone, "customer": {"number": NY}})
    assert not placed.is_error, result_text(placed)
    clock.advance(30)
    return str(result_json(placed)["id"])


def links_of(result: Any) -> list[Any]:
    return [block for block in result.content if block.type == "resource_link"]


async def test_a_phone_call_on_a_byo_number_has_its_capture_linked_with_its_expiry(client: Client, sandbox: Sandbox, clock: ManualClock) -> None:
    call_id = await ended_phone_call(client, sandbox, clock)
    before = len(sandbox.requests)
    result = await client.call_tool("get_call", {"id": call_id, "include": ["pcap"]})
    view = result_json(result)
    [link] = links_of(result)
    assert link.name == "packet capture" and link.mime_type == "application/vnd.tcpdump.pcap" and "/presigned/pcap/" in str(link.uri)
    assert f"expires at {view['linksExpireAt']}" in link.description and "Wireshark" in view["pcap"]["note"]
    assert [r.path for r in sandbox.requests[before:]] == [f"/call/{call_id}"]  # the artifact had the link: nothing else was asked
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as http:
        capture = await http.get(str(link.uri))
    assert capture.status_code == 200 and struct.unpack("<I", capture.content[:4])[0] == PCAP_MAGIC


async def test_the_capture_is_only_asked_for_on_request(client: Client, sandbox: Sandbox, clock: ManualClock) -> None:
    call_id = await ended_phone_call(client, sandbox, clock)
    result = await client.call_tool("get_call", {"id": call_id})
    assert "pcap" not in result_json(result) and all(link.name != "packet capture" for link in links_of(result))


@pytest.mark.parametrize(("provider", "fields"), [("twilio", {}), ("byo-phone-number", {"artifactPlan": {"pcapEnabled": False}})], ids=["twilio number", "pcapEnabled false"])
async def test_a_call_without_a_capture_says_why_after_asking_vapi(
    client: Client, sandbox: Sandbox, clock: ManualClock, provider: str, fields: dict[str, Any]
) -> None:
    call_id = await ended_phone_call(client, sandbox, clock, provider, **fields)
    result = await client.call_tool("get_call", {"id": call_id, "include": ["pcap"]})
    assert result_json(result)["pcap"] == {"note": PCAP_NONE} and links_of(result) == []
    assert sandbox.requests_to("GET", f"/call/{call_id}/pcap")


async def test_a_live_call_has_no_capture_yet(client: Client, sandbox: Sandbox, clock: ManualClock) -> None:
    phone, riley = add_number(sandbox, "byo-phone-number"), assistant(sandbox)
    placed = result_json(await confirmed(client, "create_call", {"assistantId": riley, "phoneNumberId": phone, "customer": {"number": NY}}))
    view = result_json(await client.call_tool("get_call", {"id": placed["id"], "include": ["pcap"]}))
    assert "when the call ends" in view["pcap"]["note"] and not sandbox.requests_to("GET", f"/call/{placed['id']}/pcap")


async def test_without_the_artifacts_link_the_redirect_is_handed_on_unfetched(client: Client, sandbox: Sandbox, clock: ManualClock) -> None:
    """Vapi's answer may omit `pcapUrl`; then the link is where GET /call/{id}/pcap redirects, and the capture itself is never downloaded."""
    call_id = await ended_phone_call(client, sandbox, clock)
    inner = sandbox.app.app

    async def without_pcap_fields(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == f"/call/{call_id}":
            body = {**sandbox.store.calls[call_id], "status": "ended", "type": "outboundPhoneCall"}
            await JSONResponse({k: v for k, v in body.items() if not k.startswith("_")})(scope, receive, send)
        else:
            await inner(scope, receive, send)

    sandbox.app.app = without_pcap_fields
    result = await client.call_tool("get_call", {"id": call_id, "include": ["pcap"]})
    [link] = links_of(result)
    assert "/presigned/pcap/" in str(link.uri) and "short-lived presigned link" in link.description
    assert not [r for r in sandbox.requests if r.path.startswith("/presigned/")]


async def test_the_sandbox_redirects_to_the_capture_which_needs_no_key(api: httpx.AsyncClient, sandbox: Sandbox, clock: ManualClock, client: Client) -> None:
    call_id = await ended_phone_call(client, sandbox, clock)
    answer = await api.get(f"/call/{call_id}/pcap")
    assert answer.status_code == 302 and "/presigned/pcap/" in answer.headers["location"]
    with_key = await api.get(answer.headers["location"])
    assert with_key.status_code == 400 and with_key.json()["Code"] == "InvalidArgument"
    clock.advance(3601)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as http:
        expired = await http.get(answer.headers["location"])
    assert expired.status_code == 403 and expired.json()["Message"] == "Request has expired"
    web = result_json(await client.call_tool("create_call", {"assistantId": assistant(sandbox)}))
    clock.advance(30)
    assert (await api.get(f"/call/{web['id']}/pcap")).json() == {"message": "Artifact not found.", "error": "Not Found", "statusCode": 404}


def redirecting(target: str) -> Starlette:
    async def pcap(request: Request) -> Any:
        return RedirectResponse(target, status_code=302)

    return Starlette(routes=[Route("/call/{id}/pcap", pcap)])


async def test_the_client_refuses_a_redirect_that_is_not_https() -> None:
    client = VapiClient(base_url="https://api.vapi.ai", api_key="sk-live-123456", transport=httpx.ASGITransport(app=redirecting("http://storage.example/p.pcap")))
    with pytest.raises(VapiError, match="not https"):
        await client.redirect("/call/1/pcap")
    secure = VapiClient(base_url="https://api.vapi.ai", api_key="sk-live-123456", transport=httpx.ASGITransport(app=redirecting("https://storage.example/p.pcap?sig=1")))
    assert await secure.redirect("/call/1/pcap") == "https://storage.example/p.pcap?sig=1"
    await client.aclose()
    await secure.aclose()
