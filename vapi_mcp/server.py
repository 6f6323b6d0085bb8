"""The MCP server: registers every tool family and runs each call through one error boundary."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import orjson
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools.base import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import ValidationError

from . import __version__
from .client import SANDBOX_KEY, VapiClient
from .config import ConfigError, Settings
from .errors import VapiMCPError, validation_error_text
from .guard import Guard, InputRequired, Outcome
from .redact import scrubber
from .tools.base import Args, ToolContext, ToolSpec, compact_schema

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from .sandbox import Sandbox

logger = logging.getLogger("vapi_mcp")

SANDBOX_NOTE = (
    "SANDBOX MODE: no VAPI_API_KEY is set (or --sandbox was given), so every tool talks to an "
    "in-memory stand-in for api.vapi.ai. Nothing real is called, bought or deleted, and every "
    'result carries "sandbox": true. Set VAPI_API_KEY to operate your real Vapi account.'
)
INSTRUCTIONS = (
    "Operate Vapi (voice AI): place and inspect phone and web calls, manage phone numbers, "
    "assistants and squads, and test assistants by chat. Arguments mirror Vapi's API bodies "
    "(camelCase). Anything that dials a phone, spends money or deletes passes a confirmation "
    "guard: the human confirms through the client, or the tool returns a preview with a "
    "confirmToken that you pass back, with identical arguments, only after the user says yes. "
    "Test an assistant with chat_with_assistant before calling a real person."
)


KEY_HEADER = "x-vapi-key"
"""Over HTTP, a request may carry its own Vapi key (teams behind one stateless deployment)."""
KEYED_CLIENTS = 32


class App:
    """Per-process state shared by every tool call: settings, guard, the Vapi client."""

    def __init__(self, settings: Settings, *, sandbox: Sandbox | None = None) -> None:
        self.settings = settings
        scrubber.add(settings.api_key)  # even in sandbox mode, where it is never sent
        self.guard = Guard(settings)
        self._sandbox = sandbox
        self._vapi: VapiClient | None = None
        self._keyed: dict[str, VapiClient] = {}
        self.offered: frozenset[str] = frozenset()
        """Names of the tools this server offers (its toolsets, less what read-only removes)."""
        from .toolsets import ToolAccess

        self.access = ToolAccess([])
        """What each request may call (`build_server` sets the real one)."""

    @property
    def sandbox(self) -> Sandbox:
        """The embedded sandbox, created on first use (start-up stays fast)."""
        if self._sandbox is None:
            from .sandbox import Clock, Sandbox

            self._sandbox = Sandbox(clock=Clock(speed=self.settings.sandbox_speed))
        return self._sandbox

    @property
    def vapi(self) -> VapiClient:
        if self._vapi is None:
            if self.settings.sandbox:
                import httpx2

                self._vapi = VapiClient(
                    base_url=self.settings.effective_base_url,
                    api_key=SANDBOX_KEY,  # the user's key never leaves in sandbox mode
                    timeout=self.settings.timeout,
                    transport=httpx2.ASGITransport(app=self.sandbox.app),
                )
            else:
                self._vapi = VapiClient(
                    base_url=self.settings.base_url,
                    api_key=self.settings.api_key,
                    timeout=self.settings.timeout,
                )
        return self._vapi

    def client_for(self, context: Context[Any, Any] | None) -> tuple[VapiClient, bool]:
        """The client for this request, and whether it is the sandbox.

        A request with an `X-Vapi-Key` header works on that key's account (never when
        --sandbox is forced); any other request uses the server's own key, or the sandbox.
        """
        key = _request_key(context)
        if key is None or self.settings.force_sandbox:
            return self.vapi, self.settings.sandbox
        client = self._keyed.pop(key, None)
        if client is None:
            scrubber.add(key)
            client = VapiClient(base_url=self.settings.base_url, api_key=key, timeout=self.settings.timeout)
            if len(self._keyed) >= KEYED_CLIENTS:  # least recently used goes
                self._keyed.pop(next(iter(self._keyed)))
        self._keyed[key] = client
        return client, False

    async def aclose(self) -> None:
        for client in [self._vapi, *self._keyed.values()]:
            if client is not None:
                await client.aclose()
        self._vapi, self._keyed = None, {}

    async def invoke(self, spec: ToolSpec, arguments: dict[str, Any], context: Context[Any, Any] | None) -> Any:
        """Validate, run the handler, and turn every outcome into a tool result."""
        scrubber.add_from_body(arguments)  # provider secrets are masked wherever they could be echoed
        vapi, sandboxed = self.client_for(context)
        try:
            args = spec.input_model.model_validate(_pre_parse(spec.input_model, arguments))
        except ValidationError as exc:
            return self._error(validation_error_text(exc, spec.name), sandboxed)
        call = ToolContext(vapi=vapi, guard=self.guard, settings=self.settings, mcp=context, tool=spec.name)
        try:
            view = await spec.handler(args, call)
        except Outcome as outcome:
            view = outcome.result
        except InputRequired as pending:
            return pending.result
        except VapiMCPError as exc:
            logger.info("%s failed: %s", spec.name, exc.text())
            return self._error(exc.text(), sandboxed)
        except Exception:
            logger.exception("%s crashed", spec.name)
            return self._error(
                f"{spec.name} failed inside vapi-mcp (an unexpected error, logged on the server's stderr). "
                "Nothing more is known about whether Vapi was reached; check with the list/get tools.",
                sandboxed,
            )
        return self._ok(view, sandboxed)

    def _ok(self, view: Any, sandboxed: bool) -> CallToolResult:
        if not isinstance(view, dict):
            view = {"result": view}
        if sandboxed:
            view = {**view, "sandbox": True}
        text = scrubber.scrub(orjson.dumps(view, default=str).decode())
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=orjson.loads(text))

    def _error(self, message: str, sandboxed: bool) -> CallToolResult:
        if sandboxed:
            message += " [sandbox]"
        return CallToolResult(content=[TextContent(type="text", text=scrubber.scrub(message))], is_error=True)


class VapiTool(Tool):
    """An MCP tool whose input schema is a pydantic model and whose calls go through `App.invoke`."""

    spec: Any = None
    app: Any = None

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        refusal = self.app.access.refusal(self.spec.name, _request_headers(context))
        if refusal is not None:  # not offered to this request, or the server is not configured
            return refusal
        return await self.app.invoke(self.spec, arguments, context)


def make_tool(spec: ToolSpec, app: App) -> VapiTool:
    async def unused(**_: Any) -> None:  # the SDK wants a callable; `run` is overridden
        raise NotImplementedError

    return VapiTool(
        fn=unused,
        name=spec.name,
        title=spec.title,
        description=spec.description,
        parameters=compact_schema(spec.input_model.model_json_schema(by_alias=True)),
        fn_metadata=FuncMetadata(arg_model=ArgModelBase),  # results carry structuredContent; no outputSchema (it would cost every agent tokens)
        is_async=True,
        annotations=ToolAnnotations(
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            idempotent_hint=spec.idempotent,
            open_world_hint=spec.open_world,
        ),
        spec=spec,
        app=app,
    )


def tool_specs() -> list[ToolSpec]:
    """Every tool of every family, in catalogue order."""
    from .toolsets import catalogue

    return [spec for _, spec in catalogue()]


NOT_CONFIGURED = (
    "VAPI-MCP IS NOT CONFIGURED: {problem}. No tool runs until the setting is fixed and the server "
    "restarted; every tool call answers with this error. Tell the user which setting to fix."
)


def build_server(settings: Settings, *, sandbox: Sandbox | None = None) -> tuple[MCPServer, App]:
    """The MCP server for these settings, and its shared state.

    Settings it cannot use (`settings.problem`, or a `--tools` name that does not exist) never stop
    it: it then lists the default tools and answers every call with the problem, so an agent can
    tell the user (over stdio a client would otherwise only show "failed to connect").
    """
    from .toolsets import ToolAccess, catalogue, offered

    try:
        entries = offered(settings)
    except ConfigError as exc:
        settings = Settings.unusable(str(exc))
        entries = offered(settings)
    app = App(settings, sandbox=sandbox)
    app.offered = frozenset(spec.name for _, spec in entries)
    app.access = ToolAccess(catalogue(), settings.problem)
    instructions = INSTRUCTIONS + ("\n\n" + SANDBOX_NOTE if settings.sandbox else "")
    if settings.problem is not None:
        instructions = NOT_CONFIGURED.format(problem=settings.problem) + "\n\n" + INSTRUCTIONS
    elif settings.read_only:
        instructions += "\n\nREAD-ONLY MODE: only tools that change nothing are available."
    if settings.dry_run and settings.problem is None:
        instructions += "\n\nDRY-RUN MODE: guarded actions are checked and confirmed but never sent."
    server = MCPServer(
        "vapi-mcp",
        title="Vapi",
        instructions=instructions,
        version=__version__,
        tools=[make_tool(spec, app) for _, spec in entries],
        log_level=settings.log_level,
        middleware=[app.access],
    )
    if settings.problem is None:
        from .tools import FAMILIES

        for family in FAMILIES:
            register = getattr(family, "register_extras", None)
            if register is not None:
                register(server, app)
    return server, app


def _request_headers(context: Context[Any, Any] | None) -> Any:
    """An HTTP request's headers; None over stdio or in-process."""
    try:
        return context.headers if context is not None else None
    except ValueError:  # no active request (a direct, in-process call)
        return None


def _request_key(context: Context[Any, Any] | None) -> str | None:
    """The Vapi key an HTTP request carries in `X-Vapi-Key`, if any (stdio has no headers)."""
    key = (_request_headers(context) or {}).get(KEY_HEADER, "").strip()
    return key or None


def _pre_parse(model: type[Args], arguments: dict[str, Any]) -> dict[str, Any]:
    """Some clients send nested objects as JSON strings; accept them for non-string fields."""
    out = dict(arguments)
    for key, value in arguments.items():
        field = model.model_fields.get(key)
        if field is None or field.annotation in (str, str | None):
            continue
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                out[key] = json.loads(value)
            except ValueError:
                pass
    return out
