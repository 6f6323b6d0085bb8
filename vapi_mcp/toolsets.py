"""Toolsets: which tools agents see.

The toolsets are declared once, in `vapi_mcp.catalogue` (id, description, default); each tool family
module names the one its tools belong to (`toolset = "calls"`) and is listed in `tools.FAMILIES`. The
server offers the tools of the chosen toolsets plus any single tools named (`--toolsets`, `--tools`),
in catalogue order (the order of `FAMILIES`, then of declaration), minus every tool that changes
something when the server is read-only. Over HTTP the `X-Vapi-Toolsets` / `X-Vapi-Tools` headers
narrow that for a request; they can never add a tool. `markdown()` is the README's tool table.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult, ListToolsResult, TextContent
from pydantic import BaseModel

from .catalogue import TOOLSET_IDS, TOOLSETS, default_tools, default_toolsets
from .config import ConfigError, Settings, check_toolsets, parse_names

if TYPE_CHECKING:
    from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

    from .tools.base import ToolSpec

TOOLSETS_HEADER = "x-vapi-toolsets"
TOOLS_HEADER = "x-vapi-tools"

Catalogue = list[tuple[str, "ToolSpec"]]
"""Every tool of every family with its toolset, in catalogue order."""


def catalogue() -> Catalogue:
    """Every tool with the toolset its family declares."""
    from .tools import FAMILIES

    entries: Catalogue = []
    for family in FAMILIES:
        toolset = getattr(family, "toolset", None)
        if toolset not in TOOLSET_IDS:
            name = getattr(family, "__name__", repr(family))
            raise TypeError(f"{name} must declare its toolset (`toolset = ...`), one of {', '.join(TOOLSET_IDS)}; got {toolset!r}")
        entries.extend((toolset, spec) for spec in family.tools.specs)
    return entries


def default_names(entries: Catalogue) -> frozenset[str]:
    """The default selection: the toolsets the catalogue offers by default, whole or in part."""
    whole, single = default_toolsets(), default_tools()
    return frozenset(spec.name for toolset, spec in entries if toolset in whole or spec.name in single)


def choose(
    entries: Catalogue,
    toolsets: tuple[str, ...] | None,
    tools: tuple[str, ...] | None,
    *,
    toolsets_setting: str,
    tools_setting: str,
) -> frozenset[str] | None:
    """The tool names a toolsets/tools pair selects, or None when neither is given.

    Named tools add to the named toolsets; named tools alone select only themselves.
    """
    if toolsets is None and tools is None:
        return None
    check_toolsets(toolsets, toolsets_setting)
    known = [spec.name for _, spec in entries]
    chosen: set[str] = set()
    for toolset in toolsets or ():
        if toolset == "all":
            chosen.update(known)
        elif toolset == "default":
            chosen.update(default_names(entries))
        else:
            chosen.update(spec.name for family_set, spec in entries if family_set == toolset)
    for name in tools or ():
        if name not in known:
            raise ConfigError(f"{tools_setting}: unknown tool {name!r}; valid: {', '.join(known)}")
        chosen.add(name)
    return frozenset(chosen)


def offered(settings: Settings) -> Catalogue:
    """The tools this server offers, in catalogue order; read-only always wins, and a sandbox-only
    tool (`advance_sandbox_clock`) is never offered with a real Vapi key.

    Raises `ConfigError` for a tool name that does not exist.
    """
    entries = catalogue()
    chosen = choose(
        entries,
        settings.toolsets,
        settings.tools,
        toolsets_setting="--toolsets / VAPI_MCP_TOOLSETS",
        tools_setting="--tools / VAPI_MCP_TOOLS",
    )
    if chosen is None:
        chosen = default_names(entries)
    return [
        (toolset, spec)
        for toolset, spec in entries
        if spec.name in chosen and (spec.read_only or not settings.read_only) and (settings.sandbox or not spec.sandbox_only)
    ]


def not_configured_text(problem: str) -> str:
    return (
        f"vapi-mcp is not configured, so no tool runs: {problem}. Tell the user to fix that setting "
        "(in the MCP client's server configuration or the environment) and restart the server."
    )


class ToolAccess:
    """What a request may see and call: the server's offer, narrowed by a request's `X-Vapi-Toolsets` /
    `X-Vapi-Tools` headers; nothing at all while the server is not configured.

    As server middleware it validates those headers on every request and filters tools/list;
    `refusal` is asked by every tool before it runs.
    """

    def __init__(
        self,
        entries: Catalogue,
        problem: str | None = None,
        *,
        always: frozenset[str] = frozenset(),
        offered: frozenset[str] | None = None,
        read_only: bool = False,
    ) -> None:
        self.entries = entries
        self.problem = problem
        self.always = always
        """Tools no header narrows away (the MCP Apps view's app-only buttons: they run only what was previewed)."""
        self.resources: dict[str, str] = {}
        """Resource URI prefix -> the tool a request must be allowed to call to list or read it."""
        self.offered = offered
        """The tools the server registered (None: every tool of `entries`); a call to another tool of the catalogue
        is answered with the toolset that offers it and the setting that turns it on."""
        self.read_only = read_only
        self._narrowing = lru_cache(maxsize=64)(self._choose)

    def follows(self, prefix: str, tool: str) -> None:
        """Resources under `prefix` follow `tool`: a request whose headers leave it out neither lists nor reads them."""
        self.resources[prefix] = tool

    def _hidden(self, uri: Any, allowed: frozenset[str]) -> bool:
        return any(str(uri).startswith(prefix) and tool not in allowed for prefix, tool in self.resources.items())

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        allowed = self.allowed(getattr(ctx.request, "headers", None)) if ctx.request_id is not None else None
        if allowed is not None and ctx.method == "resources/read":
            uri = ctx.params.get("uri") if isinstance(ctx.params, dict) else getattr(ctx.params, "uri", None)
            if self._hidden(uri, allowed):
                raise MCPError(code=INVALID_PARAMS, message=f"Unknown resource: {uri} (this request's X-Vapi-Toolsets / X-Vapi-Tools headers leave it out)")
        if ctx.method == "tools/call" and self.offered is not None:
            name = ctx.params.get("name") if isinstance(ctx.params, Mapping) else getattr(ctx.params, "name", None)
            if isinstance(name, str) and name not in self.offered | self.always:
                refusal = self.not_offered(name)
                if refusal is not None:
                    return refusal
        result = await call_next(ctx)
        if allowed is not None and ctx.method == "tools/list":
            if isinstance(result, dict) and isinstance(result.get("tools"), list):  # the wire form
                result = {**result, "tools": [tool for tool in result["tools"] if tool.get("name") in allowed | self.always]}
            elif isinstance(result, ListToolsResult):
                result = result.model_copy(update={"tools": [tool for tool in result.tools if tool.name in allowed | self.always]})
        elif allowed is not None and ctx.method in ("resources/list", "resources/templates/list") and self.resources:
            field, key = ("resources", "uri") if ctx.method == "resources/list" else ("resourceTemplates", "uriTemplate")
            listing = result.model_dump(by_alias=True, mode="json", exclude_none=True) if isinstance(result, BaseModel) else dict(result or {})
            listing[field] = [item for item in listing.get(field, []) if not self._hidden(item.get(key, ""), allowed)]
            result = listing
        return result

    def allowed(self, headers: Any) -> frozenset[str] | None:
        """The tool names a request's headers narrow to, or None; `MCPError` for a name that does not exist."""
        if not headers:
            return None
        toolsets, tools = headers.get(TOOLSETS_HEADER), headers.get(TOOLS_HEADER)
        if toolsets is None and tools is None:
            return None
        try:
            return self._narrowing(toolsets, tools)
        except ConfigError as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None

    def not_offered(self, name: str) -> CallToolResult | None:
        """The answer to a call of a catalogue tool this server does not offer (instead of "Unknown tool"): which
        toolset has it and how the user turns it on; None for a name the catalogue does not know."""
        toolset = next((family for family, spec in self.entries if spec.name == name), None)
        if toolset is None:
            return None
        if self.problem is not None:
            return _refusal(not_configured_text(self.problem))
        spec = next(spec for _, spec in self.entries if spec.name == name)
        restart = "in the server's configuration (the MCP client's server entry or the environment), then restart the server"
        if self.read_only and not spec.read_only:
            return _refusal(
                f"{name} changes something, and this server is read-only: it offers only tools that change nothing. "
                f"Tell the user: only they can turn read-only off (VAPI_MCP_READ_ONLY / --read-only), {restart}."
            )
        return _refusal(
            f"{name} is not offered by this server: it belongs to the toolset `{toolset}`, which is not selected. Tell the "
            f"user: only they can turn it on, with VAPI_MCP_TOOLSETS=default,{toolset} (or --toolsets default,{toolset}; "
            f"or VAPI_MCP_TOOLS={name} for this tool alone) {restart}."
        )

    def refusal(self, name: str, headers: Any) -> CallToolResult | None:
        """Why tool `name` may not run for this request, as its result; None when it may."""
        if self.problem is not None:
            return _refusal(not_configured_text(self.problem))
        allowed = self.allowed(headers)
        if allowed is not None and name not in allowed | self.always:
            toolset = next((family for family, spec in self.entries if spec.name == name), "?")
            return _refusal(
                f"{name} (toolset `{toolset}`) is not offered to this request: its X-Vapi-Toolsets / X-Vapi-Tools headers "
                "leave it out. Headers only narrow what the server offers; whoever sets them (the user, or their MCP client's "
                "configuration) can add it."
            )
        return None

    def _choose(self, toolsets: str | None, tools: str | None) -> frozenset[str] | None:
        return choose(
            self.entries,
            parse_names(toolsets),
            parse_names(tools),
            toolsets_setting="X-Vapi-Toolsets header",
            tools_setting="X-Vapi-Tools header",
        )


def _refusal(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def tools_list_size(settings: Settings, *, apps: bool = False) -> tuple[int, int]:
    """(tools, bytes of the `tools` array as compact JSON) that a client of a server with these settings gets in its
    tools/list answer, asked through a real MCP client in process (so exactly what the wire carries: an MCP Apps
    client, `apps`, also gets the confirmation view's app-only tools and each guarded tool's view binding)."""
    import json

    import anyio

    from .server import build_server

    async def listed() -> tuple[int, int]:
        from mcp import Client

        server, app = build_server(settings)
        extensions = []
        if apps:
            from mcp.client.extension import advertise

            from .guard.app import APP_MIME_TYPE, EXTENSION_ID

            extensions = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})]
        try:
            async with Client(server, extensions=extensions) as client:
                tools = (await client.list_tools()).tools
        finally:
            await app.aclose()
        wire = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]
        return len(tools), len(json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode())

    return anyio.run(listed)


