"""The guard's memory behind one small interface: SQLite on one machine, Redis across replicas.

What it holds (the ledger): used confirm tokens, dial counters (per Vapi account, per person and per
number, per UTC day), what each placed call or campaign holds of those counters (so what never rang
can be given back), pending confirmations, the do-not-call list, and shared secrets (the sealed
request-state key). Keys are strings the guard builds; values are JSON-able. Every operation is atomic
across processes as well as threads. Times are epoch seconds of the real wall clock (`time.time()`),
never a test clock. A store that cannot be used raises `StateUnavailable`: the guard then refuses
guarded actions, while reads never touch the store.

**The epoch.** A store holds one epoch: a random id created the first time the store is used, with
when it was born and whether its ledger is complete (`trusted`). Confirm tokens and pending
confirmations carry the epoch they were issued in, and spending a token or reserving dials names the
epoch it expects, checked in the same atomic step; so a store that lost its memory never accepts a
token it cannot remember having used:

- SQLite commits every change fsynced (`synchronous=FULL`): nothing acknowledged is lost, and a new
  file (or one without an epoch) starts a trusted epoch.
- A Redis that comes back empty (no persistence) has no epoch: the next use creates a new one, and
  every earlier token is dead. A Redis that comes back from an older snapshot (RDB, or an AOF fsynced
  every second) still holds the old epoch, but its `run_id` changed: unless the epoch was created on a
  Redis that fsyncs every write (`appendonly yes` + `appendfsync always`, read with CONFIG GET when the
  epoch is created), a restart counts as a loss, and a new epoch starts.
- A new epoch on Redis is not trusted: today's counters (and the do-not-call list) may be gone, so the
  guard refuses dials and texts until the user says the ledger is complete (`vapi-mcp state init`,
  `trust()`), after re-importing the do-not-call list if it was lost. A new deployment runs it once.

`open_store(url)` picks the backend: `redis://`, `rediss://` or `unix://` is Redis (the `redis`
client from PyPI, imported on first use); `sqlite:///path` is an SQLite file, opened on first use in
WAL mode so every stdio session of the user shares it, with the audit file's checks (0600 in a 0700
directory, never through a symbolic link, refused if others can read or write it).
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:  # sqlite3 loads on first use: the server starts at every agent session
    import sqlite3

T = TypeVar("T")

REDIS_SCHEMES = ("redis", "rediss", "unix")
SETTING = "VAPI_MCP_STATE_URL / --state-url"
TIMEOUT = 5.0
"""Seconds to wait for a busy SQLite file or a Redis answer before the store counts as unavailable."""


class StateUnavailable(Exception):
    """The store cannot be reached: guarded actions are refused, reads go on."""


class EpochChanged(Exception):
    """The store is not the one an operation expected: it lost its memory (or was replaced) since then."""


@dataclass(frozen=True)
class Epoch:
    """The store's current epoch (see the module docstring)."""

    id: str
    born: float
    """When it began (epoch seconds)."""
    trusted: bool
    """The ledger is complete: SQLite always; Redis once the user ran `vapi-mcp state init` in this epoch."""
    durable: bool = True
    """A restart of the server behind the store keeps every acknowledged change (SQLite; Redis with appendfsync always)."""
    replaced: bool = False
    """It replaced an epoch the store lost (a Redis restarted from an older snapshot); False when nothing was there."""


@dataclass(frozen=True)
class Change:
    """One counter's change in an atomic `adjust`: add `delta` (never past `limit`), or give back (negative, never below 0)."""

    counter: str
    delta: int
    limit: int | None = None
    expires_at: float = 0.0
    """When the counter may be forgotten (set by each increase)."""


@dataclass(frozen=True)
class Adjusted:
    """What `adjust` did: all changes, or none (`refused` is the index of the first that would pass its limit)."""

    ok: bool
    before: tuple[int, ...]
    refused: int | None = None


