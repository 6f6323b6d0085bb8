"""The confirmation guard: policy, a human's yes, and an audit line for every guarded action.

A tool that dials, spends or destroys describes what it is about to do as a `GuardedAction`
and sends its request inside `Guard.guarded`:

1. policy runs before anything leaves (dial actions only: numbers, countries, caps, quiet hours);
2. a human confirms: through MCP elicitation when the client can elicit, otherwise through a
   preview whose `confirmToken` must come back with identical arguments;
3. one JSON line per attempt is appended to the audit file and fsynced before the tool returns.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Literal,
)
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from mcp.server.elicitation import render_elicitation_schema
from mcp_types import (
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
)
from mcp_types.version import is_version_at_least
from phonenumbers import timezone as phone_timezone
from pydantic import BaseModel, Field

from .errors import Refused, VapiMCPError
from .redact import redact_body, scrubber

if TYPE_CHECKING:
    from .config import Policy, Settings
    from .tools.base import ToolContext

logger = logging.getLogger("vapi_mcp.guard")

Kind = Literal["dial", "spend", "destroy"]

ELICITATION_KEY = "confirm"
INPUT_REQUIRED_VERSION = "2026-07-28"
RELAXED_NUMBER = re.compile(r"^\+?[a-zA-Z0-9]{3,40}$")
"""Vapi's rule for a customer number when `numberE164CheckEnabled` is false."""

