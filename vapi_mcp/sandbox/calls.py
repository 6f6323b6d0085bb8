"""/call: create, list, get (the call family's issue completes this module)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .core import not_found, paginate, path_id, query_of
from .validation import Num, Str

if TYPE_CHECKING:
    from . import Sandbox

LIST_QUERY = {
    "id": Str(),
    "assistantId": Str(),
    "phoneNumberId": Str(),
    "limit": Num(minimum=0, maximum=1000),
    **{f"{f}{op}": Str(date_time=True) for f in ("createdAt", "updatedAt") for op in ("Gt", "Lt", "Ge", "Le")},
}


def public(call: dict[str, Any]) -> dict[str, Any]:
    """The call as Vapi returns it (the sandbox's private bookkeeping removed)."""
    return {k: v for k, v in call.items() if not k.startswith("_")}


def routes(sb: Sandbox) -> list[Route]:
    async def list_calls(request: Request) -> JSONResponse:
        query = query_of(request, LIST_QUERY)
        calls = list(sb.store.calls.values())
        for key in ("id", "assistantId", "phoneNumberId"):
            if key in query:
                calls = [c for c in calls if c.get(key) == query[key]]
        return JSONResponse([public(c) for c in paginate(calls, query)])

    async def get_call(request: Request) -> JSONResponse:
        call = sb.store.calls.get(path_id(request, "Call"))
        if call is None:
            raise not_found("Call")
        return JSONResponse(public(call))

    return [
        Route("/call", list_calls, methods=["GET"]),
        Route("/call/{id}", get_call, methods=["GET"]),
    ]