class StateStore(Protocol):
    where: str
    """The store, for messages: `sqlite:///path` or a Redis URL without its password."""

    def epoch(self) -> Epoch:
        """The current epoch, created (not trusted on Redis) when the store has none or lost it."""
        ...

    def trust(self) -> Epoch:
        """The user's word that the ledger is complete (`vapi-mcp state init`): the epoch becomes trusted."""
        ...

    def consume(self, key: str, expires_at: float, *, epoch: str | None = None) -> bool:
        """Mark `key` used until `expires_at`; True only for the first caller. `EpochChanged` if the store's
        epoch is not `epoch` (when given)."""
        ...

    def adjust(self, changes: Sequence[Change], *, epoch: str | None = None) -> Adjusted:
        """Apply every change, or none if an increase would pass its limit; one atomic step. `EpochChanged` as `consume`."""
        ...

    def reserve(self, counter: str, amount: int, limit: int, expires_at: float) -> tuple[bool, int]:
        """Add `amount` to `counter` unless the total would pass `limit`; (added, count before)."""
        ...

    def release(self, counter: str, amount: int) -> None:
        """Give back a reservation that certainly was not used (never below zero)."""
        ...

    def count(self, counter: str) -> int:
        ...

    def counts(self, counters: Sequence[str]) -> list[int]:
        ...

    def put(self, key: str, value: dict[str, Any], expires_at: float) -> None:
        """Keep a value (a pending confirmation, a hold) until it is taken or expires."""
        ...

    def get(self, key: str) -> dict[str, Any] | None:
        """A kept value without taking it; None if absent or expired."""
        ...

    def take(self, key: str) -> dict[str, Any] | None:
        """Remove and return a kept value; None if absent, taken or expired. One taker wins."""
        ...

    def secret(self, name: str) -> bytes:
        """32 random bytes created once and shared by everyone using this store (e.g. the request-state key)."""
        ...

    def dnc_add(self, entries: dict[str, dict[str, Any]]) -> int:
        """Put numbers (E.164 -> {added, by, note, region}) on the do-not-call list; how many were new."""
        ...

    def dnc_remove(self, numbers: Iterable[str]) -> int:
        """Take numbers off the do-not-call list (only the user does, from the command line); how many were on it."""
        ...

    def dnc_find(self, numbers: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The entries of those numbers that are on the do-not-call list."""
        ...

    def dnc_list(self) -> dict[str, dict[str, Any]]:
        ...

    def dnc_regions(self) -> set[str]:
        """The regions of the listed numbers (where a number written without its country may be dialled as one of them)."""
        ...

    def close(self) -> None:
        ...


def open_store(url: str) -> StateStore:
    """The store a `VAPI_MCP_STATE_URL` names; nothing is opened or connected yet."""
    scheme = url.split(":", 1)[0].lower()
    if scheme in REDIS_SCHEMES:
        return RedisStore(url)
    if scheme == "sqlite":
        return SQLiteStore(sqlite_path(url))
    raise ValueError(f"{SETTING} must be redis://, rediss://, unix:// (Redis) or sqlite:///path, got {shown_url(url)!r}")


def sqlite_path(url: str) -> Path:
    """`sqlite:///home/me/state.sqlite3` (or `sqlite:/home/...`) -> the absolute file path."""
    rest = url.split(":", 1)[1]
    path = Path("/" + rest.lstrip("/")) if rest.startswith("/") else Path(rest).expanduser()
    if not path.is_absolute() or path.name in ("", ".", ".."):
        raise ValueError(f"{SETTING} must name an absolute SQLite file path (sqlite:///home/me/state.sqlite3), got {shown_url(url)!r}")
    return path


def shown_url(url: str) -> str:
    """A store URL safe to print: a password in it (`user:pass@`, `?password=`, any secret-named query value) as ***."""
    from .redact import MASK, is_secret_param

    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(unparseable URL)"
    if password is not None:
        host = parts.netloc.rsplit("@", 1)[-1]
        parts = parts._replace(netloc=f"{parts.username or ''}:{MASK}@{host}")
    if parts.query:
        query = [(k, MASK if v and is_secret_param(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        parts = parts._replace(query=urlencode(query, safe="*"))
    return urlunsplit(parts)


def day_expiry(day: str) -> float:
    """When a counter of UTC day `day` (YYYY-MM-DD) may be forgotten: a day after it ends."""
    from datetime import UTC, datetime, timedelta

    return (datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=2)).timestamp()


def _new_epoch_id() -> str:
    return secrets.token_hex(12)


def _merged(changes: Sequence[Change]) -> list[Change]:
    """One change per counter (in first-seen order): deltas summed, the tightest limit, the latest expiry."""
    merged: dict[str, Change] = {}
    for change in changes:
        seen = merged.get(change.counter)
        if seen is None:
            merged[change.counter] = change
            continue
        limits = [x for x in (seen.limit, change.limit) if x is not None]
        merged[change.counter] = Change(
            change.counter, seen.delta + change.delta, min(limits) if limits else None, max(seen.expires_at, change.expires_at)
        )
    return list(merged.values())


class MemoryStore:
    """One process's memory: unit tests, and what the guard had before the shared stores."""

    where = "memory: (this process only)"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: dict[str, float] = {}
        self._counts: dict[str, tuple[int, float]] = {}
        self._kept: dict[str, tuple[dict[str, Any], float]] = {}
        self._secrets: dict[str, bytes] = {}
        self._dnc: dict[str, dict[str, Any]] = {}
        self._epoch = Epoch(_new_epoch_id(), time.time(), trusted=True)

    def epoch(self) -> Epoch:
        return self._epoch

    def trust(self) -> Epoch:
        return self._epoch

    def _check(self, epoch: str | None) -> None:
        if epoch is not None and epoch != self._epoch.id:
            raise EpochChanged(self.where)

    def consume(self, key: str, expires_at: float, *, epoch: str | None = None) -> bool:
        with self._lock:
            self._check(epoch)
            now = time.time()
            self._used = {k: e for k, e in self._used.items() if e > now}
            if key in self._used:
                return False
            self._used[key] = expires_at
            return True

    def adjust(self, changes: Sequence[Change], *, epoch: str | None = None) -> Adjusted:
        changes = _merged(changes)
        with self._lock:
            self._check(epoch)
            before = tuple(self._count(c.counter) for c in changes)
            for i, (change, used) in enumerate(zip(changes, before, strict=True)):
                if change.delta > 0 and change.limit is not None and used + change.delta > change.limit:
                    return Adjusted(False, before, i)
            for change, used in zip(changes, before, strict=True):
                if change.delta > 0:
                    self._counts[change.counter] = (used + change.delta, change.expires_at)
                elif change.delta < 0 and change.counter in self._counts:
                    self._counts[change.counter] = (max(0, used + change.delta), self._counts[change.counter][1])
            return Adjusted(True, before)

    def reserve(self, counter: str, amount: int, limit: int, expires_at: float) -> tuple[bool, int]:
        done = self.adjust([Change(counter, amount, limit, expires_at)])
        return done.ok, done.before[0]

    def release(self, counter: str, amount: int) -> None:
        self.adjust([Change(counter, -amount)])

    def count(self, counter: str) -> int:
        with self._lock:
            return self._count(counter)

    def counts(self, counters: Sequence[str]) -> list[int]:
        with self._lock:
            return [self._count(c) for c in counters]

    def _count(self, counter: str) -> int:
        used, expires = self._counts.get(counter, (0, 0.0))
        return used if expires > time.time() else 0

    def put(self, key: str, value: dict[str, Any], expires_at: float) -> None:
        with self._lock:
            self._kept[key] = (json.loads(json.dumps(value)), expires_at)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            value, expires = self._kept.get(key, (None, 0.0))
            return json.loads(json.dumps(value)) if value is not None and expires > time.time() else None

    def take(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            value, expires = self._kept.pop(key, (None, 0.0))
            return value if value is not None and expires > time.time() else None

    def secret(self, name: str) -> bytes:
        with self._lock:
            return self._secrets.setdefault(name, os.urandom(32))

    def dnc_add(self, entries: dict[str, dict[str, Any]]) -> int:
        with self._lock:
            new = [n for n in entries if n not in self._dnc]
            for number in new:
                self._dnc[number] = dict(entries[number])
            return len(new)

    def dnc_remove(self, numbers: Iterable[str]) -> int:
        with self._lock:
            return sum(self._dnc.pop(n, None) is not None for n in set(numbers))

    def dnc_find(self, numbers: Iterable[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {n: dict(self._dnc[n]) for n in numbers if n in self._dnc}

    def dnc_list(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {n: dict(e) for n, e in self._dnc.items()}

    def dnc_regions(self) -> set[str]:
        with self._lock:
            return {str(e["region"]) for e in self._dnc.values() if e.get("region")}

    def close(self) -> None:
        pass


_SCHEMA = """
CREATE TABLE IF NOT EXISTS used (key TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS pending (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dnc (number TEXT PRIMARY KEY, entry TEXT NOT NULL);
"""


def file_problem(path: Path, info: os.stat_result, what: str = "state file") -> str | None:
    from .config import file_problem as problem

    return problem(path, info, what)


class SQLiteStore:
    """One SQLite file shared by every process of the user on this machine (WAL, busy timeout).

    Opened on the first operation, not at start-up. Each write is one `BEGIN IMMEDIATE`
    transaction, so two processes never both consume a token or both take the last dial
    of the day. Commits are fsynced (`synchronous=FULL`): a used token stays used after a
    power cut. The file gets the audit file's checks: created 0600 in a 0700 directory,
    neither opened through a symbolic link, and refused when others can read or write it.
    """

    def __init__(self, path: Path, *, timeout: float = TIMEOUT) -> None:
        self.path = Path(path)
        self.where = f"sqlite://{self.path}"
        self.timeout = timeout
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _checked_file(self) -> None:
        """Create the file private before SQLite does (it would follow the umask), never through a symlink; refuse one others can use."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            directory = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                fd = os.open(self.path.name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=directory)
                try:
                    problem = file_problem(self.path, os.fstat(fd))
                    for suffix in ("-wal", "-shm", "-journal"):  # SQLite's own files beside it hold the same data
                        try:
                            info = os.stat(f"{self.path.name}{suffix}", dir_fd=directory, follow_symlinks=False)
                        except FileNotFoundError:
                            continue
                        problem = problem or file_problem(Path(f"{self.path}{suffix}"), info)
                finally:
                    os.close(fd)
            finally:
                os.close(directory)
        except OSError as exc:
            why = "it or its directory is a symbolic link" if exc.errno in (errno.ELOOP, errno.ENOTDIR) else exc.strerror
            raise StateUnavailable(f"the state store {self.where} cannot be used ({why})") from None
        if problem:
            raise StateUnavailable(f"the state store {self.where} cannot be used: {problem}")

    def _open(self) -> sqlite3.Connection:
        self._checked_file()
        import sqlite3

        db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.executescript(_SCHEMA)
        except BaseException:
            db.close()
            raise
        return db

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        import sqlite3

        with self._lock:
            try:
                if self._db is None:
                    self._db = self._open()
                return work(self._db)
            except (sqlite3.Error, OSError) as exc:
                if self._db is not None and self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise StateUnavailable(f"the state store {self.where} cannot be used ({exc})") from None

    @staticmethod
    def _transaction(db: sqlite3.Connection, body: Callable[[], T]) -> T:
        db.execute("BEGIN IMMEDIATE")
        try:
            result = body()
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    def _write(self, body: Callable[[sqlite3.Connection], T]) -> T:
        return self._run(lambda db: self._transaction(db, lambda: body(db)))

    # the epoch

    @staticmethod
    def _epoch_of(db: sqlite3.Connection, *, trust: bool = False) -> Epoch:
        """Inside a write transaction: the epoch, created trusted when missing (an fsynced file loses nothing)."""
        row = db.execute("SELECT value FROM meta WHERE name = 'epoch'").fetchone()
        if row is not None:
            return Epoch(**json.loads(row[0]))
        epoch = Epoch(_new_epoch_id(), time.time(), trusted=True)
        db.execute("INSERT INTO meta (name, value) VALUES ('epoch', ?)", (json.dumps(epoch.__dict__),))
        return epoch

    def _check(self, db: sqlite3.Connection, epoch: str | None) -> None:
        if epoch is not None and self._epoch_of(db).id != epoch:
            raise EpochChanged(self.where)

    def epoch(self) -> Epoch:
        return self._write(self._epoch_of)

    def trust(self) -> Epoch:
        return self._write(self._epoch_of)

    # tokens and counters

    def consume(self, key: str, expires_at: float, *, epoch: str | None = None) -> bool:
        def body(db: sqlite3.Connection) -> bool:
            self._check(db, epoch)
            db.execute("DELETE FROM used WHERE expires <= ?", (time.time(),))
            return db.execute("INSERT OR IGNORE INTO used (key, expires) VALUES (?, ?)", (key, expires_at)).rowcount == 1

        return self._write(body)

    def adjust(self, changes: Sequence[Change], *, epoch: str | None = None) -> Adjusted:
        changes = _merged(changes)

        def body(db: sqlite3.Connection) -> Adjusted:
            self._check(db, epoch)
            before = tuple(self._current(db, c.counter) for c in changes)
            for i, (change, used) in enumerate(zip(changes, before, strict=True)):
                if change.delta > 0 and change.limit is not None and used + change.delta > change.limit:
                    return Adjusted(False, before, i)
            for change, used in zip(changes, before, strict=True):
                if change.delta > 0:
                    db.execute(
                        "INSERT INTO counters (name, value, expires) VALUES (?, ?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET value = excluded.value, expires = MAX(counters.expires, excluded.expires)",
                        (change.counter, used + change.delta, change.expires_at),
                    )
                elif change.delta < 0:
                    db.execute("UPDATE counters SET value = MAX(0, value + ?) WHERE name = ? AND expires > ?", (change.delta, change.counter, time.time()))
            return Adjusted(True, before)

        return self._write(body)

    def reserve(self, counter: str, amount: int, limit: int, expires_at: float) -> tuple[bool, int]:
        done = self.adjust([Change(counter, amount, limit, expires_at)])
        return done.ok, done.before[0]

    def release(self, counter: str, amount: int) -> None:
        self.adjust([Change(counter, -amount)])

    def count(self, counter: str) -> int:
        return self._run(lambda db: self._current(db, counter))

    def counts(self, counters: Sequence[str]) -> list[int]:
        return self._run(lambda db: [self._current(db, c) for c in counters])

    @staticmethod
    def _current(db: sqlite3.Connection, counter: str) -> int:
        row = db.execute("SELECT value FROM counters WHERE name = ? AND expires > ?", (counter, time.time())).fetchone()
        return int(row[0]) if row else 0

    # kept values

    def put(self, key: str, value: dict[str, Any], expires_at: float) -> None:
        text = json.dumps(value, separators=(",", ":"))

        def body(db: sqlite3.Connection) -> None:
            # Expired ones go here too, not only when one is taken: previews nobody answers must not pile up.
            db.execute("DELETE FROM pending WHERE expires <= ?", (time.time(),))
            db.execute("INSERT OR REPLACE INTO pending (key, value, expires) VALUES (?, ?, ?)", (key, text, expires_at))

        self._write(body)

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._run(lambda db: db.execute("SELECT value FROM pending WHERE key = ? AND expires > ?", (key, time.time())).fetchone())
        return None if row is None else json.loads(row[0])

    def take(self, key: str) -> dict[str, Any] | None:
        def body(db: sqlite3.Connection) -> dict[str, Any] | None:
            db.execute("DELETE FROM pending WHERE expires <= ?", (time.time(),))
            row = db.execute("SELECT value FROM pending WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM pending WHERE key = ?", (key,))
            return json.loads(row[0])

        return self._write(body)

    def secret(self, name: str) -> bytes:
        def body(db: sqlite3.Connection) -> bytes:
            db.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, os.urandom(32)))
            return bytes(db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0])

        return self._write(body)

    # the do-not-call list

    def dnc_add(self, entries: dict[str, dict[str, Any]]) -> int:
        def body(db: sqlite3.Connection) -> int:
            rows = [(n, json.dumps(e, separators=(",", ":"))) for n, e in entries.items()]
            return sum(db.execute("INSERT OR IGNORE INTO dnc (number, entry) VALUES (?, ?)", row).rowcount for row in rows)

        return self._write(body)

    def dnc_remove(self, numbers: Iterable[str]) -> int:
        wanted = sorted(set(numbers))
        return self._write(lambda db: sum(db.execute("DELETE FROM dnc WHERE number = ?", (n,)).rowcount for n in wanted))

    def dnc_find(self, numbers: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = sorted(set(numbers))

        def work(db: sqlite3.Connection) -> dict[str, dict[str, Any]]:
            found: dict[str, dict[str, Any]] = {}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update((n, json.loads(e)) for n, e in db.execute(f"SELECT number, entry FROM dnc WHERE number IN ({marks})", chunk))
            return found

        return self._run(work) if wanted else {}

    def dnc_list(self) -> dict[str, dict[str, Any]]:
        return self._run(lambda db: {n: json.loads(e) for n, e in db.execute("SELECT number, entry FROM dnc ORDER BY number")})

    def dnc_regions(self) -> set[str]:
        return {str(e["region"]) for e in self.dnc_list().values() if e.get("region")}

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


# Redis: every operation that must hold across a lost memory checks the epoch in the same script.
_EPOCH_CHECK = """
local function epoch_state(key, want)
  if want == '' then return 'ok' end
  local rec = redis.call('HMGET', key, 'id', 'run', 'durable')
  if not rec[1] then return 'lost' end
  local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
  if rec[2] ~= run then
    if rec[3] == '1' then redis.call('HSET', key, 'run', run) else return 'lost' end
  end
  if rec[1] ~= want then return 'lost' end
  return 'ok'
end
"""
_EPOCH = """
local rec = redis.call('HMGET', KEYS[1], 'id', 'run', 'durable', 'trusted', 'born', 'replaced')
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
local create, trust = ARGV[1], ARGV[5]
if rec[1] and (rec[2] == run or rec[3] == '1') then
  if rec[2] ~= run then redis.call('HSET', KEYS[1], 'run', run) end
  if trust == '1' then redis.call('HSET', KEYS[1], 'trusted', '1', 'durable', ARGV[4]); rec[4] = '1'; rec[3] = ARGV[4] end
  return {rec[1], rec[4], rec[5], rec[3], rec[6] or '0'}
end
if create ~= '1' then return {} end
local replaced = rec[1] and '1' or '0'
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[2], 'run', run, 'durable', ARGV[4], 'trusted', trust, 'born', ARGV[3], 'replaced', replaced)
return {ARGV[2], trust, ARGV[3], ARGV[4], replaced}
"""
_CONSUME = _EPOCH_CHECK + """
local state = epoch_state(KEYS[1], ARGV[1])
if state ~= 'ok' then return state end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 'ok' end
return 'used'
"""
_ADJUST = _EPOCH_CHECK + """
local state = epoch_state(KEYS[1], ARGV[1])
if state ~= 'ok' then return {state} end
local before = {}
for i = 2, #KEYS do before[i - 1] = tonumber(redis.call('GET', KEYS[i]) or '0') end
for i = 2, #KEYS do
  local base = 2 + (i - 2) * 3
  local delta, limit = tonumber(ARGV[base]), tonumber(ARGV[base + 1])
  if delta > 0 and limit >= 0 and before[i - 1] + delta > limit then return {'refused', i - 2, unpack(before)} end
end
for i = 2, #KEYS do
  local base = 2 + (i - 2) * 3
  local delta, ttl = tonumber(ARGV[base]), tonumber(ARGV[base + 2])
  if delta > 0 then
    redis.call('INCRBY', KEYS[i], delta)
    if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
  elseif delta < 0 and redis.call('EXISTS', KEYS[i]) == 1 then
    local left = redis.call('DECRBY', KEYS[i], -delta)
    if left < 0 then redis.call('SET', KEYS[i], 0, 'KEEPTTL') end
  end
end
return {'ok', -1, unpack(before)}
"""


class RedisStore:
    """Redis, shared by every replica: Lua scripts that check the epoch and act in one step, GETDEL for pending.

    Synchronous on purpose: guarded actions are rare, each operation is one round trip with
    a short timeout, and the SDK's request-state codec is synchronous too.
    """

    prefix = "vapi-mcp:"

    def __init__(self, url: str, *, timeout: float = TIMEOUT) -> None:
        self.url = url
        self.where = shown_url(url)
        self.timeout = timeout
        self._client: Any = None
        self._scripts: dict[str, Any] = {}
        self._secrets: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _redis(self) -> Any:
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(
                self.url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout, health_check_interval=30
            )
            self._scripts = {name: self._client.register_script(code) for name, code in (("epoch", _EPOCH), ("consume", _CONSUME), ("adjust", _ADJUST))}
        return self._client

    def _run(self, work: Callable[[Any], T]) -> T:
        try:
            import redis
        except ImportError:  # pragma: no cover - a dependency of the package
            raise StateUnavailable(f"the state store {self.where} needs the `redis` package (pip install redis)") from None
        try:
            with self._lock:
                client = self._redis()
            return work(client)
        except redis.RedisError as exc:
            from .redact import scrub_query

            reason = scrub_query(f"{type(exc).__name__}: {exc}").replace(self.url, self.where)
            raise StateUnavailable(f"the state store {self.where} cannot be reached ({reason})") from None

    def _key(self, key: str) -> str:
        return self.prefix + key

    @staticmethod
    def _ms_until(expires_at: float) -> int:
        return max(1, int((expires_at - time.time()) * 1000))

    # the epoch

    def _durable(self, r: Any) -> bool:
        """Whether this Redis fsyncs every write (appendonly yes, appendfsync always); False when CONFIG is not allowed."""
        try:
            appendonly = r.config_get("appendonly").get("appendonly")
            fsync = r.config_get("appendfsync").get("appendfsync")
        except Exception:  # CONFIG renamed or denied (managed Redis): no proof, so not durable
            return False
        return str(appendonly) == "yes" and str(fsync) == "always"

    def _epoch(self, *, trust: bool) -> Epoch:
        def work(r: Any) -> Epoch:
            key = [self._key("epoch")]
            args = lambda create, durable: [create, _new_epoch_id(), repr(time.time()), durable, "1" if trust else "0"]  # noqa: E731
            found = [] if trust else self._scripts["epoch"](keys=key, args=args("0", "0"))
            if not found:
                found = self._scripts["epoch"](keys=key, args=args("1", "1" if self._durable(r) else "0"))
            ident, trusted, born, durable, replaced = (x.decode() if isinstance(x, bytes) else str(x) for x in found)
            return Epoch(ident, float(born), trusted == "1", durable == "1", replaced == "1")

        return self._run(work)

    def epoch(self) -> Epoch:
        return self._epoch(trust=False)

    def trust(self) -> Epoch:
        return self._epoch(trust=True)

    # tokens and counters

    def consume(self, key: str, expires_at: float, *, epoch: str | None = None) -> bool:
        answer = self._run(lambda r: self._scripts["consume"](keys=[self._key("epoch"), self._key("used:" + key)], args=[epoch or "", self._ms_until(expires_at)]))
        answer = answer.decode() if isinstance(answer, bytes) else answer
        if answer == "lost":
            raise EpochChanged(self.where)
        return answer == "ok"

    def adjust(self, changes: Sequence[Change], *, epoch: str | None = None) -> Adjusted:
        changes = _merged(changes)
        keys = [self._key("epoch"), *(self._key("count:" + c.counter) for c in changes)]
        args: list[Any] = [epoch or ""]
        for c in changes:
            args += [c.delta, -1 if c.limit is None else c.limit, self._ms_until(c.expires_at) if c.delta > 0 else 1]
        answer = self._run(lambda r: self._scripts["adjust"](keys=keys, args=args))
        state = answer[0].decode() if isinstance(answer[0], bytes) else answer[0]
        if state == "lost":
            raise EpochChanged(self.where)
        before = tuple(int(x) for x in answer[2:])
        return Adjusted(state == "ok", before, None if state == "ok" else int(answer[1]))

    def reserve(self, counter: str, amount: int, limit: int, expires_at: float) -> tuple[bool, int]:
        done = self.adjust([Change(counter, amount, limit, expires_at)])
        return done.ok, done.before[0]

    def release(self, counter: str, amount: int) -> None:
        self.adjust([Change(counter, -amount)])

    def count(self, counter: str) -> int:
        return self._run(lambda r: int(r.get(self._key("count:" + counter)) or 0))

    def counts(self, counters: Sequence[str]) -> list[int]:
        if not counters:
            return []
        return self._run(lambda r: [int(x or 0) for x in r.mget([self._key("count:" + c) for c in counters])])

    # kept values

    def put(self, key: str, value: dict[str, Any], expires_at: float) -> None:
        text = json.dumps(value, separators=(",", ":"))
        self._run(lambda r: r.set(self._key("pending:" + key), text, px=self._ms_until(expires_at)))

    def get(self, key: str) -> dict[str, Any] | None:
        raw = self._run(lambda r: r.get(self._key("pending:" + key)))
        return None if raw is None else json.loads(raw)

    def take(self, key: str) -> dict[str, Any] | None:
        raw = self._run(lambda r: r.getdel(self._key("pending:" + key)))
        return None if raw is None else json.loads(raw)

    def secret(self, name: str) -> bytes:
        if name not in self._secrets:

            def work(r: Any) -> bytes:
                r.set(self._key("secret:" + name), os.urandom(32), nx=True)
                return bytes(r.get(self._key("secret:" + name)))

            self._secrets[name] = self._run(work)
        return self._secrets[name]

    # the do-not-call list

    def dnc_add(self, entries: dict[str, dict[str, Any]]) -> int:
        if not entries:
            return 0

        def work(r: Any) -> int:
            pipe = r.pipeline(transaction=True)
            for number, entry in entries.items():
                pipe.hsetnx(self._key("dnc"), number, json.dumps(entry, separators=(",", ":")))
            regions = {str(e["region"]) for e in entries.values() if e.get("region")}
            if regions:
                pipe.sadd(self._key("dnc-regions"), *sorted(regions))
            return sum(bool(x) for x in pipe.execute()[: len(entries)])

        return self._run(work)

    def dnc_remove(self, numbers: Iterable[str]) -> int:
        wanted = sorted(set(numbers))
        return self._run(lambda r: int(r.hdel(self._key("dnc"), *wanted))) if wanted else 0

    def dnc_find(self, numbers: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = sorted(set(numbers))
        if not wanted:
            return {}
        values = self._run(lambda r: r.hmget(self._key("dnc"), wanted))
        return {n: json.loads(v) for n, v in zip(wanted, values, strict=True) if v is not None}

    def dnc_list(self) -> dict[str, dict[str, Any]]:
        raw = self._run(lambda r: r.hgetall(self._key("dnc")))
        return {k.decode(): json.loads(v) for k, v in sorted(raw.items())}

    def dnc_regions(self) -> set[str]:
        return {x.decode() for x in self._run(lambda r: r.smembers(self._key("dnc-regions")))}

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class StoreKeyCodec:
    """The SDK's AES-GCM request-state codec under a key kept in the state store.

    `MCPServer(request_state_security=RequestStateSecurity(codec=StoreKeyCodec(store)))`:
    every replica sharing the store seals and unseals with the same key, fetched on the
    first multi-round-trip request (start-up never touches the store).
    """

    NAME = "request-state-key"

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self._codec: Any = None

    def _inner(self) -> Any:
        if self._codec is None:
            from mcp.server.request_state import AESGCMRequestStateCodec

            self._codec = AESGCMRequestStateCodec([self.store.secret(self.NAME)])
        return self._codec

    def seal(self, payload: bytes) -> str:
        return self._inner().seal(payload)

    def unseal(self, token: str) -> bytes:
        from mcp.server.request_state import InvalidRequestState

        try:
            codec = self._inner()
        except StateUnavailable as exc:
            raise InvalidRequestState(f"state store unavailable: {exc}") from None
        return codec.unseal(token)