README_START = "<!-- generated by `vapi-mcp tools --markdown` from vapi_mcp/catalogue.py and the tools: do not edit here -->"
README_END = "<!-- end of the generated tool table -->"


def markdown() -> str:
    """The README's tool table, from the catalogue: each toolset with what it is for and its tools
    (★ offered by default, 🔒 may dial, spend or destroy), then the default selection's size."""
    from .guard import guarded_kind

    entries = catalogue()
    default = default_names(entries)
    rows = ["| toolset | what it is for | tools |", "|---|---|---|"]
    for toolset in TOOLSETS:
        whole = toolset.default is True
        tools = []
        for family_set, spec in entries:
            if family_set == toolset.id:
                starred = " ★" if not whole and spec.name in default else ""
                locked = " 🔒" if any(guarded_kind(route.method, route.template) for route in spec.sends) else ""
                tools.append(f"`{spec.name}`{starred}{locked}")
        rows.append(f"| `{toolset.id}`{' ★' if whole else ''} | {toolset.description} | {', '.join(tools)} |")
    count, size = tools_list_size(Settings())
    with_apps, apps_size = tools_list_size(Settings(), apps=True)
    legend = (
        f"★ offered by default: {count} tools, whose tools/list a client gets in {size:,} bytes of compact JSON (an MCP Apps "
        f"client gets {with_apps} tools in {apps_size:,} bytes: the confirmation view's {with_apps - count} app-only tools too). "
        "🔒 may dial, spend or destroy (some only in some cases, see below), so the user confirms it first."
    )
    return "\n".join([README_START, *rows, "", legend, README_END])
