"""Tenant settings read on every request are kept by each process for a few seconds: a change
written in this process is seen at once (by every `Storage` of the process), a change written
by another process within the time to live, and a read that overlapped a change is not kept.
Real SQLite files; "another process" is a statement run on the database without the
repositories, which is all another process's write looks like from here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from lti_tool.storage.database import Storage
from lti_tool.storage.records import Tenant
from lti_tool.storage.settings_cache import TTL_SECONDS, SettingsCache
from tests.lti_tool.db import add_registration

TENANT = Tenant("https://lms.example", "client-1")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
CATALOG = Path(__file__).parents[2] / "fixtures" / "catalog-example.json"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'settings.sqlite'}"


@pytest.fixture
def storage(url: str, clock: Clock) -> Iterator[Storage]:
    storage = Storage(url)
    storage.upgrade()
    storage.settings = SettingsCache(timer=clock)
    yield storage
    storage.dispose()


def endpoint(storage: Storage) -> str | None:
    with storage.reading() as tx:
        found = tx.lrs.for_tenant(TENANT)
    return found.endpoint if found is not None else None


def set_lrs(storage: Storage, address: str) -> None:
    with storage.transaction() as tx:
        tx.lrs.save(TENANT, address, "user", "sealed", NOW)


def test_a_change_written_in_this_process_is_seen_at_once_by_every_storage(
    storage: Storage, url: str, clock: Clock
) -> None:
    other = Storage(url)  # a second Storage of the same process, its own cache
    other.settings = SettingsCache(timer=clock)
    try:
        assert endpoint(storage) is None and endpoint(other) is None  # kept: "none"
        set_lrs(storage, "https://lrs-1.example/xapi/")
        assert endpoint(storage) == "https://lrs-1.example/xapi/"
        assert endpoint(other) == "https://lrs-1.example/xapi/"
        set_lrs(other, "https://lrs-2.example/xapi/")
        assert endpoint(storage) == "https://lrs-2.example/xapi/"
    finally:
        other.dispose()


def test_a_change_written_by_another_process_is_seen_within_the_time_to_live(
    storage: Storage, clock: Clock
) -> None:
    set_lrs(storage, "https://lrs-1.example/xapi/")
    assert endpoint(storage) == "https://lrs-1.example/xapi/"
    with storage.engine.begin() as connection:  # not through the repositories
        connection.execute(text("UPDATE lrs_connections SET endpoint = 'https://moved.example/'"))
    assert endpoint(storage) == "https://lrs-1.example/xapi/"  # still the kept value
    clock.now += TTL_SECONDS + 0.1
    assert endpoint(storage) == "https://moved.example/"


def test_each_kept_setting_follows_its_writes(storage: Storage) -> None:
    """The four settings a request reads: the catalog in use, the fit in use, the LRS and the
    platforms' login addresses (frame-ancestors)."""
    document = json.loads(CATALOG.read_text())
    with storage.reading() as tx:
        assert tx.catalogs.effective(TENANT) is None
        assert tx.fits.current_key(TENANT) is None
        assert tx.registrations.login_urls(TENANT) == []
    with storage.transaction() as tx:
        tx.catalogs.save(TENANT, document, "digest-1", NOW)
        add_registration(tx, TENANT, NOW)
        fit = tx.fits.add(
            TENANT,
            catalog_digest="digest-1",
            params={},
            report={},
            active=True,
            verdict="switched on",
            evidence_seen=0,
            now=NOW,
        )
    with storage.reading() as tx:
        found = tx.catalogs.effective(TENANT)
        assert found is not None and found[0] == "digest-1"
        assert tx.fits.current_key(TENANT) == (fit.id, fit.created_at)
        assert tx.registrations.login_urls(TENANT) == [
            ("https://lms.example", "https://lms.example/auth")
        ]
    with storage.transaction() as tx:
        tx.registrations.remove(TENANT)
    with storage.reading() as tx:
        assert tx.registrations.login_urls(TENANT) == []


class Session:
    """What `SettingsCache.changed` needs of a session."""

    def __init__(self) -> None:
        self.info: dict[str, object] = {}


def test_a_read_that_overlapped_a_change_is_not_kept() -> None:
    cache = SettingsCache()
    loads: list[str] = []

    def load_during_a_change() -> str:
        loads.append("old")
        SettingsCache.changed(Session())  # type: ignore[arg-type]  # another thread wrote
        return "old"

    assert cache.get("key", load_during_a_change) == "old"
    assert cache.get("key", lambda: "new") == "new"  # loaded again, not the overlapped read
    assert cache.get("key", lambda: "newer") == "new"  # and now kept


def test_the_commit_forgets_what_was_read_between_the_write_and_the_commit() -> None:
    cache = SettingsCache()
    session = Session()
    SettingsCache.changed(session)  # the write, not yet committed
    assert cache.get("key", lambda: "before the commit") == "before the commit"
    SettingsCache.committed(session)
    assert cache.get("key", lambda: "committed") == "committed"
    SettingsCache.committed(session)  # nothing written since: nothing forgotten
    assert cache.get("key", lambda: "again") == "committed"
