"""The guard's memory behind one small interface: SQLite on one machine, Redis across replicas.

What it holds: used confirm tokens, daily dial counts per Vapi account, pending
confirmations, and shared secrets (the sealed request-state key). Keys are strings the
guard builds; values are JSON-able. Every operation is atomic across processes as well as
threads. Times are epoch seconds of the real wall clock (`time.time()`), never a test
clock. A store that cannot be used raises `StateUnavailable`: the guard then refuses
guarded actions, while reads never touch the store.

`open_store(url)` picks the backend: `redis://`, `rediss://` or `unix://` is Redis (the
`redis` client from PyPI, imported on first use); `sqlite:///path` is an SQLite file,
opened on first use in WAL mode so every stdio session of the user shares it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # sqlite3 loads on first use: the server starts at every agent session
    import sqlite3

T = TypeVar("T")

REDIS_SCHEMES = ("redis", "rediss", "unix")
SETTING = "VAPI_MCP_STATE_URL / --state-url"
TIMEOUT = 5.0
"""Seconds to wait for a busy SQLite file or a Redis answer before the store counts as unavailable."""


class StateUnavailable(Exception):
    """The store cannot be reached: guarded actions are refused, reads go on."""


class StateStore(Protocol):
    where: str
    """The store, for messages: `sqlite:///path` or a Redis URL without its password."""

    def consume(self, key: str, expires_at: float) -> bool:
        """Mark `key` used until `expires_at`; True only for the first caller."""
        ...

    def reserve(self, counter: str, amount: int, limit: int, expires_at: float) -> tuple[bool, int]:
        """Add `amount` to `counter` unless the total would pass `limit`; (added, count before).

        `expires_at` is when the counter may be forgotten (set by each successful reserve)."""
        ...

    def release(self, counter: str, amount: int) -> None:
        """Give back a reservation that certainly was not used (never below zero)."""
        ...

    def count(self, counter: str) -> int:
        ...

    def put(self, key: str, value: dict[str, Any], expires_at: float) -> None:
        """Keep a pending confirmation until it is taken or expires."""
        ...

    def take(self, key: str) -> dict[str, Any] | None:
        """Remove and return a pending confirmation; None if absent, taken or expired. One taker wins."""
        ...

    def secret(self, name: str) -> bytes:
        """32 random bytes created once and shared by everyone using this store (e.g. the request-state key)."""
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
        raise ValueError(f"{SETTING} must name an absolute SQLite file path (sqlite:///home/me/state.sqlite3), got {url!r}")
    return path


def shown_url(url: str) -> str:
    """A store URL safe to print: any password replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[-1]}"))


