"""Vapi answering badly: a client on the sandbox with fast retries, a programmable odd server, what "unknown outcome" must say."""

from __future__ import annotations

from typing import Any

import anyio
import httpx2 as httpx

from vapi_mcp.client import SANDBOX_KEY, RetryPolicy, VapiClient
from vapi_mcp.config import SANDBOX_BASE_URL
from vapi_mcp.destinations import cleared
from vapi_mcp.sandbox import Sandbox

CALL_BODY = {"assistantId": "0b4f8a1e-2c3d-4e5f-8a9b-1c2d3e4f5a6b", "customer": {"number": "+14155550123"}}
FAST_RETRY = RetryPolicy(base=0.001, cap=0.01)


def as_the_guard():  # noqa: ANN201
    """The client sends a body that dials only inside a guard block that cleared its number: act as one."""
    return cleared([("call", CALL_BODY["customer"]["number"])])


def vapi_client(sandbox: Sandbox, *, api_key: str | None = SANDBOX_KEY, timeout: float = 5.0) -> VapiClient:
    """The production client, reaching the sandbox in-process."""
    return VapiClient(
        base_url=SANDBOX_BASE_URL,
        api_key=api_key,
        timeout=timeout,
        transport=httpx.ASGITransport(app=sandbox.app),
        retry=FAST_RETRY,
    )


CHECK = "Check with list_calls createdAtGe=2026-11-02T16:00:00Z before trying again."
def unknown_outcome(text: str) -> None:
    """The answer for a request that may have reached Vapi: never "try again", always how to check."""
    assert "may or may not have taken effect" in text
    assert "try again" not in text.lower().replace("before trying again", "")
    assert "not retried" in text


class OddVapi:
    """A stand-in for api.vapi.ai answering each request with the next programmed answer (then `[]`)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.sent = 0
        self.disconnected = False

    def then(self, status: int, body: Any = b"[]", **headers: str) -> OddVapi:
        self.answers.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, body))
        return self

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        self.requests.append((scope["method"], scope["path"]))
        status, headers, body = self.answers.pop(0) if self.answers else (200, {}, b"[]")
        raw_headers = [(k.encode(), v.encode()) for k, v in headers.items()]
        if isinstance(body, bytes):
            raw_headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        if isinstance(body, bytes):
            await send({"type": "http.response.body", "body": body})
            return

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            self.disconnected = True

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(watch)
            for chunk in body:
                if self.disconnected:
                    break
                self.sent += len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await anyio.sleep(0)
            if not self.disconnected:
                await send({"type": "http.response.body", "body": b""})
            tasks.cancel_scope.cancel()


def odd_client(odd: OddVapi, **kwargs: Any) -> VapiClient:
    return VapiClient(base_url=SANDBOX_BASE_URL, api_key=SANDBOX_KEY, transport=httpx.ASGITransport(app=odd), retry=FAST_RETRY, **kwargs)
