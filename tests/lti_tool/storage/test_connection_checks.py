"""Pooled PostgreSQL connections are checked before use only when they may have died: one
used a moment ago is taken as it is (no ping round trip per transaction), one the server
closed while it sat in the pool is replaced, and one idle for a while is pinged. Real
PostgreSQL; the test counts pings by wrapping the dialect's own `do_ping`."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from lti_tool.storage import database
from lti_tool.storage.database import make_engine

DATABASE = os.environ.get("SKILLPATH_TEST_DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not DATABASE, reason="needs SKILLPATH_TEST_DATABASE_URL (real PostgreSQL)"
)


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = make_engine(DATABASE)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    seen: list[float] = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        seen.append(time.monotonic())
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_used_a_moment_ago_is_not_pinged(engine: Engine, pings: list[float]) -> None:
    first = backend_pid(engine)
    for _ in range(5):
        assert backend_pid(engine) == first  # the same pooled connection each time
    assert pings == []


def test_a_connection_the_server_closed_is_replaced_before_use(
    engine: Engine, pings: list[float]
) -> None:
    pooled = backend_pid(engine)
    other = make_engine(DATABASE)
    with other.connect() as connection:
        ended = connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled})
        assert ended.scalar()
    other.dispose()
    time.sleep(0.2)  # the server's goodbye reaches the pooled connection's socket
    assert backend_pid(engine) != pooled
    assert len(pings) == 1  # the dead one was pinged, failed, and a new one served the query


def test_a_connection_idle_for_a_while_is_pinged(
    engine: Engine, pings: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend_pid(engine)
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.05)
    time.sleep(0.1)
    backend_pid(engine)
    assert len(pings) == 1
