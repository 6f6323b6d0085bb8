"""Shared by the guard and audit tests (no tests here): test-only guarded tools, a server whose guard reads a hand-driven clock."""

from __future__ import annotations

import json
import uuid
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, AsyncIterator

import pytest
from mcp import Client
from mcp_types import ElicitResult
from starlette.responses import JSONResponse

from vapi_mcp.config import Settings
from vapi_mcp.guard import Callee, GuardedAction
from vapi_mcp.sandbox import ManualClock, Sandbox
from vapi_mcp.sandbox.clock import parse_iso
from vapi_mcp.sandbox.core import stamp
from vapi_mcp.server import build_server
from vapi_mcp.tools.base import Args, Guarded, ToolContext, ToolGroup

tools = ToolGroup()


class Customer(Args):
    number: str
    numberE164CheckEnabled: bool | None = None
    name: str | None = None


class DialArgs(Guarded):
    phoneNumberId: str | None = None
    customer: Customer | None = None
    customers: list[Customer] | None = None
    firstMessage: str | None = None
    metadata: dict[str, Any] | None = None
    earliestAt: str | None = None
    latestAt: str | None = None
    twilioAuthToken: str | None = None


class DestroyArgs(Guarded):
    id: str


def arguments_of(args: Guarded) -> dict[str, Any]:
    return args.model_dump(mode="json", exclude_none=True, exclude={"confirmToken"})


@tools.tool(title="Dial (test)", read_only=False, sends=("POST /call", "GET /phone-number/{id}"))
async def dial(args: DialArgs, call: ToolContext) -> dict[str, Any]:
    """Test only: POST /call to the customers."""
    customers = args.customers or ([args.customer] if args.customer else [])
    body = args.body()
    action = GuardedAction(
        tool=call.tool,
        kind="dial",
        summary=f"Call {', '.join(c.number for c in customers)} now.",
        method="POST",
        path="/call",
        body=body,
        arguments=arguments_of(args),
        confirm_token=args.confirmToken,
        callees=[Callee(c.number, c.numberE164CheckEnabled is not False, c.name) for c in customers],
        phone_number_id=args.phoneNumberId,
        when=parse_iso(args.earliestAt) if args.earliestAt else None,
        latest=parse_iso(args.latestAt) if args.latestAt else None,
    )
    async with call.guard.guarded(action, call) as record:
        data = await call.vapi.post("/call", body)
        record.ids = [data["id"]]
    return {"id": data["id"]}


@tools.tool(title="Destroy (test)", read_only=False, destructive=True, sends=("DELETE /thing/{id}",))
async def destroy(args: DestroyArgs, call: ToolContext) -> dict[str, Any]:
    """Test only: DELETE /thing/{id}."""
    path = f"/thing/{args.id}"
    action = GuardedAction(
        tool=call.tool, kind="destroy", summary=f"Delete thing {args.id}.", method="DELETE", path=path,
        body=None, arguments=arguments_of(args), confirm_token=args.confirmToken,
    )
    async with call.guard.guarded(action, call) as record:
        await call.vapi.delete(path)
        record.ids = [args.id]
    return {"deleted": args.id}


FAMILY = SimpleNamespace(tools=tools, toolset="calls")

NY = "+12125550123"
LA = "+14155550123"
LONDON = "+442079460958"


@pytest.fixture
def family(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vapi_mcp.tools.FAMILIES", (FAMILY,))


@pytest.fixture
def stub_sandbox(sandbox: Sandbox) -> Sandbox:
    """The sandbox, answering the test tools' POST /call and DELETE /thing/{id} (every request still recorded)."""
    inner = sandbox.app.app

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (scope["method"], scope["path"]) == ("POST", "/call"):
            await JSONResponse({"id": str(uuid.uuid4())}, status_code=201)(scope, receive, send)
        elif scope["type"] == "http" and scope["method"] == "DELETE" and scope["path"].startswith("/thing/"):
            await JSONResponse({}, status_code=200)(scope, receive, send)
        else:
            await inner(scope, receive, send)

    sandbox.app.app = app
    return sandbox


def with_policy(settings: Settings, **changes: Any) -> Settings:
    policy_names = set(settings.policy.__dataclass_fields__)
    policy = {k: v for k, v in changes.items() if k in policy_names}
    own = {k: v for k, v in changes.items() if k not in policy_names}
    return replace(settings, policy=replace(settings.policy, **policy), **own)


@asynccontextmanager
async def serve(settings: Settings, sandbox: Sandbox, clock: ManualClock, **client_kwargs: Any) -> AsyncIterator[Client]:
    """A client of a server whose guard reads `clock`."""
    server, app = build_server(settings, sandbox=sandbox)
    app.guard.now = clock.now
    try:
        async with Client(server, **client_kwargs) as client:
            yield client
    finally:
        await app.aclose()


def answering(action: str, confirm: bool = True) -> tuple[Any, list[str]]:
    """An elicitation callback that answers `action`, and the list of questions it was asked."""
    asked: list[str] = []

    async def callback(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action=action, content={"confirm": confirm} if action == "accept" else None)

    return callback, asked


def add_number(sandbox: Sandbox, provider: str, number: str = "+14155550100") -> str:
    phone = stamp(sandbox.clock, provider=provider, number=number, status="active")
    sandbox.store.phone_numbers[phone["id"]] = phone
    return phone["id"]


def audit_file_lines(settings: Settings, *, sandbox: bool | None = None) -> list[dict[str, Any]]:
    """The raw lines of the real audit file, the sandbox one, or (None) both, real first."""
    paths = {False: [settings.audit_log], True: [settings.sandbox_audit_path], None: [settings.audit_log, settings.sandbox_audit_path]}[sandbox]
    return [json.loads(line) for path in paths if Path(path).exists() for line in Path(path).read_text().splitlines()]


def audit_lines(settings: Settings) -> list[dict[str, Any]]:
    """One entry per guarded attempt (both audit files): its lines merged, the last decision wins.

    A sent action is a `sending` line and a `sent` line in the file; here it is one entry
    whose `decisions` are ["sending", "sent"]."""
    from vapi_mcp.guard.audit import attempts

    return attempts(audit_file_lines(settings))


def posts(sandbox: Sandbox) -> int:
    return len(sandbox.requests_to("POST", "/call"))
