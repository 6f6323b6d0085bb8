"""The policy rules a dial must pass before anything is sent: numbers, countries, caps, quiet hours."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

from ..errors import Refused
from .action import Callee, GuardedAction

if TYPE_CHECKING:
    from ..config import Policy
    from ..tools.base import ToolContext

RELAXED_NUMBER = re.compile(r"^\+?[a-zA-Z0-9]{3,40}$")
"""Vapi's rule for a customer number when `numberE164CheckEnabled` is false."""

Number = phonenumbers.PhoneNumber | str
"""A parsed number, or the raw text of a relaxed one."""


async def check(
    action: GuardedAction,
    policy: Policy,
    now: datetime,
    call: ToolContext,
    rules: dict[str, str],
    daily_cap_problem: Callable[[int], str | None],
) -> None:
    """Every rule for a dial, in order; the first broken one raises `Refused` and is noted in `rules`."""
    if action.kind != "dial":
        return

    def rule(name: str, problem: str | None, hint: str | None = None) -> None:
        rules[name] = "refused" if problem else "passed"
        if problem:
            raise Refused(name, problem + " Nothing was sent.", hint=hint)

    count = len(action.callees)
    cap_rule, cap = action.cap or ("batch_cap", policy.batch_cap)
    rule(
        cap_rule,
        f"{count} customers exceed the {cap_rule.replace('_', ' ')} of {cap}." if count > cap else None,
        hint=CAP_HINTS.get(cap_rule),
    )
    numbers = [parse(callee) for callee in action.callees]
    rule("e164", listing(problem for _, problem in numbers))
    parsed = [number for number, _ in numbers]
    deny, allow = policy.deny_numbers, policy.allow_numbers
    rule("deny_numbers", listing(f"{e164(n)} is on the deny list." for n in parsed if listed(n, deny)))
    if allow:
        rule("allow_numbers", listing(f"{e164(n)} is not on the allow list." for n in parsed if not listed(n, allow)))
    deny, allow = policy.deny_countries, policy.allow_countries
    rule("deny_countries", listing(f"{e164(n)} is in a denied country ({country(n)})." for n in parsed if in_countries(n, deny)))
    if allow:
        rule(
            "allow_countries",
            listing(f"{e164(n)} is not in an allowed country ({', '.join(allow)})." for n in parsed if not in_countries(n, allow)),
        )
    start, end = window(action, now)
    rule("schedule", schedule_problem(action, now))
    if policy.quiet_hours:
        rule(
            "quiet_hours",
            listing(window_problem(policy, n, start, end) for n in parsed),
            hint="Choose a time (schedulePlan.earliestAt/latestAt) inside every callee's local calling hours.",
        )
    rule("daily_cap", daily_cap_problem(action.dial_count), hint=CAP_HINTS["daily_cap"])
    callers: dict[str, list[Number]] = {}
    for callee, number in zip(action.callees, parsed):
        caller = callee.via or action.phone_number_id
        if caller:
            callers.setdefault(caller, []).append(number)
    if callers:
        rule("free_number", listing([await free_number_problem(caller, numbers, call) for caller, numbers in callers.items()]))


CAP_HINTS = {
    "batch_cap": "Split the batch, or raise VAPI_MCP_BATCH_CAP / --batch-cap.",
    "campaign_cap": (
        "Split the contacts into smaller campaigns. Only the user can raise the cap "
        "(VAPI_MCP_CAMPAIGN_CAP / --campaign-cap, up to Vapi's 10,000)."
    ),
    "daily_cap": "Try again tomorrow (UTC), or ask the user: only they can raise VAPI_MCP_DAILY_CAP / --daily-cap.",
}


def listing(problems: Iterable[str | None], shown: int = 20) -> str | None:
    """Every problem (up to `shown` of them), so a refusal names all the numbers that break a rule."""
    found = [problem for problem in problems if problem]
    if len(found) <= 1:
        return found[0] if found else None
    more = f"; and {len(found) - shown} more" if len(found) > shown else ""
    return f"{len(found)} numbers break it: " + "; ".join(found[:shown]) + more + "."


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


