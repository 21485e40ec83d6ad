"""Pulling evidence from an LRS: the incremental sync of everyone, and one learner's refresh.

The sync reads from a stored cursor per LRS (the `stored` instant it is safe to resume from,
plus the ids already read near that instant, so statements stored in the same millisecond are
neither lost nor counted twice), follows `more` to the end, and never moves the cursor past the
LRS's `X-Experience-API-Consistent-Through`. The cursor is kept by the caller through the small
`CursorStore` port. How pages are fetched is a `PagingStrategy` (LRS quirks live in `adapters/`).

Must not import flask, sqlalchemy or `adapters` (adapters import us, not the reverse).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from recommender.observation import Observation
from xapi.client import LrsClient, StatementPage, StatementQuery
from xapi.identity import ActorMatcher
from xapi.reader import EvidenceReader, ReadCounts
from xapi.timestamps import format_timestamp, parse_timestamp

__all__ = [
    "CursorStore",
    "PagingStrategy",
    "RefreshResult",
    "StandardPaging",
    "SyncCursor",
    "SyncResult",
    "refresh_learner",
    "sync_lrs",
    "sync_pages",
    "sync_statements",
]

# Statements stored this close before the cursor are read again and deduplicated by id: LRSs
# disagree on whether `since` is exclusive, and store milliseconds or microseconds. Kept small:
# everything stored within it is read twice and its ids kept in the cursor.
OVERLAP = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class SyncCursor:
    """Where the next sync of one LRS resumes: `since`, and ids (with their `stored`) already
    read at or after `since - OVERLAP`."""

    since: datetime | None = None
    seen: Mapping[str, datetime] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the store."""
        return {
            "since": format_timestamp(self.since) if self.since else None,
            "seen": {sid: format_timestamp(at) for sid, at in self.seen.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SyncCursor:
        """The inverse of `to_dict`."""
        since = data.get("since")
        return cls(
            since=parse_timestamp(since) if since else None,
            seen={sid: parse_timestamp(at) for sid, at in dict(data.get("seen", {})).items()},
        )


class CursorStore(Protocol):
    """Where the caller keeps one cursor per LRS (a database row in the app)."""

    def load(self, lrs_key: str) -> SyncCursor | None: ...

    def save(self, lrs_key: str, cursor: SyncCursor) -> None: ...


class PagingStrategy(Protocol):
    """How statement pages are fetched from one kind of LRS (see `adapters.lrs`)."""

    name: str
    # False when the LRS's `since` compares `timestamp` instead of `stored` (then the sync
    # reads everything and filters on `stored` itself).
    since_filters_on_stored: bool

    def pages(
        self, client: LrsClient, query: StatementQuery, *, deadline: float | None = None
    ) -> Iterator[StatementPage]: ...


class StandardPaging:
    """xAPI as the spec says it: follow `more` to the end."""

    name = "standard"
    since_filters_on_stored = True

    def pages(
        self, client: LrsClient, query: StatementQuery, *, deadline: float | None = None
    ) -> Iterator[StatementPage]:
        return client.iter_pages(query, deadline=deadline)


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What a sync found. The caller stores `observations`, drops any stored observation whose
    statement id is in `voided_statement_ids`, then saves `cursor`."""

    observations: list[Observation]
    voided_statement_ids: frozenset[str]
    cursor: SyncCursor
    counts: ReadCounts
    pages: int


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """One learner's statements read at launch."""

    observations: list[Observation]
    voided_statement_ids: frozenset[str]
    counts: ReadCounts


def sync_statements(
    client: LrsClient,
    lesson_ids: Collection[str],
    matcher: ActorMatcher,
    cursor: SyncCursor | None = None,
    *,
    paging: PagingStrategy | None = None,
    page_size: int = 500,
) -> SyncResult:
    """Read every statement stored since `cursor` (all of them when None) to the end."""
    paging = paging or StandardPaging()
    cursor = cursor or SyncCursor()
    query_since = cursor.since - OVERLAP if cursor.since else None
    query = StatementQuery(
        since=query_since if paging.since_filters_on_stored else None,
        limit=page_size,
        ascending=True,
    )
    reader = EvidenceReader(lesson_ids, matcher, seen_ids=cursor.seen.keys())
    consistent_through: datetime | None = None
    pages = 0
    for page in paging.pages(client, query):
        pages += 1
        if consistent_through is None and page.consistent_through is not None:
            consistent_through = page.consistent_through
        statements = page.statements
        if query_since is not None and not paging.since_filters_on_stored:
            statements = [s for s in statements if not _stored_before(s, query_since)]
        reader.add_page(statements)
    return SyncResult(
        observations=reader.observations(),
        voided_statement_ids=reader.voided_ids,
        cursor=_advance(cursor, reader.stored_times, consistent_through),
        counts=reader.counts,
        pages=pages,
    )


def sync_pages(
    client: LrsClient,
    lesson_ids: Collection[str],
    matcher: ActorMatcher,
    cursor: SyncCursor | None = None,
    *,
    paging: PagingStrategy | None = None,
    page_size: int = 500,
) -> Iterator[SyncResult]:
    """Read every statement stored since `cursor`, one result per page, in constant memory:
    each result holds only its page's observations and voided ids, and the cursor to resume
    from once the caller has stored them. A caller that saves each page's cursor with its
    evidence resumes after the last page it stored when the sync is stopped midway.

    Voiding across pages: pages come in `stored` order, and a voiding statement is stored
    after its target, so the caller has the target when the voiding one arrives (it marks it
    voided). Only the ids near the cursor (`OVERLAP`) are remembered between pages.
    """
    paging = paging or StandardPaging()
    cursor = cursor or SyncCursor()
    query_since = cursor.since - OVERLAP if cursor.since else None
    query = StatementQuery(
        since=query_since if paging.since_filters_on_stored else None,
        limit=page_size,
        ascending=True,
    )
    consistent_through: datetime | None = None
    pages = 0
    for page in paging.pages(client, query):
        pages += 1
        if consistent_through is None and page.consistent_through is not None:
            consistent_through = page.consistent_through
        statements = page.statements
        if query_since is not None and not paging.since_filters_on_stored:
            statements = [s for s in statements if not _stored_before(s, query_since)]
        reader = EvidenceReader(lesson_ids, matcher, seen_ids=cursor.seen.keys())
        reader.add_page(statements)
        cursor = _advance(cursor, reader.stored_times, consistent_through)
        yield SyncResult(
            observations=reader.observations(),
            voided_statement_ids=reader.voided_ids,
            cursor=cursor,
            counts=reader.counts,
            pages=pages,
        )


def sync_lrs(
    client: LrsClient,
    store: CursorStore,
    lrs_key: str,
    lesson_ids: Collection[str],
    matcher: ActorMatcher,
    *,
    paging: PagingStrategy | None = None,
    page_size: int = 500,
) -> SyncResult:
    """`sync_statements` from the stored cursor of `lrs_key`; saves the new cursor.

    Save the observations before calling this again: the cursor is saved here, so a caller
    that stores observations in the same transaction should call `sync_statements` and
    `store.save` itself instead.
    """
    result = sync_statements(
        client, lesson_ids, matcher, store.load(lrs_key), paging=paging, page_size=page_size
    )
    store.save(lrs_key, result.cursor)
    return result


def refresh_learner(
    client: LrsClient,
    actor: Mapping[str, Any],
    lesson_ids: Collection[str],
    matcher: ActorMatcher,
    *,
    since: datetime | None = None,
    timeout_seconds: float = 2.0,
    paging: PagingStrategy | None = None,
    page_size: int = 500,
) -> RefreshResult:
    """The statements of one learner (agent filter), bounded by `timeout_seconds` overall.

    `since` (the newest `stored` the caller already has for this learner) limits the read;
    observations come with their `statement_id`, which the caller deduplicates on.

    Raises `xapi.errors.LrsTimeout` (or another `XapiError`) when the LRS is slow or down:
    the caller then uses the last known state and says how old it is.
    """
    paging = paging or StandardPaging()
    deadline = client.clock() + timeout_seconds
    query_since = since - OVERLAP if since else None
    query = StatementQuery(
        agent=actor,
        since=query_since if paging.since_filters_on_stored else None,
        limit=page_size,
        ascending=True,
    )
    reader = EvidenceReader(lesson_ids, matcher)
    for page in paging.pages(client, query, deadline=deadline):
        statements = page.statements
        if query_since is not None and not paging.since_filters_on_stored:
            statements = [s for s in statements if not _stored_before(s, query_since)]
        reader.add_page(statements)
    return RefreshResult(reader.observations(), reader.voided_ids, reader.counts)


def _stored_before(statement: Any, moment: datetime) -> bool:
    try:
        return parse_timestamp(statement["stored"]) <= moment
    except (KeyError, TypeError, ValueError):
        return False


def _advance(
    cursor: SyncCursor, stored: Mapping[str, datetime], consistent_through: datetime | None
) -> SyncCursor:
    """The next cursor: the newest `stored` read, but never past Consistent-Through."""
    times = list(stored.values()) + ([cursor.since] if cursor.since else [])
    if not times:
        return cursor
    since = max(times)
    if consistent_through is not None and since > consistent_through:
        # The LRS vouches only for what was stored up to Consistent-Through: resume there (but
        # never before the old cursor), keeping the ids read since for deduplication.
        since = max([consistent_through] + ([cursor.since] if cursor.since else []))
    floor = since - OVERLAP
    seen = {sid: at for sid, at in cursor.seen.items() if at >= floor}
    seen.update({sid: at for sid, at in stored.items() if at >= floor})
    return SyncCursor(since=since, seen=seen)
