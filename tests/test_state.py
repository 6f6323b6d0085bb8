"""The state store's semantics, for each backend: single use, caps that never pass their limit, take once, expiry,
shared secrets; atomic across threads and across processes; unreachable means `StateUnavailable`."""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest

from vapi_mcp.state import (
    MemoryStore,
    RedisStore,
    SQLiteStore,
    StateStore,
    StateUnavailable,
    StoreKeyCodec,
    open_store,
    shown_url,
)

BACKENDS = ["memory", "sqlite", "redis"]
SHARED = ["sqlite", "redis"]
"""The backends several processes can share."""


def later(seconds: float = 60) -> float:
    return time.time() + seconds


@pytest.fixture
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL for the backend the test is parametrized with."""
    backend = request.param
    if backend == "redis":
        return request.getfixturevalue("redis_url")
    if backend == "sqlite":
        return f"sqlite://{tmp_path / 'state.sqlite3'}"
    return "memory"


def make(location: str) -> StateStore:
    return MemoryStore() if location == "memory" else open_store(location)


@pytest.fixture
def store(location: str) -> Any:
    opened = make(location)
    yield opened
    opened.close()


each_backend = pytest.mark.parametrize("location", BACKENDS, indirect=True)
shared_backend = pytest.mark.parametrize("location", SHARED, indirect=True)


@each_backend
def test_a_key_is_consumed_once_until_it_expires(store: StateStore) -> None:
    assert store.consume("token:a", later()) is True
    assert store.consume("token:a", later()) is False
    assert store.consume("token:b", later()) is True
    assert store.consume("token:short", time.time() + 0.05) is True
    time.sleep(0.2)
    assert store.consume("token:short", later()) is True, "an expired mark is forgotten"
    assert store.consume("token:a", later()) is False


@each_backend
def test_a_reservation_never_passes_the_limit(store: StateStore) -> None:
    assert store.count("dials:x") == 0
    assert store.reserve("dials:x", 2, 3, later()) == (True, 0)
    assert store.reserve("dials:x", 2, 3, later()) == (False, 2)
    assert store.count("dials:x") == 2
    assert store.reserve("dials:x", 1, 3, later()) == (True, 2)
    assert store.reserve("dials:x", 1, 3, later()) == (False, 3)
    store.release("dials:x", 1)
    assert store.count("dials:x") == 2
    store.release("dials:x", 5)
    assert store.count("dials:x") == 0, "never below zero"
    assert store.count("dials:other") == 0


@each_backend
def test_a_counter_is_forgotten_when_it_expires(store: StateStore) -> None:
    assert store.reserve("dials:y", 1, 1, time.time() + 0.05) == (True, 0)
    time.sleep(0.2)
    assert store.count("dials:y") == 0
    assert store.reserve("dials:y", 1, 1, later()) == (True, 0)
    store.release("dials:gone", 1)
    assert store.count("dials:gone") == 0, "releasing a forgotten counter does not make it negative or permanent"


@each_backend
def test_a_pending_confirmation_is_taken_once(store: StateStore) -> None:
    value = {"tool": "create_call", "arguments": {"customer": {"number": "+14155550123"}}, "n": 1}
    store.put("pending:1", value, later())
    assert store.take("pending:1") == value
    assert store.take("pending:1") is None
    assert store.take("pending:never") is None
    store.put("pending:2", value, time.time() + 0.05)
    time.sleep(0.2)
    assert store.take("pending:2") is None, "an expired confirmation cannot be taken"


@shared_backend
def test_a_secret_is_created_once_and_shared(location: str) -> None:
    first, second = make(location), make(location)
    try:
        key = first.secret("request-state-key")
        assert len(key) == 32
        assert second.secret("request-state-key") == key
        assert first.secret("other") != key
    finally:
        first.close()
        second.close()


@shared_backend
def test_two_store_objects_on_one_backend_share_everything(location: str) -> None:
    """What two sessions or replicas see: one ledger."""
    a, b = make(location), make(location)
    try:
        assert a.consume("token:t", later()) and not b.consume("token:t", later())
        assert a.reserve("dials:d", 1, 1, later()) == (True, 0)
        assert b.reserve("dials:d", 1, 1, later()) == (False, 1)
        a.put("pending:p", {"v": 1}, later())
        assert b.take("pending:p") == {"v": 1} and a.take("pending:p") is None
    finally:
        a.close()
        b.close()


@each_backend
def test_concurrent_threads_consume_once_and_reserve_up_to_the_limit(store: StateStore) -> None:
    start = threading.Barrier(16)

    def race(_: int) -> tuple[bool, bool, Any]:
        start.wait()
        return store.consume("token:race", later()), store.reserve("dials:race", 1, 5, later())[0], store.take("pending:race")

    store.put("pending:race", {"only": "once"}, later())
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(race, range(16)))
    assert sum(consumed for consumed, _, _ in results) == 1
    assert sum(reserved for _, reserved, _ in results) == 5
    assert [taken for _, _, taken in results if taken is not None] == [{"only": "once"}]
    assert store.count("dials:race") == 5


def _race_in_a_process(location: str, rounds: int) -> tuple[int, int, int]:
    """In another process: its own store object on the shared backend; (consumed, reserved, taken)."""
    store = open_store(location)
    try:
        consumed = reserved = taken = 0
        for i in range(rounds):
            consumed += store.consume(f"token:{i}", later())
            reserved += store.reserve("dials:procs", 1, 7, later())[0]
            taken += store.take(f"pending:{i}") is not None
        return consumed, reserved, taken
    finally:
        store.close()


@shared_backend
def test_concurrent_processes_consume_once_and_reserve_up_to_the_limit(location: str) -> None:
    rounds, workers = 10, 6
    setup = make(location)
    for i in range(rounds):
        setup.put(f"pending:{i}", {"i": i}, later())
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_race_in_a_process, [location] * workers, [rounds] * workers))
    assert sum(c for c, _, _ in results) == rounds, "each token consumed by exactly one process"
    assert sum(r for _, r, _ in results) == 7, "the cap holds across processes"
    assert sum(t for _, _, t in results) == rounds, "each pending confirmation taken by exactly one process"
    assert setup.count("dials:procs") == 7
    setup.close()


@pytest.mark.parametrize(
    ("make_unreachable", "named"),
    [
        (lambda tmp: RedisStore("redis://:hunter2-secret@127.0.0.1:1/0", timeout=1), "redis://:***@127.0.0.1:1/0"),
        (lambda tmp: SQLiteStore(tmp / "a-file" / "state.sqlite3"), "a-file/state.sqlite3"),
    ],
)
def test_an_unreachable_store_raises_state_unavailable_naming_it(
    make_unreachable: Callable[[Path], StateStore], named: str, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    store = make_unreachable(tmp_path)
    operations: list[Callable[[], Any]] = [
        lambda: store.consume("k", later()),
        lambda: store.reserve("c", 1, 1, later()),
        lambda: store.count("c"),
        lambda: store.put("p", {}, later()),
        lambda: store.take("p"),
        lambda: store.secret("s"),
    ]
    for operation in operations:
        with pytest.raises(StateUnavailable, match="cannot be") as caught:
            operation()
        assert named in str(caught.value) and "hunter2" not in str(caught.value)
    store.close()


def test_the_sqlite_file_is_private_and_opened_lazily(tmp_path: Path) -> None:
    path = tmp_path / "state" / "vapi-mcp" / "state.sqlite3"
    store = SQLiteStore(path)
    assert not path.parent.exists(), "creating the store touches nothing"
    store.count("x")
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    import sqlite3

    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_store_urls() -> None:
    assert isinstance(open_store("sqlite:///tmp/x/state.sqlite3"), SQLiteStore)
    assert open_store("sqlite:///tmp/x/state.sqlite3").where == "sqlite:///tmp/x/state.sqlite3"
    for url in ("redis://localhost:6379/0", "rediss://h:6380/1", "unix:///run/redis.sock"):
        assert isinstance(open_store(url), RedisStore)
    for bad in ("mysql://x", "sqlite:relative.db", "memcached://h", ""):
        with pytest.raises(ValueError, match="VAPI_MCP_STATE_URL"):
            open_store(bad)
    assert shown_url("redis://user:pw@h:1/0") == "redis://user:***@h:1/0"


@shared_backend
def test_replicas_sharing_a_store_seal_and_unseal_each_others_request_state(location: str) -> None:
    from mcp.server.request_state import InvalidRequestState

    a, b = make(location), make(location)
    try:
        sealed = StoreKeyCodec(a).seal(b"state")
        assert StoreKeyCodec(b).unseal(sealed) == b"state"
        with pytest.raises(InvalidRequestState):
            StoreKeyCodec(MemoryStore()).unseal(sealed)
    finally:
        a.close()
        b.close()


# the epoch, atomic changes of several counters, kept values, the do-not-call list


@each_backend
def test_an_operation_that_names_another_epoch_changes_nothing(store: StateStore) -> None:
    from vapi_mcp.state import Change, EpochChanged

    epoch = store.epoch()
    assert epoch.trusted, "SQLite and memory are; the test Redis was confirmed by its fixture"
    assert store.epoch().id == epoch.id, "one epoch until the store loses its memory"
    with pytest.raises(EpochChanged):
        store.consume("token:e", later(), epoch="an-epoch-this-store-never-had")
    with pytest.raises(EpochChanged):
        store.adjust([Change("dials:e", 1, 5, later())], epoch="an-epoch-this-store-never-had")
    assert store.consume("token:e", later(), epoch=epoch.id) is True, "the refused consume marked nothing"
    assert store.count("dials:e") == 0


@each_backend
def test_several_counters_change_together_or_not_at_all(store: StateStore) -> None:
    from vapi_mcp.state import Change

    assert store.adjust([Change("a", 2, 3, later()), Change("b", 1, 1, later())]).ok
    refused = store.adjust([Change("a", 1, 3, later()), Change("b", 1, 1, later())])
    assert (refused.ok, refused.refused, refused.before) == (False, 1, (2, 1))
    assert store.counts(["a", "b", "c"]) == [2, 1, 0], "nothing of a refused change is applied"
    assert store.adjust([Change("a", -5), Change("b", -1), Change("c", -1)]).ok
    assert store.counts(["a", "b", "c"]) == [0, 0, 0], "never below zero, and a missing counter stays missing"


@each_backend
def test_a_kept_value_can_be_read_without_taking_it(store: StateStore) -> None:
    store.put("hold:x", {"n": 1}, later())
    assert store.get("hold:x") == {"n": 1} and store.get("hold:x") == {"n": 1}
    assert store.take("hold:x") == {"n": 1} and store.get("hold:x") is None


@each_backend
def test_the_do_not_call_list_adds_finds_and_removes(store: StateStore) -> None:
    entry = {"added": "2026-11-02T16:00:00Z", "by": "local", "region": "US"}
    assert store.dnc_add({"+14155550123": entry, "+12125550123": {**entry, "note": "asked"}}) == 2
    assert store.dnc_add({"+14155550123": {**entry, "by": "someone else"}}) == 0, "an entry is never overwritten"
    assert store.dnc_find(["+14155550123", "+442079460958"]) == {"+14155550123": entry}
    assert set(store.dnc_list()) == {"+12125550123", "+14155550123"} and store.dnc_regions() == {"US"}
    assert store.dnc_remove(["+14155550123", "+19995550000"]) == 1
    assert store.dnc_find(["+14155550123"]) == {}


def test_a_redis_without_a_ledger_is_not_trusted_until_the_user_says_so(redis_url: str) -> None:
    """An empty Redis cannot tell "new" from "lost its data": its new epoch is not trusted; `trust()` (`vapi-mcp state
    init`) confirms it, keeping its id, so tokens issued in it stay valid."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    store = open_store(redis_url)
    try:
        first = store.epoch()
        assert not first.trusted and not first.replaced and not first.durable
        confirmed = store.trust()
        assert confirmed.trusted and confirmed.id == first.id and store.epoch().trusted
    finally:
        store.close()
