import threading
import time

import pytest
from flask import Flask


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


def test_values_expire(app: Flask) -> None:
    store = app.extensions["skillpath"].store
    store.put("short", "x", 1)
    assert store.get("short") == "x"
    time.sleep(1.1)
    assert store.get("short") is None
    assert store.take("short") is None


def test_put_overwrites(app: Flask) -> None:
    store = app.extensions["skillpath"].store
    store.put("k", 1, 60)
    store.put("k", 2, 60)
    assert store.get("k") == 2
    store.delete("k")
    assert store.get("k") is None


def test_expired_rows_are_purged_as_the_store_is_written(app: Flask) -> None:
    from lti_tool.storage.shared_store import SqlStore

    store = app.extensions["skillpath"].store
    if not isinstance(store, SqlStore):
        pytest.skip(reason="Redis expires keys itself; the purge is the SQL store's")
    store.put("old", 1, 1)
    time.sleep(1.1)
    for i in range(SqlStore.PURGE_EVERY):
        store.put(f"k{i}", i, 60)
    assert store.take("old") is None
    assert store.purge_expired() == 0


def test_add_is_a_lease_one_caller_gets(app: Flask) -> None:
    store = app.extensions["skillpath"].store
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
    assert store.add("lease:token", 1, 1) is True
    time.sleep(1.1)
    assert store.add("lease:token", 2, 60) is True  # an expired lease is free again
    assert store.get("lease:token") == 2