COST_NOTES: dict[str, str] = {
    "dial": "Vapi bills every minute of the call to your account.",
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
    cost: str | None = None
    """What it may cost, in plain words; defaults to a note for the action's kind."""
    account: str = ""
    """The Vapi account the request goes to (`VapiClient.account`): a token confirms only there."""
    describe: Callable[[ToolContext], Awaitable[str]] | None = None
    """A fuller summary (names instead of ids), looked up only once policy has passed."""


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


class Confirmation(BaseModel):
    """The form shown to the human."""

    confirm: bool = Field(description="Yes, do it.")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(tool: str, arguments: dict[str, Any], account: str = "") -> bytes:
    """The request a confirmation is bound to (on which account), in one byte form."""
    return json.dumps({"tool": tool, "arguments": arguments, "account": account}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Tokens:
    """Signed, expiring, single-use confirmations bound to one tool call's arguments."""

    def __init__(self, secret: str | None) -> None:
        self._key = secret.encode() if secret else secrets.token_bytes(32)
        self._used: dict[str, float] = {}

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def _bound_to(self, action: GuardedAction) -> str:
        return _b64(self._sign(canonical(action.tool, action.arguments, action.account))[:16])

    def issue(self, action: GuardedAction, expires: datetime) -> str:
        payload = json.dumps(
            {"a": self._bound_to(action), "e": int(expires.timestamp()), "n": secrets.token_hex(8)}, separators=(",", ":")
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def redeem(self, token: str, action: GuardedAction, now: datetime) -> None:
        """Accept the token once, or raise `Refused` saying why it does not confirm this call."""
        rule = "confirm_token"
        try:
            encoded, signature = token.split(".")
            payload = _unb64(encoded)
            valid = hmac.compare_digest(_unb64(signature), self._sign(payload))
            claims = json.loads(payload) if valid else {}
        except ValueError:
            valid, claims = False, {}
        if not valid or not isinstance(claims, dict) or not {"a", "e", "n"} <= claims.keys():
            raise Refused(rule, "the confirm token is malformed or was not issued by this server; nothing was sent.")
        if not hmac.compare_digest(str(claims["a"]), self._bound_to(action)):
            raise Refused(
                rule,
                "the confirm token was issued for different arguments (or another Vapi account); nothing was sent.",
                hint="Call again without confirmToken to get a new preview for these arguments.",
            )
        if now.timestamp() >= float(claims["e"]):
            raise Refused(rule, "the confirm token has expired; nothing was sent.", hint="Call again without confirmToken for a new preview.")
        self._used = {n: e for n, e in self._used.items() if e > now.timestamp()}
        if claims["n"] in self._used:
            raise Refused(rule, "the confirm token was already used; nothing was sent.", hint="Each token confirms one action.")
        self._used[str(claims["n"])] = float(claims["e"])


class AuditLog:
    """Append-only JSON lines, each fsynced before the tool returns.

    One line per guarded attempt: time, tool, kind, summary, redacted request, rule results,
    decision (previewed, declined, cancelled, refused, dry-run, sent, failed), how it was
    confirmed (token, elicitation, allowlist), Vapi ids and error text.
    """

    def __init__(self, path: Any) -> None:
        self.path = path

    def open(self) -> int:
        """A descriptor to append to; `Refused` when the file cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise Refused("audit", f"the audit log {self.path} cannot be written ({exc.strerror}); nothing was sent.") from None

    def append(self, entry: dict[str, Any], fd: int | None = None) -> None:
        line = scrubber.scrub(json.dumps(entry, separators=(",", ":"), ensure_ascii=False, default=str)) + "\n"
        own = fd is None
        fd = self.open() if fd is None else fd
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        except OSError as exc:
            raise Refused("audit", f"the audit log {self.path} cannot be written ({exc.strerror}).") from None
        finally:
            if own:
                os.close(fd)


class Guard:
    """One per server process: policy, confirmation and audit for every guarded action."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.now = clock or _utc_now
        """The time source (tests replace it with a hand-driven clock)."""
        self.tokens = Tokens(settings.confirm_secret)
        self.audit = AuditLog(settings.audit_log)
        self._dials: dict[date, int] = {}

    @property
    def policy(self) -> Policy:
        return self.settings.policy

    @asynccontextmanager
    async def guarded(self, action: GuardedAction, call: ToolContext) -> AsyncIterator[AuditRecord]:
        """Run policy and confirmation; the body sends the request; the exit records the result."""
        rules: dict[str, str] = {}
        entry = self._entry(action, rules)
        try:
            await self._check_policy(action, call, rules)
            await self._describe(action, call, entry)
            entry["confirmedBy"] = await self._confirm(action, call)
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
                    "wouldSend": self._request(action),
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
            try:
                yield record
            except BaseException as exc:
                entry.update(decision="failed", ids=record.ids, error=_error_text(exc))
                self._record(entry, fd)
                raise
            entry.update(decision="sent", ids=record.ids)
            self._record(entry, fd)
        finally:
            os.close(fd)

    # policy

    async def _check_policy(self, action: GuardedAction, call: ToolContext, rules: dict[str, str]) -> None:
        """Every rule for a dial, in order; the first broken one raises `Refused` and is noted in `rules`."""
        if action.kind != "dial":
            return

        def check(rule: str, problem: str | None, hint: str | None = None) -> None:
            rules[rule] = "refused" if problem else "passed"
            if problem:
                raise Refused(rule, problem + " Nothing was sent.", hint=hint)

        def first(problems: Iterable[str | None]) -> str | None:
            return next((problem for problem in problems if problem), None)

        policy = self.policy
        count = len(action.callees)
        over = count > policy.batch_cap
        check(
            "batch_cap",
            f"{count} customers exceed the batch cap of {policy.batch_cap}." if over else None,
            hint="Split the batch, or raise VAPI_MCP_BATCH_CAP / --batch-cap.",
        )
        numbers = [_parse(callee) for callee in action.callees]
        check("e164", first(problem for _, problem in numbers))
        parsed = [number for number, _ in numbers]
        deny, allow = policy.deny_numbers, policy.allow_numbers
        check("deny_numbers", first(f"{_e164(n)} is on the deny list." for n in parsed if _listed(n, deny)))
        if allow:
            check("allow_numbers", first(f"{_e164(n)} is not on the allow list." for n in parsed if not _listed(n, allow)))
        deny, allow = policy.deny_countries, policy.allow_countries
        check(
            "deny_countries",
            first(f"{_e164(n)} is in a denied country ({_country(n)})." for n in parsed if _in_countries(n, deny)),
        )
        if allow:
            check(
                "allow_countries",
                first(
                    f"{_e164(n)} is not in an allowed country ({', '.join(allow)})."
                    for n in parsed
                    if not _in_countries(n, allow)
                ),
            )
        if policy.quiet_hours:
            when = _aware(action.when) if action.when else self.now()
            check(
                "quiet_hours",
                first(self._quiet_hours_problem(n, when) for n in parsed),
                hint="Schedule the call (schedulePlan.earliestAt) inside the callee's local calling hours.",
            )
        check("daily_cap", self._daily_cap_problem(count))
        if action.phone_number_id:
            check("free_number", await self._free_number_problem(action.phone_number_id, parsed, call))

    def _quiet_hours_problem(self, number: phonenumbers.PhoneNumber | str, when: datetime) -> str | None:
        start, end = self.policy.quiet_start, self.policy.quiet_end
        window = f"{start:02d}:00-{end:02d}:00"
        zones = phone_timezone.time_zones_for_number(number) if isinstance(number, phonenumbers.PhoneNumber) else ()
        known = [zone for zone in zones if zone != "Etc/Unknown"]
        if not known:
            return (
                f"the local time of {_e164(number)} is unknown, so calling hours ({window}) cannot be checked; "
                "refusing to be safe (turn quiet hours off with --no-quiet-hours if you must call it)."
            )
        for zone in known:
            try:
                local = when.astimezone(ZoneInfo(zone))
            except ZoneInfoNotFoundError:
                return f"the time zone {zone} of {_e164(number)} is unknown here, so calling hours cannot be checked."
            allowed = start <= local.hour < end if start <= end else (local.hour >= start or local.hour < end)
            if not allowed:
                shown = "" if len(known) == 1 else f" (the strictest of its {len(known)} time zones)"
                return f"it is {local:%H:%M} in {zone} for {_e164(number)}{shown}, outside calling hours {window}."
        return None

    def _daily_cap_problem(self, count: int) -> str | None:
        used = self._dials.get(self.now().date(), 0)
        cap = self.policy.daily_cap
        if used + count > cap:
            return f"{used} of today's {cap} guarded dials are used; {count} more would exceed the daily cap."
        return None

    def _count_dials(self, action: GuardedAction, rules: dict[str, str]) -> None:
        """Reserve today's dials right before sending (re-checked: another call may have used them)."""
        if action.kind != "dial":
            return
        problem = self._daily_cap_problem(len(action.callees))
        if problem:
            rules["daily_cap"] = "refused"
            raise Refused("daily_cap", problem + " Nothing was sent.")
        today = self.now().date()
        self._dials[today] = self._dials.get(today, 0) + len(action.callees)

    async def _free_number_problem(
        self, phone_number_id: str, numbers: list[phonenumbers.PhoneNumber | str], call: ToolContext
    ) -> str | None:
        from .client import vapi_id

        phone = await call.vapi.get(f"/phone-number/{vapi_id(phone_number_id, 'phoneNumberId')}")
        if not isinstance(phone, dict) or phone.get("provider") != "vapi":
            return None
        home = _calling_code(phone.get("number")) or 1
        for number in numbers:
            if not isinstance(number, phonenumbers.PhoneNumber) or number.country_code != home:
                return (
                    f"the free Vapi number {phone.get('number') or phone_number_id} can only call +{home} numbers, "
                    f"not {_e164(number)}. Use an imported (Twilio, Vonage, Telnyx) number for other countries."
                )
        return None

    # confirmation

    async def _describe(self, action: GuardedAction, call: ToolContext, entry: dict[str, Any]) -> None:
        """Name things for the human; the plain summary stands if a lookup fails."""
        if action.describe is None:
            return
        try:
            action.summary = entry["summary"] = await action.describe(call)
        except Exception as exc:  # best effort: a failed lookup or an odd answer leaves the plain summary
            logger.info("could not name the parts of %s: %s", action.tool, _error_text(exc))

    async def _confirm(self, action: GuardedAction, call: ToolContext) -> str:
        """How the action was confirmed; raises `Outcome` (preview, decline), `InputRequired` or `Refused`."""
        if action.confirm_token:
            self.tokens.redeem(action.confirm_token, action, self.now())
            return "token"
        if self._auto_approved(action):
            return "allowlist"
        context = call.mcp
        if context is not None and _can_elicit(context):
            if _uses_input_required(context):
                return self._confirm_by_input_required(action, context)
            try:
                result = await context.elicit(self._question(action), Confirmation)
            except Exception as exc:  # the client declared elicitation but could not ask: fall back to the preview
                logger.info("elicitation failed, falling back to a confirm token: %s", exc)
            else:
                return self._answered(result.action, getattr(getattr(result, "data", None), "confirm", False))
        expires = self.now() + timedelta(seconds=self.policy.confirm_ttl)
        raise Outcome(
            {
                "confirmationRequired": True,
                "decision": "previewed",
                "summary": action.summary,
                "cost": self._cost(action),
                "wouldSend": self._request(action),
                "confirmToken": self.tokens.issue(action, expires),
                "expiresAt": expires.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
                "message": (
                    "Nothing was sent. Show the user the summary and ask. Only if they say yes, call "
                    f"{action.tool} again with identical arguments plus this confirmToken."
                ),
            }
        )

    def _auto_approved(self, action: GuardedAction) -> bool:
        policy = self.policy
        return (
            policy.auto_approve_allowlisted
            and action.kind == "dial"
            and bool(action.callees)
            and bool(policy.allow_numbers)
            and all(_listed(_parse(c)[0], policy.allow_numbers) for c in action.callees)
        )

    def _confirm_by_input_required(self, action: GuardedAction, context: Any) -> str:
        """Protocol 2026-07-28+: ask in an `InputRequiredResult`; the retry carries the answer and our signed state."""
        answer = (context.input_responses or {}).get(ELICITATION_KEY)
        if answer is None:
            expires = self.now() + timedelta(seconds=self.policy.confirm_ttl)
            request = ElicitRequest(
                params=ElicitRequestFormParams(
                    message=self._question(action), requested_schema=render_elicitation_schema(Confirmation)
                )
            )
            raise InputRequired(
                InputRequiredResult(
                    input_requests={ELICITATION_KEY: request}, request_state=self.tokens.issue(action, expires)
                )
            )
        if not context.request_state:
            raise Refused("confirmation", "an elicitation answer arrived without the state this server issued; nothing was sent.")
        self.tokens.redeem(context.request_state, action, self.now())
        if not isinstance(answer, ElicitResult):
            raise Refused("confirmation", "the answer to the confirmation was not an elicitation result; nothing was sent.")
        return self._answered(answer.action, bool((answer.content or {}).get("confirm")))

    def _answered(self, action: str, confirm: bool) -> str:
        if action == "accept" and confirm:
            return "elicitation"
        decision = "cancelled" if action == "cancel" else "declined"
        raise Outcome(
            {
                "decision": decision,
                "message": f"The user {decision} (or did not confirm); nothing was placed, bought or deleted.",
            }
        )

    def _question(self, action: GuardedAction) -> str:
        return f"{action.summary} {self._cost(action)} Go ahead?"

    def _cost(self, action: GuardedAction) -> str:
        return action.cost or COST_NOTES[action.kind]

    # audit

    def _request(self, action: GuardedAction) -> dict[str, Any]:
        return {"method": action.method, "path": action.path, "body": redact_body(action.body)}

    def _entry(self, action: GuardedAction, rules: dict[str, str]) -> dict[str, Any]:
        return {
            "time": self.now().astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            "tool": action.tool,
            "kind": action.kind,
            "summary": action.summary,
            "request": self._request(action),
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


def describe_policy(settings: Settings) -> str:
    """The policy in force, as `vapi-mcp policy` prints it."""
    p = settings.policy
    listed = lambda values: ", ".join(values) if values else "(none)"  # noqa: E731
    mode = "dry run (checked and confirmed, never sent)" if settings.dry_run else "confirmed actions are sent"
    lines = [
        f"target:              {'sandbox (nothing real is called)' if settings.sandbox else settings.base_url}",
        f"mode:                {mode}{', read-only' if settings.read_only else ''}",
        f"quiet hours:         {f'calls allowed {p.quiet_start:02d}:00-{p.quiet_end:02d}:00 callee local time (strictest zone wins)' if p.quiet_hours else 'off'}",
        f"batch cap:           {p.batch_cap} customers per call request",
        f"daily cap:           {p.daily_cap} guarded dials per server per day",
        f"allow numbers:       {listed(p.allow_numbers) if p.allow_numbers else '(any)'}",
        f"deny numbers:        {listed(p.deny_numbers)}",
        f"allow countries:     {listed(p.allow_countries) if p.allow_countries else '(any)'}",
        f"deny countries:      {listed(p.deny_countries)}",
        "free Vapi numbers:   call only numbers in their own country",
        f"confirmation:        elicitation, or a confirmToken valid {p.confirm_ttl} s, single use",
        f"auto-approve:        {'allow-listed numbers are dialled without asking' if p.auto_approve_allowlisted else 'off'}",
        f"confirm secret:      {'set (tokens valid across replicas)' if settings.confirm_secret else 'random per process'}",
        f"audit log:           {settings.audit_log}",
    ]
    return "\n".join(lines)


# numbers


def _parse(callee: Callee) -> tuple[phonenumbers.PhoneNumber | str, str | None]:
    """The parsed number (or the raw text for a relaxed one), and what is wrong with it."""
    try:
        number = phonenumbers.parse(callee.number, None)
        if phonenumbers.is_valid_number(number):
            return number, None
    except phonenumbers.NumberParseException:
        pass
    if not callee.e164_check:
        if RELAXED_NUMBER.match(callee.number):
            return callee.number, None
        return callee.number, f"{callee.number!r} must contain only letters and digits, optionally after a +."
    return callee.number, f"{callee.number!r} is not a valid phone number in E.164 form (like +14155550123)."


def _e164(number: phonenumbers.PhoneNumber | str) -> str:
    if isinstance(number, phonenumbers.PhoneNumber):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return number


def _listed(number: phonenumbers.PhoneNumber | str, entries: tuple[str, ...]) -> bool:
    return _e164(number) in {_normalised(entry) for entry in entries}


def _normalised(entry: str) -> str:
    try:
        return _e164(phonenumbers.parse(entry, None))
    except phonenumbers.NumberParseException:
        return entry.strip()


def _country(number: phonenumbers.PhoneNumber | str) -> str:
    if not isinstance(number, phonenumbers.PhoneNumber):
        return "unknown"
    region = phonenumbers.region_code_for_number(number)
    return f"+{number.country_code} {region}" if region else f"+{number.country_code}"


def _in_countries(number: phonenumbers.PhoneNumber | str, entries: tuple[str, ...]) -> bool:
    if not isinstance(number, phonenumbers.PhoneNumber):
        return False
    region = phonenumbers.region_code_for_number(number) or ""
    for entry in entries:
        entry = entry.strip().lstrip("+").upper()
        if entry == str(number.country_code) or entry == region:
            return True
    return False


def _calling_code(number: Any) -> int | None:
    try:
        return phonenumbers.parse(str(number), None).country_code if number else None
    except phonenumbers.NumberParseException:
        return None


# the MCP client


def _can_elicit(context: Any) -> bool:
    """True when the client declared form elicitation (a bare `elicitation: {}` counts)."""
    try:
        capabilities = context.client_capabilities
    except Exception:  # no active request (a direct, in-process call)
        return False
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def _uses_input_required(context: Any) -> bool:
    version = context.protocol_version
    return version is not None and is_version_at_least(version, INPUT_REQUIRED_VERSION)


def _aware(when: datetime) -> datetime:
    """A time without an offset is UTC, as in Vapi's API."""
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, VapiMCPError):
        return exc.text()
    return f"{type(exc).__name__} (details in the server log)"
