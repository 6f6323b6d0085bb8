"""The MCP server: registers every tool family and runs each call through one error boundary."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Literal, cast

import orjson
import pydantic_core
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools.base import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.server.request_state import RequestStateSecurity
from mcp_types import CallToolResult, ResourceLink, TextContent, ToolAnnotations
from pydantic import ValidationError

from . import __version__, apps, scopes
from .client import CONVERSATION_NOTE, SANDBOX_KEY, VapiClient, sandbox_notes
from .config import ConfigError, Settings
from .errors import EarlyResult, InputError, VapiMCPError, validation_error_text
from .guard import Guard
from .guard.consent import malformed_answers_declined
from .redact import redact, request_secrets, scrubber, secret_values, settings_secrets
from .state import StoreKeyCodec
from .tools.base import Args, Host, Link, Linked, ToolContext, ToolSpec, compact_schema, takes_confirm_token

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from .sandbox import Sandbox

logger = logging.getLogger("vapi_mcp")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

SANDBOX_NOTE = (
    "SANDBOX MODE: no VAPI_API_KEY is set (or --sandbox was given), so every tool talks to a "
    "local stand-in for api.vapi.ai that keeps what it is given. Nothing real is called, bought or deleted, and every "
    'result carries "sandbox": true. Set VAPI_API_KEY to operate your real Vapi account.'
)
PLACEHOLDER_NOTE = (
    "SANDBOX MODE: {setting} looks like a placeholder the MCP client did not expand ({value}), not a Vapi key, so "
    "every tool talks to an in-memory stand-in for api.vapi.ai: nothing real is called, bought or deleted, and every "
    'result carries "sandbox": true. Tell the user: only they can fix it, by putting the key itself in the client\'s '
    "server configuration (or exporting VAPI_API_KEY where the client starts), then restarting the server."
)
INSTRUCTIONS = (
    "Operate Vapi (voice AI): place and inspect phone and web calls, manage phone numbers, "
    "assistants and squads, and test assistants by chat. Arguments mirror Vapi's API bodies "
    "(camelCase). Anything that dials a phone, spends money or deletes passes a confirmation "
    "guard: the human confirms through the client, or the tool returns a preview with a "
    "confirmToken that you pass back, with identical arguments, only after the user says yes. "
    "Test an assistant with chat_with_assistant before calling a real person."
)
READ_ONLY_INSTRUCTIONS = (
    "Read Vapi (voice AI): list and inspect calls (transcripts, recordings, why they ended), phone numbers, "
    "assistants and squads. READ-ONLY MODE: this server changes nothing: it cannot place a call, start a chat, "
    "buy, import, update or delete anything. If the user asks for that, say so: only the user can turn read-only "
    "off (VAPI_MCP_READ_ONLY / --read-only, in the server's configuration; then restart it)."
)


def instructions(settings: Settings, entries: list[tuple[str, ToolSpec]]) -> str:
    """What the agent is told at the start: what it can do here, which toolsets are off and how the user turns them
    on, and whether this is the sandbox (a key that looks like an unexpanded placeholder is said to mean it)."""
    from .catalogue import TOOLSETS

    offered = {spec.name for _, spec in entries}
    text = READ_ONLY_INSTRUCTIONS if settings.read_only else INSTRUCTIONS
    if not settings.read_only and "chat_with_assistant" not in offered:
        text = text.replace(" Test an assistant with chat_with_assistant before calling a real person.", "")
    off = []
    for toolset in TOOLSETS:
        names = [spec.name for family, spec in catalogue_entries() if family == toolset.id and (spec.read_only or not settings.read_only)]
        missing = [name for name in names if name not in offered]
        if missing and len(missing) == len(names):
            off.append(f"{toolset.id} ({toolset.description})")
        elif missing:
            off.append(f"the rest of {toolset.id} ({', '.join(missing[:4])}{', ...' if len(missing) > 4 else ''})")
    if off:
        text += (
            "\n\nNOT OFFERED NOW: " + "; ".join(off) + ". If the user needs them, tell them only they can turn them on, in "
            "the server's configuration: VAPI_MCP_TOOLSETS (or --toolsets), e.g. default,testing or all; then restart the server."
        )
    if settings.sandbox and settings.unexpanded_key is not None:
        setting, _, value = settings.unexpanded_key.partition("=")
        text += "\n\n" + PLACEHOLDER_NOTE.format(setting=setting, value=value)
    elif settings.sandbox:
        text += "\n\n" + SANDBOX_NOTE
    return text


def catalogue_entries() -> list[tuple[str, ToolSpec]]:
    from .toolsets import catalogue

    return catalogue()


KEY_HEADER = "x-vapi-key"
"""Over HTTP, a request may carry its own Vapi key (teams behind one stateless deployment)."""
KEYED_CLIENTS = 32
MAX_KEY_LENGTH = 512


class App:
    """Per-process state shared by every tool call: settings, guard, the Vapi client."""

    def __init__(self, settings: Settings, *, sandbox: Sandbox | None = None) -> None:
        self.settings = settings
        for secret in settings_secrets(settings):  # the API key even in sandbox mode, where it is never sent
            scrubber.add(secret)
        self.guard = Guard(settings)
        self._sandbox = sandbox
        self._own_sandbox = False
        self._vapi: VapiClient | None = None
        self._keyed: dict[str, VapiClient] = {}
        self.offered: frozenset[str] = frozenset()
        """Names of the tools this server offers (its toolsets, less what read-only removes)."""
        from .toolsets import ToolAccess

        self.access = ToolAccess([])
        """What each request may call (`build_server` sets the real one)."""

    @property
    def sandbox(self) -> Sandbox:
        """The embedded sandbox, created on first use (start-up stays fast); its world (`sandbox_world`) opens
        when a request first reaches it."""
        if self._sandbox is None:
            from .sandbox import Clock, Sandbox

            self._sandbox = Sandbox(clock=Clock(speed=self.settings.sandbox_speed), world=self.settings.sandbox_world)
            self._own_sandbox = True
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
                    dry_run=self.settings.dry_run,
                    max_response_bytes=self.settings.max_response_bytes,
                )
            else:
                self._vapi = VapiClient(
                    base_url=self.settings.base_url,
                    api_key=self.settings.api_key,
                    timeout=self.settings.timeout,
                    dry_run=self.settings.dry_run,
                    max_response_bytes=self.settings.max_response_bytes,
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
        _checked_key(key)
        client = self._keyed.pop(key, None)
        if client is None:  # the key is scrubbed per request (`invoke`), never kept in the process-wide set
            client = VapiClient(
                base_url=self.settings.base_url,
                api_key=key,
                timeout=self.settings.timeout,
                dry_run=self.settings.dry_run,
                max_response_bytes=self.settings.max_response_bytes,
            )
            if len(self._keyed) >= KEYED_CLIENTS:  # least recently used goes
                self._keyed.pop(next(iter(self._keyed)))
        self._keyed[key] = client
        return client, False

    def request_scope(self, context: Context[Any, Any] | None) -> AbstractContextManager[None]:
        """Scrub this request's `X-Vapi-Key` from whatever the request returns or logs, and only there."""
        return request_secrets([_request_key(context)])

    async def aclose(self) -> None:
        for client in [self._vapi, *self._keyed.values()]:
            if client is not None:
                await client.aclose()
        self._vapi, self._keyed = None, {}
        if self._own_sandbox and self._sandbox is not None:
            self._sandbox.close()
            self._sandbox, self._own_sandbox = None, False
        self.guard.close()

    async def invoke(self, spec: ToolSpec, arguments: dict[str, Any], context: Context[Any, Any] | None) -> Any:
        """Validate, run the handler, and turn every outcome into a tool result.

        The request's own secrets (its `X-Vapi-Key`, the validated secret fields of its
        arguments) are scrubbed from what this call returns and logs, and forgotten after it.
        """
        with self.request_scope(context):
            try:
                vapi, sandboxed = self.client_for(context)
            except InputError as exc:
                return self._error(exc.text(), False)
            try:
                args = spec.input_model.model_validate(_pre_parse(spec.input_model, arguments))
            except ValidationError as exc:
                return self._error(validation_error_text(exc, spec.name), sandboxed)
            except InputError as exc:
                return self._error(exc.text(), sandboxed)
            tenant = _tenant(context, keyed=vapi is not self._vapi, account=vapi.account)
            granted = _granted_scopes(context)
            lacking = scopes.missing(scopes.tool_scopes(spec.name, spec.read_only), granted)
            if lacking:  # the HTTP layer answers 403 first; this holds wherever a call comes from
                return self._error(scopes.refusal_text(spec.name, lacking), sandboxed)
            call = ToolContext(vapi=vapi, guard=self.guard, settings=self.settings, mcp=context, tool=spec.name, tenant=tenant, scopes=granted)
            with request_secrets(secret_values(args)):
                return await self._run(spec, args, call, sandboxed)

    async def _run(self, spec: ToolSpec, args: Args, call: ToolContext, sandboxed: bool) -> Any:
        links: list[Link] = []
        meta = None
        notes: list[str] = []
        try:
            # On the sandbox, the note that its conversation is drawn by rule (a response header) is collected, and said once below.
            with sandbox_notes() if sandboxed else nullcontext(notes) as notes:
                view = await spec.run(args, call)
            if isinstance(view, Linked):
                links = view.links
                view = view.view
        except EarlyResult as early:  # a preview, a decline, a dry run, a question for the client: a normal result
            if early.final:
                return early.result
            view, meta = early.result, early.meta
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
        return self._ok(view, sandboxed, links, meta, notes)

    def _ok(self, view: Any, sandboxed: bool, links: list[Link] = [], meta: dict[str, Any] | None = None, notes: list[str] = []) -> CallToolResult:  # noqa: B006 (never mutated)
        """The view once, as JSON text (secrets masked in the objects before encoding), then any resource
        links; `meta` (for the host and an MCP Apps view, never in the text) becomes its `_meta`. On the
        sandbox it says `"sandbox": true`, and, once, the sandbox's `notes` (`sandboxNote`: its
        conversation is drawn by rule) when an answer the tool read carried conversation.

        No `structuredContent`: no tool declares an outputSchema, so it is optional, and sending
        both doubled every response line (clients that show `structuredContent` to the model,
        as Claude Code does, would read the same JSON either way).
        """
        if not isinstance(view, dict):
            view = {"result": view}
        if sandboxed:
            view = {**view, "sandbox": True}
            if notes:
                view[CONVERSATION_NOTE] = " ".join(notes)
        shown = redact(view)
        try:
            text = orjson.dumps(shown, default=str).decode()
        except TypeError:  # nested past orjson's limit (a Vapi answer can be): the view still says what happened
            text = orjson.dumps(_shallow(shown, MAX_SHOWN_DEPTH), default=str).decode()
        content: list[Any] = [TextContent(type="text", text=text)]
        content += [
            ResourceLink(uri=link.uri, name=link.name, description=scrubber.scrub(link.description), mime_type=link.mime_type) for link in links
        ]
        if meta is not None:
            meta = redact(meta)
        return CallToolResult(content=content, _meta=meta)

    def _error(self, message: str, sandboxed: bool) -> CallToolResult:
        if sandboxed:
            message += " [sandbox]"
        return CallToolResult(content=[TextContent(type="text", text=scrubber.scrub(message))], is_error=True)


