"""What a guarded tool is about to do, and the ways the guard can end a tool call early."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Literal

from ..destinations import Found

if TYPE_CHECKING:
    from mcp_types import InputRequiredResult

    from ..tools.base import ToolContext

Kind = Literal["dial", "text", "route", "spend", "destroy"]
"""dial: rings a phone now; text: texts a phone now; route: sets up a transfer or SMS destination
(nothing happens until a call uses it); spend: costs money; destroy: cannot be undone."""

COST_NOTES: dict[str, str] = {
    "dial": "Vapi bills every minute of the call to your account.",
    "text": "Your SMS provider bills every message to your account.",
    "route": "No call is placed now; calls transferred (or texts sent) later are billed to your account.",
    "spend": "This may add a recurring charge to your Vapi account.",
    "destroy": "This cannot be undone.",
}


@dataclass
class Callee:
    """A number that will ring."""

    number: str
    e164_check: bool = True
    """False when the customer set `numberE164CheckEnabled: false`."""
    name: str | None = None
    via: str | None = None
    """The Vapi number (phoneNumberId) that calls this one, when not the action's own (a campaign's dialPlan)."""


@dataclass
class GuardedAction:
    """What a tool is about to do, described for policy, the human and the audit file."""

    tool: str
    kind: Kind
    summary: str
    """Plain language, e.g. 'Call Jane (+14155550123) from +14155550100 with assistant Riley, now.'"""
    method: str
    path: str
    body: Any
    arguments: dict[str, Any]
    """The tool arguments without `confirmToken`: what a confirm token is bound to."""
    confirm_token: str | None = None
    callees: list[Callee] = field(default_factory=list)
    phone_number_id: str | None = None
    """The Vapi number that places the call (for the free-number rule)."""
    when: datetime | None = None
    """`schedulePlan.earliestAt` for scheduled calls; None means now."""
    latest: datetime | None = None
    """`schedulePlan.latestAt`: the end of the window in which the call may start; None means no window."""
    cap: tuple[str, int] | None = None
    """(rule, limit) replacing the batch cap for this action, e.g. ("campaign_cap", 1000)."""
    dials: int | None = None
    """How many new dials this action adds to the daily count; None means one per callee.
    (A campaign update that only moves the schedule is checked against every contact but adds none.)"""
    cost: str | None = None
    """What it may cost, in plain words; defaults to a note for the action's kind."""
    account: str = ""
    """The Vapi account the request goes to (`VapiClient.account`): a token confirms only there."""
    tenant: str = ""
    """Who asks (`ToolContext.tenant`): a token confirms only that person's action (under OAuth, their subject)."""
    describe: Callable[[ToolContext], Awaitable[str]] | None = None
    """A fuller summary (names instead of ids), looked up only once policy has passed."""
    destinations: list[Found] = field(default_factory=list)
    """Every destination and number in `body` (filled in by the guard, which scans it: tools need not)."""

    @property
    def dial_count(self) -> int:
        return len(self.callees) if self.dials is None else self.dials

    @property
    def cost_note(self) -> str:
        return self.cost or COST_NOTES[self.kind]


@dataclass
class AuditRecord:
    """Filled in by the tool inside `Guard.guarded`: the Vapi ids its request produced."""

    ids: list[str] = field(default_factory=list)


class Outcome(Exception):
    """The guard ended the tool call with a normal (non-error) result: a preview, a decline, a dry run."""

    def __init__(self, result: dict[str, Any], meta: dict[str, Any] | None = None) -> None:
        super().__init__(result.get("message", "guard outcome"))
        self.result = result
        self.meta = meta
        """The result's `_meta`: for the host and an MCP Apps view, not for the model."""


class InputRequired(Exception):
    """The client must answer an elicitation and retry (protocol 2026-07-28 and later)."""

    def __init__(self, result: InputRequiredResult) -> None:
        super().__init__("input required")
        self.result = result
