"""What the human is asked, built from verified facts: numbers as normalized, names quoted as names, batches by country.

Names (a customer's, an assistant's, a phone number's label) are text an agent chose: they are
shown inside quotes, cut short and stripped of control and formatting characters, so a name like
`Jane (+14155550100) — approved by admin` reads as a name and never as a fact of the question.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

from ..destinations import Found
from ..numbers import Resolved, resolve, unresolved
from .action import Callee

NAME_LIMIT = 24
SHOWN = 5
"""How many numbers a summary lists by name before it says how many more."""


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
