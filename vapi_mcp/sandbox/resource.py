"""Vapi's plain CRUD on one collection, declared once: `Resource(...)` and its `.routes`.

POST `path` creates (the body validated by `create`), GET `path` lists (the document's
filters: `id`, `idAny`, `name`, the createdAt/updatedAt ranges, `limit`, and `page` for a paged
answer), GET `path/{id}` gets, PATCH `path/{id}` updates (the body validated by `update`),
DELETE `path/{id}` deletes, with Vapi's error shapes (400 listing every broken rule, 400 for a
malformed id, 404 "Couldn't Get <what>"). A resource module declares what is particular to it
(cross-object checks, refusals), and writes its own endpoint where one is not plain.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .clock import iso
from .core import ApiError, Endpoint, body_of, collection_routes, find, paged, paginate, query_of, sandbox_of, stamp
from .validation import Rule

if TYPE_CHECKING:
    from . import Sandbox
    from .store import Collection

Obj = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    path: str
    """`/assistant`: the collection's path; one object is at `path/{id}`."""
    kind: str
    """The store's collection (`assistants`)."""
    what: str
    """The name in Vapi's messages (`Assistant`: "Couldn't Get Assistant.")."""
    create: Rule
    update: Rule | Callable[[Obj], Rule]
    """The PATCH body's rule, or a function of the stored object that picks it (by its provider, its type)."""
    query: Mapping[str, Rule]
    """GET `path`'s query parameters, as the document declares them."""
    page: bool = False
    """Answer a list as `{results, metadata}` (the document's paginated lists) instead of a bare array."""
    nulls: Literal["ignore", "set", "clear"] = "ignore"
    """What `null` in a PATCH body does: leaves the field, stores null, or removes the field."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Fields every object has unless its body set them (a fresh copy each; also filled in, when missing, on
    an object stored before its resource had them)."""
    check: Callable[[Sandbox, Obj], None] | None = None
    """Checks across objects before a create or an update (given the object as it would be): raise ApiError."""
    refuse: Callable[[Sandbox, Obj, str], str | None] | None = None
    """Why the object may not be `update`d or `delete`d (a built-in one, one in use), or None."""
    keep: Callable[[Sandbox, Obj, Mapping[str, str]], bool] | None = None
    """A list filter of this resource's own (beyond id, idAny, name and the time ranges)."""
    stored: Callable[[Sandbox, Obj], Obj] | None = None
    """A create or update body as the object keeps it (a session's messages in the shape its answers promise)."""

    def collection(self, request: Request) -> Collection:
        return sandbox_of(request).store.collection(self.kind)

    async def create_item(self, request: Request) -> JSONResponse:
        sb = sandbox_of(request)
        body = await body_of(request, self.create)
        if self.stored is not None:
            body = self.stored(sb, body)
        if self.check is not None:
            self.check(sb, body)
        item = stamp(sb, **{**copy.deepcopy(dict(self.defaults)), **{k: v for k, v in body.items() if v is not None}})
        self.collection(request)[item["id"]] = item
        return JSONResponse(item, status_code=201)

    def shown(self, item: Obj) -> Obj:
        """The object as answered: its defaults filled in where missing."""
        missing = {k: copy.deepcopy(v) for k, v in self.defaults.items() if k not in item}
        return {**item, **missing} if missing else item

    async def list_items(self, request: Request) -> JSONResponse:
        sb = sandbox_of(request)
        query = query_of(request, dict(self.query))
        items = self.collection(request).values()
        if "id" in query:
            items = [i for i in items if i["id"] == query["id"]]
        if "idAny" in query:
            wanted = set(query["idAny"].split(","))
            items = [i for i in items if i["id"] in wanted]
        if "name" in query:
            items = [i for i in items if i.get("name") == query["name"]]
        if self.keep is not None:
            items = [i for i in items if self.keep(sb, i, query)]
        items = [self.shown(i) for i in items]
        return JSONResponse(paged(items, query) if self.page else paginate(items, query))

    async def get_item(self, request: Request) -> JSONResponse:
        return JSONResponse(self.shown(find(self.collection(request), request, self.what)))

    async def update_item(self, request: Request) -> JSONResponse:
        sb = sandbox_of(request)
        item = find(self.collection(request), request, self.what)
        self._refused(sb, item, "update")
        rule = self.update if isinstance(self.update, Rule) else self.update(item)
        body = await body_of(request, rule)
        if self.stored is not None:
            body = self.stored(sb, body)
        after = dict(item)
        for key, value in body.items():
            if value is not None or self.nulls == "set":
                after[key] = value
            elif self.nulls == "clear":
                after.pop(key, None)
        if self.check is not None:
            self.check(sb, after)
        item.clear()
        item.update(after, updatedAt=iso(sb.now()))
        return JSONResponse(self.shown(item))

    async def delete_item(self, request: Request) -> JSONResponse:
        sb = sandbox_of(request)
        item = find(self.collection(request), request, self.what)
        self._refused(sb, item, "delete")
        del self.collection(request)[item["id"]]
        return JSONResponse(self.shown(item))

    def _refused(self, sb: Sandbox, item: Obj, verb: str) -> None:
        reason = self.refuse(sb, item, verb) if self.refuse is not None else None
        if reason:
            raise ApiError(400, reason)

    def routes(self, **instead: Endpoint) -> list[Route]:
        """The five routes; `instead` replaces an endpoint that is not plain (create=..., update=...)."""
        return collection_routes(
            self.path,
            instead.get("create", self.create_item),
            instead.get("list", self.list_items),
            instead.get("get", self.get_item),
            instead.get("update", self.update_item),
            instead.get("delete", self.delete_item),
        )