def window_problem(policy: Policy, number: Number, start: datetime, end: datetime) -> str | None:
    """Why a call to `number` placed any time from `start` to `end` could ring outside calling hours, or None.

    The whole window must lie inside one stretch of calling hours in every time zone of the number.
    """
    hours = f"{policy.quiet_start:02d}:00-{policy.quiet_end:02d}:00"
    zones = phone_timezone.time_zones_for_number(number) if isinstance(number, phonenumbers.PhoneNumber) else ()
    known = [zone for zone in zones if zone != "Etc/Unknown"]
    if not known:
        return (
            f"the local time of {e164(number)} is unknown, so calling hours ({hours}) cannot be checked; "
            "refusing to be safe (only the user can turn quiet hours off, with --no-quiet-hours)."
        )
    for zone in known:
        try:
            tz = ZoneInfo(zone)
        except ZoneInfoNotFoundError:
            return f"the time zone {zone} of {e164(number)} is unknown here, so calling hours cannot be checked."
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        shown = "" if len(known) == 1 else f" (the strictest of its {len(known)} time zones)"
        allowed = calling_hours_around(policy, local_start)
        if allowed is None:
            return f"it is {local_start:%H:%M} in {zone} for {e164(number)}{shown} when the call can start, outside calling hours {hours}."
        if local_end > allowed[1]:
            return (
                f"the call may start as late as {local_end:%H:%M} ({local_end:%Y-%m-%d}) in {zone} for {e164(number)}{shown}; "
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


async def free_number_problem(phone_number_id: str, numbers: list[Number], call: ToolContext) -> str | None:
    from ..client import vapi_id

    phone = await call.vapi.get(f"/phone-number/{vapi_id(phone_number_id, 'phoneNumberId')}")
    if not isinstance(phone, dict) or phone.get("provider") != "vapi":
        return None
    home = calling_code(phone.get("number")) or 1
    for number in numbers:
        if not isinstance(number, phonenumbers.PhoneNumber) or number.country_code != home:
            return (
                f"the free Vapi number {phone.get('number') or phone_number_id} can only call +{home} numbers, "
                f"not {e164(number)}. Use an imported (Twilio, Vonage, Telnyx) number for other countries."
            )
    return None


# numbers


def parse(callee: Callee) -> tuple[Number, str | None]:
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


def e164(number: Number) -> str:
    if isinstance(number, phonenumbers.PhoneNumber):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return number


def listed(number: Number, entries: tuple[str, ...]) -> bool:
    return e164(number) in {normalised(entry) for entry in entries}


def normalised(entry: str) -> str:
    try:
        return e164(phonenumbers.parse(entry, None))
    except phonenumbers.NumberParseException:
        return entry.strip()


def country(number: Number) -> str:
    if not isinstance(number, phonenumbers.PhoneNumber):
        return "unknown"
    region = phonenumbers.region_code_for_number(number)
    return f"+{number.country_code} {region}" if region else f"+{number.country_code}"


def in_countries(number: Number, entries: tuple[str, ...]) -> bool:
    if not isinstance(number, phonenumbers.PhoneNumber):
        return False
    region = phonenumbers.region_code_for_number(number) or ""
    for entry in entries:
        entry = entry.strip().lstrip("+").upper()
        if entry == str(number.country_code) or entry == region:
            return True
    return False


def calling_code(number: object) -> int | None:
    try:
        return phonenumbers.parse(str(number), None).country_code if number else None
    except phonenumbers.NumberParseException:
        return None


def aware(when: datetime) -> datetime:
    """A time without an offset is UTC, as in Vapi's API."""
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def auto_approved(policy: Policy, action: GuardedAction) -> bool:
    """Dials to numbers that are all on the allow list, when the user turned auto-approval on."""
    return (
        policy.auto_approve_allowlisted
        and action.kind == "dial"
        and bool(action.callees)
        and bool(policy.allow_numbers)
        and all(listed(parse(c)[0], policy.allow_numbers) for c in action.callees)
    )
