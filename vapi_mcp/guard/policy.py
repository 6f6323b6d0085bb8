"""The policy rules an action must pass before anything is sent: numbers, countries, caps, quiet hours.

Every number an action carries (the customers it dials, and every destination its body sets up:
transfers, texts, SIP addresses) is read once by `numbers.resolve`, and every rule uses that
reading: the number and country lists apply whatever `numberE164CheckEnabled` says, and a number
whose country cannot be determined is refused by any country rule and by quiet hours.
Dial-only rules (batch cap, schedule, free number) apply to what rings now; the daily caps and quiet hours
to what rings or is texted now; configuring a destination (no call happens then) passes the number
rules only. The rules that read a number as digits (emergency numbers, premium rate, the deny and
do-not-call lists) also read the user part of every SIP address (`sip:911@trunk`): the trunk behind
it dials those digits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from phonenumbers import timezone as phone_timezone

from ..destinations import Found
from ..errors import Refused, VapiError
from ..numbers import Resolved, emergency_regions, in_countries, possible_numbers, premium_rate, premium_rate_regions, regions_of, resolve, sip_numbers
from .action import CallContext, Callee, GuardedAction
from .facts import reading

if TYPE_CHECKING:
    from ..config import Policy

ONLY_THE_USER = "only the user can change that setting (it is the server's configuration, and needs a restart)"
E164_FIX = "give the number in E.164 with its + country code (like +14155550123)"


def callees_of(action: GuardedAction) -> list[Callee]:
    """Who the action rings now: its callees, plus any customer in its body they leave out."""
    named = {c.number for c in action.callees}
    extra = [Callee(f.number, f.e164_check) for f in action.destinations if f.role == "call" and f.number not in named and f.number]
    return [*action.callees, *extra]


class Ledger(Protocol):
    """What policy asks of the guard's ledger (the state store): the do-not-call list and the daily caps."""

    def listed(self, readings: list[Resolved]) -> str | None:
        """Which of these numbers are on the do-not-call list, as a refusal; None if none is."""
        ...

    def cap_problems(self, action: GuardedAction, now: datetime, tenant: str, account: str) -> list[tuple[str, str | None, str]]:
        """(rule, problem or None, hint) for every daily cap the dial of `tenant` on `account` counts against."""
        ...


SIP_READ_ROLES = ("sip", "sip-call", "sms", "sms-session")
"""Roles whose destination may be a SIP address (a session's customer texted at its `sipUri` too): its numbers are read."""


def sip_users(found: list[tuple[Found, Resolved]]) -> list[Resolved]:
    """The numbers each SIP address holds (its user part written like a number, `sip:+1900...@host`, and numbers in its
    parameters and headers, `?To=%2B1900...`), read as given (no country)."""
    users = []
    for item, _ in found:
        numbers = sip_numbers(item.detail or "") if item.role in SIP_READ_ROLES else []
        users += [resolve(number, e164_check=False) for number in numbers]
    return users


async def check(action: GuardedAction, policy: Policy, now: datetime, call: CallContext, rules: dict[str, str], ledger: Ledger) -> None:
    """Every rule, in order; the first broken one raises `Refused` and is noted in `rules`."""

    def rule(name: str, problem: str | None, hint: str | None = None) -> None:
        rules[name] = "refused" if problem else "passed"
        if problem:
            raise Refused(name, problem + " Nothing was sent.", hint=lifted(name, hint))

    dial = action.kind == "dial"
    callees = callees_of(action)
    if dial:
        count = len(callees)
        cap_rule, cap = action.cap or ("batch_cap", policy.batch_cap)
        rule(
            cap_rule,
            f"{count} customers exceed the {cap_rule.replace('_', ' ')} of {cap}." if count > cap else None,
            hint=CAP_HINTS.get(cap_rule, "").format(cap=cap),
        )
    called = [resolve(c.number, c.e164_check) for c in callees]
    carried = [(f, reading(f)) for f in action.destinations if f.role in ("transfer", "sip", "sip-call", "sms", "sms-session", "own")]
    reached = [r for f, r in carried if f.role != "own"]
    texted = [r for f, r in carried if f.role == "sms"]
    sip_called = [r for f, r in carried if f.role == "sip-call"]
    users = sip_users(carried)
    targets = called + reached
    if called or carried:
        problems = [r.problem for r in called] + [f"{f.where}: {r.problem}" if r.problem else None for f, r in carried]
        rule("e164", listing(problems))
    if targets:  # every role: a transfer to 911 or sip:112@trunk reaches emergency services as surely as a dial
        rule("emergency", listing(emergency_problem(r) for r in targets + users))
        rule("do_not_call", ledger.listed(targets + users), hint=DNC_HINT)
        number_rules(rule, policy, targets, users)
    if dial:
        rule("schedule", schedule_problem(action, now))
    if (dial or texted) and policy.quiet_hours:
        start, end = window(action, now)
        rule(
            "quiet_hours",
            listing(window_problem(policy, r, start, end) for r in (called + sip_called if dial else []) + texted),
            hint="Choose a time (schedulePlan.earliestAt/latestAt) inside every callee's local calling hours, or ask the user."
            if dial
            else "Send it during the recipient's local calling hours, or ask the user.",
        )
    if dial or action.kind == "text":  # a text counts as a dial to its recipient (ledger.COUNTED_KINDS)
        for name, problem, hint in ledger.cap_problems(action, now, call.tenant or "local", call.vapi.account):
            rule(name, problem, hint=hint)
    if dial:
        callers: dict[str, list[Resolved]] = {}
        for callee, reading_ in zip(callees, called, strict=True):
            caller = callee.via or action.phone_number_id
            if caller:
                callers.setdefault(caller, []).append(reading_)
        problems = []
        for caller, readings in callers.items():
            try:
                problems.append(await free_number_problem(caller, readings, call))
            except Refused:
                rules["unknown_id"] = "refused"
                raise
        if callers:
            rule("free_number", listing(problems), hint=FREE_NUMBER_HINT)


