"""The guard's memory behind one small interface (to be backed by SQLite and Redis).

Everything here is keyed by strings the guard builds; values are JSON-able. Every
operation is atomic, across processes as well as within one, in the real backends.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any, Protocol


class StateUnavailable(Exception):
    """The store cannot be reached: guarded actions are refused, reads go on."""


class StateStore(Protocol):
    def consume(self, key: str, expires_at: float) -> bool:
        """Mark `key` used until `expires_at` (epoch seconds); True only for the first caller."""
        ...

    def reserve(self, counter: str, amount: int, limit: int, expires_at: float) -> tuple[bool, int]:
        """Add `amount` to `counter` unless the total would pass `limit`; (added, count before)."""
        ...

    def release(self, counter: str, amount: int) -> None:
        """Give back a reservation that was never used."""
        ...

    def count(self, counter: str) -> int:
        ...

    def put(self, key: str, value: dict[str, Any], expires_at: float) -> None:
        """Keep a pending confirmation until it is taken or expires."""
        ...

    def take(self, key: str) -> dict[str, Any] | None:
        """Remove and return a pending confirmation; None if absent, taken or expired."""
        ...

    def secret(self, name: str) -> bytes:
        """A random key created once and shared by everyone using this store (e.g. the request-state key)."""
        ...


class MemoryStore:
    """One process's memory: what the guard had before the shared stores (tests, and a fallback)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: dict[str, float] = {}
        self._counts: dict[str, tuple[int, float]] = {}
        self._pending: dict[str, tuple[dict[str, Any], float]] = {}
        self._secrets: dict[str, bytes] = {}

    def consume(self, key: str, expires_at: float) -> bool:
        with self._lock:
            now = time.time()
            self._used = {k: e for k, e in self._used.items() if e > now}
            if key in self._used:
                return False
            self._used[key] = expires_at
            return True

    def reserve(self, counter: str, amount: int, limit: int, expires_at: float) -> tuple[bool, int]:
        with self._lock:
            used = self.count(counter)
            if used + amount > limit:
                return False, used
            self._counts[counter] = (used + amount, expires_at)
            return True, used

    def release(self, counter: str, amount: int) -> None:
        with self._lock:
            used, expires = self._counts.get(counter, (0, 0.0))
            self._counts[counter] = (max(0, used - amount), expires)

    def count(self, counter: str) -> int:
        used, expires = self._counts.get(counter, (0, 0.0))
        return used if expires > time.time() else 0

    def put(self, key: str, value: dict[str, Any], expires_at: float) -> None:
        with self._lock:
            self._pending[key] = (value, expires_at)

    def take(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            value, expires = self._pending.pop(key, (None, 0.0))
            return value if value is not None and expires > time.time() else None

    def secret(self, name: str) -> bytes:
        with self._lock:
            return self._secrets.setdefault(name, secrets.token_bytes(32))
