"""An in-memory stand-in for api.vapi.ai, faithful to Vapi's OpenAPI document.

Reach it in-process (`httpx2.ASGITransport(app=Sandbox().app)`) or serve it on a port
with `vapi-mcp sandbox --port N`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import anyio
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from .artifacts import PRESIGNED_PREFIX
from .clock import Clock, ManualClock
from .core import ApiError, Fault, RecordedRequest, Store, error_response

__all__ = ["Sandbox", "Clock", "ManualClock", "Fault", "RecordedRequest"]

REQUEST_LOG = 1000
"""Requests a sandbox remembers by default: the latest ones (a long-running sandbox keeps its memory)."""


class Sandbox:
    """The sandbox's state and its ASGI app."""

    def __init__(self, *, clock: Clock | None = None, request_log: int | None = REQUEST_LOG) -> None:
        self.clock = clock or Clock()
        self.store = Store()
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        """The latest `request_log` requests, oldest first (all of them when `request_log` is None)."""
        self.request_log = request_log
        self.ticks: list[Callable[[], None]] = []
        """Run before every request: work that happens on the clock (campaigns dialling their contacts)."""
        self.app = _Gate(self, _routes_app(self))

    def inject(self, fault: Fault) -> Fault:
        """Make the next matching request(s) fail (or be slow)."""
        self.faults.append(fault)
        return fault

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """The recorded requests with this method and exact path."""
        return [r for r in self.requests if r.method == method and r.path == path]


def _routes_app(sandbox: Sandbox) -> Starlette:
    from . import analytics, artifacts, assistants, calls, campaigns, chat, evals, phone_numbers, simulations, structured_outputs, tools

    routes = []
    # simulations before evals: /eval/{id} would otherwise take /eval/simulation/...
    modules = (calls, chat, phone_numbers, assistants, tools, simulations, evals, structured_outputs, campaigns, analytics, artifacts)
    for module in modules:
        routes.extend(module.routes(sandbox))

    async def api_error(request: Any, exc: Exception) -> Any:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def not_found(request: Any, exc: Exception) -> Any:
        return error_response(404, f"Cannot {request.method} {request.url.path}")

    return Starlette(routes=routes, exception_handlers={ApiError: api_error, 404: not_found, 405: not_found})


class _Gate:
    """Records every request, checks the bearer key, and applies injected faults."""

    def __init__(self, sandbox: Sandbox, app: Starlette) -> None:
        self.sandbox = sandbox
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.sandbox.requests.append(
            RecordedRequest(
                method=scope["method"],
                path=scope["path"],
                query=dict(parse_qsl(scope.get("query_string", b"").decode())),
                body=body,
                headers={k: v for k, v in headers.items() if k != "authorization"},
            )
        )
        limit = self.sandbox.request_log
        if limit is not None and len(self.sandbox.requests) > limit:
            del self.sandbox.requests[: len(self.sandbox.requests) - limit]
        auth = headers.get("authorization", "")
        # Live call-control URLs and presigned downloads carry no key at Vapi either.
        keyless = scope["path"].endswith("/control") or scope["path"].startswith(PRESIGNED_PREFIX)
        if not keyless and (not auth.lower().startswith("bearer ") or not auth[7:].strip()):
            response = error_response(
                401, "Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa."
            )
            await response(scope, receive, send)
            return
        fault = next((f for f in self.sandbox.faults if f.matches(scope["method"], scope["path"])), None)
        if fault is not None:
            fault.times -= 1
            if fault.delay:
                await anyio.sleep(fault.delay)
            if not fault.then_pass:
                await _send_fault(fault, scope, receive, send)
                return

        for tick in self.sandbox.ticks:
            tick()
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)


PAYMENT_MESSAGES = {
    "insufficient_credits": "Insufficient credits. Add credits to your account to continue.",
    "wallet_missing": "No wallet is set up for this organization.",
    "subscription_frozen": "Your subscription is frozen.",
    "payment_method_missing": "Add a payment method to continue.",
    "billing_limit": "The billing limit for this organization has been reached.",
    "initial_payment_missing": "An initial payment is required before using this feature.",
}
"""SimulationRunPaymentRequiredResponse.reason values with a message in Vapi's manner (the sandbox's own wording)."""


async def _send_fault(fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
    headers = {"retry-after": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
    if fault.status == 402:  # Vapi's billing refusal (SimulationRunPaymentRequiredResponse)
        from starlette.responses import JSONResponse

        body = {"statusCode": 402, "message": PAYMENT_MESSAGES.get(fault.reason, "Payment required."), "reason": fault.reason}
        await JSONResponse(body, status_code=402)(scope, receive, send)
        return
    if fault.body is not None:
        from starlette.responses import Response

        await Response(fault.body, status_code=fault.status, headers=headers, media_type="text/html")(scope, receive, send)
        return
    await error_response(fault.status, "Injected failure", headers)(scope, receive, send)
