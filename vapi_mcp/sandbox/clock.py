"""Time for the sandbox: the real clock, or one that tests move by hand."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

MAX_ADVANCE = timedelta(days=3660)
"""The furthest one move takes the clock (ten years): far enough for any schedule, short of the calendar's end."""


class Clock:
    """The wall clock (UTC); with `speed` > 1 it runs that many times faster from now on (the demo's calls end sooner)."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._origin = datetime.now(UTC)
        self._started = time.monotonic()

    def now(self) -> datetime:
        if self.speed == 1.0:
            return datetime.now(UTC)
        return self._origin + timedelta(seconds=(time.monotonic() - self._started) * self.speed)


class ManualClock(Clock):
    """A clock that only moves when `advance` is called."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 2, 16, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


def iso(when: datetime) -> str:
    """Vapi's timestamp form: ISO 8601 in UTC with milliseconds and a Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.I)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_move(text: str) -> tuple[float | None, datetime | None]:
    """A move of the clock: (seconds, None) for a span (`90s`, `30m`, `3h`, `1d`, `1d12h`, `2w`), or
    (None, time) for an ISO 8601 time (UTC when it has no offset). ValueError naming the accepted forms otherwise."""
    raw = text.strip()
    if _SPAN.search(raw) and not _SPAN.sub("", raw).strip():
        return sum(float(n) * _UNITS[unit.lower()] for n, unit in _SPAN.findall(raw)), None
    try:
        return None, parse_iso(raw)
    except ValueError:
        raise ValueError(f"must be a span like 30m, 3h, 1d, 1d12h, 2w or a time like 2026-11-03T15:00Z; got {text!r}") from None
