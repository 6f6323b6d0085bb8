"""The sandbox's world: every object it holds, in this process's memory or in an SQLite file.

`Store()` keeps the world in memory (tests, `--world memory`); `Store(path)` keeps it in an
SQLite file that every process of the user shares (the embedded sandbox of each stdio or HTTP
server, `vapi-mcp sandbox --port`). The file is opened on first use, never at start-up.

The API a resource module uses:

- `store.<kind>` (`store.calls`, `store.assistants`, ... one per name in `KINDS`): a mutable
  mapping from id to object, in creation order. `store.calls[id] = call` saves, `del` removes.
- `with store.transaction():` one unit of work. The sandbox runs every request in one, so a
  request sees one consistent world and its changes land together, even when another process
  writes at the same moment (SQLite `BEGIN IMMEDIATE`: one writer at a time, the others wait).
  Inside it, an object read from a collection is the stored object: change it in place and the
  change is saved when the transaction ends. Outside one, each operation is its own transaction
  and what it returns is a copy: assign it back to save a change.
- `store.clock_offset`: seconds the world's clock runs ahead of the process's clock (never less).
- `store.counts()`, `store.reset()`: what the world holds, and starting over.

Objects are JSON objects whose private bookkeeping (keys starting with `_`) may also hold
`datetime`s; the file keeps them exactly. Built-in objects (Vapi's default simulation
personalities) are put in by the store itself, when it opens and after a reset.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # sqlite3 loads on first use: the stdio server starts at every agent session
    import sqlite3

KINDS = (
    "assistants",
    "squads",
    "phone_numbers",
    "calls",
    "chats",
    "tools",
    "evals",
    "eval_runs",
    "structured_outputs",
    "personalities",
    "scenarios",
    "simulations",
    "suites",
    "simulation_runs",
    "campaigns",
    "sessions",
    "files",
    "file_texts",
    "knowledge_bases",
    "knowledge_base_files",
    "scorecards",
)
"""Every collection of the world; a new resource module adds its own here (and an annotation on `Store`)."""

SCHEMA_VERSION = 1
"""The file's layout (`PRAGMA user_version`); a file from a newer vapi-mcp is refused, not rewritten."""
TIMEOUT = 5.0
"""Seconds to wait for another process's transaction before the world counts as busy."""
MEMORY = "memory"
"""The `--world` value for a world kept in one process's memory."""

Obj = dict[str, Any]


class WorldUnusable(Exception):
    """The world's file cannot (or must not) be used; the message names the file, why, and the fix."""

    status = 500

    def __init__(self, message: str, *, replaceable: bool = False) -> None:
        super().__init__(message)
        self.replaceable = replaceable
        """The file is not a world this version can read (damaged, or a newer layout): starting over may replace it."""


class WorldBusy(WorldUnusable):
    """Another process held the world longer than the busy timeout; trying again later works."""

    status = 503


# The file's encoding: JSON, with datetimes kept exactly.
# A datetime is {"$dt": "<isoformat>"}; a key of the object itself that starts with "$" gets one more "$",
# so no object a client sent can ever read back as a datetime (or lose a key).


def encode(value: Any) -> str:
    return json.dumps(_tagged(value), separators=(",", ":"), ensure_ascii=False)


def decode(text: str) -> Any:
    return json.loads(text, object_hook=_untagged)


