"""Tool plumbing: input models, the per-call context, and the registry each family fills.

A tool is a handler with its safety facts at the decorator (no defaults):

    @tools.tool(title="Get call", read_only=True, sends=("GET /call/{id}",))
    async def get_call(args: GetCallArgs, call: ToolContext) -> dict[str, Any]:
        '''One call: ... (the docstring is the description agents read).'''

`read_only` says it changes nothing; `sends` lists every request it may send (Vapi's path templates,
the guard's lookups for it included). The client refuses any other request while it runs, and
tests/test_safety_facts.py checks the facts of every tool: a read-only tool sends only reads, a tool
that may dial, spend or destroy (`guard.GUARDED_ROUTES`, any DELETE) takes `Guarded` arguments. Every
`id` / `*Id` field is a `VapiId` (`vapi_mcp.ids`).

How a tool sends a request that changes something (new families: campaigns, testing... too):

- A tool that dials, spends or destroys describes it as a `GuardedAction` (`Guarded.action`) and sends
  it with `await call.send_guarded(action)`: policy, the human's yes and the write-ahead audit come first.
- Every other mutating request goes through `await call.send(method, path, body, args=args, summary=...)`.
  It sends directly when the body carries no phone destination, and otherwise runs the guard first
  (kind "route", or "text" for a text sent now): number policy, the human's yes, an audit line.
  Its input model must then derive from `Guarded` (it needs `confirmToken`).
- Phone numbers need no code in a tool: `Args` sends every number in its arguments as normalized
  E.164 (`destinations.normalize`), and the guard finds every destination in a body by its shape
  (`destinations.scan`). The client refuses any mutating request whose destinations no guard block
  cleared, and sends nothing but reads in dry-run mode: a tool that forgets all this fails safe.
- A POST that only reads (Vapi's document says it stores nothing: `client.READ_POSTS`) is sent with
  `reads=True`, so dry-run mode sends it; the client checks the claim against that list.
"""

from __future__ import annotations

import inspect
import random
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar, get_args

import anyio
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from ..client import Route, Routes, declared
from ..destinations import DIAL_ROLES, label, normalize, scan_request
from ..errors import InputError, VapiError
from ..guard import CallContext, GuardedAction, guarded_kind
from ..guard.facts import quoted
from ..guard.policy import unknown_id
from ..ids import VapiId

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from ..client import VapiClient
    from ..config import Settings
    from ..guard import Guard
    from ..guard.app import Approval


Object = Annotated[dict[str, Any], WithJsonSchema({"type": "object"})]
"""A nested Vapi object passed through as it is (a transient assistant, overrides, metadata...)."""


