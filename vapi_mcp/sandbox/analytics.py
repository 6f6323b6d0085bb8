"""POST /analytics: real aggregates over the sandbox's calls, as `AnalyticsQueryResult`s.

Each query keeps the calls created inside its `timeRange` (default: the last 7 days up to now),
groups them by its `groupBy` columns, by `groupByVariableValue` keys (the call's
`assistantOverrides.variableValues`, one result column per key) and, with `timeRange.step`, by
period (a `date` column: the period's start, in `timeRange.timezone`, default UTC), then
applies each operation to a column. The sandbox's units: `cost` and `costBreakdown.*` in USD
as on the call, `duration` in seconds from `startedAt` to `endedAt` (0 for a call that never
connected), `minutesUsed` the same in minutes, `concurrency` the number of the query's calls
in progress when the call was created. A call without a value for a column (no cost yet)
counts as 0 in `sum` and is left out of `avg`, `min` and `max`. `history` lists the values
in creation order. Result columns are named by `alias`, else operation + Column
(`sumCost`, `countId`). The sandbox keeps no subscriptions, so that table answers no rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .calls import live
from .clock import iso, parse_iso
from .core import ApiError, body_of, sandbox_of
from .validation import Arr, Obj, Rule, Str

OPERATIONS = ("sum", "avg", "count", "min", "max", "history")
COLUMNS = (
    "id",
    "cost",
    "costBreakdown.llm",
    "costBreakdown.stt",
    "costBreakdown.tts",
    "costBreakdown.vapi",
    "costBreakdown.transport",
    "costBreakdown.analysisBreakdown.summary",
    "costBreakdown.transcriber",
    "costBreakdown.ttsCharacters",
    "costBreakdown.llmPromptTokens",
    "costBreakdown.llmCompletionTokens",
    "costBreakdown.llmCachedPromptTokens",
    "duration",
    "concurrency",
    "minutesUsed",
)
GROUP_BY = ("type", "assistantId", "endedReason", "analysis.successEvaluation", "status")
STEPS = ("second", "minute", "hour", "day", "week", "month", "quarter", "year", "decade", "century", "millennium")

OPERATION = Obj({"operation": Str(enum=OPERATIONS), "column": Str(enum=COLUMNS), "alias": Str(max_len=40)}, required=("operation", "column"))
TIME_RANGE = Obj({"step": Str(enum=STEPS), "start": Str(date_time=True), "end": Str(date_time=True), "timezone": Str()})
QUERY = Obj(
    {
        "table": Str(enum=("call", "subscription")),
        "groupBy": Arr(Str(enum=GROUP_BY)),
        "groupByVariableValue": Arr(Obj({"key": Str(max_len=100)}, required=("key",))),
        "name": Str(max_len=40),
        "timeRange": TIME_RANGE,
        "operations": Arr(OPERATION),
    },
    required=("table", "name", "operations"),
)
ANALYTICS_QUERY = Obj({"queries": Arr(QUERY)}, required=("queries",))


def _path(call: dict[str, Any], dotted: str) -> Any:
    value: Any = call
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _seconds(call: dict[str, Any]) -> float:
    if not (call.get("startedAt") and call.get("endedAt")):
        return 0.0
    return (parse_iso(call["endedAt"]) - parse_iso(call["startedAt"])).total_seconds()


def _period(when: datetime, step: str, tz: ZoneInfo) -> datetime:
    """The start of the `step` that contains `when`, in `tz`."""
    local = when.astimezone(tz)
    if step == "second":
        return local.replace(microsecond=0)
    if step == "minute":
        return local.replace(second=0, microsecond=0)
    if step == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if step == "day":
        return day
    if step == "week":
        return day - timedelta(days=day.weekday())
    if step == "month":
        return day.replace(day=1)
    if step == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    span = {"year": 1, "decade": 10, "century": 100, "millennium": 1000}[step]
    return day.replace(year=day.year - day.year % span, month=1, day=1)


def _column(column: str, concurrency: dict[str, int]) -> Callable[[dict[str, Any]], float | None]:
    if column == "id":
        return lambda call: 1.0
    if column == "duration":
        return _seconds
    if column == "minutesUsed":
        return lambda call: _seconds(call) / 60
    if column == "concurrency":
        return lambda call: float(concurrency[call["id"]])
    return lambda call: value if isinstance(value := _path(call, column), int | float) and not isinstance(value, bool) else None


def _aggregate(operation: str, values: list[float | None]) -> Any:
    present = [v for v in values if v is not None]
    if operation == "count":
        return len(present)
    if operation == "sum":
        return round(sum(present), 6)
    if operation == "history":
        return present
    if not present:
        return None
    if operation == "avg":
        return round(sum(present) / len(present), 6)
    return min(present) if operation == "min" else max(present)


def _concurrency(calls: list[dict[str, Any]]) -> dict[str, int]:
    spans = [(parse_iso(c["createdAt"]), parse_iso(c["endedAt"]) if c.get("endedAt") else None, c["id"]) for c in calls]
    return {i: sum(1 for s, e, _ in spans if s <= start and (e is None or e > start)) for start, _, i in spans}


def run_query(calls: list[dict[str, Any]], query: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One AnalyticsQueryResult."""
    time_range = dict(query.get("timeRange") or {})
    zone_name = time_range.get("timezone") or "UTC"
    try:
        tz = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, [f"timeRange.timezone must be a valid IANA time zone, got {zone_name}"]) from None
    end = parse_iso(time_range["end"]) if time_range.get("end") else now
    start = parse_iso(time_range["start"]) if time_range.get("start") else end - timedelta(days=7)
    shown = {"start": iso(start), "end": iso(end), "timezone": zone_name, **({"step": time_range["step"]} if time_range.get("step") else {})}
    if query["table"] != "call":
        return {"name": query["name"], "timeRange": shown, "result": []}
    chosen = sorted((c for c in calls if start <= parse_iso(c["createdAt"]) <= end), key=lambda c: c["createdAt"])
    concurrency = _concurrency(chosen)
    keys = list(query.get("groupBy") or [])
    variables = [entry["key"] for entry in query.get("groupByVariableValue") or []]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for call in chosen:
        variable_values = (call.get("assistantOverrides") or {}).get("variableValues") or {}
        group = tuple(_path(call, k) for k in keys) + tuple(variable_values.get(k) for k in variables)
        if time_range.get("step"):
            group += (iso(_period(parse_iso(call["createdAt"]), time_range["step"], tz)),)
        groups.setdefault(group, []).append(call)
    rows = []
    for group, members in sorted(groups.items(), key=lambda item: tuple(str(v) for v in item[0])):
        row: dict[str, Any] = dict(zip([*keys, *variables, *(["date"] if time_range.get("step") else [])], group, strict=True))
        for op in query["operations"]:
            alias = op.get("alias") or op["operation"] + op["column"][0].upper() + op["column"][1:]
            row[alias] = _aggregate(op["operation"], [_column(op["column"], concurrency)(call) for call in members])
        rows.append(row)
    return {"name": query["name"], "timeRange": shown, "result": rows}


async def analytics(request: Request) -> JSONResponse:
    sb = sandbox_of(request)
    body = await body_of(request, ANALYTICS_QUERY)
    now = sb.now()
    calls = [live(call, now) for call in sb.store.calls.values()]
    return JSONResponse([run_query(calls, query, now) for query in body["queries"]], status_code=201)


routes = [Route("/analytics", analytics, methods=["POST"])]
BODIES: dict[tuple[str, str], Rule] = {("POST", "/analytics"): ANALYTICS_QUERY}
"""The request bodies this module validates, by route (the tests compare each with the document)."""
