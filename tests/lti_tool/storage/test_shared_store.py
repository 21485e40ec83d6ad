"""The shared store (database or Redis): single-use takes, expiry, leases. The database
store is tested on a clock the test moves; Redis keeps its own time, so its expiry tests wait
a fraction of a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from lti_tool.storage import SharedStore, SqlStore
from tests.lti_tool.db import add_registration


class ManualClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def timed(app: Flask) -> tuple[SharedStore, float, Callable[[float], None]]:
    """The app's kind of store, a short time to live, and how to let time pass."""
    container = app.extensions["skillpath"]
    if isinstance(container.store, SqlStore):
        clock = ManualClock()

        def advance(seconds: float) -> None:
            clock.now += timedelta(seconds=seconds)

        return SqlStore(container.storage, clock), 1.0, advance
    return container.store, 0.2, time.sleep


def test_take_is_single_use_across_threads(app: Flask) -> None:
    store = app.extensions["skillpath"].store
    store.put("nonce:abc", {"v": 1}, 60)
    results: list[object] = []
    barrier = threading.Barrier(8)

    def take() -> None:
        barrier.wait()
        results.append(store.take("nonce:abc"))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r for r in results if r is not None] == [{"v": 1}]


def test_values_expire(timed: tuple[SharedStore, float, Callable[[float], None]]) -> None:
    store, ttl, advance = timed
    store.put("short", "x", ttl)
    assert store.get("short") == "x"
    advance(ttl * 1.25)
    assert store.get("short") is None
    assert store.take("short") is None


def test_put_overwrites(app: Flask) -> None:
    store = app.extensions["skillpath"].store
    store.put("k", 1, 60)
    store.put("k", 2, 60)
    assert store.get("k") == 2
    store.delete("k")
    assert store.get("k") is None


def test_expired_rows_are_purged_as_the_store_is_written(
    timed: tuple[SharedStore, float, Callable[[float], None]],
) -> None:
    store, ttl, advance = timed
    if not isinstance(store, SqlStore):
        pytest.skip(reason="Redis expires keys itself; the purge is the SQL store's")
    store.put("old", 1, ttl)
    advance(ttl * 1.25)
    for i in range(SqlStore.PURGE_EVERY):
        store.put(f"k{i}", i, 60)
    assert store.take("old") is None
    assert store.purge_expired() == 0


def test_add_is_a_lease_one_caller_gets(
    timed: tuple[SharedStore, float, Callable[[float], None]],
) -> None:
    store, ttl, advance = timed
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def add(n: int) -> None:
        barrier.wait()
        results.append(store.add("lease:token", n, 60))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    holder = store.get("lease:token")
    assert store.add("lease:token", 99, 60) is False and store.get("lease:token") == holder
    store.delete("lease:token")
    assert store.add("lease:token", 1, ttl) is True
    advance(ttl * 1.25)
    assert store.add("lease:token", 2, 60) is True  # an expired lease is free again
    assert store.get("lease:token") == 2


def test_reads_outside_a_transaction_see_committed_rows(settings: object) -> None:
    """`Storage.reading()` (autocommit, for lookups) sees what transactions committed."""
    from lti_tool.storage import Storage, Tenant

    storage = Storage(settings.database_url)  # type: ignore[attr-defined]
    try:
        storage.upgrade()
        with storage.reading() as tx:
            assert tx.registrations.lookup(Tenant("https://lms.example", "c1")) is None
        with storage.transaction() as tx:
            add_registration(tx, Tenant("https://lms.example", "c1"), datetime.now(UTC))
        with storage.reading() as tx:
            assert tx.registrations.lookup(Tenant("https://lms.example", "c1")) is not None
            assert tx.registrations.has_deployment(Tenant("https://lms.example", "c1"), "d1")
    finally:
        storage.dispose()
