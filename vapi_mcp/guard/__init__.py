"""The confirmation guard: policy, a human's yes, and a write-ahead audit of every guarded action.

A tool that dials, spends or destroys describes what it is about to do as a `GuardedAction`
and sends its request inside `Guard.guarded`:

1. policy runs before anything leaves (`policy`: numbers, countries, caps, quiet hours), on the
   customers the action dials and on every destination its body carries (`destinations.scan`);
2. a human confirms (`consent`): through MCP elicitation when the client can elicit, or through
   an MCP Apps confirmation view (`app`) when the client renders one; otherwise (consent mode
   `any`) through a preview whose `confirmToken` the agent relays back with identical arguments;
3. the audit (`audit`): every line names the consent `channel` (`elicitation`, `app`,
   `agent-relayed`, `auto-allowlist`, or null); a `sending` line is fsynced before the request
   leaves, and the outcome line (`sent`, `failed`, `unknown`) follows with the same attempt id.

What must outlive the process (used tokens, today's dials per Vapi account, pending
confirmations) lives in the state store (`vapi_mcp.state`), shared by every session and
replica that uses it; a store that cannot be reached refuses guarded actions.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio

from .. import scopes as scopes_
from ..config import SANDBOX_BASE_URL
from ..destinations import cleared, scan_request
from ..errors import Refused, VapiError, VapiMCPError
from ..state import SETTING as STATE_SETTING
from ..state import StateStore, StateUnavailable, open_store
from . import app, facts
from . import policy as rules_
from .action import GUARDED_ROUTES, AuditRecord, CallContext, Callee, GuardedAction, InputRequired, Kind, Outcome, Rehearsal, guarded_kind
from .audit import AuditLog, AuditUnwritable, Unaudited
from .consent import Consent, Tokens, request_of
from .policy import iso

if TYPE_CHECKING:
    from ..client import VapiClient
    from ..config import Policy, Settings

__all__ = [
    "GUARDED_ROUTES",
    "AuditRecord",
    "CallContext",
    "Callee",
    "Guard",
    "GuardedAction",
    "InputRequired",
    "Kind",
    "Outcome",
    "Tokens",
    "describe_policy",
    "guarded_kind",
]

logger = logging.getLogger("vapi_mcp.guard")

COUNTER_TTL = 2 * 86400
"""Seconds a day's dial counter is kept (its key carries the UTC date; this only frees the space)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def target_of(vapi: VapiClient) -> str:
    """Where requests go: `sandbox`, or the Vapi base URL."""
    return "sandbox" if vapi.base_url == SANDBOX_BASE_URL else vapi.base_url


