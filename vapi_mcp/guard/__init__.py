"""The confirmation guard: policy, a human's yes, and an audit line for every guarded action.

A tool that dials, spends or destroys describes what it is about to do as a `GuardedAction`
and sends its request inside `Guard.guarded`:

1. policy runs before anything leaves (`policy`: numbers, countries, caps, quiet hours), on the
   customers the action dials and on every destination its body carries (`destinations.scan`);
2. a human confirms (`consent`): through MCP elicitation when the client can elicit, otherwise
   through a preview whose `confirmToken` must come back with identical arguments;
3. one JSON line per attempt is appended to the audit file (`audit`) and fsynced.
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from ..destinations import cleared, scan_request
from ..errors import Refused, VapiMCPError
from . import facts
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
        self.consent = Consent(settings.policy, self.tokens)
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
            entry["confirmedBy"] = await self.consent.confirm(action, call, self.now())
        except Outcome as outcome:
            entry["decision"] = outcome.result["decision"]
            self.audit.append(entry)
            raise
        except VapiMCPError as exc:  # a refusal, or Vapi failing to answer a policy lookup
            entry.update(decision="refused" if isinstance(exc, Refused) else "failed", error=exc.text())
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
        f"confirmation:        elicitation, or a confirmToken valid {p.confirm_ttl} s, single use",
        f"auto-approve:        {'allow-listed numbers are dialled without asking' if p.auto_approve_allowlisted else 'off'}",
        f"confirm secret:      {'set (tokens valid across replicas)' if settings.confirm_secret else 'random per process'}",
        f"audit log:           {settings.audit_log}",
    ]
    return "\n".join(lines)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, VapiMCPError):
        return exc.text()
    return f"{type(exc).__name__} (details in the server log)"