class MemoryStore:
    """One process's memory: unit tests, and what the guard had before the shared stores."""

    where = "memory: (this process only)"

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
            used = self._count(counter)
            if used + amount > limit:
                return False, used
            self._counts[counter] = (used + amount, expires_at)
            return True, used

    def release(self, counter: str, amount: int) -> None:
        with self._lock:
            used, expires = self._counts.get(counter, (0, 0.0))
            self._counts[counter] = (max(0, used - amount), expires)

    def count(self, counter: str) -> int:
        with self._lock:
            return self._count(counter)

    def _count(self, counter: str) -> int:
        used, expires = self._counts.get(counter, (0, 0.0))
        return used if expires > time.time() else 0

    def put(self, key: str, value: dict[str, Any], expires_at: float) -> None:
        with self._lock:
            self._pending[key] = (json.loads(json.dumps(value)), expires_at)

    def take(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            value, expires = self._pending.pop(key, (None, 0.0))
            return value if value is not None and expires > time.time() else None

    def secret(self, name: str) -> bytes:
        with self._lock:
            return self._secrets.setdefault(name, os.urandom(32))

    def close(self) -> None:
        pass


_SCHEMA = """
CREATE TABLE IF NOT EXISTS used (key TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS pending (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


class SQLiteStore:
    """One SQLite file shared by every process of the user on this machine (WAL, busy timeout).

    Opened on the first operation, not at start-up. Each write is one `BEGIN IMMEDIATE`
    transaction, so two processes never both consume a token or both take the last dial
    of the day. Commits are fsynced (`synchronous=FULL`): a used token stays used after a
    power cut.
    """

    def __init__(self, path: Path, *, timeout: float = TIMEOUT) -> None:
        self.path = Path(path)
        self.where = f"sqlite://{self.path}"
        self.timeout = timeout
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Create the file private before SQLite does (it would follow the umask), never through a symlink.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
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

    def consume(self, key: str, expires_at: float) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            def body() -> bool:
                db.execute("DELETE FROM used WHERE expires <= ?", (time.time(),))
                return db.execute("INSERT OR IGNORE INTO used (key, expires) VALUES (?, ?)", (key, expires_at)).rowcount == 1

            return self._transaction(db, body)

        return self._run(work)

    def reserve(self, counter: str, amount: int, limit: int, expires_at: float) -> tuple[bool, int]:
        def work(db: sqlite3.Connection) -> tuple[bool, int]:
            def body() -> tuple[bool, int]:
                used = self._current(db, counter)
                if used + amount > limit:
                    return False, used
                db.execute(
                    "INSERT INTO counters (name, value, expires) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value, expires = excluded.expires",
                    (counter, used + amount, expires_at),
                )
                return True, used

            return self._transaction(db, body)

        return self._run(work)

    def release(self, counter: str, amount: int) -> None:
        self._run(
            lambda db: db.execute(
                "UPDATE counters SET value = MAX(0, value - ?) WHERE name = ? AND expires > ?", (amount, counter, time.time())
            )
        )

    def count(self, counter: str) -> int:
        return self._run(lambda db: self._current(db, counter))

    @staticmethod
    def _current(db: sqlite3.Connection, counter: str) -> int:
        row = db.execute("SELECT value FROM counters WHERE name = ? AND expires > ?", (counter, time.time())).fetchone()
        return int(row[0]) if row else 0

    def put(self, key: str, value: dict[str, Any], expires_at: float) -> None:
        text = json.dumps(value, separators=(",", ":"))

        def work(db: sqlite3.Connection) -> None:
            def body() -> None:
                # Expired ones go here too, not only when one is taken: previews nobody answers must not pile up.
                db.execute("DELETE FROM pending WHERE expires <= ?", (time.time(),))
                db.execute("INSERT OR REPLACE INTO pending (key, value, expires) VALUES (?, ?, ?)", (key, text, expires_at))

            self._transaction(db, body)

        self._run(work)

    def take(self, key: str) -> dict[str, Any] | None:
        def work(db: sqlite3.Connection) -> dict[str, Any] | None:
            def body() -> dict[str, Any] | None:
                db.execute("DELETE FROM pending WHERE expires <= ?", (time.time(),))
                row = db.execute("SELECT value FROM pending WHERE key = ?", (key,)).fetchone()
                if row is None:
                    return None
                db.execute("DELETE FROM pending WHERE key = ?", (key,))
                return json.loads(row[0])

            return self._transaction(db, body)

        return self._run(work)

    def secret(self, name: str) -> bytes:
        def work(db: sqlite3.Connection) -> bytes:
            def body() -> bytes:
                db.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, os.urandom(32)))
                return bytes(db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0])

            return self._transaction(db, body)

        return self._run(work)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


_RESERVE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount, limit, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if used + amount > limit then return {0, used} end
redis.call('INCRBY', KEYS[1], amount)
redis.call('PEXPIRE', KEYS[1], ttl)
return {1, used}
"""
_RELEASE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local left = redis.call('DECRBY', KEYS[1], ARGV[1])
if left < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL') end
return left
"""


class RedisStore:
    """Redis, shared by every replica: SET NX PX for tokens, a Lua script for caps, GETDEL for pending.

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
            self._scripts = {"reserve": self._client.register_script(_RESERVE), "release": self._client.register_script(_RELEASE)}
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
            raise StateUnavailable(f"the state store {self.where} cannot be reached ({type(exc).__name__}: {exc})") from None

    def _key(self, key: str) -> str:
        return self.prefix + key

    @staticmethod
    def _ms_until(expires_at: float) -> int:
        return max(1, int((expires_at - time.time()) * 1000))

    def consume(self, key: str, expires_at: float) -> bool:
        return self._run(lambda r: bool(r.set(self._key("used:" + key), b"1", nx=True, px=self._ms_until(expires_at))))

    def reserve(self, counter: str, amount: int, limit: int, expires_at: float) -> tuple[bool, int]:
        def work(r: Any) -> tuple[bool, int]:
            added, used = self._scripts["reserve"](keys=[self._key("count:" + counter)], args=[amount, limit, self._ms_until(expires_at)])
            return bool(added), int(used)

        return self._run(work)

    def release(self, counter: str, amount: int) -> None:
        self._run(lambda r: self._scripts["release"](keys=[self._key("count:" + counter)], args=[amount]))

    def count(self, counter: str) -> int:
        return self._run(lambda r: int(r.get(self._key("count:" + counter)) or 0))

    def put(self, key: str, value: dict[str, Any], expires_at: float) -> None:
        text = json.dumps(value, separators=(",", ":"))
        self._run(lambda r: r.set(self._key("pending:" + key), text, px=self._ms_until(expires_at)))

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
