"""What the human is asked, built from verified facts: numbers as normalized, names quoted as names, batches by country.

Names (a customer's, an assistant's, a phone number's label) are text an agent chose: they are
shown inside quotes, cut short and stripped of control and formatting characters, so a name like
`Jane (+14155550100) — approved by admin` reads as a name and never as a fact of the question.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from ..destinations import Found
from ..numbers import Resolved, resolve, unresolved
from .action import Callee, Rehearsal

NAME_LIMIT = 24
SHOWN = 5
"""How many numbers a summary lists by name before it says how many more."""


REHEARSALS: dict[str, str] = {
    "sandbox": "SANDBOX (no real phone rings, nothing is billed): ",
    "dry-run": "DRY RUN (nothing will be sent): ",
    "sandbox dry-run": "DRY RUN on the SANDBOX (nothing will be sent, no real phone rings): ",
}
"""How a question starts when it is not the real thing: a human who approves rehearsals all day must see it first."""


REAL = "REAL (not the sandbox, not a dry run: this is sent to Vapi): "
"""How a real question starts when text in it speaks of a sandbox or a dry run (a name, a field an agent chose)."""
_REHEARSAL_WORDS = ("sandbox", "dry run", "dry-run", "dryrun")


def framed(summary: str, rehearsal: Rehearsal | None) -> str:
    """The summary as the human reads it: one line (no control, formatting or line-separator character an agent's text
    could bring: a forged second line, a bidi override), and a rehearsal says so before anything else. A real question
    that speaks of a sandbox or a dry run anywhere (text an agent chose: `"SANDBOX (no real phone…"`) says first that
    it is real."""
    summary = one_line(summary)
    if rehearsal:
        return REHEARSALS[rehearsal] + summary
    folded = unicodedata.normalize("NFKC", summary).casefold()
    return REAL + summary if any(word in folded for word in _REHEARSAL_WORDS) else summary


def one_line(text: str) -> str:
    """`text` with every control, formatting (bidi, zero-width) and line or paragraph separator character as a space."""
    return "".join(" " if unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp") else ch for ch in text)


def quoted(text: object, limit: int = NAME_LIMIT, *, both_ends: bool = False) -> str:
    """Agent-supplied text as a name: one line, no control or formatting characters, in quotes, at most `limit` characters.

    `both_ends` keeps the start and the end of a long text (a SIP address routes by its host, at the end)."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in str(text))
    cleaned = " ".join(cleaned.split())
    for mark in ('"', "\u201c", "\u201d", "\u201e", "\u00ab", "\u00bb"):
        cleaned = cleaned.replace(mark, "'")
    if len(cleaned) > limit and both_ends:
        half = (limit - 1) // 2
        cleaned = cleaned[:half] + "\u2026" + cleaned[-half:]
    elif len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "\u2026"
    return f'"{cleaned}"'


def shown(reading: Resolved) -> str:
    """A number as the human confirms it: E.164 as sent, or a relaxed number exactly as given, marked so."""
    if reading.unknown is not None:
        return quoted(reading.unknown, 256, both_ends=True)  # a destination is a fact: shown whole, or both its ends
    if reading.e164_check:
        return reading.shown
    return f"{reading.given} (sent as given: E.164 check off)"


def by_country(readings: Iterable[Resolved]) -> str:
    """'40 in +44 GB, 5 in +1 US, 1 of unknown country', largest group first."""
    counts = Counter(r.country or "unknown country" for r in readings)
    return ", ".join(f"{n} {'of' if where == 'unknown country' else 'in'} {where}" for where, n in counts.most_common())


def who(callees: list[Callee]) -> str:
    """The people a dial rings: one by name and number, or a batch with its countries first."""
    readings = [resolve(c.number, c.e164_check) for c in callees]
    people = [f"{quoted(c.name)} ({shown(r)})" if c.name else shown(r) for c, r in zip(callees, readings, strict=True)]
    if len(people) == 1:
        return people[0]
    more = f", and {len(people) - SHOWN} more" if len(people) > SHOWN else ""
    return f"{len(people)} numbers ({by_country(readings)}): " + ", ".join(people[:SHOWN]) + more


def reading(item: Found) -> Resolved:
    """How the policy reads a destination: its number, or what it is when it carries none."""
    if item.number is not None:
        return resolve(item.number, item.e164_check)
    return unresolved(item.detail or item.role)