LIFTED_BY = {
    "quiet_hours": "VAPI_MCP_NO_QUIET_HOURS / --no-quiet-hours, or the hours: VAPI_MCP_QUIET_START / VAPI_MCP_QUIET_END",
    "deny_numbers": "VAPI_MCP_DENY_NUMBERS / --deny-numbers",
    "allow_numbers": "VAPI_MCP_ALLOW_NUMBERS / --allow-numbers",
    "premium_rate": "VAPI_MCP_ALLOW_NUMBERS / --allow-numbers, with the number itself",
    "deny_countries": "VAPI_MCP_DENY_COUNTRIES / --deny-countries",
    "allow_countries": "VAPI_MCP_ALLOW_COUNTRIES / --allow-countries",
}
"""The settings that would lift a rule's refusal (the caps say theirs in `CAP_HINTS`): every such refusal names them
and says only the user can change them (an agent must not ask to bend the guard, nor look for a way round it)."""


def lifted(rule: str, hint: str | None) -> str | None:
    """`hint`, followed by who can lift the rule and with which setting, when a setting can."""
    setting = LIFTED_BY.get(rule)
    if setting is None:
        return hint
    return f"{hint + ' ' if hint else ''}Only the user can change that setting ({setting}): it is the server's configuration, and needs a restart."


DNC_HINT = (
    "Do not call or text this person: they asked not to be contacted. Only the user can take a number off the "
    "do-not-call list (vapi-mcp dnc remove), where the server runs."
)


CAP_HINTS = {
    "batch_cap": f"Split the batch into requests of at most {{cap}}; {ONLY_THE_USER} (VAPI_MCP_BATCH_CAP / --batch-cap).",
    "campaign_cap": (
        "Split the contacts into smaller campaigns of at most {cap}; "
        f"{ONLY_THE_USER} (VAPI_MCP_CAMPAIGN_CAP / --campaign-cap, up to Vapi's 10,000)."
    ),
    "daily_cap": f"Try again tomorrow (UTC); {ONLY_THE_USER} (VAPI_MCP_DAILY_CAP / --daily-cap).",
    "daily_cap_per_person": f"Try again tomorrow (UTC); {ONLY_THE_USER} (VAPI_MCP_DAILY_CAP_PER_PERSON / --daily-cap-per-person).",
    "per_number_cap": f"Call this number on another day (UTC); {ONLY_THE_USER} (VAPI_MCP_PER_NUMBER_CAP / --per-number-cap).",
}


def number_rules(rule: Callable[..., None], policy: Policy, targets: list[Resolved], users: Iterable[Resolved] = ()) -> None:
    """The number and country lists, on every number the action reaches (as resolved, whatever its E.164 flag).

    A number written without its country (E.164 check off, no `+`) may ring any of its readings, so it is
    denied when any reading is denied (or premium rate), and never counts as allow-listed. `users` are the
    numbers in SIP addresses' user parts: read by the deny list and the premium-rate rule (a SIP address
    itself has no country, so the allow and country rules refuse it already)."""
    users = list(users)
    deny, allow = set(policy.deny_numbers), set(policy.allow_numbers)
    regions = regions_of(deny)
    rule("deny_numbers", listing(denied_number(r, deny, regions) for r in [*targets, *users] if r.unknown is None))
    rule("premium_rate", listing(premium_problem(r, allow) for r in [*targets, *users]))
    if allow:
        rule("allow_numbers", listing(f"{r.shown} is not on the allow list{_unsure(r)}." for r in targets if not allow_listed(r, allow)))
    if policy.deny_countries:
        rule("deny_countries", listing(denied_country(r, policy.deny_countries) for r in targets))
    if policy.allow_countries:
        rule("allow_countries", listing(outside_countries(r, policy.allow_countries) for r in targets))