MAX_SHOWN_DEPTH = 64
"""Levels of nesting a result shows; deeper parts (only a hostile or broken answer has them) are replaced by a note."""


def _shallow(value: Any, depth: int) -> Any:
    """`value` with what lies deeper than `depth` levels replaced by a note, so a result can always be encoded (and a
    change Vapi made is never reported as a failure because its answer nests too deep)."""
    if isinstance(value, dict | list) and depth <= 0:
        return f"(nested deeper than {MAX_SHOWN_DEPTH} levels: not shown)"
    if isinstance(value, dict):
        return {key: _shallow(item, depth - 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_shallow(item, depth - 1) for item in value]
    return value


class VapiTool(Tool):
    """An MCP tool whose input schema is a pydantic model and whose calls go through `App.invoke`."""

    spec: Any = None
    app: Any = None

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        refusal = self.app.access.refusal(self.spec.name, _request_headers(context))
        if refusal is not None:  # not offered to this request, or the server is not configured
            return refusal
        return await self.app.invoke(self.spec, arguments, context)


def make_tool(spec: ToolSpec, app: App, meta: dict[str, Any] | None = None) -> VapiTool:
    async def unused(**_: Any) -> None:  # the SDK wants a callable; `run` is overridden
        raise NotImplementedError

    return VapiTool(
        fn=unused,
        name=spec.name,
        title=spec.title,
        description=spec.description,
        parameters=compact_schema(spec.input_model.model_json_schema(by_alias=True)),
        fn_metadata=FuncMetadata(arg_model=ArgModelBase),
        context_kwarg=None,  # no outputSchema (it would cost every agent tokens); results are JSON text
        is_async=True,
        annotations=ToolAnnotations(
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            idempotent_hint=spec.idempotent,
            open_world_hint=spec.open_world,
        ),
        meta=meta,
        spec=spec,
        app=app,
    )


async def static_lists(ctx: Any, call_next: Any) -> Any:
    """Server middleware: `server/discover` says what `initialize` says, that the lists never change (`listChanged`
    false) and no resource is subscribed to: the SDK derives both from `subscriptions/listen` being served on the
    2026-07-28 protocol, though this server sends no change notification on any protocol."""
    result = await call_next(ctx)
    if ctx.method != "server/discover":
        return result
    if isinstance(result, dict):
        for name in ("tools", "prompts", "resources"):
            capability = (result.get("capabilities") or {}).get(name)
            if isinstance(capability, dict):
                capability["listChanged"] = False
                if name == "resources":
                    capability["subscribe"] = False
        return result
    capabilities = getattr(result, "capabilities", None)
    if capabilities is None:
        return result
    changed = {
        name: part.model_copy(update={"list_changed": False, **({"subscribe": False} if name == "resources" else {})})
        for name in ("tools", "prompts", "resources")
        if (part := getattr(capabilities, name, None)) is not None
    }
    return result.model_copy(update={"capabilities": capabilities.model_copy(update=changed)})


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
    told = instructions(settings, entries)
    if settings.problem is not None:
        told = NOT_CONFIGURED.format(problem=settings.problem) + "\n\n" + INSTRUCTIONS
    if settings.dry_run and settings.problem is None:
        told += (
            "\n\nDRY-RUN MODE: nothing that changes anything is sent (guarded actions are checked and confirmed "
            "first); each result shows the request it would have sent. Reads still work, including query_analytics, "
            "generate_scenarios and run_structured_output previews."
        )
    specs = {spec.name: spec for _, spec in entries}
    tools: list[Tool] = [make_tool(spec, app) for spec in specs.values()]
    # Every tool whose arguments take a confirm token, listed or not (open schemas leave it out to stay lean).
    guarded = frozenset(name for name, spec in specs.items() if takes_confirm_token(spec.input_model)) if settings.problem is None else frozenset()
    app_only: list[Tool] = [] if not guarded else [make_tool(spec, app, apps.APP_ONLY_META) for spec in apps.app_only_specs(specs)]
    app.access = ToolAccess(
        catalogue(), settings.problem, always=frozenset(tool.name for tool in app_only), offered=app.offered, read_only=settings.read_only
    )
    server = MCPServer(
        "vapi-mcp",
        title="Vapi",
        instructions=told,
        version=__version__,
        tools=tools + app_only,
        extensions=[apps.extension()] if guarded else [],
        # The 2026-07-28 requestState is sealed with a key from the state store, so replicas share it.
        request_state_security=RequestStateSecurity(codec=StoreKeyCodec(app.guard.store)),
        log_level=cast(LogLevel, settings.log_level),  # one of config.LOG_LEVELS, checked when it was read
        middleware=[app.access, malformed_answers_declined, static_lists],
    )
    if guarded:  # the MCP Apps confirmation view, only for clients that declare MCP Apps
        server.middleware.append(apps.per_client_listing(guarded, frozenset(tool.name for tool in app_only)))
    if settings.problem is None:
        from .tools import FAMILIES

        host = Host(offered=app.offered, client_for=app.client_for, request_scope=app.request_scope, follows=app.access.follows)
        for family in FAMILIES:
            register = getattr(family, "register_extras", None)
            if register is not None:
                register(server, host)
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


def _checked_key(key: str) -> str:
    """An `X-Vapi-Key` that can be sent as a bearer token: visible ASCII only (Vapi's keys are UUIDs)."""
    if len(key) > MAX_KEY_LENGTH or any(not "!" <= ch <= "~" for ch in key):
        raise InputError(
            "X-Vapi-Key header",
            f"must be a Vapi API key: at most {MAX_KEY_LENGTH} visible ASCII characters, no spaces or control characters",
            hint="Nothing was sent. Copy the private key from the Vapi dashboard (API Keys) again.",
        )
    return key


def _tenant(context: Context[Any, Any] | None, *, keyed: bool, account: str) -> str:
    """Who asked, as far as the transport can tell (recorded in every audit line).

    `oauth:<subject>`: an HTTP request signed in with OAuth (`--auth oauth`): the person, whatever key it uses.
    `local`: no HTTP request (stdio, in-process): the user who started the server.
    `x-vapi-key:<account>`: an HTTP request that brought its own Vapi key (the key's fingerprint).
    `http:server-key`: an HTTP request on the server's own key (anyone holding the bearer token).
    """
    token = _signed_in(context)
    if token is not None:
        return f"oauth:{token.subject}"
    if _request_headers(context) is None:
        return "local"
    return f"x-vapi-key:{account}" if keyed else "http:server-key"


def _signed_in(context: Context[Any, Any] | None) -> Any:
    """The OAuth access token the request was verified with; None without OAuth (stdio, bearer-token mode)."""
    if _request_headers(context) is None:
        return None
    from .auth import request_of, signed_in

    return signed_in(request_of(context))


def _granted_scopes(context: Context[Any, Any] | None) -> frozenset[str] | None:
    """The scopes a signed-in person holds; None without OAuth, where scopes do not apply."""
    token = _signed_in(context)
    return frozenset(token.scopes) if token is not None else None


MAX_NESTING = 64
"""Levels of nesting an argument sent as a JSON string may have (Vapi's deepest bodies have about 15); the
JSON-RPC parser bounds the rest of a request, and this text would otherwise get past it."""


def _pre_parse(model: type[Args], arguments: dict[str, Any]) -> dict[str, Any]:
    """Some clients send nested objects as JSON strings; accept them for non-string fields, as deep as Vapi's bodies go."""
    out = dict(arguments)
    for key, value in arguments.items():
        field = model.model_fields.get(key)
        if field is None or field.annotation in (str, str | None):
            continue
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                parsed = pydantic_core.from_json(value)  # bounded nesting, like the JSON-RPC parser
            except ValueError as exc:
                if "recursion limit" not in str(exc):
                    continue  # not JSON: validation names the field
                parsed = None
            if parsed is None or _depth(parsed) > MAX_NESTING:
                raise InputError(key, f"sent as a JSON string, nests deeper than {MAX_NESTING} levels")
            out[key] = parsed
    return out


def _depth(value: Any) -> int:
    """How many levels of objects and arrays `value` nests (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest
