"""Analytics: Vapi's aggregate queries over calls (POST /analytics), answered as compact tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from ..guard.facts import plural
from .base import Args, ToolContext, ToolGroup

toolset = "analytics"
tools = ToolGroup()

ROWS = 200
"""Rows shown per query; the rest are counted, not listed (group more coarsely to see them)."""

Column = Literal[
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
]


class Operation(Args):
    operation: Literal["sum", "avg", "count", "min", "max", "history"]
    column: Column
    alias: str | None = Field(None, max_length=40)


class TimeRange(Args):
    step: Literal["second", "minute", "hour", "day", "week", "month", "quarter", "year", "decade", "century", "millennium"] | None = None
    start: datetime | None = Field(None, description="Default: 7 days ago.")
    end: datetime | None = Field(None, description="Default: now.")
    timezone: str | None = Field(None, description="IANA name; default UTC.")


class VariableKey(Args):
    key: str = Field(max_length=100)


class Query(Args):
    table: Literal["call", "subscription"] = "call"
    name: str | None = Field(None, max_length=40, description="Default: q1, q2...")
    operations: list[Operation] = Field(min_length=1)
    groupBy: list[Literal["type", "assistantId", "endedReason", "analysis.successEvaluation", "status"]] | None = None
    groupByVariableValue: list[VariableKey] | None = None
    timeRange: TimeRange | None = None


class QueryAnalyticsArgs(Args):
    queries: list[Query] = Field(min_length=1)


def table(result: dict[str, Any]) -> dict[str, Any]:
    """One AnalyticsQueryResult as columns and rows (groups first, then figures), at most ROWS rows."""
    rows = [row for row in result.get("result") or [] if isinstance(row, dict)]
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    out: dict[str, Any] = {"name": result.get("name"), "columns": columns, "rows": [[row.get(c) for c in columns] for row in rows[:ROWS]]}
    if result.get("timeRange"):
        out["timeRange"] = {k: v for k, v in result["timeRange"].items() if v is not None}
    if len(rows) > ROWS:
        out["truncated"] = f"{plural(len(rows) - ROWS, 'more row')} not shown: group more coarsely or narrow timeRange."
    return out


@tools.tool(title="Query analytics", read_only=True, sends=("POST /analytics",))
async def query_analytics(args: QueryAnalyticsArgs, call: ToolContext) -> dict[str, Any]:
    """Aggregate calls (Vapi's POST /analytics): per query, operations (sum/avg/count/min/max of cost,
    duration, costBreakdown.*...), optional groupBy (assistantId, endedReason, status, type,
    analysis.successEvaluation) and timeRange (default the last 7 days; step for a time series).
    Answers one table per query."""
    body: dict[str, list[dict[str, Any]]] = {"queries": []}
    for i, query in enumerate(args.queries, start=1):
        body["queries"].append({**query.body(), "name": query.name or f"q{i}"})
    data = await call.vapi.post("/analytics", body, check="Analytics only reads, so asking again is safe.", expect=list, reads=True)
    results = data if isinstance(data, list) else []
    return {"results": [table(r) for r in results if isinstance(r, dict)]}