def premium_problem(r: Resolved, allow: set[str]) -> str | None:
    if premium_rate(r) and not allow_listed(r, allow):
        return (
            f"{r.shown} is a premium-rate number ({r.country}): every minute is billed at a rate its operator sets, "
            "the way toll fraud drains an account; only a number the user puts on the allow list (--allow-numbers) is called"
        )
    regions = premium_rate_regions(r)
    if regions:
        where = ", ".join(regions[:6]) + (f" and {len(regions) - 6} more" if len(regions) > 6 else "")
        return (
            f"{r.shown}, written without its country, is a premium-rate number when dialled as a national number in {where}: "
            f"a trunk there bills every minute at a rate its operator sets; {E164_FIX}"
        )
    return None


def emergency_problem(r: Resolved) -> str | None:
    regions = emergency_regions(r)
    if not regions:
        return None
    where = ", ".join(regions[:6]) + (f" and {len(regions) - 6} more" if len(regions) > 6 else "")
    return f"{r.shown} is an emergency number ({where}): an agent never calls or texts emergency services through this server."


def denied_number(r: Resolved, deny: set[str], regions: frozenset[str]) -> str | None:
    hits = sorted(possible_numbers(r, regions) & deny)
    if not hits:
        return None
    if hits == [r.shown]:
        return f"{r.shown} is on the deny list."
    return f"{r.shown} is on the deny list: as written it may be dialled as {', '.join(hits)}."


def allow_listed(r: Resolved, allow: set[str]) -> bool:
    """On the allow list for certain: a number whose country is written (`+`, 00, 011) and whose reading is listed."""
    return r.unknown is None and r.explicit and r.key in allow


def _unsure(r: Resolved) -> str:
    if r.unknown is not None or r.explicit or r.number is None:
        return ""
    return f" for certain: written without + and country code it may be dialled as a national number of any country; {E164_FIX}"


def denied_country(r: Resolved, entries: tuple[str, ...]) -> str | None:
    if r.country is None:
        return unknown_country(r)
    return f"{r.shown} is in a denied country ({r.country})." if in_countries(r, entries) else None


def outside_countries(r: Resolved, entries: tuple[str, ...]) -> str | None:
    if r.country is None:
        return unknown_country(r)
    return None if in_countries(r, entries) else f"{r.shown} is not in an allowed country ({', '.join(entries)}); it is {r.country}."


def unknown_country(r: Resolved) -> str:
    return f"the country of {r.shown} cannot be determined ({r.why_country_unknown}); {E164_FIX}."


def listing(problems: Iterable[str | None], shown: int = 20) -> str | None:
    """Every problem (up to `shown` of them), so a refusal names all the numbers that break a rule."""
    found = [problem for problem in problems if problem]
    if len(found) <= 1:
        return found[0] if found else None
    more = f"; and {len(found) - shown} more" if len(found) > shown else ""
    return f"{len(found)} numbers break it: " + "; ".join(p.rstrip(".") for p in found[:shown]) + more + "."


def window(action: GuardedAction, now: datetime) -> tuple[datetime, datetime]:
    """When the call can really start: from max(now, earliestAt) up to latestAt (or that same moment)."""
    start = max(now, aware(action.when)) if action.when else now
    end = aware(action.latest) if action.latest else start
    return start, max(start, end)


def schedule_problem(action: GuardedAction, now: datetime) -> str | None:
    """A window that is empty or already over: Vapi could only start the call at once, or never."""
    if action.latest is None:
        return None
    latest = aware(action.latest)
    if action.when is not None and latest <= aware(action.when):
        return f"schedulePlan.latestAt ({iso(latest)}) must be after earliestAt ({iso(aware(action.when))})."
    if latest <= now:
        return f"schedulePlan.latestAt ({iso(latest)}) is already past (now {iso(now)})."
    return None


