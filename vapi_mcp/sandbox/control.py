"""/sandbox/clock: the sandbox's own control, outside Vapi's paths (api.vapi.ai has no such route).

GET answers the world's time and what waits for a later time (scheduled calls, campaigns).
POST moves the clock forward, `{"advanceSeconds": N}` or `{"to": "<ISO 8601>"}`, never back,
and runs what became due: a call scheduled for tomorrow starts (and, as the clock goes on, rings,
talks and ends), a campaign dials, simulation and eval runs finish. The offset is part of the
world, so every process sharing the world sees the moved clock.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .clock import MAX_ADVANCE, iso, parse_iso
from .core import ApiError, body_of, sandbox_of
from .validation import Num, Obj, Str

PATH = "/sandbox/clock"
MOVE = Obj({"advanceSeconds": Num(minimum=0, maximum=MAX_ADVANCE.total_seconds()), "to": Str(date_time=True)})
SHOWN = 20
"""Scheduled things listed at most (the soonest)."""


def waiting(request: Request) -> list[dict[str, str]]:
    sb = sandbox_of(request)
    return [{"type": kind, "id": ident, "at": iso(at)} for kind, ident, at in sb.upcoming()[:SHOWN]]


async def get_clock(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    return JSONResponse({"now": iso(sb.now()), "offsetSeconds": sb.store.clock_offset, "scheduled": waiting(request)})


async def move_clock(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    body = await body_of(request, MOVE)
    if (body.get("advanceSeconds") is None) == (body.get("to") is None):
        raise ApiError(400, ["Need Either `advanceSeconds` Or `to`, Not Both."])
    to = parse_iso(body["to"]) if body.get("to") is not None else None
    try:
        moved = sb.advance_clock(seconds=body.get("advanceSeconds"), to=to)
    except ValueError as exc:
        raise ApiError(400, [str(exc)]) from None
    return JSONResponse({**moved, "scheduled": waiting(request)})


routes = [Route(PATH, get_clock, methods=["GET"]), Route(PATH, move_clock, methods=["POST"])]
