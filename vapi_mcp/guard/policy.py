"""The policy rules a dial must pass before anything is sent: numbers, countries, caps, quiet hours."""

from __future__ import annotations

import re
from datetime import datetime, timezone
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
        hint="Split the batch, or raise VAPI_MCP_BATCH_CAP / --batch-cap.",
    )
    numbers = [parse(callee) for callee in action.callees]
    rule("e164", first(problem for _, problem in numbers))
    parsed = [number for number, _ in numbers]
    deny, allow = policy.deny_numbers, policy.allow_numbers
    rule("deny_numbers", first(f"{e164(n)} is on the deny list." for n in parsed if listed(n, deny)))
    if allow:
        rule("allow_numbers", first(f"{e164(n)} is not on the allow list." for n in parsed if not listed(n, allow)))
    deny, allow = policy.deny_countries, policy.allow_countries
    rule("deny_countries", first(f"{e164(n)} is in a denied country ({country(n)})." for n in parsed if in_countries(n, deny)))
    if allow:
        rule(
            "allow_countries",
            first(f"{e164(n)} is not in an allowed country ({', '.join(allow)})." for n in parsed if not in_countries(n, allow)),
        )
    if policy.quiet_hours:
        when = aware(action.when) if action.when else now
        rule(
            "quiet_hours",
            first(quiet_hours_problem(policy, n, when) for n in parsed),
            hint="Schedule the call (schedulePlan.earliestAt) inside the callee's local calling hours.",
        )
    rule("daily_cap", daily_cap_problem(count))
    if action.phone_number_id:
        rule("free_number", await free_number_problem(action.phone_number_id, parsed, call))


def first(problems: Iterable[str | None]) -> str | None:
    return next((problem for problem in problems if problem), None)


def quiet_hours_problem(policy: Policy, number: Number, when: datetime) -> str | None:
    start, end = policy.quiet_start, policy.quiet_end
    window = f"{start:02d}:00-{end:02d}:00"
    zones = phone_timezone.time_zones_for_number(number) if isinstance(number, phonenumbers.PhoneNumber) else ()
    known = [zone for zone in zones if zone != "Etc/Unknown"]
    if not known:
        return (
            f"the local time of {e164(number)} is unknown, so calling hours ({window}) cannot be checked; "
            "refusing to be safe (turn quiet hours off with --no-quiet-hours if you must call it)."
        )
    for zone in known:
        try:
            local = when.astimezone(ZoneInfo(zone))
        except ZoneInfoNotFoundError:
            return f"the time zone {zone} of {e164(number)} is unknown here, so calling hours cannot be checked."
        allowed = start <= local.hour < end if start <= end else (local.hour >= start or local.hour < end)
        if not allowed:
            shown = "" if len(known) == 1 else f" (the strictest of its {len(known)} time zones)"
            return f"it is {local:%H:%M} in {zone} for {e164(number)}{shown}, outside calling hours {window}."
    return None


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


def auto_approved(policy: Policy, action: GuardedAction) -> bool:
    """Dials to numbers that are all on the allow list, when the user turned auto-approval on."""
    return (
        policy.auto_approve_allowlisted
        and action.kind == "dial"
        and bool(action.callees)
        and bool(policy.allow_numbers)
        and all(listed(parse(c)[0], policy.allow_numbers) for c in action.callees)
    )
