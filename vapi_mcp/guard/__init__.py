"""The confirmation guard: policy, a human's yes, and an audit line for every guarded action.

A tool that dials, spends or destroys describes what it is about to do as a `GuardedAction`
and sends its request inside `Guard.guarded`:

1. policy runs before anything leaves (`policy`: numbers, countries, caps, quiet hours), on the
   customers the action dials and on every destination its body carries (`destinations.scan`);
2. a human confirms (`consent`): through MCP elicitation when the client can elicit, or through
   an MCP Apps confirmation view (`app`) when the client renders one; otherwise (consent mode
   `any`) through a preview whose `confirmToken` the agent relays back with identical arguments;
3. one JSON line per attempt is appended to the audit file (`audit`) and fsynced, naming the
   consent `channel` (`elicitation`, `app`, `agent-relayed`, `auto-allowlist`, or null).
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from ..destinations import cleared, scan_request
from ..errors import Refused, VapiMCPError
from ..state import MemoryStore
from . import app, facts
from . import policy as rules_
from .action import AuditRecord, Callee, GuardedAction, InputRequired, Kind, Outcome
from .audit import AuditLog
from .consent import Consent, Tokens, iso, request_of

if TYPE_CHECKING:
    from ..config import Policy, Settings
    from ..tools.base import ToolContext

__all__ = [
    "AuditRecord",
    "Callee",
    "Guard",
    "GuardedAction",
    "InputRequired",
    "Kind",
    "Outcome",
    "Tokens",
    "describe_policy",
]

logger = logging.getLogger("vapi_mcp.guard")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Guard:
    """One per server process: policy, confirmation and audit for every guarded action."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.now = clock or _utc_now
        """The time source (tests replace it with a hand-driven clock)."""
        self.tokens = Tokens(settings.confirm_secret)
        self.store = MemoryStore()
        """Shared state (`vapi_mcp.state.StateStore`): for now the MCP Apps view's pending actions."""
        self.consent = Consent(settings.policy, self.tokens, self.store)
        self.audit = AuditLog(settings.audit_log)
        self._dials: dict[date, int] = {}

    @property
    def policy(self) -> Policy:
        return self.settings.policy

    @asynccontextmanager
    async def guarded(self, action: GuardedAction, call: ToolContext) -> AsyncIterator[AuditRecord]:
        """Run policy and confirmation; the body sends the request; the exit records the result."""
        rules: dict[str, str] = {}
        action.destinations = scan_request(action.path, action.body)
        carried = facts.destinations(action.destinations)
        action.summary = _joined(action.summary, carried)
        entry = self._entry(action, rules)
        try:
            await rules_.check(action, self.policy, self.now(), call, rules, self._daily_cap_problem)
            await self._describe(action, call, entry, carried)
            entry["channel"] = await self.consent.confirm(action, call, self.now())
        except Outcome as outcome:
            entry["decision"] = outcome.result["decision"]
            self.audit.append(entry)
            raise
        except InputRequired:  # the question went out with the result; the client's retry carries the answer
            entry["decision"] = "asked"
            self.audit.append(entry)
            raise
        except VapiMCPError as exc:  # a refusal, or Vapi failing to answer a policy lookup
            entry.update(decision="refused" if isinstance(exc, Refused) else "failed", error=exc.text())
            self._record(entry)
            raise
        except Exception as exc:
            entry.update(decision="failed", error=_error_text(exc))
            self._record(entry)
            raise
        if self.settings.dry_run:
            entry["decision"] = "dry-run"
            self.audit.append(entry)
            raise Outcome(
                {
                    "dryRun": True,
                    "decision": "dry-run",
                    "summary": action.summary,
                    "wouldSend": request_of(action),
                    "message": "Dry-run mode: policy and confirmation passed; nothing was sent.",
                }
            )
        fd = self.audit.open()  # proves the line can be written before anything is sent
        try:
            try:
                self._count_dials(action, rules)
            except Refused as exc:
                entry.update(decision="refused", error=exc.text())
                self._record(entry, fd)
                raise
            record = AuditRecord()
            checked = [f.key for f in action.destinations] + [("call", c.number) for c in action.callees]
            try:
                with cleared(checked):  # the client sends these destinations only inside this block
                    yield record
            except BaseException as exc:
                entry.update(decision="failed", ids=record.ids, error=_error_text(exc))
                self._record(entry, fd)
                raise
            entry.update(decision="sent", ids=record.ids)
            self._record(entry, fd)
        finally:
            os.close(fd)

    # the daily cap

    def _daily_cap_problem(self, count: int) -> str | None:
        used = self._dials.get(self.now().date(), 0)
        cap = self.policy.daily_cap
        if used + count > cap:
            return (
                f"{used} of today's {cap} guarded dials are used; {count} more would exceed the daily cap. "
                f"Try again tomorrow (UTC); {rules_.ONLY_THE_USER} (VAPI_MCP_DAILY_CAP / --daily-cap)."
            )
        return None

    def _count_dials(self, action: GuardedAction, rules: dict[str, str]) -> None:
        """Reserve today's dials right before sending (re-checked: another call may have used them)."""
        if action.kind != "dial":
            return
        problem = self._daily_cap_problem(action.dial_count)
        if problem:
            rules["daily_cap"] = "refused"
            raise Refused("daily_cap", problem + " Nothing was sent.")
        today = self.now().date()
        self._dials[today] = self._dials.get(today, 0) + action.dial_count

    # naming things and the audit

    async def _describe(self, action: GuardedAction, call: ToolContext, entry: dict[str, Any], carried: str) -> None:
        """Name things for the human; an id that does not exist is refused, any other failed lookup leaves the plain summary."""
        if action.describe is None:
            return
        try:
            action.summary = entry["summary"] = _joined(await action.describe(call), carried)
        except Refused:  # e.g. `unknown_id`: the request names something that does not exist
            raise
        except Exception as exc:  # best effort: a failed lookup or an odd answer leaves the plain summary
            logger.info("could not name the parts of %s: %s", action.tool, _error_text(exc))

    def _entry(self, action: GuardedAction, rules: dict[str, str]) -> dict[str, Any]:
        return {
            "time": iso(self.now()),
            "tool": action.tool,
            "kind": action.kind,
            "summary": action.summary,
            "request": request_of(action),
            **({"callees": len(action.callees)} if action.callees else {}),
            **({"destinations": [_audited(f) for f in action.destinations if f.guarded]} if any(f.guarded for f in action.destinations) else {}),
            "rules": rules,
            "decision": None,
            "ids": [],
            "error": None,
            "channel": None,
        }

    # the MCP Apps view's buttons

    def take_pending(self, pending_id: str, call: ToolContext) -> dict[str, Any]:
        """The view's pending action, out of the store (one caller ever gets it); a refusal writes its line."""
        pending = app.take(self.store, pending_id) if app.offers_apps(call.mcp) else None
        problem = app.problem(pending, call.tool, call.mcp, call.vapi.account, self.now())
        if problem:
            self.refuse_pending(pending, call.tool, problem)
        assert pending is not None
        return pending

    def refuse_pending(self, pending: dict[str, Any] | None, tool: str, problem: str) -> None:
        """Audit and raise a refusal of the view's answer: nothing runs."""
        refused = Refused("app", problem)
        self._record({**self._pending_entry(pending, tool), "decision": "refused", "error": refused.text()})
        raise refused

    def decline_pending(self, pending_id: str, call: ToolContext) -> dict[str, Any]:
        """The view's Decline: the pending action is dropped and audited as declined."""
        pending = self.take_pending(pending_id, call)
        self._record({**self._pending_entry(pending, call.tool), "decision": "declined"})
        return {"decision": "declined", "message": "The user declined in the confirmation view; nothing was placed, bought or deleted."}

    def _pending_entry(self, pending: dict[str, Any] | None, tool: str) -> dict[str, Any]:
        pending = pending or {}
        return {
            "time": iso(self.now()),
            "tool": pending.get("tool") or tool,
            "kind": pending.get("kind"),
            "summary": pending.get("summary"),
            "request": pending.get("request"),
            "rules": {},
            "decision": None,
            "ids": [],
            "error": None,
            "channel": None,
        }

    def _record(self, entry: dict[str, Any], fd: int | None = None) -> None:
        """Append a line for an action that is already decided; a failure is logged, never hidden."""
        try:
            self.audit.append(entry, fd)
        except Refused as exc:
            logger.error("%s (decision %s for %s)", exc.text(), entry.get("decision"), entry.get("tool"))
            if entry.get("decision") != "sent":
                raise