def window_problem(policy: Policy, number: Resolved, start: datetime, end: datetime) -> str | None:
    """Why a call to `number` placed any time from `start` to `end` could ring outside calling hours, or None.

    The whole window must lie inside one stretch of calling hours in every time zone of the number.
    """
    hours = f"{policy.quiet_start:02d}:00-{policy.quiet_end:02d}:00"
    shown = number.shown
    zones = phone_timezone.time_zones_for_number(number.number) if number.number is not None and number.country else ()
    known = [zone for zone in zones if zone != "Etc/Unknown"]
    if not known:
        why = number.why_country_unknown if number.country is None else "its time zone is not known"
        return (
            f"the local time of {shown} is unknown ({why}), so calling hours ({hours}) cannot be checked; "
            f"refusing to be safe. {E164_FIX[0].upper() + E164_FIX[1:]}."
        )
    for zone in known:
        try:
            tz = ZoneInfo(zone)
        except ZoneInfoNotFoundError:
            return f"the time zone {zone} of {shown} is unknown here, so calling hours cannot be checked."
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        strictest = "" if len(known) == 1 else f" (the strictest of its {len(known)} time zones)"
        allowed = calling_hours_around(policy, local_start)
        if allowed is None:
            return f"it is {local_start:%H:%M} in {zone} for {shown}{strictest} when the call can start, outside calling hours {hours}."
        if local_end > allowed[1]:
            return (
                f"the call may start as late as {local_end:%H:%M} ({local_end:%Y-%m-%d}) in {zone} for {shown}{strictest}; "
                f"the part of the window from {allowed[1]:%H:%M} on is outside calling hours {hours}."
            )
    return None


def calling_hours_around(policy: Policy, local: datetime) -> tuple[datetime, datetime] | None:
    """The stretch of calling hours (local start, local end) that contains `local`, or None at a quiet time."""
    start_h, end_h = policy.quiet_start, policy.quiet_end

    def at(day: datetime, hour: int) -> datetime:
        base = day.replace(hour=0, minute=0, second=0, microsecond=0)
        return base.replace(hour=hour) if hour < 24 else base + timedelta(days=1)

    if start_h <= end_h:
        opens, closes = at(local, start_h), at(local, end_h)
    elif local.hour >= start_h:
        opens, closes = at(local, start_h), at(local + timedelta(days=1), end_h)
    else:
        opens, closes = at(local - timedelta(days=1), start_h), at(local, end_h)
    return (opens, closes) if opens <= local < closes else None


async def free_number_problem(phone_number_id: str, numbers: list[Resolved], call: CallContext) -> str | None:
    """A free Vapi number takes inbound calls only (Vapi's documentation: outbound calls need an imported number);
    an unknown phoneNumberId is refused here, before anyone is asked."""
    from ..ids import vapi_id

    try:
        phone = await call.vapi.get(f"/phone-number/{vapi_id(phone_number_id, 'phoneNumberId')}")
    except VapiError as exc:
        if exc.status == 404:
            raise unknown_id("phoneNumberId", phone_number_id, "phone number", "list_phone_numbers") from None
        raise
    if not isinstance(phone, dict) or phone.get("provider") != "vapi":
        return None
    callees = f"{numbers[0].shown}" if len(numbers) == 1 else f"{len(numbers)} numbers"
    return (
        f"the free Vapi number {phone.get('number') or phone.get('sipUri') or phone_number_id} takes inbound calls only: "
        f"Vapi's free numbers cannot place outbound calls, so it cannot call {callees}."
    )


FREE_NUMBER_HINT = (
    "Import a number you own and call from its phoneNumberId: import_number with a Twilio, Telnyx or Vonage number, "
    "or a SIP trunk (such as DIDWW) as byo-phone-number. A free Vapi number can still answer inbound calls."
)


def unknown_id(field: str, value: str, what: str, lister: str) -> Refused:
    """An id the request names that does not exist at Vapi: refused before the human is asked."""
    return Refused("unknown_id", f"`{field}` {value} names no {what} that exists. Nothing was sent.", hint=f"{lister} shows the ids.")


def aware(when: datetime) -> datetime:
    """A time without an offset is UTC, as in Vapi's API."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def iso(when: datetime) -> str:
    """A time as Vapi writes it: UTC, ISO 8601, with Z."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def auto_approved(policy: Policy, action: GuardedAction) -> bool:
    """Dials whose every number (callees and destinations) is on the allow list, when the user turned auto-approval on."""
    if not (policy.auto_approve_allowlisted and action.kind == "dial" and action.callees and policy.allow_numbers):
        return False
    allow = set(policy.allow_numbers)
    readings = [resolve(c.number, c.e164_check) for c in callees_of(action)]
    readings += [reading(f) for f in action.destinations if f.guarded and f.role != "call"]
    return all(r.problem is None and allow_listed(r, allow) for r in readings)
