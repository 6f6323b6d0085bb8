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

What must outlive the process (used tokens, the dials counted per day, pending confirmations,
the do-not-call list) lives in the state store (`vapi_mcp.state`), shared by every session and
replica that uses it, counted and listed by `ledger`; a store that cannot be reached refuses
guarded actions. A human's no always wins: a Decline the store cannot record is audited and
remembered by this process, which refuses the action by every route until the store records it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

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
from .consent import CLOCK_SKEW, Consent, Tokens, request_of
from .ledger import Ledger, Reservation
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
        self.ledger = Ledger(self.store, settings.policy)
        self.pending = app.PendingRows(self.store, self.tokens.derive("pending rows"))
        self._unrecorded: dict[str, float] = {}
        """Pending ids a human declined while the store could not record it, until when to keep trying."""

    @property
    def policy(self) -> Policy:
        return self.settings.policy

    def close(self) -> None:
        self.store.close()

    @asynccontextmanager
    async def guarded(self, action: GuardedAction, call: CallContext) -> AsyncIterator[AuditRecord]:
        """Run policy and confirmation; the body sends the request; a line before and after it is sent."""
        rules: dict[str, str] = {}
        action.destinations = [*scan_request(action.path, action.body), *action.reaches]
        carried = facts.destinations(action.destinations)
        action.summary = _joined(action.summary, carried)
        entry = self._entry(action, rules, call)
        account = call.vapi.account
        try:
            _check_scopes(action, call)  # a signed-in person may take only the actions their OAuth scopes grant
            self.record_declines()
            epoch = self.ledger.epoch(action)  # the ledger must answer before anyone is asked, and be whole to dial or text
            await rules_.check(action, self.policy, self.now(), call, rules, self.ledger)
            await self._describe(action, call, entry, carried)
            action.rehearsal = _rehearsal(target_of(call.vapi) == "sandbox", self.settings.dry_run)
            action.summary = facts.framed(action.summary, action.rehearsal)  # what the human reads; the audit keeps the plain one
            entry["channel"] = await self.consent.confirm(action, call, self.now(), epoch)
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
            if isinstance(refusal, Refused):
                entry["rule"] = refusal.rule
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
        reservation = self._reserve(action, call, epoch, rules, entry)
        try:
            self._log_unsent({**entry, "decision": "sending"})  # write-ahead: fsynced before the request leaves
        except Refused:  # the `sending` line could not be written: nothing is sent
            self.ledger.release(reservation)
            raise
        record = AuditRecord()
        checked = [f.key for f in action.destinations] + [("call", c.number) for c in action.callees]
        try:
            with cleared(checked):  # the client sends these destinations only inside this block
                yield record
        except BaseException as exc:
            decision, error = _outcome_of(exc)
            if decision == "failed":  # Vapi certainly did not act: the dials were not used
                self.ledger.release(reservation)
            else:  # it may have been placed: what it counted stays
                self.ledger.unsettled(reservation, account, record.ids, record.numbers)
            try:
                self.audit.append(self._outcome(entry, decision, record.ids, error))
            except AuditUnwritable as failure:  # the `sending` line already says it may have been sent
                logger.error("%s (outcome %s of %s, attempt %s)", failure, decision, action.tool, entry["attempt"])
            raise
        self.ledger.settle(reservation)  # what the change gives back (fewer contacts, another window), now that it happened
        self.ledger.hold(reservation, account, record.ids, record.numbers)
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

    def _reserve(self, action: GuardedAction, call: CallContext, epoch: Any, rules: dict[str, str], entry: dict[str, Any]) -> Reservation:
        """Count the dials right before sending, atomically (another session may have used them), on the days they can ring."""
        try:
            return self.ledger.reserve(action, self.now(), call.tenant or "local", call.vapi.account, epoch)
        except Refused as exc:
            refusal = exc
            if refusal.rule != "state":
                rules[refusal.rule] = "refused"
        except StateUnavailable as exc:
            refusal = _state_refused(exc)
        entry.update(decision="refused", error=refusal.text(), rule=refusal.rule)
        self._log_unsent(entry)
        raise refusal

    # what never rang

    def give_back(self, call: CallContext, ident: str, numbers: list[str] | None = None, *, starting_after: datetime | None = None) -> int:
        """Give back to the daily caps what `ident` (a call or campaign Vapi says never rang, or whose `numbers` never rang) counted;
        with `starting_after`, only if the guard counted it as unable to ring before then."""
        return self.ledger.give_back(call.vapi.account, ident, numbers, starting_after=starting_after)

    # the do-not-call list

    def add_do_not_call(self, call: CallContext, number: str, note: str | None) -> dict[str, Any]:
        """Put a number on the do-not-call list (never off it: only the user does that), and audit it."""
        from ..errors import InputError

        try:
            added, already = self.ledger.add([number], by=call.tenant or "local", note=note, now=self.now())
        except ValueError as exc:
            raise InputError("number", f"{exc}; nothing was added") from None
        except StateUnavailable as exc:
            raise _state_refused(exc) from None
        line = self._first_line(call, tool=call.tool, kind=None, summary=f"Put {number} on the do-not-call list.", request={"number": number}, rules={})
        self._log_unsent({**line, "decision": "added" if added else "already-listed", "ids": added or already})
        return {"number": (added or already)[0], "added": bool(added), "doNotCall": True}

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
        """The view's pending action, checked, then taken out of the store (one caller ever gets it); a refusal writes its line.

        Check first, take after: an answer that cannot act on the row (another person, another account, a forged or
        rewritten row) leaves it where it is, for the person who can."""
        if not app.offers_apps(call.mcp):
            self.refuse_pending(None, call, app.problem(None, call.tool, call.mcp, call.vapi.account, self.now()) or "")
        use = self.tokens.use_key(pending_id)
        try:
            self.record_declines()
            row = self._open_pending(pending_id, call, peek=True)
            problem = app.problem(row, call.tool, call.mcp, call.vapi.account, self.now(), call.tenant or "local", self.store.epoch().id)
            if problem is None and (pending_id in self._unrecorded or self.tokens.declined.get(use, 0.0) > time.time()):
                problem = "the user declined this action in the confirmation view; nothing was sent."
            if problem:
                self.refuse_pending(row, call, problem)
            taken = self._open_pending(pending_id, call, peek=False)
        except StateUnavailable as exc:
            self.refuse_pending(None, call, f"the approval cannot be recorded: {exc}. Nothing was sent.", rule="state")
        if taken != row:  # answered (or changed) between the check and the take
            self.refuse_pending(row, call, app.problem(None, call.tool, call.mcp, call.vapi.account, self.now()) or "")
        assert row is not None
        return {**row, "id": pending_id}

    def _open_pending(self, pending_id: str, call: CallContext, *, peek: bool) -> dict[str, Any] | None:
        try:
            return self.pending.peek(pending_id) if peek else self.pending.take(pending_id)
        except app.Forged:
            self.refuse_pending(
                None,
                call,
                "the pending action failed its integrity check: it was not written by this server (or was changed in the "
                "state store since), so it is not what the user was shown; nothing was sent.",
            )
            raise AssertionError("unreachable") from None

    def refuse_pending(self, pending: dict[str, Any] | None, call: CallContext, problem: str, *, rule: str = "app") -> NoReturn:
        """Audit and raise a refusal of the view's answer: nothing runs."""
        refused = Refused(rule, problem)
        self._log_unsent({**self._pending_entry(pending, call), "decision": "refused", "error": refused.text(), "rule": rule})
        raise refused

    def decline_pending(self, pending_id: str, call: CallContext) -> dict[str, Any]:
        """The view's Decline: the pending action's single use is spent (its token with it) and the row removed, audited.

        Only the view holds the pending id, so a Decline spends that use whatever became of the row (gone, or not
        opening under this server's key: rewritten in the store); only a row of another account or person is left
        alone. If the store cannot record it, the no still wins: this process refuses the action by every route (the
        token, Approve) and records the decline in the store as soon as it answers; the answer says so."""
        if not app.offers_apps(call.mcp):
            self.refuse_pending(None, call, app.problem(None, call.tool, call.mcp, call.vapi.account, self.now()) or "")
        use = self.tokens.use_key(pending_id)
        row: dict[str, Any] | None = None
        note: str | None = None
        try:
            self.record_declines()
            try:
                row = self.pending.peek(pending_id)
            except app.Forged:
                note = "The pending action did not open under this server's key (rewritten in the state store); the decline holds all the same."
            if row is not None:
                problem = app.problem(row, call.tool, call.mcp, call.vapi.account, self.now(), call.tenant or "local")
                if problem and "expired" not in problem:  # another account's or person's: theirs to answer
                    self.refuse_pending(row, call, problem)
            fresh = self.tokens.spend(use, self.policy.confirm_ttl)
            self.store.take(f"pending:{pending_id}")
        except StateUnavailable as exc:
            until = time.time() + self.policy.confirm_ttl + CLOCK_SKEW
            self.tokens.declined[use] = until
            self._unrecorded[pending_id] = until
            error = (
                f"The user's decline could not be recorded in the state store ({exc}). This server refuses the action by "
                "every route (its confirm token, Approve) and records the decline when the store answers again."
            )
            self._log_unsent({**self._pending_entry(row, call), "decision": "declined", "error": error})
            return {
                "decision": "declined",
                "recorded": False,
                "message": (
                    "The user declined; nothing was placed, bought or deleted. The decline could not be recorded in the state "
                    f"store ({exc}); this server refuses the action by any route and records the decline as soon as the store "
                    "answers. Tell the user if the store stays unreachable."
                ),
            }
        if not fresh:  # its single use was spent before this answer: the no came too late to stop anything
            late = (
                "The decline came too late: the agent's confirm token already confirmed this action, so it may have been sent."
                if row is not None
                else "The decline came too late: this action was already answered (approved, declined, or confirmed by the agent's token)."
            )
            self._log_unsent({**self._pending_entry(row, call), "decision": "declined", "error": late})
            raise VapiMCPError(
                f"{late} Nothing was stopped.",
                hint="Check what ran (vapi-mcp audit, or the list tools), and tell the user.",
            )
        self._log_unsent({**self._pending_entry(row, call), "decision": "declined", **({"error": note} if note else {})})
        return {"decision": "declined", "message": "The user declined in the confirmation view; nothing was placed, bought or deleted."}

    def record_declines(self) -> None:
        """Record in the store the declines it could not take when the human gave them (their use spent, their row gone)."""
        now = time.time()
        for pending_id, until in list(self._unrecorded.items()):
            if until <= now:
                self._unrecorded.pop(pending_id, None)
                continue
            self.tokens.spend(self.tokens.use_key(pending_id), self.policy.confirm_ttl)  # StateUnavailable: still down, try later
            self.store.take(f"pending:{pending_id}")
            self._unrecorded.pop(pending_id, None)
            logger.info("recorded a decline the state store could not take when it was given (pending %s...)", pending_id[:6])

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
        f"per-number cap:      {p.per_number_cap} dials to one number per UTC day, across every session, account and replica",
        "days counted:        each dial on every UTC day it can ring (a scheduled call's or campaign's whole window)",
        "do-not-call list:    numbers on it (vapi-mcp dnc) are never dialled, texted or transferred to",
        f"allow numbers:       {listed(p.allow_numbers) if p.allow_numbers else '(any)'}",
        f"deny numbers:        {listed(p.deny_numbers)}",
        f"allow countries:     {countries(p.allow_countries) if p.allow_countries else '(any)'}",
        f"deny countries:      {countries(p.deny_countries) or '(none)'}",
        "destinations:        transfer, SIP and SMS destinations in any request pass the number and country rules and are confirmed",
        "free Vapi numbers:   take inbound calls only (Vapi's rule): a dial from one is refused; import a number to call out",
        "premium-rate:        refused (as callees and destinations) unless on the allow list",
        "emergency numbers:   never dialled, texted or transferred to (911, 112, 999... written with the E.164 check off, or in a SIP address)",
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


def _check_scopes(action: GuardedAction, call: CallContext) -> None:
    """Refuse, naming the scope, a guarded action the signed-in person's OAuth scopes do not grant."""
    needed = scopes_.action_scopes(action.kind, [found.role for found in action.destinations if found.guarded])
    lacking = scopes_.missing(needed, call.scopes)
    if lacking:
        raise Refused("scope", scopes_.refusal_text(f"{action.tool} (a {action.kind} action)", lacking))


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
