"""Tool plumbing: input models, the per-call context, and the registry each family fills."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Awaitable, Callable, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from ..guard import GuardedAction

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from ..client import VapiClient
    from ..config import Settings
    from ..guard import Guard


Object = Annotated[dict[str, Any], WithJsonSchema({"type": "object"})]
"""A nested Vapi object passed through as it is (a transient assistant, overrides, metadata...)."""


class Args(BaseModel):
    """Base of every tool's input model: camelCase fields as in Vapi's API, unknown ones refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    local_fields: ClassVar[frozenset[str]] = frozenset()
    """Arguments that steer this server (confirmToken, views) and are never sent to Vapi."""

    def body(self, *, exclude: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
        """The Vapi request body: set fields only, local ones left out."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True, exclude=set(self.local_fields | exclude))


class Guarded(Args):
    """Input of a tool that dials, spends or destroys: it may carry the guard's confirm token."""

    confirmToken: str | None = Field(
        None, description="From this tool's preview, only after the user said yes."
    )

    local_fields: ClassVar[frozenset[str]] = frozenset({"confirmToken"})

    def action(self, call: ToolContext, **described: Any) -> GuardedAction:
        """What the guard checks and the human confirms; a confirm token binds to these arguments, less itself."""
        arguments = self.model_dump(mode="json", exclude_none=True, exclude={"confirmToken"})
        return GuardedAction(
            tool=call.tool, arguments=arguments, confirm_token=self.confirmToken, account=call.vapi.account, **described
        )


class IdArgs(Args):
    id: str


class ListArgs(Args):
    limit: int | None = Field(None, ge=1, le=1000)


class DeleteArgs(Guarded):
    id: str


class PassThrough(BaseModel):
    """A nested Vapi object whose commonly used fields are typed and whose other fields pass through."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


@dataclass
class ToolContext:
    """What a handler needs for one invocation."""

    vapi: VapiClient
    guard: Guard
    settings: Settings
    mcp: Context[Any, Any] | None = None
    tool: str = ""
    tenant: str = "local"
    """Who asked, for the audit: `local` (stdio), `http:server-key`, or `x-vapi-key:<account>`."""

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Send an MCP progress notification when the client asked for them."""
        if self.mcp is None:
            return
        try:
            await self.mcp.report_progress(progress, total, message)
        except Exception:  # progress is best effort; the work goes on
            pass


async def delete_confirmed(call: ToolContext, args: Guarded, path: str, summary: str, *, body: Any = None) -> Any:
    """DELETE `path` once the guard has the user's yes; Vapi's answer."""
    action = args.action(call, kind="destroy", summary=summary, method="DELETE", path=path, body=body)
    async with call.guard.guarded(action, call) as record:
        deleted = await call.vapi.delete(path, json=body)
        record.ids = [path.rsplit("/", 1)[1]]
    return deleted


Handler = Callable[[Any, ToolContext], Awaitable[Any]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class ToolSpec:
    """One tool as agents see it, and the handler behind it."""

    name: str
    title: str
    description: str
    input_model: type[Args]
    handler: Handler
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = True

    @property
    def mutating(self) -> bool:
        return not self.read_only


@dataclass
class ToolGroup:
    """The tools of one family module, in the order they are declared."""

    specs: list[ToolSpec] = field(default_factory=list)

    def tool(
        self,
        *,
        title: str,
        read_only: bool = False,
        destructive: bool = False,
        idempotent: bool = False,
        open_world: bool = True,
        name: str | None = None,
    ) -> Callable[[H], H]:
        """Register `async def handler(args: SomeArgs, call: ToolContext) -> dict`; its docstring is the description."""

        def decorator(handler: H) -> H:
            params = list(inspect.signature(handler).parameters.values())
            model = handler.__annotations__[params[0].name]
            if isinstance(model, str):
                model = handler.__globals__[model]
            self.specs.append(
                ToolSpec(
                    name=name or handler.__name__,
                    title=title,
                    description=" ".join((handler.__doc__ or "").split()),
                    input_model=model,
                    handler=handler,
                    read_only=read_only,
                    destructive=destructive,
                    idempotent=idempotent or read_only,
                    open_world=open_world,
                )
            )
            return handler

        return decorator


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Trim a pydantic JSON schema to what an agent needs: no titles, no `null` branches for optional fields."""

    def walk(node: Any, in_properties: bool = False) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        if in_properties:  # keys are field names, values are schemas
            return {name: walk(sub) for name, sub in node.items()}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "title" and isinstance(value, str) or key == "additionalProperties" and value is True:
                continue
            if key in ("properties", "$defs", "definitions", "patternProperties"):
                out[key] = walk(value, in_properties=True)
            else:
                out[key] = walk(value)
        any_of = out.get("anyOf")
        if isinstance(any_of, list) and len(any_of) == 2 and {"type": "null"} in any_of:
            other = next(branch for branch in any_of if branch != {"type": "null"})
            out.pop("anyOf")
            if out.get("default", 0) is None:
                out.pop("default")
            out = {**other, **out}
        elif out.get("default", 0) is None:
            out.pop("default")
        return out

    return walk(schema)