class Args(BaseModel):
    """Base of every tool's input model: camelCase fields as in Vapi's API, unknown ones refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    local_fields: ClassVar[frozenset[str]] = frozenset()
    """Arguments that steer this server (confirmToken, views) and are never sent to Vapi."""
    phone_fields: ClassVar[tuple[str, ...]] = ()
    """Top-level fields holding the user's own number (import_number's `number`); nested ones are found by shape."""

    @model_validator(mode="before")
    @classmethod
    def _normalized_numbers(cls, data: Any) -> Any:
        """Every phone number in the arguments as normalized E.164 (when its E.164 check is on), before anything else
        sees them: the body, the preview, the confirm token's binding and the audit line all show the number sent."""
        return normalize(data, own=cls.phone_fields) if isinstance(data, dict) else data

    def body(self, *, exclude: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
        """The Vapi request body: set fields only, local ones left out."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True, exclude=set(self.local_fields | exclude))


class Guarded(Args):
    """Input of a tool that dials, texts, spends or destroys, or may carry a phone destination: it may carry the guard's confirm token."""

    confirmToken: str | None = Field(None, description="Only after the user's yes.")

    local_fields: ClassVar[frozenset[str]] = frozenset({"confirmToken"})

    def action(self, call: ToolContext, **described: Any) -> GuardedAction:
        """What the guard checks and the human confirms; a confirm token binds to these arguments, less itself."""
        arguments = self.model_dump(mode="json", exclude_none=True, exclude={"confirmToken"})
        return GuardedAction(
            tool=call.tool, arguments=arguments, confirm_token=self.confirmToken, account=call.vapi.account, tenant=call.tenant, **described
        )


def takes_confirm_token(model: Any) -> bool:
    """True when a tool's arguments may carry confirmToken (listed or not): a `Guarded` model, or a union of them."""
    if isinstance(model, type) and issubclass(model, Guarded):
        return True
    root = getattr(model, "model_fields", {}).get("root")
    return root is not None and any(takes_confirm_token(branch) for branch in _branches(root.annotation))


def _branches(annotation: Any) -> list[Any]:
    """The classes in an annotation, through Annotated and Union."""
    args = get_args(annotation)
    return [annotation] if not args else [leaf for arg in args for leaf in _branches(arg)]


@dataclass(frozen=True)
class Link:
    """A file Vapi serves (a recording, a call log), returned as an MCP resource link beside the view."""

    uri: str
    name: str
    description: str
    mime_type: str | None = None


@dataclass
class Linked:
    """A handler's result with resource links: the JSON view, then one `resource_link` block per link."""

    view: dict[str, Any]
    links: list[Link] = field(default_factory=list)


def hide_confirm_token(schema: dict[str, Any]) -> None:
    """For open schemas (extra fields allowed): the preview tells the agent about confirmToken; tools/list stays lean."""
    schema.get("properties", {}).pop("confirmToken", None)


class IdArgs(Args):
    id: VapiId


class ListArgs(Args):
    limit: int | None = Field(None, ge=1, le=1000)


class DeleteArgs(Guarded):
    id: VapiId


def listed_only(*names: str) -> Callable[[dict[str, Any]], None]:
    """A `json_schema_extra` that lists only `names` (the other fields are still accepted): tools/list stays small."""

    def trim(schema: dict[str, Any]) -> None:
        schema["properties"] = {k: v for k, v in schema.get("properties", {}).items() if k in names}
        schema.pop("additionalProperties", None)
        if "required" in schema:
            schema["required"] = [k for k in schema["required"] if k in names]

    return trim


class PassThrough(BaseModel):
    """A nested Vapi object whose commonly used fields are typed and whose other fields pass through."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Strict(BaseModel):
    # A nested Vapi object whose fields are all typed: an unknown one is refused.
    model_config = ConfigDict(extra="forbid")


def shown_as(hint: str, type_: str = "object") -> WithJsonSchema:
    """Validate with the full model but show agents a one-line hint (tools/list stays small)."""
    return WithJsonSchema({"type": type_, "description": hint})


@dataclass
class ToolContext:
    """What a handler needs for one invocation (the guard sees only its `guard.CallContext` part)."""

    vapi: VapiClient
    guard: Guard
    settings: Settings
    mcp: Context[Any, Any] | None = None
    tool: str = ""
    tenant: str = "local"
    """Who asked, for the audit: `oauth:<subject>`, `local` (stdio), `http:server-key`, or `x-vapi-key:<account>`."""
    approval: Approval | None = None
    """Set only by the MCP Apps view's Approve: this invocation runs the pending action it approved."""
    scopes: frozenset[str] | None = None
    """The OAuth scopes of the signed-in person (`vapi_mcp.scopes`); None without OAuth, where they do not apply."""

    async def send(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        args: Args,
        summary: str,
        check: str | None = None,
        params: dict[str, Any] | None = None,
        reads: bool = False,
        describe: Callable[[CallContext], Awaitable[str]] | None = None,
    ) -> Any:
        """Send a request that changes something (or a POST that `reads`), through the guard when its body carries a phone destination.

        The one way a tool sends a mutating request that is not a guarded action of its own (those use
        `send_guarded`): without a transfer,
        SIP or SMS destination (or customer) in `body` it goes straight out; with one, the guard checks
        every number, asks the human (`summary` plus the destinations, listed by the guard) and
        writes the audit line (`describe`, if given, names things in the summary once policy passed, and
        refuses ids that do not exist). `args` must then be `Guarded` (it may carry the confirm token): tools whose
        request can carry a destination (by Vapi's document) take `Guarded` arguments; any other tool
        refuses a destination-shaped object in its free-form fields, naming where it is.
        """
        found = [item for item in scan_request(path, body) if item.guarded]
        if not found:
            return await self.vapi.request(method, path, params=params, json=body, check=check, reads=reads)
        if not isinstance(args, Guarded):
            first = found[0]
            raise InputError(
                first.where,
                f"holds a {label(first)}, and {self.tool} sets up no phone destinations (Vapi's document puts none in "
                f"{method} {path}); nothing was sent",
                hint="Remove it. Transfers and SMS belong on an assistant, squad, tool or phone number (create_/update_ tools), which ask the user.",
            )
        kind = "dial" if any(f.role in DIAL_ROLES for f in found) else "text" if any(f.role == "sms" for f in found) else "route"
        action = args.action(self, kind=kind, summary=summary, method=method, path=path, body=body, describe=describe)
        return await self.send_guarded(action, check=check, params=params, reads=reads)

    async def send_guarded(
        self,
        action: GuardedAction,
        *,
        check: str | None = None,
        ids: Callable[[Any], list[str]] | None = None,
        numbers: Callable[[Any], dict[str, str]] | None = None,
        params: dict[str, Any] | None = None,
        reads: bool = False,
    ) -> Any:
        """Send `action`'s request once the guard has passed it (policy, the human's yes, the write-ahead line).

        The request is exactly the one the guard checked and audited (`action.method`, `.path`, `.body`);
        the outcome line records the Vapi ids it produced: `ids(answer)`, by default the answer's own id.
        `numbers(answer)` maps each placed call's id to the number it calls (a batch), so each call holds its own
        share of the daily caps and gives it back alone if it never rings.
        """
        async with self.guard.guarded(action, self) as record:
            data = await self.vapi.request(action.method, action.path, params=params, json=action.body, check=check, reads=reads)
            record.ids = ids(data) if ids is not None else created_id(data)
            if numbers is not None:
                record.numbers = numbers(data)
        return data

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Send an MCP progress notification when the client asked for them."""
        if self.mcp is None:
            return
        try:
            await self.mcp.report_progress(progress, total, message)
        except Exception:  # progress is best effort; the work goes on
            pass


@dataclass(frozen=True)
class Host:
    """What a family's resources and prompts (`register_extras(server, host)`) may use of the server that
    hosts them, and nothing more: a family knows nothing of the server itself."""

    offered: frozenset[str]
    """The names of the tools the server offers (a prompt names only these)."""
    client_for: Callable[[Context[Any, Any] | None], tuple[VapiClient, bool]]
    """The Vapi client for a request (its own `X-Vapi-Key`, else the server's key or the sandbox), and
    whether it is the sandbox; a malformed key raises `InputError`."""
    request_scope: Callable[[Context[Any, Any] | None], AbstractContextManager[None]]
    """Within it, the request's own secrets (its `X-Vapi-Key`) are scrubbed from what is returned or logged."""
    follows: Callable[[str, str], None] = lambda prefix, tool: None
    """`follows("vapi://calls/", "get_call")`: resources under that prefix are listed and readable only for requests
    that may call that tool (a request's `X-Vapi-Toolsets` / `X-Vapi-Tools` headers can narrow it away)."""


async def lookup(call: CallContext, path: str, field: str, value: str, what: str, lister: str) -> dict[str, Any]:
    """A Vapi object a guarded request names, for the human's question; an id that does not exist is
    refused (`unknown_id`) before anyone is asked (`lister` is the tool that shows the ids)."""
    try:
        found = await call.vapi.get(path)
    except VapiError as exc:
        if exc.status == 404:
            raise unknown_id(field, value, what, lister) from None
        raise
    return found if isinstance(found, dict) else {}


async def delete_confirmed(call: ToolContext, args: Guarded, path: str, summary: str, *, body: Any = None) -> Any:
    """DELETE `path` once the guard has the user's yes; Vapi's answer."""
    action = args.action(call, kind="destroy", summary=summary, method="DELETE", path=path, body=body)
    return await call.send_guarded(action, ids=lambda _: [path.rsplit("/", 1)[1]])


def check_created_since(lister: str, since: datetime) -> str:
    """How to see whether a create that got no clear answer went through: what `lister` shows since the attempt."""
    return f"Check with {lister} createdAtGe={since.strftime('%Y-%m-%dT%H:%M:%SZ')} before trying again."


def created_id(answer: Any) -> list[str]:
    """The id of what a request created or changed, as the audit records it (none if the answer names none)."""
    return [answer["id"]] if isinstance(answer, dict) and isinstance(answer.get("id"), str) else []


# updates: keep what the agent did not mention

SWITCHES = ("provider", "type")
"""A nested object whose `provider` or `type` changes is another kind of object: it replaces the old one."""
KEPT_ACROSS_A_SWITCH: dict[str, tuple[str, ...]] = {"model": ("messages", "tools", "toolIds")}
"""What a new model provider keeps of the old model unless given: the prompt and the tools, which every model
of Vapi's document has (tests/test_updates.py checks it)."""
REPLACE_HINT = "Top-level fields to replace whole instead of merging (e.g. [\"model\"]); the rest keep what you leave out."


@dataclass
class Merged:
    """An update as Vapi will apply it: each top-level field the agent gave, merged into what Vapi has.

    Vapi's PATCH replaces each top-level field it is sent, nested objects whole: `model: {tools}` would drop
    `model.messages`, the system prompt. The update tools read the object first and send each field merged.
    """

    body: dict[str, Any]
    """The PATCH body: the given fields, nested objects merged into the current ones."""
    changed: list[str]
    """Dotted paths of the values the agent set that differ from Vapi's (a list is one value)."""
    kept: list[str]
    """Dotted paths inside the objects the agent touched that it left out, kept as they were."""
    replaced: list[str]
    """Objects replaced whole: asked for (`replace`), or whose provider or type changed."""
    removed: list[str]
    """Dotted paths that were there and are gone after the update."""

    def view(self) -> dict[str, Any]:
        """What the result shows of it."""
        return non_empty({"changed": self.changed, "kept": self.kept, "replaced": self.replaced, "removed": self.removed})

    def phrase(self) -> str:
        """For the human's question: 'model.tools (keeping model.messages, ...)' and what goes. A path is made of keys
        an agent may choose (inside metadata, variableValues): one that is not a plain name is shown quoted, as a name."""
        text = ", ".join(map(_path, self.changed)) or "nothing (the values are the ones it has)"
        if self.kept:
            text += f" (keeping {', '.join(map(_path, self.kept[:6]))}{', ...' if len(self.kept) > 6 else ''})"
        if self.removed:
            text += f"; it removes {', '.join(map(_path, self.removed[:6]))}{', ...' if len(self.removed) > 6 else ''}"
        return text


_PLAIN_PATH = re.compile(r"[A-Za-z0-9_$@:.\-]{1,80}")


def _path(path: str) -> str:
    """A dotted path as the question shows it: as it is when made of plain names, else quoted (and cut) like a name."""
    return path if _PLAIN_PATH.fullmatch(path) else quoted(path, 40)


def merged_update(current: dict[str, Any], given: dict[str, Any], *, replace: Sequence[str] = (), whole: Sequence[str] = ()) -> Merged:
    """The PATCH body that changes what `given` says and keeps the rest of each nested object (`Merged`).

    `replace`: top-level fields the agent asked to replace whole; `whole`: fields that are always replaced (a JSON
    Schema, a list of members). A nested object whose provider or type changes is replaced too (a model keeps its
    prompt and tools: `KEPT_ACROSS_A_SWITCH`)."""
    replaced: list[str] = []
    carried: list[str] = []
    body: dict[str, Any] = {}
    for key, value in given.items():
        old = current.get(key)
        if key in replace or key in whole:
            body[key] = value
            if isinstance(old, dict) and key in replace:
                replaced.append(key)
        else:
            body[key] = _merge(old, value, key, replaced, carried)
    changed = [path for key in given for path in _changes(current.get(key), given[key], key, replaced)]
    kept = [path for key in given if key not in whole for path in _left_out(current.get(key), given[key], key, replaced)] + carried
    removed = [path for key in given for path in _gone(current.get(key), body[key], key)]
    return Merged(body=body, changed=sorted(changed), kept=sorted(kept), replaced=sorted(replaced), removed=sorted(removed))


def _merge(old: Any, new: Any, path: str, replaced: list[str], carried: list[str]) -> Any:
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return new
    if any(name in old and name in new and old[name] != new[name] for name in SWITCHES):
        replaced.append(path)
        kept = [k for k in KEPT_ACROSS_A_SWITCH.get(path, ()) if k in old and k not in new]
        carried += [f"{path}.{k}" for k in kept]
        return {**{k: old[k] for k in kept}, **new}
    return {**old, **{k: _merge(old.get(k), v, f"{path}.{k}", replaced, carried) for k, v in new.items()}}


def _changes(old: Any, new: Any, path: str, replaced: list[str]) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict) and path not in replaced and new:
        return [p for k, v in new.items() for p in _changes(old.get(k), v, f"{path}.{k}", replaced)]
    return [] if old == new else [path]


def _left_out(old: Any, given: Any, path: str, replaced: list[str]) -> list[str]:
    if not (isinstance(old, dict) and isinstance(given, dict)) or path in replaced:
        return []
    out = []
    for key in old:
        if key not in given:
            out.append(f"{path}.{key}")
        else:
            out += _left_out(old[key], given[key], f"{path}.{key}", replaced)
    return out


def _gone(old: Any, new: Any, path: str) -> list[str]:
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return []
    return [p for key in old for p in ([f"{path}.{key}"] if key not in new else _gone(old[key], new[key], f"{path}.{key}"))]


T = TypeVar("T")

POLL_FIRST, POLL_GROWTH, POLL_CAP, POLL_JITTER = 0.5, 1.5, 2.0, 0.25
"""Waits poll after ~0.5 s, then 1.5x longer each time up to ~2 s (so a wait returns at most ~2.5 s
after the thing it waits for happened), each pause spread by +/-25% so that many waits never poll in step."""
POLL_RANDOM = random.Random()
"""The jitter's random source (tests put a seeded one here)."""


def poll_delays(rng: random.Random) -> Iterator[float]:
    """The pauses between one wait's looks: growing to a cap, each jittered."""
    interval = POLL_FIRST
    while True:
        yield interval * rng.uniform(1 - POLL_JITTER, 1 + POLL_JITTER)
        interval = min(interval * POLL_GROWTH, POLL_CAP)


async def poll(
    call: ToolContext,
    fetch: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    note: Callable[[T], str],
    timeout: float,
) -> tuple[T, bool]:
    """Fetch until `done` or `timeout` seconds pass, with a progress notification per look; (last answer, finished)."""
    deadline = anyio.current_time() + timeout
    delays = poll_delays(POLL_RANDOM)
    looks = 0
    while True:
        value = await fetch()
        looks += 1
        await call.progress(looks, None, note(value))
        if done(value):
            return value, True
        remaining = deadline - anyio.current_time()
        if remaining <= 0:
            return value, False
        await anyio.sleep(min(next(delays), remaining))


def non_null(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` without those that are None: a compact row."""
    return {k: v for k, v in fields.items() if v is not None}


def non_empty(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` without those that are None, an empty list or an empty object: a compact view."""
    return {k: v for k, v in fields.items() if v not in (None, [], {})}


def without_org(item: dict[str, Any]) -> dict[str, Any]:
    """A Vapi object without its org id (bookkeeping no agent needs)."""
    return {k: v for k, v in item.items() if k != "orgId"}


def strip_org(item: dict[str, Any]) -> dict[str, Any]:
    """A Vapi object without its org id and empty fields.

    Secrets need no step here: every result is masked by field before it is encoded (`App._ok`).
    """
    return non_empty(without_org(item))


def items_of(answer: Any) -> list[Any]:
    """The items of a list answer: Vapi answers a list, or a page object with `results`."""
    return answer if isinstance(answer, list) else (answer or {}).get("results", [])


def page_view(answer: dict[str, Any], key: str, row: Callable[[dict[str, Any]], Any], page: int, limit: int) -> dict[str, Any]:
    """A page object (`results`, `metadata.totalItems`) as `key`'s rows, their count, the page, the total, and
    the next page when there is one."""
    rows = [row(item) for item in answer.get("results") or [] if isinstance(item, dict)]
    view: dict[str, Any] = {key: rows, "count": len(rows), "page": page}
    total = (answer.get("metadata") or {}).get("totalItems")
    if isinstance(total, int | float):
        view["total"] = int(total)
        if page * limit < total:
            view["next"] = {"page": page + 1}
    return view


Handler = Callable[[Any, ToolContext], Awaitable[Any]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class ToolSpec:
    """One tool as agents see it, the handler behind it, and its safety facts.

    `read_only` (nothing changes) and `sends` (every request the tool may send, the guard's lookups for it
    included) are declared by the tool itself; the tests check them over the whole catalogue
    (tests/test_safety_facts.py), and the client refuses, while the tool runs, any request it does not declare.
    """

    name: str
    title: str
    description: str
    input_model: type[Args]
    handler: Handler
    read_only: bool
    sends: Routes
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = True
    sandbox_only: bool = False
    """Offered only when the server runs on the embedded sandbox (never with a real Vapi key)."""
    ledger: bool = False
    """It changes the guard's own ledger (the do-not-call list), not Vapi: it sends nothing, yet is not read-only."""

    async def run(self, args: Any, call: ToolContext) -> Any:
        """The handler, sending only the requests this tool declares (`client.declared`)."""
        with declared(self.sends):
            return await self.handler(args, call)


@dataclass
class ToolGroup:
    """The tools of one family module, in the order they are declared."""

    specs: list[ToolSpec] = field(default_factory=list)

    def tool(
        self,
        *,
        title: str,
        read_only: bool,
        sends: Sequence[str],
        destructive: bool | None = None,
        idempotent: bool | None = None,
        open_world: bool = True,
        name: str | None = None,
        sandbox_only: bool = False,
        ledger: bool = False,
    ) -> Callable[[H], H]:
        """Register `async def handler(args: SomeArgs, call: ToolContext) -> dict`; its docstring is the description.

        Every tool states its safety facts here, with no default:

        - `read_only`: True when it changes nothing (its requests are GETs, or POSTs `client.READ_POSTS` lists);
          `--read-only` offers only these, and the MCP annotations say so;
        - `sends`: every request it may send, as `"METHOD /path/{placeholder}"` in Vapi's document's own
          templates (`"GET /call/{id}"`, `"DELETE /call/{id}"`; `"POST <controlUrl>"` for live call control),
          the GETs the guard makes for it included (a number, assistant or squad named in the question).
          A request to a route that dials, spends or destroys (`guard.GUARDED_ROUTES`, every DELETE) needs
          `Guarded` arguments.

        `ledger=True` marks a tool that changes only the guard's own ledger (`add_do_not_call`): it sends nothing.
        """
        routes = tuple(Route.parse(text) for text in sends)

        def decorator(handler: H) -> H:
            params = list(inspect.signature(handler).parameters.values())
            model = handler.__annotations__[params[0].name]
            if isinstance(model, str):
                model = handler.__globals__[model]
            tool_name = name or handler.__name__
            self.specs.append(
                ToolSpec(
                    name=tool_name,
                    title=title,
                    description=" ".join((handler.__doc__ or "").split()),
                    input_model=model,
                    handler=handler,
                    read_only=read_only,
                    sends=Routes(tool_name, routes),
                    destructive=destructive_hint(read_only, routes) if destructive is None else destructive,
                    idempotent=idempotent_hint(read_only, routes) if idempotent is None else idempotent,
                    open_world=open_world,
                    sandbox_only=sandbox_only,
                    ledger=ledger,
                )
            )
            return handler

        return decorator


def destructive_hint(read_only: bool, routes: Sequence[Route]) -> bool:
    """MCP's `destructiveHint` ("may perform destructive updates to its environment"; false: "only additive updates"):
    true for a tool that may ring a phone, text, spend, delete or overwrite what is stored (a guarded request, a
    DELETE, a PATCH), so a host's own confirmation fires there; a tool that only stops something says false
    (`destructive=False` at its decorator), so stopping a call or a campaign stays one step."""
    return not read_only and any(route.method in ("DELETE", "PATCH", "PUT") or guarded_kind(route.method, route.template) for route in routes)


def idempotent_hint(read_only: bool, routes: Sequence[Route]) -> bool:
    """MCP's `idempotentHint` ("calling the tool repeatedly with the same arguments will have no additional effect"):
    true for reads, updates and deletes (the same values set twice, a thing deleted twice); false as soon as the tool
    may create something (a POST: a second call places a second call, buys a second number)."""
    return read_only or not any(route.method == "POST" for route in routes)


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
