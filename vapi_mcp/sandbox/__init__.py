"""A stand-in for api.vapi.ai, faithful to Vapi's OpenAPI document.

Reach it in-process (`httpx2.ASGITransport(app=Sandbox().app)`) or serve it on a port with
`vapi-mcp sandbox --port N`. `Sandbox()` keeps its world in memory (tests);
`Sandbox(world=path)` keeps it in an SQLite file every process of the user shares (`store.py`).
Its clock is the process's clock plus the world's offset, which only moves forward
(`advance_clock`, `POST /sandbox/clock`): scheduled work then runs at once.

The parts:

- one module per resource (`calls.py`, `assistants.py`, ...): its DTO rules (declared after the
  document), its module-level endpoints `async def name(request) -> Response` that find the
  sandbox with `core.sandbox_of(request)`, and its route list `routes`. Plain CRUD is one
  `resource.Resource(...)` declaration; an endpoint that is not plain is written out beside it.
- `store.py`: the world (a mapping per kind of object); `core.py`: Vapi's error shape, reading
  bodies and queries, paging; `validation.py`: the rules; `clock.py`: time.
- the conversations every endpoint that talks shares (chat, eval runs, simulations, calls,
  campaigns): `conversation.py` (the assistant's replies from its own prompt, read by `prompt.py`
  and rendered by `templates.py`, and a tester), `judging.py` (judges, structured outputs and
  analysis from the transcript), `knowledge.py` (the documents an assistant answers from: the
  hook knowledge bases fill). A response that carries such a conversation says so once, in the
  header `conversation.NOTE_HEADER`.
- this file: the `Sandbox` (world, clock, request log, faults), the list of modules, the one
  rule that orders their routes, and the gate every request passes.

To add a resource (scorecards, say): write `scorecards.py` with its rules, endpoints
and `routes` (a `Resource` for the plain CRUD); add its collection's name to `store.KINDS` (and
an annotation on `Store`); add the module to `MODULES` below. Nothing else: route order is
derived (`routes()`), and a module may also define
`tick(sandbox, now)` (work that happens on the clock, run before every request and after the
clock moves), `upcoming(sandbox, now)` (what waits for a later time: `(type, id, when)`),
`BUILT_IN` (objects every world holds: `{kind: [objects]}`) and `BODIES` (the rule of each request
body it validates, by `(method, path)`: the tests compare every one with the document).

An endpoint runs inside one transaction of the world (the gate's): it may change a stored object
in place or assign a new one, and it awaits nothing but the request's body (the world is held
for it meanwhile). Stored objects are JSON objects; private bookkeeping (keys starting with `_`,
left out of answers) may also hold `datetime`s.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import Message, Receive, Scope, Send

from . import (
    analytics,
    artifacts,
    assistants,
    calls,
    campaigns,
    chat,
    control,
    evals,
    files,
    knowledge_bases,
    phone_numbers,
    scorecards,
    sessions,
    simulations,
    structured_outputs,
    tools,
)
from .artifacts import PRESIGNED_PREFIX
from .clock import MAX_ADVANCE, Clock, ManualClock, iso
from .core import BASE_URL, ApiError, Fault, RecordedRequest, error_response
from .store import MEMORY, Store, WorldBusy, WorldUnusable

__all__ = ["Sandbox", "Clock", "ManualClock", "Fault", "RecordedRequest", "Store", "WorldUnusable", "MEMORY", "MODULES"]

REQUEST_LOG = 1000
"""Requests a sandbox remembers by default: the latest ones (a long-running sandbox keeps its memory)."""

MODULES: tuple[Any, ...] = (
    control, calls, artifacts, chat, sessions, phone_numbers, assistants, tools, simulations, evals, structured_outputs, campaigns, analytics,
    files, knowledge_bases, scorecards,
)  # fmt: skip
"""Every resource module; each has `routes`, and may have `tick`, `upcoming` and `BUILT_IN`."""


BODIES: dict[tuple[str, str], Any] = {route: rule for module in MODULES for route, rule in getattr(module, "BODIES", {}).items()}
"""Every request body the sandbox validates, by (method, path): the rules the tests compare with Vapi's document."""


def routes() -> list[BaseRoute]:
    """Every module's routes in the one order Starlette tries them: segment by segment, a fixed word
    before a `{parameter}` (so `/eval/run` and `/eval/simulation` are never taken for `/eval/{id}`)."""
    every = [route for module in MODULES for route in module.routes]
    return sorted(every, key=_fixed_words_first)


def _fixed_words_first(route: Route) -> tuple[bool, ...]:
    return tuple(segment.startswith("{") for segment in route.path.strip("/").split("/"))


ROUTES = routes()