class Guard:
    """One per server process: policy, confirmation and audit for every guarded action."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] | None = None, store: StateStore | None = None) -> None:
        self.settings = settings
        self.now = clock or _utc_now
        """The time source (tests replace it with a hand-driven clock)."""
        self.store = store if store is not None else open_store(settings.state_url)
        """The shared ledger: opened on the first guarded action, never by reads."""
        self.tokens = Tokens(settings.confirm_secret, self.store)
        self.consent = Consent(settings.policy, self.tokens, self.store)
        self.audit = AuditLog(settings.audit_log, settings.sandbox_audit_path)

    @property
    def policy(self) -> Policy:
        return self.settings.policy

    def close(self) -> None:
        self.store.close()

    @asynccontextmanager
    async def guarded(self, action: GuardedAction, call: CallContext) -> AsyncIterator[AuditRecord]:
        """Run policy and confirmation; the body sends the request; a line before and after it is sent."""
        rules: dict[str, str] = {}
        action.destinations = scan_request(action.path, action.body)
        carried = facts.destinations(action.destinations)
        action.summary = _joined(action.summary, carried)
        entry = self._entry(action, rules, call)
        counter = self._counter(call.vapi.account)
        person = self._person_counter(call)
        try:
            _check_scopes(action, call)  # a signed-in person may take only the actions their OAuth scopes grant
            self.store.count(counter)  # the ledger must answer before anyone is asked
            await rules_.check(action, self.policy, self.now(), call, rules, partial(self._daily_cap_problem, counter, person))
            await self._describe(action, call, entry, carried)
            action.rehearsal = _rehearsal(target_of(call.vapi) == "sandbox", self.settings.dry_run)
            action.summary = facts.framed(action.summary, action.rehearsal)  # what the human reads; the audit keeps the plain one
            entry["channel"] = await self.consent.confirm(action, call, self.now())
            if entry["channel"] in ("elicitation", "app"):  # a person said yes: who (their signed-in subject, under OAuth)
                entry["approvedBy"] = call.tenant or "local"
        except InputRequired:  # the question went out with the result; the client's retry is a new attempt
            entry["decision"] = "asked"
            self._log_unsent(entry)  # an unwritable audit refuses before the question goes out
            raise
        except Outcome as outcome:
            entry["decision"] = outcome.result["decision"]
            self._log_unsent(entry)  # no line, no preview: a token is never handed out unaudited
            raise
        except (VapiMCPError, StateUnavailable) as exc:  # a refusal, or Vapi failing to answer a policy lookup
            refusal = _state_refused(exc) if isinstance(exc, StateUnavailable) else exc
            entry.update(decision="refused" if isinstance(refusal, Refused) else "failed", error=refusal.text())
            self._log_unsent(entry)
            if refusal is exc:
                raise
            raise refusal from None
        except anyio.get_cancelled_exc_class():  # the client gave up (e.g. while the human was asked)
            entry.update(decision="cancelled", error="The client cancelled the request before anything was sent.")
            self._log_unsent(entry)
            raise
        except Exception as exc:  # a defect: nothing was sent, and the line says so
            entry.update(decision="failed", error=_error_text(exc))
            self._log_unsent(entry)
            raise
        if self.settings.dry_run:
            entry["decision"] = "dry-run"
            self._log_unsent(entry)
            raise Outcome(
                {
                    "dryRun": True,
                    "decision": "dry-run",
                    "summary": action.summary,
                    "wouldSend": request_of(action),
                    "message": "Dry-run mode: policy and confirmation passed; nothing was sent.",
                }
            )
        reserved = self._reserve(action, counter, rules, entry)
        reserved_by_person = self._reserve_for_person(action, person, counter, reserved, rules, entry)
        try:
            self._log_unsent({**entry, "decision": "sending"})  # write-ahead: fsynced before the request leaves
        except Refused:  # the `sending` line could not be written: nothing is sent
            self._release(counter, reserved)
            self._release(person, reserved_by_person)
            raise
        record = AuditRecord()
        checked = [f.key for f in action.destinations] + [("call", c.number) for c in action.callees]
        try:
            with cleared(checked):  # the client sends these destinations only inside this block
                yield record
        except BaseException as exc:
            decision, error = _outcome_of(exc)
            if decision == "failed":  # Vapi certainly did not act: the dials were not used
                self._release(counter, reserved)
                self._release(person, reserved_by_person)
            try:
                self.audit.append(self._outcome(entry, decision, record.ids, error))
            except AuditUnwritable as failure:  # the `sending` line already says it may have been sent
                logger.error("%s (outcome %s of %s, attempt %s)", failure, decision, action.tool, entry["attempt"])
            raise
        try:
            self.audit.append(self._outcome(entry, "sent", record.ids, None))
        except AuditUnwritable as failure:
            raise Unaudited(
                f"{action.tool} WAS SENT to Vapi and succeeded (ids: {', '.join(record.ids) or 'none returned'}), "
                f"but its outcome could not be written to the audit file: {failure}",
                hint=(
                    "Do not repeat it: it happened. The audit's `sending` line records that it may have been sent. "
                    "Tell the user the audit file needs attention (disk space, permissions); until it can be written, "
                    "guarded actions are refused."
                ),
            ) from None

    # the daily cap, per Vapi account per UTC day, in the shared store

    def _counter(self, account: str) -> str:
        return f"dials:{account}:{self.now().astimezone(UTC).date().isoformat()}"

    def _person_counter(self, call: CallContext) -> str | None:
        """Today's dial counter of the person asking (`tenant`), when a per-person cap is set."""
        if self.policy.daily_cap_per_person is None:
            return None
        tenant = call.tenant or "local"
        return f"dials-by:{tenant}:{self.now().astimezone(UTC).date().isoformat()}"

    def _daily_cap_problem(self, counter: str, person: str | None, count: int) -> str | None:
        used = self.store.count(counter)
        problem = _cap_problem(used, count, self.policy.daily_cap)
        if problem is None and person is not None and self.policy.daily_cap_per_person is not None:
            problem = _person_cap_problem(self.store.count(person), count, self.policy.daily_cap_per_person)
        return problem

    def _reserve_for_person(
        self, action: GuardedAction, person: str | None, counter: str, reserved: int, rules: dict[str, str], entry: dict[str, Any]
    ) -> int:
        """Reserve today's dials of the person too (after the account's: a refusal gives those back)."""
        cap = self.policy.daily_cap_per_person
        if action.kind != "dial" or person is None or cap is None:
            return 0
        amount = action.dial_count
        try:
            added, used = self.store.reserve(person, amount, cap, time.time() + COUNTER_TTL)
            refusal = None if added else Refused("daily_cap_per_person", f"{_person_cap_problem(used, amount, cap)} Nothing was sent.", hint=PERSON_CAP_HINT)
        except StateUnavailable as exc:
            refusal = _state_refused(exc)
        if refusal is None:
            return amount
        self._release(counter, reserved)
        if refusal.rule == "daily_cap_per_person":
            rules["daily_cap_per_person"] = "refused"
        entry.update(decision="refused", error=refusal.text())
        self._log_unsent(entry)
        raise refusal

    def _reserve(self, action: GuardedAction, counter: str, rules: dict[str, str], entry: dict[str, Any]) -> int:
        """Reserve today's dials right before sending, atomically (another session may have used them)."""
        if action.kind != "dial":
            return 0
        amount = action.dial_count
        try:
            added, used = self.store.reserve(counter, amount, self.policy.daily_cap, time.time() + COUNTER_TTL)
            problem = _cap_problem(used, amount, self.policy.daily_cap)
            refusal = None if added else Refused("daily_cap", f"{problem} Nothing was sent.", hint=rules_.CAP_HINTS["daily_cap"])
        except StateUnavailable as exc:
            refusal = _state_refused(exc)
        if refusal is None:
            return amount
        if refusal.rule == "daily_cap":
            rules["daily_cap"] = "refused"
        entry.update(decision="refused", error=refusal.text())
        self._log_unsent(entry)
        raise refusal

    def _release(self, counter: str | None, amount: int) -> None:
        if not amount or counter is None:
            return
        try:
            self.store.release(counter, amount)
        except StateUnavailable as exc:  # they stay counted: the safe side
            logger.warning("could not give back %d dial(s) to today's cap: %s", amount, exc)

    # naming things and the audit

    def _log_unsent(self, entry: dict[str, Any]) -> None:
        """A line written while nothing has been sent; if it cannot be written, nothing will be."""
        try:
            self.audit.append(entry)
        except AuditUnwritable as exc:
            raise Refused("audit", f"{exc} Nothing was sent.") from None

    async def _describe(self, action: GuardedAction, call: CallContext, entry: dict[str, Any], carried: str) -> None:
        """Name things for the human; an id that does not exist is refused, any other failed lookup leaves the plain summary."""
        if action.describe is None:
            return
        try:
            action.summary = entry["summary"] = _joined(await action.describe(call), carried)
        except Refused:  # e.g. `unknown_id`: the request names something that does not exist
            raise
        except Exception as exc:  # best effort: a failed lookup or an odd answer leaves the plain summary
            logger.info("could not name the parts of %s: %s", action.tool, _error_text(exc))

    def _entry(self, action: GuardedAction, rules: dict[str, str], call: CallContext) -> dict[str, Any]:
        guarded = [_audited(f) for f in action.destinations if f.guarded]
        return self._first_line(
            call,
            tool=action.tool,
            kind=action.kind,
            summary=action.summary,
            request=request_of(action),
            **({"callees": len(action.callees)} if action.callees else {}),
            **({"destinations": guarded} if guarded else {}),
            rules=rules,
        )

    def _first_line(
        self, call: CallContext, *, tool: str, kind: str | None, summary: str | None, request: Any, rules: dict[str, str], **facts: Any
    ) -> dict[str, Any]:
        """An attempt's first line: what, for whom (target, account, tenant), and no decision yet."""
        return {
            "time": iso(self.now()),
            "attempt": uuid.uuid4().hex,
            "tool": tool,
            "kind": kind,
            "decision": None,
            "channel": None,
            "target": target_of(call.vapi),
            "account": call.vapi.account,
            "tenant": call.tenant,
            "summary": summary,
            "request": request,
            **facts,
            "rules": rules,
            "ids": [],
            "error": None,
        }

    def _outcome(self, entry: dict[str, Any], decision: str, ids: list[str], error: str | None) -> dict[str, Any]:
        """The line after `sending`: same attempt, what came of it."""
        keep = ("attempt", "tool", "kind", "channel", "target", "account", "tenant")
        approver = {"approvedBy": entry["approvedBy"]} if "approvedBy" in entry else {}
        return {"time": iso(self.now()), **{k: entry[k] for k in keep}, **approver, "decision": decision, "ids": list(ids), "error": error}

    # the MCP Apps view's buttons

    def take_pending(self, pending_id: str, call: CallContext) -> dict[str, Any]:
        """The view's pending action, out of the store (one caller ever gets it); a refusal writes its line."""
        pending = app.take(self.store, pending_id) if app.offers_apps(call.mcp) else None
        problem = app.problem(pending, call.tool, call.mcp, call.vapi.account, self.now(), call.tenant or "local")
        if problem:
            self.refuse_pending(pending, call, problem)
        assert pending is not None
        return pending

    def refuse_pending(self, pending: dict[str, Any] | None, call: CallContext, problem: str) -> None:
        """Audit and raise a refusal of the view's answer: nothing runs."""
        refused = Refused("app", problem)
        self._log_unsent({**self._pending_entry(pending, call), "decision": "refused", "error": refused.text()})
        raise refused

    def decline_pending(self, pending_id: str, call: CallContext) -> dict[str, Any]:
        """The view's Decline: the pending action is dropped and audited as declined."""
        pending = self.take_pending(pending_id, call)
        if pending.get("token"):  # the agent's copy of this preview's token: a human's no is never followed by its yes
            try:
                self.tokens.spend(pending["token"], self.now())
            except StateUnavailable as exc:  # then no token can be redeemed either (redeeming needs the store)
                logger.warning("could not spend the declined action's confirm token: %s", exc)
        self._log_unsent({**self._pending_entry(pending, call), "decision": "declined"})
        return {"decision": "declined", "message": "The user declined in the confirmation view; nothing was placed, bought or deleted."}

    def _pending_entry(self, pending: dict[str, Any] | None, call: CallContext) -> dict[str, Any]:
        pending = pending or {}
        return self._first_line(
            call,
            tool=pending.get("tool") or call.tool,
            kind=pending.get("kind"),
            summary=pending.get("summary"),
            request=pending.get("request"),
            rules={},
        )


