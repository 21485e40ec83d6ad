"""The shared store: short-lived values every instance must see (OIDC state, nonces, caches).

`SqlStore` keeps them in the database (the embedded default); `RedisStore` in Redis when
`SKILLPATH_REDIS_URL` is set. Both offer `take`, an atomic read-and-delete, which is what
makes a nonce or a state single-use across any number of instances.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select

from lti_tool.db import Database
from lti_tool.models import StoreEntry


class SharedStore(Protocol):
    def put(self, key: str, value: Any, ttl_seconds: int) -> None: ...

    def get(self, key: str) -> Any | None: ...

    def take(self, key: str) -> Any | None:
        """Return the value and delete it, atomically: of two callers, one gets it."""
        ...

    def delete(self, key: str) -> None: ...

    def ping(self) -> None: ...


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _now() -> datetime:
    return datetime.now(UTC)


class SqlStore:
    # Expired rows are purged every this many writes, so the table stays small without a
    # separate janitor process.
    PURGE_EVERY = 500

    def __init__(self, database: Database) -> None:
        self._db = database
        self._writes = itertools.count(1)

    def put(self, key: str, value: Any, ttl_seconds: int) -> None:
        if next(self._writes) % self.PURGE_EVERY == 0:
            self.purge_expired()
        expires = _now() + timedelta(seconds=ttl_seconds)
        encoded = json.dumps(value)
        with self._db.session() as session:
            entry = session.get(StoreEntry, key)
            if entry is None:
                session.add(StoreEntry(key=key, value=encoded, expires_at=expires))
            else:
                entry.value, entry.expires_at = encoded, expires

    def get(self, key: str) -> Any | None:
        with self._db.session() as session:
            row = session.execute(
                select(StoreEntry.value, StoreEntry.expires_at).where(StoreEntry.key == key)
            ).first()
        if row is None or row.expires_at <= _now():
            return None
        return json.loads(row.value)

    def take(self, key: str) -> Any | None:
        with self._db.session() as session:
            row = session.execute(
                select(StoreEntry.value, StoreEntry.expires_at).where(StoreEntry.key == key)
            ).first()
            if row is None:
                return None
            # The DELETE decides who wins when two instances take the same key at once.
            deleted = _rowcount(session.execute(delete(StoreEntry).where(StoreEntry.key == key)))
        if deleted != 1 or row.expires_at <= _now():
            return None
        return json.loads(row.value)

    def delete(self, key: str) -> None:
        with self._db.session() as session:
            session.execute(delete(StoreEntry).where(StoreEntry.key == key))

    def purge_expired(self) -> int:
        with self._db.session() as session:
            result = session.execute(delete(StoreEntry).where(StoreEntry.expires_at <= _now()))
        return _rowcount(result)

    def ping(self) -> None:
        with self._db.session() as session:
            session.execute(select(1))


class RedisStore:
    def __init__(self, url: str, prefix: str = "skillpath:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    def put(self, key: str, value: Any, ttl_seconds: int) -> None:
        self._redis.set(self._prefix + key, json.dumps(value), ex=max(1, ttl_seconds))

    def get(self, key: str) -> Any | None:
        raw = self._redis.get(self._prefix + key)
        return None if raw is None else json.loads(raw)

    def take(self, key: str) -> Any | None:
        raw = self._redis.getdel(self._prefix + key)
        return None if raw is None else json.loads(raw)  # type: ignore[arg-type]

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def ping(self) -> None:
        self._redis.ping()


def make_store(database: Database, redis_url: str, prefix: str = "skillpath:") -> SharedStore:
    return RedisStore(redis_url, prefix) if redis_url else SqlStore(database)
