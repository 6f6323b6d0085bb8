"""/observability/scorecard: scorecards, which score a call from its structured outputs.

A scorecard's metrics each name a structured output (of type number or boolean, as the document says) and
conditions that add points when the output's value compares true. A call whose assistant's
`artifactPlan.scorecardIds` names a scorecard has it evaluated when the call ends (`judging.call_outputs`):
`artifact.scorecards[<scorecard id>]` holds its name, score, the score normalized to 100, and the points of each
metric by structured output id. The structured outputs a scorecard reads are extracted for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core import DATE_FILTERS, ApiError
from .resource import Resource
from .validation import Arr, Bool, Num, Obj, Rule, Str

if TYPE_CHECKING:
    from . import Sandbox

COMPARATORS = ("=", "!=", ">", "<", ">=", "<=")
NUMBER_CONDITION = Obj(
    {"type": Str(enum=("comparator",)), "comparator": Str(enum=COMPARATORS), "value": Num(), "points": Num(minimum=0, maximum=100)},
    required=("type", "comparator", "value", "points"),
)
"""NumberComparatorScorecardMetricCondition."""
BOOLEAN_CONDITION = Obj(
    {"type": Str(enum=("comparator",)), "comparator": Str(enum=("=",)), "value": Bool(), "points": Num(minimum=0, maximum=100)},
    required=("type", "comparator", "value", "points"),
)
"""BooleanComparatorScorecardMetricCondition."""


class Condition(Rule):
    """ScorecardMetric.conditions' union: both branches have `type: comparator`; the value's type picks one."""

    documented: dict[str, Obj] = {
        "NumberComparatorScorecardMetricCondition": NUMBER_CONDITION,
        "BooleanComparatorScorecardMetricCondition": BOOLEAN_CONDITION,
    }
    """The document's branches, by schema name (the tests compare each)."""

    def check(self, value: Any, name: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"nested property {name} must be either object or array"]
        branch = BOOLEAN_CONDITION if isinstance(value.get("value"), bool) else NUMBER_CONDITION
        return branch.check(value, name)


METRIC = Obj({"conditions": Arr(Condition()), "structuredOutputId": Str()}, required=("conditions", "structuredOutputId"))
"""ScorecardMetric."""
_FIELDS: dict[str, Rule] = {"name": Str(max_len=80), "description": Str(max_len=500), "metrics": Arr(METRIC), "assistantIds": Arr(Str())}
CREATE = Obj(_FIELDS, required=("metrics",))
"""CreateScorecardDTO (also what an assistant's `artifactPlan.scorecards` holds)."""
UPDATE = Obj(_FIELDS)
"""UpdateScorecardDTO."""
LIST_QUERY: dict[str, Rule] = {
    "id": Str(),
    "page": Num(minimum=1),
    "sortOrder": Str(enum=("ASC", "DESC")),
    "sortBy": Str(enum=("createdAt", "duration", "cost")),
    "limit": Num(minimum=0, maximum=1000),
    **DATE_FILTERS,
}
"""GET /observability/scorecard's query parameters."""
SCORED_TYPES = ("number", "integer", "boolean")
"""The structured output types a metric may read ("number or boolean only for now")."""


def check_references(sb: Sandbox, card: dict[str, Any]) -> None:
    """Each metric's structured output exists and is a number or a boolean; each assistant exists."""
    for i, metric in enumerate(card.get("metrics") or []):
        ident = metric.get("structuredOutputId")
        output = sb.store.structured_outputs.get(ident)
        if output is None:
            raise ApiError(400, f"Couldn't Get Structured Output. `metrics.{i}.structuredOutputId` {ident} Not Found.")
        kind = (output.get("schema") or {}).get("type")
        if kind not in SCORED_TYPES:
            raise ApiError(400, [f"metrics.{i}.structuredOutputId must name a structured output of type number or boolean (it is {kind})"])
    for ident in card.get("assistantIds") or []:
        if ident not in sb.store.assistants:
            raise ApiError(400, f"Couldn't Get Assistant. `assistantIds` {ident} Not Found.")


SCORECARDS = Resource("/observability/scorecard", "scorecards", "Scorecard", CREATE, UPDATE, LIST_QUERY, page=True, check=check_references)

routes = SCORECARDS.routes()
BODIES: dict[tuple[str, str], Rule] = {("POST", "/observability/scorecard"): CREATE, ("PATCH", "/observability/scorecard/{id}"): UPDATE}
"""The request bodies this module validates, by route (the tests compare each with the document)."""
