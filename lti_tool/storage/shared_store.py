"""The shared store: short-lived values every instance must see (OIDC state, nonces, caches).

`SqlStore` keeps them in the database (the embedded default); `RedisStore` in Redis when
`SKILLPATH_REDIS_URL` is set. Both offer `take`, an atomic read-and-delete, which is what
makes a nonce or a state single-use across any number of instances.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lti_tool.errors import StoreUnavailable
from lti_tool.storage.database import Storage
from lti_tool.storage.models import StoreEntry

Clock = Callable[[], datetime]

log = logging.getLogger("skillpath.store")


class SharedStore(Protocol):
    """Time to live is in seconds; fractions are kept."""

    def put(self, key: str, value: Any, ttl_seconds: float) -> None: ...

    def get(self, key: str) -> Any | None: ...

    def take(self, key: str) -> Any | None:
        """Return the value and delete it, atomically: of two callers, one gets it."""
        ...

    def add(self, key: str, value: Any, ttl_seconds: float) -> bool:
        """Store the value only if the key is absent (or expired), atomically: of two callers,
        one gets True. A lease across instances."""
        ...

    def delete(self, key: str) -> None: ...

    def ping(self) -> None: ...


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqlStore:
    """The store in the database, in single Core statements: this is on the launch path."""

    # Expired rows are purged every this many writes, so the table stays small without a
    # separate janitor process.
    PURGE_EVERY = 500

    def __init__(self, storage: Storage, clock: Clock = _utc_now) -> None:
        self._db = storage
        self._now = clock
        self._writes = itertools.count(1)
        self._table = cast(Table, StoreEntry.__table__)
        table = self._table
        dialect = storage.dialect
        upsert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}.get(dialect)
        # Statements built once; each call only binds values.
        self._upsert: Any = None
        if upsert is not None:
            statement: Any = upsert(table)
            self._upsert = statement.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "value": statement.excluded.value,
                    "expires_at": statement.excluded.expires_at,
                },
            )
        self._add: Any = None
        if upsert is not None:
            statement = upsert(table)
            self._add = statement.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "value": statement.excluded.value,
                    "expires_at": statement.excluded.expires_at,
                },
                where=table.c.expires_at <= bindparam("now"),
            ).returning(table.c.key)
        self._select = select(table.c.value, table.c.expires_at).where(
            table.c.key == bindparam("k")
        )
        self._take = (
            delete(table)
            .where(table.c.key == bindparam("k"))
            .returning(table.c.value, table.c.expires_at)
        )

    def put(self, key: str, value: Any, ttl_seconds: float) -> None:
        if next(self._writes) % self.PURGE_EVERY == 0:
            self.purge_expired()
        row = {
            "key": key,
            "value": json.dumps(value),
            "expires_at": self._now() + timedelta(seconds=ttl_seconds),
        }
        with self._db.engine.begin() as connection:
            if self._upsert is not None:
                connection.execute(self._upsert, row)
            else:  # pragma: no cover - engines without an upsert
                connection.execute(delete(self._table).where(self._table.c.key == key))
                connection.execute(insert(self._table).values(**row))

    def add(self, key: str, value: Any, ttl_seconds: float) -> bool:
        now = self._now()
        row = {
            "key": key,
            "value": json.dumps(value),
            "expires_at": now + timedelta(seconds=ttl_seconds),
            "now": now,
        }
        if self._add is None:  # pragma: no cover - engines without an upsert
            raise NotImplementedError("the shared store needs SQLite or PostgreSQL for add")
        # RETURNING names the row only when it was inserted or an expired one replaced.
        with self._db.engine.begin() as connection:
            return connection.execute(self._add, row).first() is not None

    def get(self, key: str) -> Any | None:
        with self._db.engine.connect() as connection:
            row = connection.execute(self._select, {"k": key}).first()
        if row is None or row.expires_at <= self._now():
            return None
        return json.loads(row.value)

    def take(self, key: str) -> Any | None:
        # One DELETE ... RETURNING: of two instances taking the same key, one gets the row.
        with self._db.engine.begin() as connection:
            row = connection.execute(self._take, {"k": key}).first()
        if row is None or row.expires_at <= self._now():
            return None
        return json.loads(row.value)

    def delete(self, key: str) -> None:
        with self._db.engine.begin() as connection:
            connection.execute(delete(self._table).where(self._table.c.key == key))

    def purge_expired(self) -> int:
        with self._db.engine.begin() as connection:
            result = connection.execute(
                delete(self._table).where(self._table.c.expires_at <= self._now())
            )
        return _rowcount(result)

    def ping(self) -> None:
        with self._db.engine.connect() as connection:
            connection.execute(select(1))


class RedisStore:
    """The shared store on Redis. A Redis that does not answer raises `StoreUnavailable`
    (a clear 503 page) after one quick retry; the client reconnects on the next call, so
    launches work again as soon as Redis is back."""

    def __init__(self, url: str, prefix: str = "skillpath:") -> None:
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        self._errors: tuple[type[Exception], ...] = (
            redis.exceptions.ConnectionError,
            redis.exceptions.TimeoutError,
        )
        # A person waits on most calls: one quick retry, then a clear answer.
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=2,
            socket_connect_timeout=1,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
            health_check_interval=15,
        )
        self._prefix = prefix

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._redis, method)(*args, **kwargs)
        except self._errors as exc:
            log.warning("shared store (Redis) unavailable: %s", type(exc).__name__)
            raise StoreUnavailable() from exc

    def put(self, key: str, value: Any, ttl_seconds: float) -> None:
        self._call("set", self._prefix + key, json.dumps(value), px=_milliseconds(ttl_seconds))

    def get(self, key: str) -> Any | None:
        raw = self._call("get", self._prefix + key)
        return None if raw is None else json.loads(raw)

    def take(self, key: str) -> Any | None:
        raw = self._call("getdel", self._prefix + key)
        return None if raw is None else json.loads(raw)

    def add(self, key: str, value: Any, ttl_seconds: float) -> bool:
        done = self._call(
            "set", self._prefix + key, json.dumps(value), px=_milliseconds(ttl_seconds), nx=True
        )
        return bool(done)

    def delete(self, key: str) -> None:
        self._call("delete", self._prefix + key)

    def ping(self) -> None:
        self._call("ping")


def _milliseconds(ttl_seconds: float) -> int:
    return max(1, int(ttl_seconds * 1000))


def make_store(
    storage: Storage, redis_url: str, prefix: str = "skillpath:", clock: Clock = _utc_now
) -> SharedStore:
    """Redis when a URL is given, else the database (the embedded default)."""
    return RedisStore(redis_url, prefix) if redis_url else SqlStore(storage, clock)
