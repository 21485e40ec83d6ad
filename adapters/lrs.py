"""Per-LRS quirks, chosen by what the LRS's `/about` and behaviour reveal.

Each adapter is a `xapi.sync.PagingStrategy` (how statement pages are fetched) with a name, kept
in `LRS_ADAPTERS` keyed by that name. `detect_lrs` names the LRS behind a client; `adapter_for`
returns its adapter, falling back to the standard behaviour (and saying so in the log) for a
name it does not know.

Known quirks handled here:
- Learning Locker (`xapi-statements`): the `more` link of a query with an `agent` filter is
  built from the parsed agent object and comes out as `agent=[object Object]`, so following it
  fails or returns other people's statements. Per-learner queries therefore page by `since`
  on the last `stored` read (the same query re-issued) instead of following `more`.
- Ralph (filesystem backend): `since` is compared with each statement's `timestamp`, not its
  `stored`, so a sync cannot trust it; the sync reads the stream and filters on `stored` itself.
  Its `ascending` flag is inverted.

May import xapi and the standard library; never flask or sqlalchemy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from xapi.client import LrsClient, StatementPage, StatementQuery
from xapi.errors import XapiError
from xapi.sync import PagingStrategy, StandardPaging
from xapi.timestamps import parse_timestamp

__all__ = [
    "LRS_ADAPTERS",
    "LearningLockerPaging",
    "RalphPaging",
    "adapter_for",
    "adapter_for_client",
    "detect_lrs",
]

log = logging.getLogger(__name__)


class LearningLockerPaging(StandardPaging):
    """Learning Locker: follow `more` except for agent-filtered queries (see module doc)."""

    name = "learning-locker"
    since_filters_on_stored = True

    def pages(
        self, client: LrsClient, query: StatementQuery, *, deadline: float | None = None
    ) -> Iterator[StatementPage]:
        if query.agent is None:
            return client.iter_pages(query, deadline=deadline)
        return self._pages_by_since(client, query, deadline)

    @staticmethod
    def _pages_by_since(
        client: LrsClient, query: StatementQuery, deadline: float | None
    ) -> Iterator[StatementPage]:
        limit = query.limit or 500
        query = replace(query, ascending=True, limit=limit)
        seen: set[str] = set()
        while True:
            page = client.get_statements(query, deadline=deadline)
            fresh = [s for s in page.statements if _statement_id(s) not in seen]
            seen.update(_statement_id(s) for s in page.statements)
            yield replace(page, statements=fresh, more=None)
            if len(page.statements) < limit:
                return
            last = _last_stored(page)
            if not fresh or last is None:
                # A whole page stored in one millisecond: ask for a bigger page instead.
                limit *= 2
                query = replace(query, limit=limit)
                continue
            # `since` is exclusive: step back a millisecond and drop what was already read.
            query = replace(query, since=last - timedelta(milliseconds=1))


class RalphPaging(StandardPaging):
    """Ralph: `since` filters on `timestamp`, so the sync filters on `stored` itself; any
    `ascending` parameter reverses each page, and its default order is oldest first already."""

    name = "ralph"
    since_filters_on_stored = False

    def pages(
        self, client: LrsClient, query: StatementQuery, *, deadline: float | None = None
    ) -> Iterator[StatementPage]:
        return client.iter_pages(replace(query, ascending=None), deadline=deadline)


LRS_ADAPTERS: Mapping[str, Callable[[], PagingStrategy]] = {
    "standard": StandardPaging,
    "learning-locker": LearningLockerPaging,
    "ralph": RalphPaging,
}


def adapter_for(name: str | None) -> PagingStrategy:
    """The adapter registered under `name`; the standard one (logged) when unknown."""
    factory = LRS_ADAPTERS.get(name or "")
    if factory is None:
        log.info("no LRS adapter for %r; using standard xAPI behaviour", name)
        return StandardPaging()
    return factory()


def detect_lrs(client: LrsClient) -> str:
    """Name the LRS behind `client` from its `/about` and, when that says nothing, behaviour.

    Learning Locker's statement service answers `/about` with its version header echoed in the
    body; Ralph has no `/about` and answers `/whoami` at the server root.
    """
    try:
        about = client.about()
    except XapiError as error:
        log.warning("could not read the LRS's /about: %s", error)
        return "unknown"
    if "X-Experience-API-Version" in about:
        return "learning-locker"
    extensions = about.get("extensions")
    if isinstance(extensions, Mapping):
        text = " ".join(str(key) for key in extensions).lower()
        for name in ("learning-locker", "learninglocker", "ralph"):
            if name in text:
                return "learning-locker" if "learning" in name else name
    if not about:
        try:
            client.get_document("/whoami")
            return "ralph"
        except XapiError:
            pass
    return "unknown"


def adapter_for_client(client: LrsClient) -> PagingStrategy:
    """Detect the LRS behind `client` and return its adapter."""
    return adapter_for(detect_lrs(client))


def _statement_id(statement: Any) -> str:
    return str(statement.get("id")) if isinstance(statement, Mapping) else ""


def _last_stored(page: StatementPage) -> Any:
    for statement in reversed(page.statements):
        if isinstance(statement, Mapping):
            try:
                return parse_timestamp(statement.get("stored"))
            except ValueError:
                continue
    return None