def _joined(summary: str, more: str) -> str:
    return f"{summary} {more}" if more else summary


def _audited(found: Any) -> dict[str, Any]:
    """A destination as the audit line records it: where, what, and the number as resolved."""
    reading = facts.reading(found)
    line = {"role": found.role, "at": found.where, "number": reading.shown}
    if reading.country:
        line["country"] = reading.country
    return line


def describe_policy(settings: Settings) -> str:
    """The policy in force, as `vapi-mcp policy` prints it."""
    from ..numbers import country_label

    p = settings.policy
    listed = lambda values: ", ".join(values) if values else "(none)"  # noqa: E731
    countries = lambda values: ", ".join(country_label(v) for v in values)  # noqa: E731
    mode = "dry run (checked and confirmed, never sent)" if settings.dry_run else "confirmed actions are sent"
    lines = [
        f"target:              {'sandbox (nothing real is called)' if settings.sandbox else settings.base_url}",
        f"mode:                {mode}{', read-only' if settings.read_only else ''}",
        f"quiet hours:         {f'calls allowed {p.quiet_start:02d}:00-{p.quiet_end:02d}:00 callee local time (strictest zone wins)' if p.quiet_hours else 'off'}",
        f"batch cap:           {p.batch_cap} customers per call request",
        f"campaign cap:        {p.campaign_cap} contacts per campaign",
        f"daily cap:           {p.daily_cap} guarded dials per server per day (each campaign contact counts)",
        f"allow numbers:       {listed(p.allow_numbers) if p.allow_numbers else '(any)'}",
        f"deny numbers:        {listed(p.deny_numbers)}",
        f"allow countries:     {countries(p.allow_countries) if p.allow_countries else '(any)'}",
        f"deny countries:      {countries(p.deny_countries) or '(none)'}",
        "destinations:        transfer, SIP and SMS destinations in any request pass the number and country rules and are confirmed",
        "free Vapi numbers:   call only numbers in their own country",
        f"consent:             {_consent_line(p)}",
        f"confirmation wait:   {p.confirm_wait} s for the human to answer an elicitation, then refused (timed-out)",
        f"auto-approve:        {'allow-listed numbers are dialled without asking' if p.auto_approve_allowlisted else 'off'}",
        f"confirm secret:      {'set (tokens valid across replicas)' if settings.confirm_secret else 'random per process'}",
        f"audit log:           {settings.audit_log}",
    ]
    return "\n".join(lines)


def _consent_line(p: Policy) -> str:
    human = "elicitation, or the MCP Apps confirmation view"
    if p.consent == "human":
        return f"human only: {human}; no confirm token is issued or accepted"
    return f"any: {human}; otherwise a confirmToken the agent relays (valid {p.confirm_ttl} s, single use)"


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, VapiMCPError):
        return exc.text()
    return f"{type(exc).__name__} (details in the server log)"
