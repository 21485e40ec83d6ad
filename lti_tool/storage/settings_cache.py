"""Tenant settings that every request reads, kept by each process for a few seconds.

A full launch (login, launch, page) used to read, besides the learner's own rows, the
tenant's catalog version twice, its model fit in use, its LRS connection and its platforms'
login addresses (the pages' `frame-ancestors`): five of its thirteen queries, for values that
change only when an admin or the fitting worker acts. Each `Storage` keeps them here for
`TTL_SECONDS`. A change written through any `Storage` of this process forgets every entry
of every cache in the process at once, when it is written and again once it is committed
(a read that ran between the two cannot keep the old value); a change made by another process
(another app instance, a worker, a `skillpath` command) is seen within `TTL_SECONDS`.

What is not kept here: whether a registration and its deployment exist and are active. A
launch checks those in the database every time, so removing or disabling a platform ends its
launches and sessions at once.

Values must be immutable (tuples, frozen records, parsed catalogs that nobody changes).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cachetools import TTLCache
from sqlalchemy.orm import Session

# How long another process's change may go unseen.
TTL_SECONDS = 5.0
# Entries per process (a few per tenant).
SIZE = 4096

T = TypeVar("T")
CHANGED = "skillpath_settings_changed"
_MISSING = object()
# Bumped by every change written in this process: every cache compares it on each read.
_generations = itertools.count(1)
_generation = 0
_generation_lock = threading.Lock()


def _bump() -> None:
    global _generation
    with _generation_lock:
        _generation = next(_generations)


class SettingsCache:
    """Tenant settings by key, for `ttl` seconds, forgotten at once on a change in this
    process (`changed`)."""

    def __init__(
        self,
        ttl: float = TTL_SECONDS,
        size: int = SIZE,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: TTLCache[Hashable, Any] = TTLCache(maxsize=size, ttl=ttl, timer=timer)
        self._lock = threading.Lock()
        self._seen = _generation

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value kept for `key`, else `load()` (kept unless a change came meanwhile)."""
        with self._lock:
            if self._seen != _generation:
                self._entries.clear()
                self._seen = _generation
            found = self._entries.get(key, _MISSING)
            seen = self._seen
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        value = load()
        with self._lock:
            if seen == _generation:
                self._entries[key] = value
        return value

    @staticmethod
    def changed(session: Session) -> None:
        """A tenant setting was written in `session`: every cache of this process forgets
        now, and again when the session commits (`Storage.transaction`)."""
        session.info[CHANGED] = True
        _bump()

    @staticmethod
    def committed(session: Session) -> None:
        """After a commit: forget again if the session wrote a tenant setting."""
        if session.info.pop(CHANGED, False):
            _bump()