def _tagged(value: Any) -> Any:
    if isinstance(value, dict):
        return {("$" + k if k.startswith("$") else k): _tagged(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_tagged(v) for v in value]
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    return value


def _untagged(value: dict[str, Any]) -> Any:
    if len(value) == 1 and "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    if any(k.startswith("$") for k in value):
        return {(k[1:] if k.startswith("$") else k): v for k, v in value.items()}
    return value


class Backend(Protocol):
    where: str

    def transaction(self, write: bool = True) -> Any: ...
    def get(self, kind: str, ident: Any) -> Obj | None: ...
    def put(self, kind: str, ident: str, obj: Obj) -> None: ...
    def delete(self, kind: str, ident: Any) -> bool: ...
    def pairs(self, kind: str) -> list[tuple[str, Obj]]: ...
    def ids(self, kind: str) -> list[str]: ...
    def has(self, kind: str, ident: Any) -> bool: ...
    def count(self, kind: str) -> int: ...
    def meta(self, name: str, default: Any) -> Any: ...
    def set_meta(self, name: str, value: Any) -> None: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class Collection(MutableMapping[str, Obj]):
    """The objects of one kind by id, in creation order (see the module's docstring for when changes are saved)."""

    def __init__(self, backend: Backend, kind: str) -> None:
        self._backend = backend
        self.kind = kind

    def __getitem__(self, ident: str) -> Obj:
        found = self._backend.get(self.kind, ident)
        if found is None:
            raise KeyError(ident)
        return found

    def __setitem__(self, ident: str, obj: Obj) -> None:
        self._backend.put(self.kind, ident, obj)

    def __delitem__(self, ident: str) -> None:
        if not self._backend.delete(self.kind, ident):
            raise KeyError(ident)

    def __iter__(self) -> Iterator[str]:
        return iter(self._backend.ids(self.kind))

    def __len__(self) -> int:
        return self._backend.count(self.kind)

    def __contains__(self, ident: object) -> bool:
        return self._backend.has(self.kind, ident)

    def values(self) -> list[Obj]:  # type: ignore[override]  # one query, not one per id
        return [obj for _, obj in self._backend.pairs(self.kind)]

    def items(self) -> list[tuple[str, Obj]]:  # type: ignore[override]
        return self._backend.pairs(self.kind)

    def clear(self) -> None:
        with self._backend.transaction():
            for ident in self._backend.ids(self.kind):
                self._backend.delete(self.kind, ident)

    def __repr__(self) -> str:
        return f"<{self.kind}: {len(self)} in {self._backend.where}>"


class _Memory:
    """One process's world: the stored objects are the objects themselves."""

    where = "memory (this process only)"

    def __init__(self) -> None:
        self._kinds: dict[str, dict[str, Obj]] = {kind: {} for kind in KINDS}
        self._meta: dict[str, Any] = {}

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[None]:
        yield

    def get(self, kind: str, ident: Any) -> Obj | None:
        try:
            return self._kinds[kind].get(ident)
        except TypeError:  # an unhashable id names nothing
            return None

    def put(self, kind: str, ident: str, obj: Obj) -> None:
        self._kinds[kind][ident] = obj

    def delete(self, kind: str, ident: Any) -> bool:
        return self._kinds[kind].pop(ident, None) is not None

    def pairs(self, kind: str) -> list[tuple[str, Obj]]:
        return list(self._kinds[kind].items())

    def ids(self, kind: str) -> list[str]:
        return list(self._kinds[kind])

    def has(self, kind: str, ident: Any) -> bool:
        return self.get(kind, ident) is not None

    def count(self, kind: str) -> int:
        return len(self._kinds[kind])

    def meta(self, name: str, default: Any) -> Any:
        return self._meta.get(name, default)

    def set_meta(self, name: str, value: Any) -> None:
        self._meta[name] = value

    def clear(self) -> None:
        for objects in self._kinds.values():
            objects.clear()
        self._meta.clear()

    def close(self) -> None:
        pass


WORLD_TABLES = frozenset({"objects", "meta", "sqlite_sequence"})
"""The tables of a world file (`sqlite_sequence` is SQLite's own, for AUTOINCREMENT)."""
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS objects (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (kind, id))",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


class _SQLite:
    """The world in an SQLite file (WAL, busy timeout), shared by every process of the user.

    A transaction is `BEGIN IMMEDIATE`: one writer at a time across processes. Inside it, objects
    read are kept (one object per id), writes go to the file at once, and at the end every kept
    object whose encoding changed is written back, so a change made in place is never lost.
    """

    def __init__(self, path: Path, built_in: Mapping[str, Mapping[str, Obj]], timeout: float = TIMEOUT) -> None:
        self.path = path
        self.where = str(path)
        self.timeout = timeout
        self._built_in = built_in
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._depth = 0
        self._writing = False
        self._kept: dict[tuple[str, str], tuple[Obj, str]] = {}
        self._meta: dict[str, Any] = {}

    # opening

    def _connect(self) -> sqlite3.Connection:
        check_file(self.path)
        import sqlite3

        try:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise WorldUnusable(f"the sandbox world {self.path} cannot be opened ({exc})") from None
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("BEGIN IMMEDIATE")
            try:
                self._migrate(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            db.close()
            raise _failure(self.path, exc) from None
        except sqlite3.DatabaseError as exc:
            db.close()
            raise WorldUnusable(f"the sandbox world {self.path} is not a sandbox world file ({exc}); start over with: vapi-mcp sandbox --reset", replaceable=True) from None
        except BaseException:
            db.close()
            raise
        return db

    def _migrate(self, db: sqlite3.Connection) -> None:
        foreign = sorted({row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} - WORLD_TABLES)
        if foreign:  # another program's database (the guard's ledger, named by a slip of one setting): never written
            raise WorldUnusable(
                f"the sandbox world {self.path} is not a sandbox world: it holds tables of another program ({', '.join(foreign[:5])}), "
                "and the sandbox never writes to it. Name a file of its own (VAPI_MCP_SANDBOX_WORLD / --world)."
            )
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise WorldUnusable(
                f"the sandbox world {self.path} was written by a newer vapi-mcp (layout {version}, this one reads {SCHEMA_VERSION}); "
                "upgrade vapi-mcp, or start over with: vapi-mcp sandbox --reset",
                replaceable=True,
            )
        for statement in _SCHEMA:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self._put_built_in(db)

    def _put_built_in(self, db: sqlite3.Connection) -> None:
        for kind, objects in self._built_in.items():
            for ident, obj in objects.items():
                db.execute("INSERT OR IGNORE INTO objects (kind, id, body) VALUES (?, ?, ?)", (kind, ident, encode(obj)))

    # transactions

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[None]:
        import sqlite3

        with self._lock:
            if self._depth:
                if write and not self._writing:
                    raise RuntimeError("a read transaction of the sandbox world cannot start writing")
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            try:
                if self._db is None:
                    self._db = self._connect()
                self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as exc:
                raise _failure(self.path, exc) from None
            self._depth, self._writing = 1, write
            try:
                yield
                if write:
                    self._write_back()
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _failure(self.path, exc) from None
                raise
            finally:
                self._depth, self._writing = 0, False
                self._kept.clear()
                self._meta.clear()

    def _write_back(self) -> None:
        assert self._db is not None
        for (kind, ident), (obj, text) in self._kept.items():
            now = encode(obj)
            if now != text:
                self._db.execute("UPDATE objects SET body = ? WHERE kind = ? AND id = ?", (now, kind, ident))

    def _run(self, write: bool, work: Any) -> Any:
        with self.transaction(write=write):
            assert self._db is not None
            return work(self._db)

    # objects

    def _keep(self, kind: str, ident: str, text: str) -> Obj:
        kept = self._kept.get((kind, ident))
        if kept is not None:
            return kept[0]
        obj = decode(text)
        if self._writing:
            self._kept[(kind, ident)] = (obj, text)
        return obj

    def get(self, kind: str, ident: Any) -> Obj | None:
        if not isinstance(ident, str):
            return None

        def work(db: sqlite3.Connection) -> Obj | None:
            kept = self._kept.get((kind, ident))
            if kept is not None:
                return kept[0]
            row = db.execute("SELECT body FROM objects WHERE kind = ? AND id = ?", (kind, ident)).fetchone()
            return None if row is None else self._keep(kind, ident, row[0])

        return self._run(False, work)

    def put(self, kind: str, ident: str, obj: Obj) -> None:
        text = encode(obj)

        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO objects (kind, id, body) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                (kind, ident, text),
            )
            if self._writing and self._depth:
                self._kept[(kind, ident)] = (obj, text)

        self._run(True, work)

    def delete(self, kind: str, ident: Any) -> bool:
        if not isinstance(ident, str):
            return False

        def work(db: sqlite3.Connection) -> bool:
            self._kept.pop((kind, ident), None)
            return db.execute("DELETE FROM objects WHERE kind = ? AND id = ?", (kind, ident)).rowcount > 0

        return bool(self._run(True, work))

    def pairs(self, kind: str) -> list[tuple[str, Obj]]:
        def work(db: sqlite3.Connection) -> list[tuple[str, Obj]]:
            rows = db.execute("SELECT id, body FROM objects WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
            return [(ident, self._keep(kind, ident, body)) for ident, body in rows]

        return self._run(False, work)

    def ids(self, kind: str) -> list[str]:
        return self._run(False, lambda db: [row[0] for row in db.execute("SELECT id FROM objects WHERE kind = ? ORDER BY seq", (kind,))])

    def has(self, kind: str, ident: Any) -> bool:
        if not isinstance(ident, str):
            return False
        return self._run(False, lambda db: db.execute("SELECT 1 FROM objects WHERE kind = ? AND id = ?", (kind, ident)).fetchone() is not None)

    def count(self, kind: str) -> int:
        return self._run(False, lambda db: db.execute("SELECT COUNT(*) FROM objects WHERE kind = ?", (kind,)).fetchone()[0])

    def meta(self, name: str, default: Any) -> Any:
        if name in self._meta:
            return self._meta[name]

        def work(db: sqlite3.Connection) -> Any:
            row = db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
            value = default if row is None else decode(row[0])
            if self._depth:
                self._meta[name] = value
            return value

        return self._run(False, work)

    def set_meta(self, name: str, value: Any) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", (name, encode(value)))
            self._meta[name] = value

        self._run(True, work)

    def clear(self) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM objects")
            db.execute("DELETE FROM meta")
            self._kept.clear()
            self._meta.clear()
            self._put_built_in(db)

        self._run(True, work)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _failure(path: Path, exc: Exception) -> WorldUnusable:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return WorldBusy(f"the sandbox world {path} is busy: another process held it for more than {TIMEOUT:g} s. Try again.")
    return WorldUnusable(f"the sandbox world {path} cannot be used ({text})")


def file_problem(path: Path, info: os.stat_result) -> str | None:
    """Why an existing world file must not be used, with the fix; None if it is fine (as the audit file is judged)."""
    if stat.S_ISLNK(info.st_mode):
        return f"the sandbox world {path} is a symbolic link; it is never opened through one. Remove the link or name a regular file."
    if not stat.S_ISREG(info.st_mode):
        return f"the sandbox world {path} is not a regular file."
    if info.st_uid != os.geteuid():
        return f"the sandbox world {path} belongs to another user (uid {info.st_uid}); use a file of your own."
    if info.st_mode & 0o077:
        return f"the sandbox world {path} can be read or written by other users (mode {stat.S_IMODE(info.st_mode):04o}); fix it with: chmod 600 {path}"
    return None


def check_file(path: Path) -> None:
    """Create the world's file private (0600, in a 0700 directory), never through a link; refuse one others can use."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise WorldUnusable(f"the sandbox world's directory {path.parent} cannot be made ({exc.strerror})") from None
    if path.parent.is_symlink():
        raise WorldUnusable(f"the sandbox world's directory {path.parent} is a symbolic link; name the real directory instead.")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        try:
            problem = file_problem(path, os.lstat(path))
        except OSError:
            problem = None
        raise WorldUnusable(problem or f"the sandbox world {path} cannot be opened ({exc.strerror})") from None
    try:
        problem = file_problem(path, os.fstat(fd))
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):  # SQLite's own files beside it hold the same objects
        side = Path(f"{path}{suffix}")
        try:
            info = os.lstat(side)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise WorldUnusable(f"the sandbox world's {side} cannot be checked ({exc.strerror})") from None
        problem = problem or (file_problem(side, info) or "").replace("the sandbox world ", "the sandbox world's file ", 1) or None
    if problem:
        raise WorldUnusable(problem)


class Store:
    """The sandbox's world (see the module's docstring)."""

    assistants: Collection
    squads: Collection
    phone_numbers: Collection
    calls: Collection
    chats: Collection
    tools: Collection
    evals: Collection
    eval_runs: Collection
    structured_outputs: Collection
    personalities: Collection
    scenarios: Collection
    simulations: Collection
    suites: Collection
    simulation_runs: Collection
    campaigns: Collection
    sessions: Collection
    files: Collection
    file_texts: Collection
    knowledge_bases: Collection
    knowledge_base_files: Collection
    scorecards: Collection

    def __init__(self, path: str | Path | None = None, *, built_in: Mapping[str, Iterable[Obj]] | None = None, timeout: float = TIMEOUT) -> None:
        """A world in memory (`path` None) or in the SQLite file `path` (opened on first use).

        `built_in`: objects every world holds (by kind), put in by the store when it opens and after a reset."""
        self.path = None if path is None else Path(path)
        self.built_in: dict[str, dict[str, Obj]] = {kind: {obj["id"]: decode(encode(obj)) for obj in objects} for kind, objects in (built_in or {}).items()}
        self._backend: Backend = _Memory() if self.path is None else _SQLite(self.path, self.built_in, timeout)
        for kind in KINDS:
            setattr(self, kind, Collection(self._backend, kind))
        if self.path is None:
            self._put_built_in()

    @property
    def where(self) -> str:
        """Where the world lives, for messages: the file, or this process's memory."""
        return self._backend.where

    def collection(self, kind: str) -> Collection:
        """The collection named `kind` (one of `KINDS`)."""
        if kind not in KINDS:
            raise KeyError(f"no collection {kind!r} in the sandbox world; add it to store.KINDS")
        collection: Collection = getattr(self, kind)
        return collection

    def transaction(self) -> Any:
        """A context manager: one unit of work on the world (nested ones join the outer one)."""
        return self._backend.transaction(write=True)

    @property
    def clock_offset(self) -> float:
        """Seconds the world's clock runs ahead of the process's own clock (moved forward only)."""
        return float(self._backend.meta("clock_offset", 0.0))

    @clock_offset.setter
    def clock_offset(self, seconds: float) -> None:
        self._backend.set_meta("clock_offset", float(seconds))

    def counts(self) -> dict[str, int]:
        """How many objects of each kind the world holds (built-in ones left out), kinds with none left out."""
        with self._backend.transaction(write=False):
            counts = {kind: sum(1 for i in self._backend.ids(kind) if i not in self.built_in.get(kind, {})) for kind in KINDS}
        return {kind: n for kind, n in counts.items() if n}

    def reset(self) -> dict[str, int]:
        """Start over: every object removed (built-in ones put back) and the clock back to the process's; what was removed, by kind."""
        with self._backend.transaction():
            removed = self.counts()
            self._backend.clear()
            if self.path is None:
                self._put_built_in()
        return removed

    def close(self) -> None:
        self._backend.close()

    def _put_built_in(self) -> None:
        for kind, objects in self.built_in.items():
            for ident, obj in objects.items():
                self._backend.put(kind, ident, decode(encode(obj)))
