"""What a guarded tool is about to do (`GuardedAction`), what the guard needs of the tool call that does it
(`CallContext`), and the ways the guard can end a tool call early (`Outcome`, `InputRequired`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ..destinations import Found
from ..errors import EarlyResult

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context
    from mcp_types import InputRequiredResult

    from ..client import VapiClient
    from .app import Approval

Kind = Literal["dial", "text", "route", "spend", "destroy"]
Rehearsal = Literal["sandbox", "dry-run", "sandbox dry-run"]
"""What a guarded action is when it is not the real thing: on the sandbox, a dry run, or both."""
"""dial: rings a phone now; text: texts a phone now; route: sets up a transfer or SMS destination
(nothing happens until a call uses it); spend: costs money; destroy: cannot be undone."""



class CallContext(Protocol):
    """What the guard needs of the tool call it guards; `tools.base.ToolContext` is one, and nothing else of
    it reaches the guard."""

    @property
    def vapi(self) -> VapiClient:
        """The client of the Vapi account the call acts on: its `account` binds tokens and the daily cap, and
        policy looks numbers up with it."""

    @property
    def mcp(self) -> Context[Any, Any] | None:
        """The MCP request context: how the human is asked (elicitation, the MCP Apps view); None in process."""

    @property
    def tool(self) -> str:
        """The tool's name, as the audit and the MCP Apps view name it."""

    @property
    def tenant(self) -> str:
        """Who asked, for the audit: `local` (stdio), `http:server-key`, `x-vapi-key:<account>`, or `oauth:<subject>`."""

    @property
    def approval(self) -> Approval | None:
        """Set only when the MCP Apps view's Approve runs the pending action it approved."""

    @property
    def scopes(self) -> frozenset[str] | None:
        """The OAuth scopes the signed-in person holds (`--auth oauth`); None where scopes do not apply."""


GUARDED_ROUTES: dict[str, Kind] = {
    "POST /call": "dial",  # a phone call, a batch or a scheduled one (a web call is POST /call/web)
    "POST /v2/campaign": "dial",
    "POST /phone-number": "spend",  # buying a Vapi number, or importing one
    "POST /eval/simulation/run": "spend",  # a voice simulation: live calls billed to the account
    "POST /structured-output/run": "destroy",  # a rerun overwrites stored values (a preview only reads)
}
"""Vapi's requests that dial, spend or destroy (as tools declare them, `"METHOD /template"`); every DELETE
destroys too (`guarded_kind`). A tool that sends one (in some cases, as the comments say) takes the guard's
`confirmToken`: tests/test_safety_facts.py checks it for every tool of the catalogue. Not listed:
`PATCH /v2/campaign/{id}`, which also stops a campaign (`cancel_campaign`, never guarded); update_campaign
guards the changes that dial, and any contact it adds is a destination the client sends only once cleared."""


def guarded_kind(method: str, template: str) -> Kind | None:
    """What a request to `template` may do that the guard must confirm; None for every other request."""
    return "destroy" if method == "DELETE" else GUARDED_ROUTES.get(f"{method} {template}")


COST_NOTES: dict[str, str] = {
    "dial": "Vapi bills every minute of the call to your account.",
    "text": "Your SMS provider bills every message to your account.",
    "route": "No call is placed now; calls transferred (or texts sent) later are billed to your account.",
    "spend": "This may add a recurring charge to your Vapi account.",
    "destroy": "This cannot be undone.",
}
NOTHING_BILLED = "Nothing is billed."
"""The cost note on the sandbox, where nothing is billed; what destroys says what it destroys (a deletion there is final too)."""


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
    counted: list[Callee] | None = None
    """The callees this action adds to the daily caps; None means every callee. (A campaign update is checked
    against every contact but counts only the contacts it adds, unless the guard holds what the campaign counted.)"""
    held_by: str | None = None
    """The Vapi id whose counted dials this action replaces (a campaign update): what it holds is credited."""
    reaches: list[Found] = field(default_factory=list)
    """Destinations the request reaches that its body does not name (a chat session's customer, found by a lookup)."""
    cost: str | None = None
    """What it may cost, in plain words; defaults to a note for the action's kind."""
    account: str = ""
    """The Vapi account the request goes to (`VapiClient.account`): a token confirms only there."""
    tenant: str = ""
    """Who asks (`CallContext.tenant`): a token confirms only that person's action (under OAuth, their subject)."""
    describe: Callable[[CallContext], Awaitable[str]] | None = None
    """A fuller summary (names instead of ids), looked up only once policy has passed."""
    destinations: list[Found] = field(default_factory=list)
    """Every destination and number in `body` (filled in by the guard, which scans it: tools need not)."""
    rehearsal: Rehearsal | None = None
    """Set by the guard: the sandbox, a dry run, or both (the question says so first); None for the real thing."""

    @property
    def dial_count(self) -> int:
        return len(self.callees if self.counted is None else self.counted)

    @property
    def cost_note(self) -> str:
        """What it costs, in words: nothing on the sandbox; for a dry run, what it would cost if sent for real."""
        note = self.cost or COST_NOTES[self.kind]
        if self.rehearsal in ("sandbox", "sandbox dry-run"):
            return note if self.kind == "destroy" else NOTHING_BILLED
        return f"If it were sent for real: {note[0].lower()}{note[1:]}" if self.rehearsal == "dry-run" else note


@dataclass
class AuditRecord:
    """Filled in by the tool inside `Guard.guarded`: the Vapi ids its request produced."""

    ids: list[str] = field(default_factory=list)
    numbers: dict[str, str] = field(default_factory=dict)
    """Each placed call's id -> the number it calls (a batch), so each call holds its own share of the caps."""


class Outcome(EarlyResult):
    """The guard ended the tool call with a normal (non-error) result: a preview, a decline, a dry run."""

    def __init__(self, result: dict[str, Any], meta: dict[str, Any] | None = None) -> None:
        super().__init__(result.get("message", "guard outcome"), result, meta)


class InputRequired(EarlyResult):
    """The client must answer an elicitation and retry (protocol 2026-07-28 and later): `result` is the
    `InputRequiredResult` itself."""

    final = True

    def __init__(self, result: InputRequiredResult) -> None:
        super().__init__("input required", result)