def built_in() -> dict[str, list[dict[str, Any]]]:
    """The objects every world holds, by kind (Vapi's default personalities)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for module in MODULES:
        for kind, objects in getattr(module, "BUILT_IN", {}).items():
            out.setdefault(kind, []).extend(objects)
    return out


class Sandbox:
    """The sandbox's world, clock, request log and faults, and its ASGI app (`app`)."""

    def __init__(self, *, clock: Clock | None = None, request_log: int | None = REQUEST_LOG, world: str | Path | None = None) -> None:
        """`world`: None (or "memory") keeps it in this process; a path keeps it in that SQLite file (opened on first use)."""
        self.clock = clock or Clock()
        self.store = Store(None if world in (None, MEMORY) else world, built_in=built_in())
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        """The latest `request_log` requests, oldest first (all of them when `request_log` is None); this process's only."""
        self.request_log = request_log
        self.app = _Gate(self, _app(self))

    def now(self) -> datetime:
        """The world's time: the clock, plus however far the world's clock was moved forward."""
        return self.clock.now() + timedelta(seconds=self.store.clock_offset)

    def inject(self, fault: Fault) -> Fault:
        """Make the next matching request(s) fail (or be slow)."""
        self.faults.append(fault)
        return fault

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """The recorded requests with this method and exact path."""
        return [r for r in self.requests if r.method == method and r.path == path]

    def run_due(self) -> None:
        """Do the work the clock has made due (campaigns dialling); the gate runs it before every request."""
        now = self.now()
        for module in MODULES:
            tick = getattr(module, "tick", None)
            if tick is not None:
                tick(self, now)

    def upcoming(self) -> list[tuple[str, str, datetime]]:
        """What waits for a later time, soonest first: (type, id, when)."""
        now = self.now()
        found = [entry for module in MODULES if hasattr(module, "upcoming") for entry in module.upcoming(self, now)]
        return sorted(found, key=lambda entry: entry[2])

    def advance_clock(self, *, seconds: float | None = None, to: datetime | None = None) -> dict[str, Any]:
        """Move the world's clock forward by `seconds` or to `to` (never back) and run what became due.

        Answers where the clock was and is, and what started on the way (`started`: scheduled
        calls and campaigns whose time came). ValueError for a move back or beyond `MAX_ADVANCE`."""
        if (seconds is None) == (to is None):
            raise ValueError("give either seconds or to")
        with self.store.transaction():
            self.run_due()
            before = self.now()
            target = before + timedelta(seconds=seconds) if seconds is not None else to
            assert target is not None
            if target < before:
                raise ValueError(f"the sandbox clock only moves forward: it is {iso(before)} there, so {iso(target)} has passed")
            if target - before > MAX_ADVANCE:
                raise ValueError(f"the sandbox clock moves at most {MAX_ADVANCE.days} days at once")
            waiting = self.upcoming()
            self.store.clock_offset = self.store.clock_offset + (target - before).total_seconds()
            self.run_due()
            now = self.now()
            started = [{"type": kind, "id": ident, "at": iso(at)} for kind, ident, at in waiting if at <= now]
        return {"from": iso(before), "now": iso(now), "movedSeconds": round((now - before).total_seconds(), 3), "started": started}

    def close(self) -> None:
        self.store.close()


def _app(sandbox: Sandbox) -> Starlette:
    async def api_error(request: Any, exc: Exception) -> Any:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def not_found(request: Any, exc: Exception) -> Any:
        return error_response(404, f"Cannot {request.method} {request.url.path}")

    app = Starlette(routes=ROUTES, exception_handlers={ApiError: api_error, 404: not_found, 405: not_found})
    app.state.sandbox = sandbox
    return app


class _Gate:
    """Records every request, checks the bearer key, applies injected faults, then serves it in one
    transaction of the world (due work first), the answer sent once the transaction is over."""

    def __init__(self, sandbox: Sandbox, app: Any) -> None:
        self.sandbox = sandbox
        self.app = app
        self._turn: anyio.Lock | None = None

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
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        if self._turn is None:
            self._turn = anyio.Lock()
        base = BASE_URL.set(str(Request(scope).base_url))
        try:
            async with self._turn:  # one request at a time in this process; the store serializes processes
                with self.sandbox.store.transaction():
                    self.sandbox.run_due()
                    await self.app(scope, replay, keep)
        except WorldUnusable as exc:
            answer = []
            headers_out = {"retry-after": "1"} if isinstance(exc, WorldBusy) else None
            await error_response(exc.status, str(exc), headers_out)(scope, receive, keep)
        finally:
            BASE_URL.reset(base)
        for message in answer:
            await send(message)


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
