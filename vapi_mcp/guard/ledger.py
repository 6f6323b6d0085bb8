"""What the guard counts and lists in the state store: dials by the day they can ring, what each placed call or
campaign holds of those counts, the do-not-call list, and whether the store's ledger can be trusted.

**Caps count what rings, on the day it rings.** A text sent now counts as a dial to its recipient. A dial counts against three daily caps: the Vapi account's
(`VAPI_MCP_DAILY_CAP`), the person's (`VAPI_MCP_DAILY_CAP_PER_PERSON`, when set) and the number's
(`VAPI_MCP_PER_NUMBER_CAP`, every account and person together). Days are UTC. A call counts on the day it can
ring: now, or its `schedulePlan` window from max(now, earliestAt) to latestAt (a campaign's: up to an hour from
its start). A window over two or more UTC days counts on each of them, since it may ring on any: the cap is a
bound, and a dial it cannot place is better than one it did not count. Each contact is one dial, so a campaign
with the same number sixty times is sixty dials (and sixty rings of that number).

**Holds.** What a placed call or campaign counted is kept beside it (`hold:<account>:<id>`), so what certainly
never rang is given back: a scheduled call deleted before its time, a campaign cancelled or deleted before it
dialled (Vapi's own answer says so: never the agent's word). A changed campaign (`update_campaign`) is counted
again as it now stands, less what it held.

**Do-not-call.** Numbers on the list (E.164) are refused as callees, contacts, texts and transfer destinations,
before anyone is asked; a number written without its country matches an entry in any of its readings. The user
adds, removes and imports (`vapi-mcp dnc`); an agent may only add (`add_do_not_call`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import Refused
from ..numbers import Resolved, possible_numbers, resolve
from ..state import Adjusted, Change, Epoch, EpochChanged, StateStore, StateUnavailable, day_expiry
from .action import Callee, GuardedAction
from .policy import CAP_HINTS, iso, listing, window

if TYPE_CHECKING:
    from ..config import Policy

logger = logging.getLogger("vapi_mcp.guard")

HOLD = "hold:"


def days_of(start: datetime, end: datetime) -> list[str]:
    """Every UTC day (YYYY-MM-DD) from `start` to `end`, both included."""
    first, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def number_key(number: str, e164_check: bool = True) -> str:
    """How the per-number cap names a number: its E.164 reading, else the digits as given."""
    return resolve(number, e164_check).key


@dataclass
class Tally:
    """The counters one dial action adds to: each counted contact, on each UTC day it can ring."""

    days: list[str]
    shared: list[tuple[str, int | None, str]]
    """(counter prefix, limit, rule): counters every contact adds one to, per day (account, person)."""
    numbers: Counter[str]
    """Number key -> contacts counted (the per-number counters)."""
    per_number_cap: int
    now: datetime
    """The guard's clock when counted: expiries are wall-clock times (the store's), this far from the days counted."""
    start: float = 0.0
    """The earliest moment (epoch seconds, the guard's clock) the dials can ring: what a give-back is checked against."""
    credit: dict[str, int] = field(default_factory=dict)
    """Counter -> what an earlier hold of the same thing gives back in the same step (a changed campaign)."""

    @property
    def contacts(self) -> int:
        return sum(self.numbers.values())

    def changes(self) -> list[tuple[Change, str, str]]:
        """(change, rule, what it counts) for every counter, credit netted in: one change per counter."""
        out: list[tuple[Change, str, str]] = []
        seen: set[str] = set()
        for day in self.days:
            expires = self.expiry(day)
            for prefix, limit, rule in self.shared:
                name = prefix + day
                out.append((Change(name, self.contacts - self.credit.get(name, 0), limit, expires), rule, day))
                seen.add(name)
            for number, n in self.numbers.items():
                name = f"dials-to:{number}:{day}"
                out.append((Change(name, n - self.credit.get(name, 0), self.per_number_cap, expires), "per_number_cap", f"{number}|{day}"))
                seen.add(name)
        out += [(Change(name, -amount), "", "") for name, amount in self.credit.items() if name not in seen and amount]
        return out

    def expiry(self, day: str) -> float:
        """When (wall clock) a counter of `day` may be forgotten: a day after it ends, two days from now at least."""
        return time.time() + max(2 * 86400.0, day_expiry(day) - self.now.timestamp())

    def hold(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "shared": [prefix for prefix, _, _ in self.shared],
            "numbers": dict(self.numbers),
            "expires": self.expiry(self.days[-1]),
            "from": self.start,
        }


def hold_changes(hold: dict[str, Any], numbers: Counter[str] | None = None) -> list[Change]:
    """What giving back `numbers` (all of them when None) of a hold takes off each counter."""
    held = Counter({str(k): int(v) for k, v in (hold.get("numbers") or {}).items()})
    back = held if numbers is None else held & numbers
    total = sum(back.values())
    changes = []
    for day in hold.get("days") or []:
        changes += [Change(str(prefix) + day, -total) for prefix in hold.get("shared") or [] if total]
        changes += [Change(f"dials-to:{number}:{day}", -n) for number, n in back.items() if n]
    return changes


@dataclass
class Reservation:
    """What `Ledger.reserve` counted for one action, so it can be given back or held."""

    changes: list[Change] = field(default_factory=list)
    """What was added (increases only): given back if Vapi certainly did not act."""
    deferred: list[Change] = field(default_factory=list)
    """What the action gives back (a changed campaign with fewer contacts, or a new window): applied only once Vapi
    answered that it acted, never while the change may not have happened."""
    tally: Tally | None = None
    replaced: dict[str, Any] | None = None
    """The hold this reservation replaced (a changed campaign): put back if nothing was sent."""
    key: str | None = None


class Ledger:
    """The guard's use of the state store for counting and listing; `policy.Ledger` is what policy sees of it."""

    def __init__(self, store: StateStore, policy: Policy) -> None:
        self.store = store
        self.policy = policy

    # the epoch

    def epoch(self, action: GuardedAction) -> Epoch:
        """The store's epoch (the ledger must answer before anyone is asked); anything that reaches a phone (a dial, a
        text, a destination set up) needs it trusted: the counts and the do-not-call list it checks may be gone."""
        epoch = self.store.epoch()
        if not epoch.trusted and (action.kind in ("dial", "text", "route") or any(f.guarded for f in action.destinations)):
            raise untrusted(self.store, epoch)
        return epoch

    # the daily caps

    def tally(self, action: GuardedAction, now: datetime, tenant: str, account: str, *, hold: dict[str, Any] | None = None) -> Tally:
        """The counters `action` adds to; with the `hold` of what it replaces, every contact counts and the hold is credited."""
        start, end = window(action, now)
        counted = counted_of(action, hold is not None)
        shared: list[tuple[str, int | None, str]] = [(f"dials:{account}:", self.policy.daily_cap, "daily_cap")]
        if self.policy.daily_cap_per_person is not None:
            shared.append((f"dials-by:{tenant or 'local'}:", self.policy.daily_cap_per_person, "daily_cap_per_person"))
        tally = Tally(
            days_of(start, end), shared, Counter(number_key(c.number, c.e164_check) for c in counted), self.policy.per_number_cap, now, start.timestamp()
        )
        if hold is not None:
            tally.credit = {c.counter: -c.delta for c in hold_changes(hold)}
        return tally

    def cap_problems(self, action: GuardedAction, now: datetime, tenant: str, account: str) -> list[tuple[str, str | None, str]]:
        """Every daily cap checked against the store's counts now (the reservation checks again, atomically)."""
        tally = self.tally(action, now, tenant, account, hold=self._hold(account, action.held_by))
        changes = tally.changes()
        counts = self.store.counts([c.counter for c, _, _ in changes])
        problems: dict[str, list[str]] = {"daily_cap": [], "daily_cap_per_person": [], "per_number_cap": []}
        for (change, rule, what), used in zip(changes, counts, strict=True):
            if rule and change.delta > 0 and change.limit is not None and used + change.delta > change.limit:
                problems[rule].append(cap_problem(rule, what, used, change.delta, change.limit, now))
        wanted = ["daily_cap", *(["daily_cap_per_person"] if self.policy.daily_cap_per_person is not None else []), "per_number_cap"]
        return [(rule, listing(problems[rule]), CAP_HINTS[rule]) for rule in wanted]

    def reserve(self, action: GuardedAction, now: datetime, tenant: str, account: str, epoch: Epoch) -> Reservation:
        """Count `action`'s dials, atomically (another session may have used them); `Refused` naming the cap it would pass."""
        if action.kind not in COUNTED_KINDS:
            return Reservation()
        key = hold_key(account, action.held_by) if action.held_by else None
        replaced = self.store.take(key) if key else None
        tally = self.tally(action, now, tenant, account, hold=replaced)
        planned = [p for p in tally.changes() if p[0].delta > 0]
        deferred = [c for c, _, _ in tally.changes() if c.delta < 0]
        try:
            done = self.store.adjust([c for c, _, _ in planned], epoch=epoch.id)
        except EpochChanged:
            self._put_back(key, replaced)
            raise untrusted(self.store, self.store.epoch(), lost_since=True) from None
        except StateUnavailable:
            self._put_back(key, replaced)
            raise
        if not done.ok:
            self._put_back(key, replaced)
            raise refusal(planned, done, now)
        return Reservation([c for c, _, _ in planned], deferred, tally, replaced, key)

    def release(self, reservation: Reservation) -> None:
        """Give back a reservation that certainly was not used (Vapi certainly did not act), and the hold it replaced."""
        if not reservation.changes:
            self._put_back(reservation.key, reservation.replaced)
            return
        try:
            self.store.adjust([_reverse(c) for c in reservation.changes])
            self._put_back(reservation.key, reservation.replaced)
        except StateUnavailable as exc:  # they stay counted: the safe side
            logger.warning("could not give back %s to the daily caps: %s", reservation.changes, exc)

    def unsettled(self, reservation: Reservation, account: str, ids: list[str], numbers: dict[str, str] | None = None) -> None:
        """Vapi may or may not have acted: what was counted stays counted, nothing is given back, and a campaign keeps the
        hold it had (less than what is now counted: a later change can only give back less, the safe side)."""
        if reservation.replaced is not None:
            self._put_back(reservation.key, reservation.replaced)
        else:
            self.hold(reservation, account, ids, numbers)

    def settle(self, reservation: Reservation) -> None:
        """Vapi answered that it acted: apply what the action gives back (`Reservation.deferred`)."""
        if reservation.deferred:
            try:
                self.store.adjust(reservation.deferred)
            except StateUnavailable as exc:  # they stay counted: the safe side
                logger.warning("could not give back %s to the daily caps: %s", reservation.deferred, exc)

    def hold(self, reservation: Reservation, account: str, ids: list[str], numbers: dict[str, str] | None = None) -> None:
        """Keep what was counted beside the Vapi object(s) that were placed, so what never rings can be given back.

        `numbers` maps each id to its callee's number (a batch: each call holds its own share); without it, one id
        holds everything, and several ids hold nothing (the counts then stay: the safe side)."""
        tally = reservation.tally
        if tally is None or not ids:
            return
        expires = tally.expiry(tally.days[-1])
        if numbers:
            shares = {i: Counter({number_key(n): 1}) for i, n in numbers.items() if i in ids}
        elif len(ids) == 1:
            shares = {ids[0]: tally.numbers}
        else:
            return
        for ident, share in shares.items():
            share = share & tally.numbers
            if share:
                try:
                    self.store.put(hold_key(account, ident), {**tally.hold(), "numbers": dict(share)}, expires)
                except StateUnavailable as exc:  # nothing can be given back then: the counts stay
                    logger.warning("could not keep what %s counted against the daily caps: %s", ident, exc)

    def give_back(self, account: str, ident: str, numbers: Iterable[str] | None = None, *, starting_after: datetime | None = None) -> int:
        """Give back what `ident` (a call or campaign that certainly never rang, or whose `numbers` never rang) holds; how many dials.

        `starting_after`: give back only if the guard's own record says it could not ring before then (a call deleted
        before its time): an answer saying "scheduled" is not enough when the guard counted it as ringing sooner."""
        key = hold_key(account, ident)
        try:
            hold = self.store.take(key)
            if hold is None:
                return 0
            if starting_after is not None and float(hold.get("from") or 0.0) <= starting_after.timestamp():
                self._put_back(key, hold)  # it could have rung by then, on the guard's own count: it stays counted
                return 0
            wanted = None if numbers is None else Counter(number_key(n) for n in numbers)
            changes = hold_changes(hold, wanted)
            self.store.adjust(changes)
        except StateUnavailable as exc:
            logger.warning("could not give back what %s held of the daily caps: %s", ident, exc)
            return 0
        held = Counter({str(k): int(v) for k, v in (hold.get("numbers") or {}).items()})
        back = held if wanted is None else held & wanted
        left = held - back
        if left:
            self._put_back(key, {**hold, "numbers": dict(left)})
        return sum(back.values())

    def _hold(self, account: str, ident: str | None) -> dict[str, Any] | None:
        return self.store.get(hold_key(account, ident)) if ident else None

    def _put_back(self, key: str | None, hold: dict[str, Any] | None) -> None:
        if key and hold:
            try:
                self.store.put(key, hold, float(hold.get("expires") or time.time() + 2 * 86400))
            except StateUnavailable as exc:
                logger.warning("could not put back a hold of the daily caps (%s): %s", key, exc)

    # the do-not-call list

    def listed(self, readings: list[Resolved]) -> str | None:
        """Which of `readings` are on the do-not-call list (any reading of a number written without its country)."""
        keys: dict[str, list[Resolved]] = {}
        regions: frozenset[str] | None = None
        for r in readings:
            if r.unknown is not None:
                continue
            if r.explicit or r.e164_check:
                found = {r.e164} if r.e164 else set()
            else:
                if regions is None:
                    regions = frozenset(self.store.dnc_regions())
                found = possible_numbers(r, regions)
            for key in found:
                keys.setdefault(key, []).append(r)
        if not keys:
            return None
        hits = self.store.dnc_find(keys)
        problems = []
        for number, entry in hits.items():
            for r in keys[number]:
                written = "" if r.shown == number else f" (as written, {r.shown} may be dialled as {number})"
                problems.append(f"{number}{written} is on the do-not-call list{_since(entry)}")
        return listing(sorted(set(problems)))

    def add(self, numbers: Iterable[str], *, by: str, note: str | None = None, now: datetime | None = None) -> tuple[list[str], list[str]]:
        """Put valid E.164 numbers on the do-not-call list; (added, already listed). `ValueError` naming any that is not one."""
        entries: dict[str, dict[str, Any]] = {}
        for text in numbers:
            number = listable(text)
            region = resolve(number).region
            entries[number] = {"added": iso(now or datetime.now(UTC)), "by": by, **({"note": note} if note else {}), **({"region": region} if region else {})}
        already = set(self.store.dnc_find(entries))
        self.store.dnc_add({n: e for n, e in entries.items() if n not in already})
        return [n for n in entries if n not in already], [n for n in entries if n in already]


COUNTED_KINDS = ("dial", "text")
"""What the daily caps count: what rings a phone now, and what texts one now (each recipient of a text is one, as a
callee is: a runaway agent relaying its own confirm tokens must not text one person more often than it may call them)."""


def counted_of(action: GuardedAction, whole: bool = False) -> list[Callee]:
    """Whom `action` adds to the caps: its callees (`counted`, unless `whole`), or the recipients of a text sent now
    (a recipient without a number, a session's customer known by id, is counted under that name)."""
    if action.kind == "text":
        return [Callee(f.number or f.detail or "", f.e164_check) for f in action.destinations if f.role == "sms"]
    return action.callees if whole or action.counted is None else action.counted


def listable(text: str) -> str:
    """A number as the do-not-call list keeps it (E.164); `ValueError` saying why not."""
    reading = resolve(str(text))
    if reading.problem or reading.e164 is None:
        from ..numbers import ASK_THE_USER

        raise ValueError((reading.problem or f"{text!r} is not a valid phone number").replace(ASK_THE_USER, "").strip().rstrip("."))
    return reading.e164


def hold_key(account: str, ident: str | None) -> str:
    return f"{HOLD}{account}:{ident}"


def _reverse(change: Change) -> Change:
    return Change(change.counter, -change.delta, None, change.expires_at)


def _since(entry: dict[str, Any]) -> str:
    added = str(entry.get("added") or "")[:10]
    note = f": {entry['note']}" if entry.get("note") else ""
    return f" (since {added}{note})" if added else note


def cap_problem(rule: str, what: str, used: int, count: int, cap: int, now: datetime) -> str:
    """Why a count would pass a cap, for the human and the agent."""
    number, _, day = what.rpartition("|") if rule == "per_number_cap" else ("", "", what)
    today = day == now.astimezone(UTC).date().isoformat()
    when = "today" if today else f"{day} (UTC, a day the call can ring)"
    if rule == "daily_cap":
        if today:
            return f"{used} of today's {cap} guarded dials and texts on this Vapi account are used; {count} more would exceed the daily cap."
        return f"{used} of the {cap} guarded dials and texts on this Vapi account for {when} are counted; {count} more would exceed the daily cap."
    if rule == "daily_cap_per_person":
        if today:
            return f"{used} of your {cap} guarded dials and texts for today (a cap per person, VAPI_MCP_DAILY_CAP_PER_PERSON) are used; {count} more would exceed it."
        return f"{used} of your {cap} guarded dials and texts for {when} (a cap per person) are counted; {count} more would exceed it."
    return (
        f"{number} is counted {used} time(s) for {when}; {count} more would pass the cap of {cap} dials and texts to one number a day "
        "(VAPI_MCP_PER_NUMBER_CAP, across every session, account and replica)."
    )


def refusal(planned: list[tuple[Change, str, str]], done: Adjusted, now: datetime) -> Refused:
    """The refusal of a reservation that would pass the cap at `done.refused`."""
    index = done.refused or 0
    change, rule, what = planned[index]
    problem = cap_problem(rule, what, done.before[index], change.delta, change.limit or 0, now)
    return Refused(rule, f"{problem} Nothing was sent.", hint=CAP_HINTS[rule])


def untrusted(store: StateStore, epoch: Epoch, *, lost_since: bool = False) -> Refused:
    """The refusal of a dial or text while the store's ledger may be incomplete."""
    if lost_since:
        what = "lost its memory while this action was being checked"
    elif epoch.replaced:
        what = f"was restarted from an older copy of its data ({iso(datetime.fromtimestamp(epoch.born, UTC))}): what it recorded since is gone"
    else:
        what = f"holds no ledger from before {iso(datetime.fromtimestamp(epoch.born, UTC))}: it is new, or it lost its data (a Redis restarted without persistence)"
    return Refused(
        "state",
        f"the state store {store.where} {what}. Used confirm tokens, the dials counted against today's caps and the "
        "do-not-call list may be missing, so no phone is dialled, texted or set up as a destination until the user confirms "
        "the ledger; nothing was sent.",
        hint=(
            "Tell the user. Only the user can do this, where the server runs: re-import the do-not-call list if it was lost "
            "(vapi-mcp dnc import FILE), then run `vapi-mcp state init` with the same VAPI_MCP_STATE_URL. A Redis with "
            "appendonly yes and appendfsync always keeps the ledger across restarts."
        ),
    )

