"""Scorecards (/observability/scorecard): score calls from their structured outputs.

Each metric reads one structured output (of type number or boolean) and adds a condition's points when the
output's value compares true; the score is also normalized to 100. A call is scored by the scorecards its
assistant's `artifactPlan.scorecardIds` names (`update_assistant`), and `get_call` shows each score with the
scorecard that produced it. Deleting a scorecard passes the guard.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, StrictBool, model_validator

from ..errors import InputError
from ..guard.facts import quoted
from ..ids import VapiId
from .base import Args, DeleteArgs, IdArgs, Strict, ToolContext, ToolGroup, delete_confirmed, non_empty, non_null, page_view, shown_as

toolset = "knowledge"
tools = ToolGroup()

PAGE_ROWS = 100


class Condition(Strict):
    """A Number- or BooleanComparatorScorecardMetricCondition: `points` when `<output> <comparator> <value>`."""

    type: Literal["comparator"] = "comparator"
    comparator: Literal["=", "!=", ">", "<", ">=", "<="]
    value: StrictBool | float
    points: float = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _boolean_equals(self) -> Condition:
        if isinstance(self.value, bool) and self.comparator != "=":
            raise ValueError("a boolean value is compared with '=' only (Vapi's rule)")
        return self


class Metric(Strict):
    """ScorecardMetric."""

    structuredOutputId: VapiId
    conditions: list[Condition] = Field(min_length=1)


Metrics = Annotated[
    list[Metric],
    shown_as("[{structuredOutputId, conditions:[{comparator:'='|'!='|'>'|'<'|'>='|'<=', value:number|boolean, points:0-100}]}]", "array"),
]


class ScorecardFields(Args):
    # CreateScorecardDTO

    name: str | None = Field(None, max_length=80)
    description: str | None = Field(None, max_length=500)
    metrics: Metrics
    assistantIds: list[VapiId] | None = None


class UpdateScorecardArgs(Args):
    # UpdateScorecardDTO: the fields given replace the scorecard's (metrics whole).

    model_config = ConfigDict(json_schema_extra=lambda schema: schema.pop("additionalProperties", None))

    id: VapiId
    name: str | None = Field(None, max_length=80)
    description: str | None = Field(None, max_length=500)
    metrics: Metrics | None = None
    assistantIds: list[VapiId] | None = None

    local_fields: ClassVar[frozenset[str]] = frozenset({"id"})


class ListScorecardsArgs(Args):
    page: int = Field(1, ge=1)
    limit: int = Field(20, ge=1, le=PAGE_ROWS)


def _most(metric: dict[str, Any]) -> float:
    """The most points one metric can add (all its conditions met)."""
    return sum(c.get("points") or 0 for c in metric.get("conditions") or [] if isinstance(c, dict))


def scorecard_row(card: dict[str, Any]) -> dict[str, Any]:
    """One compact line per scorecard: its metrics and the most points they add up to."""
    metrics = [m for m in card.get("metrics") or [] if isinstance(m, dict)]
    return non_null(
        {
            "id": card.get("id"),
            "name": card.get("name"),
            "metrics": len(metrics),
            "maxPoints": sum(_most(m) for m in metrics),
            "assistants": len(card.get("assistantIds") or []) or None,
            "createdAt": card.get("createdAt"),
        }
    )


def scorecard_view(card: dict[str, Any]) -> dict[str, Any]:
    """A scorecard whole: each metric's structured output and conditions, and how calls get scored by it."""
    return {
        **scorecard_row(card),
        **non_empty(
            {
                "description": card.get("description"),
                "metricDetails": [
                    {"structuredOutputId": m.get("structuredOutputId"), "conditions": m.get("conditions"), "maxPoints": _most(m)}
                    for m in card.get("metrics") or []
                    if isinstance(m, dict)
                ],
                "assistantIds": card.get("assistantIds"),
            }
        ),
        "use": "A call is scored by the scorecards in its assistant's artifactPlan.scorecardIds (update_assistant); get_call shows the scores.",
    }


@tools.tool(title="Create scorecard", read_only=False, sends=("POST /observability/scorecard",))
async def create_scorecard(args: ScorecardFields, call: ToolContext) -> dict[str, Any]:
    """Create a scorecard: metrics that each read a number or boolean structured output and add points when it
    compares true. Score calls with it through the assistant's artifactPlan.scorecardIds."""
    summary = f"Create the scorecard {quoted(args.name or '(unnamed)', 80)}."
    check = "Look for it with list_scorecards before creating it again."
    return scorecard_view(await call.send("POST", "/observability/scorecard", args.body(), args=args, summary=summary, check=check))


@tools.tool(title="List scorecards", read_only=True, sends=("GET /observability/scorecard",))
async def list_scorecards(args: ListScorecardsArgs, call: ToolContext) -> dict[str, Any]:
    """Scorecards, newest first: name, metrics, the most points they add up to; `page` pages on."""
    answer = await call.vapi.get("/observability/scorecard", params=args.body(), expect=dict)
    return page_view(answer, "scorecards", scorecard_row, args.page, args.limit)


@tools.tool(title="Get scorecard", read_only=True, sends=("GET /observability/scorecard/{id}",))
async def get_scorecard(args: IdArgs, call: ToolContext) -> dict[str, Any]:
    """One scorecard: each metric's structured output, conditions and points."""
    return scorecard_view(await call.vapi.get(f"/observability/scorecard/{args.id}"))


@tools.tool(title="Update scorecard", read_only=False, idempotent=True, sends=("PATCH /observability/scorecard/{id}",))
async def update_scorecard(args: UpdateScorecardArgs, call: ToolContext) -> dict[str, Any]:
    """Change a scorecard's name, description, metrics (replaced whole) or assistantIds."""
    body = args.body()
    if not body:
        raise InputError("id", "give at least one of name, description, metrics or assistantIds to change")
    changed = await call.send("PATCH", f"/observability/scorecard/{args.id}", body, args=args, summary=f"Change the scorecard {args.id}.")
    return {**scorecard_row(changed), "changed": sorted(body)}


@tools.tool(
    title="Delete scorecard",
    read_only=False,
    destructive=True,
    idempotent=True,
    sends=("GET /observability/scorecard/{id}", "DELETE /observability/scorecard/{id}"),
)
async def delete_scorecard(args: DeleteArgs, call: ToolContext) -> dict[str, Any]:
    """Delete a scorecard (asks the user to confirm); calls already scored keep their scores."""
    path = f"/observability/scorecard/{args.id}"
    row = scorecard_row(await call.vapi.get(path))
    summary = (
        f"Delete the scorecard {quoted(row.get('name') or '(unnamed)', 40)} ({args.id}, {row.get('metrics', 0)} metric(s)); "
        "calls already scored keep their scores, and assistants that name it in artifactPlan.scorecardIds stop being scored by it."
    )
    await delete_confirmed(call, args, path, summary)
    return {"deleted": row}