def destinations(found: list[Found]) -> str:
    """What a request sets up beyond its own action: transfers, texts and SMS tools, from the body itself."""
    sentences = []
    sip_calls = [reading(f) for f in found if f.role == "sip-call"]
    if sip_calls:
        sentences.append(f"It dials the SIP address {_listed(sip_calls)} (customer sipUri).")
    transfers = [reading(f) for f in found if f.role in ("transfer", "sip")]
    if transfers:
        sentences.append(f"It can transfer calls to {_listed(transfers)}.")
    texts = [reading(f) for f in found if f.role == "sms"]
    if texts:
        sentences.append(f"It sends a text message to {_listed(texts)} now.")
    later = [reading(f) for f in found if f.role == "sms-session"]
    if later:
        sentences.append(f"Every chat on it texts the session's customer, {_listed(later)}.")
    tools = sum(1 for f in found if f.role == "sms-tool")
    if tools:
        sentences.append("It gives the assistant an SMS tool: it can text the people it talks to.")
    return " ".join(sentences)


def _listed(readings: list[Resolved]) -> str:
    unique = list({r.key if r.unknown is None else r.unknown: r for r in readings}.values())
    items = [f"{shown(r)} ({r.country})" if r.country else shown(r) for r in unique]
    if len(items) <= SHOWN:
        return ", ".join(items)
    return f"{len(items)} numbers ({by_country(unique)}): " + ", ".join(items[:SHOWN]) + f", and {len(items) - SHOWN} more"


def a(word: str) -> str:
    """'an assistant', 'a squad', 'an exact': the word with its article."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def plural(count: int, one: str, many: str | None = None) -> str:
    """'1 contact', '3 contacts', '2 zones': a count and its noun, which agree."""
    return f"{count} {one if count == 1 else many or one + 's'}"


def zones_of(number: str) -> tuple[str, ...]:
    """The time zones of a number written in E.164 (its country's, or its area's); () when unknown."""
    from phonenumbers import timezone as phone_timezone

    parsed = resolve(number).number
    zones = phone_timezone.time_zones_for_number(parsed) if parsed is not None else ()
    return tuple(zone for zone in zones if zone != "Etc/Unknown")


DAYTIME = (8, 21)
"""Local hours in which calling a person is usual (TCPA's 08:00-21:00, the guard's default calling hours): a
window outside them is said to be at night, whatever the quiet-hours setting."""


def utc(when: datetime) -> str:
    """'2026-12-07 14:05 UTC'."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def local_window(numbers: Iterable[str], start: datetime, end: datetime | None = None, shown: int = 8) -> str:
    """Where the callees are, the moment (or window) in their own local time, zone by zone, most callees first:
    'America/New_York Mon 07 Dec 09:05-10:05; Europe/London Mon 07 Dec 14:05-15:05 (at night there: ...)'."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    counts: Counter[str] = Counter()
    unknown = 0
    for number in numbers:
        zones = zones_of(number)
        counts.update(zones)
        unknown += not zones
    parts = []
    for zone, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:shown]:
        try:
            tz = ZoneInfo(zone)
        except ZoneInfoNotFoundError:
            parts.append(f"{zone}: local time unknown here")
            continue
        a = start.astimezone(tz)
        b = (end or start).astimezone(tz)
        text = f"{zone} {a:%a %d %b %H:%M}" + (f"-{b:%H:%M}" if end is not None else "")
        if end is not None and b.date() != a.date():
            text += f" ({b:%a})"
        if at_night(a, b):
            text += f" (at night there: outside {DAYTIME[0]:02d}:00-{DAYTIME[1]:02d}:00)"
        parts.append(text)
    more = len(counts) - shown
    if more > 0:
        parts.append(f"and {plural(more, 'more zone')}")
    if unknown:
        parts.append(f"{plural(unknown, 'number')} of unknown local time")
    return "; ".join(parts)


def at_night(local_start: datetime, local_end: datetime) -> bool:
    """Whether any part of a local window falls outside the usual calling hours (`DAYTIME`)."""
    def daytime(moment: datetime) -> bool:
        minutes = moment.hour * 60 + moment.minute
        return DAYTIME[0] * 60 <= minutes <= DAYTIME[1] * 60

    moment = local_start
    while moment < local_end:
        if not daytime(moment):
            return True
        moment += timedelta(minutes=15)
    return not daytime(local_end)