def _rehearsal(sandbox: bool, dry_run: bool) -> Rehearsal | None:
    if sandbox:
        return "sandbox dry-run" if dry_run else "sandbox"
    return "dry-run" if dry_run else None


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
        f"daily cap:           {p.daily_cap} guarded dials per Vapi account per UTC day, across every session sharing the state store (each campaign contact counts)",
        f"daily cap per person: {'off' if p.daily_cap_per_person is None else f'{p.daily_cap_per_person} guarded dials per person (the audit who) per UTC day, across accounts'}",
        f"allow numbers:       {listed(p.allow_numbers) if p.allow_numbers else '(any)'}",
        f"deny numbers:        {listed(p.deny_numbers)}",
        f"allow countries:     {countries(p.allow_countries) if p.allow_countries else '(any)'}",
        f"deny countries:      {countries(p.deny_countries) or '(none)'}",
        "destinations:        transfer, SIP and SMS destinations in any request pass the number and country rules and are confirmed",
        "free Vapi numbers:   take inbound calls only (Vapi's rule): a dial from one is refused; import a number to call out",
        "premium-rate:        refused (as callees and destinations) unless on the allow list",
        "emergency numbers:   never dialled or texted (911, 112, 999... written with the E.164 check off)",
        f"consent:             {_consent_line(p)}",
        f"confirmation wait:   {p.confirm_wait} s for the human to answer an elicitation, then refused (timed-out)",
        f"auto-approve:        {'allow-listed numbers are dialled without asking' if p.auto_approve_allowlisted else 'off'}",
        f"confirm secret:      {'set (tokens valid across replicas)' if settings.confirm_secret else 'random per process'}",
        f"state store:         {open_store(settings.state_url).where}",
        f"audit log:           {settings.audit_log} (sandbox attempts: {settings.sandbox_audit_path})",
    ]
    return "\n".join(lines)


