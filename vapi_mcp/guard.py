"""The confirmation guard: policy, a human's yes, and an audit line for every guarded action.

PLACEHOLDER: the interface below is what tools use; the policy rules, confirmation
(elicitation / confirm token) and audit log are being built in this module.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, AsyncIterator, Literal

from .errors import Refused

if TYPE_CHECKING:
    from mcp_types import InputRequiredResult

    from .config import Settings
    from .tools.base import ToolContext

Kind = Literal["dial", "spend", "destroy"]


@dataclass
class Callee:
    """A number that will ring."""

    number: str
    e164_check: bool = True
    """False when the customer set `numberE164CheckEnabled: false`."""
    name: str | None = None


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


@dataclass
class AuditRecord:
    """Filled in by the tool inside `Guard.guarded`: the Vapi ids its request produced."""

    ids: list[str] = field(default_factory=list)


class Outcome(Exception):
    """The guard ended the tool call with a normal (non-error) result: a preview, a decline, a dry run."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result.get("message", "guard outcome"))
        self.result = result


class InputRequired(Exception):
    """The client must answer an elicitation and retry (protocol 2026-07-28 and later)."""

    def __init__(self, result: InputRequiredResult) -> None:
        super().__init__("input required")
        self.result = result


class Guard:
    """One per server process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @asynccontextmanager
    async def guarded(self, action: GuardedAction, call: ToolContext) -> AsyncIterator[AuditRecord]:
        """Run policy and confirmation; the body sends the request; the exit records the result."""
        if not self.settings.sandbox:
            raise Refused("guard-not-ready", "guarded actions are disabled until the guard is configured.")
        yield AuditRecord()
