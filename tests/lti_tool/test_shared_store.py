import threading
import time

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
