"""The sandbox's shared parts: the store, Vapi's error shape, request records, fault injection."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .clock import Clock, iso
from .validation import Rule, Str, validate, validate_query

ORG_ID = "5f0c5a4e-6b1d-4d59-9a3e-0d5e7c1b2a90"
_BOUNDS = ("Gt", "Lt", "Ge", "Le")
DATE_FILTERS: dict[str, Rule] = {f"{stamp}{op}": Str(date_time=True) for stamp in ("createdAt", "updatedAt") for op in _BOUNDS}
"""The createdAt/updatedAt range filters every list query of the document takes (`paginate` applies them)."""

_REASONS = {400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


class ApiError(Exception):
    """Raised by a route; becomes Vapi's error body `{"message", "error", "statusCode"}`."""

    def __init__(self, status: int, message: str | list[str]) -> None:
        super().__init__(str(message))
        self.status = status
        self.message = message

    def response(self) -> JSONResponse:
        return error_response(self.status, self.message)


def error_response(status: int, message: str | list[str], headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"message": message, "error": _REASONS.get(status, "Error"), "statusCode": status}
    return JSONResponse(body, status_code=status, headers=headers)


def not_found(what: str) -> ApiError:
    return ApiError(404, f"Couldn't Get {what}. {what} Not Found.")


@dataclass
class RecordedRequest:
    """What the sandbox received: tests assert on these (the body exactly as sent)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class Fault:
    """An injected failure: the next `times` matching requests get it."""

    method: str
    path: str
    """A path prefix such as '/call'."""
    status: int = 500
    times: int = 1
    retry_after: float | None = None
    delay: float = 0.0
    body: bytes | None = None
    """Raw body (for example not JSON); default is Vapi's error shape."""
    then_pass: bool = False
    """Apply `delay` and then serve the request normally (a slow answer, not an error)."""
    reason: str = "insufficient_credits"
    """For a 402: the billing reason (SimulationRunPaymentRequiredResponse.reason)."""

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in (method, "*") and path.startswith(self.path)


@dataclass
class Store:
    """Everything the sandbox holds, keyed by id, in creation order."""

    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    phone_numbers: dict[str, dict[str, Any]] = field(default_factory=dict)
    assistants: dict[str, dict[str, Any]] = field(default_factory=dict)
    squads: dict[str, dict[str, Any]] = field(default_factory=dict)
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    evals: dict[str, dict[str, Any]] = field(default_factory=dict)
    eval_runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    structured_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    personalities: dict[str, dict[str, Any]] = field(default_factory=dict)
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    simulations: dict[str, dict[str, Any]] = field(default_factory=dict)
    suites: dict[str, dict[str, Any]] = field(default_factory=dict)
    simulation_runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)


Endpoint = Callable[[Request], Awaitable[Any]]


def collection_routes(path: str, create: Endpoint, list_all: Endpoint, get: Endpoint, update: Endpoint, delete: Endpoint) -> list[Route]:
    """Vapi's shape of a resource: POST and GET on `path`, GET, PATCH and DELETE on `path/{id}`."""
    return [
        Route(path, create, methods=["POST"]),
        Route(path, list_all, methods=["GET"]),
        Route(path + "/{id}", get, methods=["GET"]),
        Route(path + "/{id}", update, methods=["PATCH"]),
        Route(path + "/{id}", delete, methods=["DELETE"]),
    ]


def new_id() -> str:
    return str(uuid.uuid4())


def stamp(clock: Clock, **fields: Any) -> dict[str, Any]:
    """The common fields of every Vapi object."""
    now = iso(clock.now())
    return {"id": new_id(), "orgId": ORG_ID, "createdAt": now, "updatedAt": now, **fields}


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, ["Unexpected token in JSON body"]) from None


async def body_of(request: Request, rule: Rule) -> dict[str, Any]:
    """The JSON body, validated like Vapi does; 400 with every broken rule otherwise."""
    body = await read_json(request)
    if body is None:
        body = {}
    errors = validate(rule, body)
    if errors:
        raise ApiError(400, errors)
    return body


def query_of(request: Request, rules: dict[str, Rule]) -> dict[str, str]:
    query = dict(request.query_params)
    errors = validate_query(rules, query)
    if errors:
        raise ApiError(400, errors)
    return query


def path_id(request: Request) -> str:
    """The `{id}` path parameter; Vapi answers 400 for a malformed one (and 404 for an unknown one: `find`)."""
    value = request.path_params["id"]
    try:
        uuid.UUID(value)
    except ValueError:
        raise ApiError(400, ["id must be a UUID"]) from None
    return value


def find(collection: dict[str, dict[str, Any]], request: Request, what: str) -> dict[str, Any]:
    """The stored object the path's `{id}` names: 400 for a malformed id, 404 ("Couldn't Get <what>") for an unknown one."""
    item = collection.get(path_id(request))
    if item is None:
        raise not_found(what)
    return item


def paginate(items: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    """Vapi's list filters shared by every resource: createdAt/updatedAt ranges, limit (default 100), newest first."""
    out = sorted(items, key=lambda item: item["createdAt"], reverse=True)
    for stamp_field in ("createdAt", "updatedAt"):
        for op in _BOUNDS:
            bound = query.get(stamp_field + op)
            if bound is None:
                continue
            from .clock import parse_iso

            edge = parse_iso(bound)
            keep = {
                "Gt": lambda v, edge=edge: v > edge,
                "Lt": lambda v, edge=edge: v < edge,
                "Ge": lambda v, edge=edge: v >= edge,
                "Le": lambda v, edge=edge: v <= edge,
            }[op]
            out = [item for item in out if keep(parse_iso(item[stamp_field]))]
    limit = int(float(query.get("limit", 100)))
    return out[:limit]


def paged(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """Vapi's paginated answer (`{results, metadata}`): the list filters, then `page` of `limit` items."""
    every = paginate(items, {k: v for k, v in query.items() if k != "limit"})
    limit = int(float(query.get("limit", 100)))
    page = int(float(query.get("page", 1)))
    results = every[(page - 1) * limit : page * limit]
    return {"results": results, "metadata": {"itemsPerPage": limit, "totalItems": len(every), "currentPage": page}}