def _consent_line(p: Policy) -> str:
    human = "elicitation, or the MCP Apps confirmation view"
    if p.consent == "human":
        return f"human only: {human}; no confirm token is issued or accepted"
    return f"any: {human}; otherwise a confirmToken the agent relays (valid {p.confirm_ttl} s, single use across every session sharing the state store)"


PERSON_CAP_HINT = f"Try again tomorrow (UTC); {rules_.ONLY_THE_USER} (VAPI_MCP_DAILY_CAP_PER_PERSON / --daily-cap-per-person)."


def _person_cap_problem(used: int, count: int, cap: int) -> str | None:
    if used + count > cap:
        return f"{used} of your {cap} guarded dials for today (a cap per person, VAPI_MCP_DAILY_CAP_PER_PERSON) are used; {count} more would exceed it."
    return None


def _check_scopes(action: GuardedAction, call: CallContext) -> None:
    """Refuse, naming the scope, a guarded action the signed-in person's OAuth scopes do not grant."""
    needed = scopes_.action_scopes(action.kind, [found.role for found in action.destinations if found.guarded])
    lacking = scopes_.missing(needed, call.scopes)
    if lacking:
        raise Refused("scope", scopes_.refusal_text(f"{action.tool} (a {action.kind} action)", lacking))


def _cap_problem(used: int, count: int, cap: int) -> str | None:
    if used + count > cap:
        return f"{used} of today's {cap} guarded dials on this Vapi account are used; {count} more would exceed the daily cap."
    return None


def _state_refused(exc: StateUnavailable) -> Refused:
    return Refused(
        "state",
        f"{exc}. The guard keeps used confirmations and today's dial counts there, so it confirms nothing without it; nothing was sent.",
        hint=f"Reading still works. Only the user can fix this: check the store, or the {STATE_SETTING} setting.",
    )


def _outcome_of(exc: BaseException) -> tuple[str, str]:
    """`failed` when Vapi certainly did not act on the request, otherwise `unknown`, with the reason."""
    if isinstance(exc, VapiError) and exc.sent is False:
        return "failed", exc.text()
    if isinstance(exc, anyio.get_cancelled_exc_class()):
        return "unknown", "unknown: cancelled while the request was in flight; it may have reached Vapi."
    return "unknown", f"unknown: the request may have reached Vapi. {_error_text(exc)}"


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, VapiMCPError):
        return exc.text()
    return f"{type(exc).__name__} (details in the server log)"
