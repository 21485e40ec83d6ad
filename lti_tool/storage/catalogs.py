"""Catalog documents per tenant (or the default), and the parsed catalogs of this process.

A launch reads only the digest of its tenant's catalog and parses a version it has not seen
(parsing thousands of lessons takes milliseconds; a digest lookup does not).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.storage.models import CatalogRow
from lti_tool.storage.records import Tenant
from lti_tool.storage.settings_cache import SettingsCache
from recommender import Catalog, load_catalog

# How many parsed catalogs (distinct versions) one process keeps.
PARSED_LIMIT = 64


class ParsedCatalogs:
    """Parsed catalogs by digest, shared by the threads of one process."""

    def __init__(self, limit: int = PARSED_LIMIT) -> None:
        self._by_digest: dict[str, Catalog] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def get(self, digest: str) -> Catalog | None:
        with self._lock:
            return self._by_digest.get(digest)

    def put(self, digest: str, catalog: Catalog) -> None:
        with self._lock:
            if len(self._by_digest) >= self._limit:
                self._by_digest.clear()
            self._by_digest[digest] = catalog


class CatalogRepository:
    def __init__(self, session: Session, parsed: ParsedCatalogs, settings: SettingsCache) -> None:
        self._session = session
        self._parsed = parsed
        self._settings = settings

    def _row(self, tenant: Tenant) -> CatalogRow | None:
        return self._session.scalars(
            select(CatalogRow).where(
                CatalogRow.issuer == tenant.issuer, CatalogRow.client_id == tenant.client_id
            )
        ).first()

    def digest(self, tenant: Tenant) -> str | None:
        """The digest of the tenant's own catalog (not the default), or None."""
        return self._session.scalar(
            select(CatalogRow.digest).where(
                CatalogRow.issuer == tenant.issuer, CatalogRow.client_id == tenant.client_id
            )
        )

    def document(self, tenant: Tenant) -> dict[str, Any] | None:
        """The tenant's own catalog document, or None."""
        row = self._row(tenant)
        return dict(row.document) if row is not None else None

    def save(self, tenant: Tenant, document: Mapping[str, Any], digest: str, now: datetime) -> bool:
        """Store the document as the tenant's catalog. True when there was none before."""
        row = self._row(tenant)
        if row is None:
            self._session.add(
                CatalogRow(
                    issuer=tenant.issuer,
                    client_id=tenant.client_id,
                    document=dict(document),
                    digest=digest,
                    imported_at=now,
                )
            )
            self._session.flush()
            SettingsCache.changed(self._session)
            return True
        row.document, row.digest, row.imported_at = dict(document), digest, now
        self._session.flush()
        SettingsCache.changed(self._session)
        return False

    def for_tenant(self, tenant: Tenant) -> Catalog | None:
        """The tenant's catalog, else the default one, else None. Parsed once per version."""
        found = self.effective(tenant)
        return found[1] if found is not None else None

    def effective(self, tenant: Tenant) -> tuple[str, Catalog] | None:
        """(digest, catalog) of the catalog the tenant uses: its own, else the default (kept
        for a few seconds: `settings_cache`)."""
        return self._settings.get(("catalog", tenant), lambda: self._effective(tenant))

    def _effective(self, tenant: Tenant) -> tuple[str, Catalog] | None:
        rows = self._session.execute(
            select(CatalogRow.id, CatalogRow.issuer, CatalogRow.digest).where(
                ((CatalogRow.issuer == tenant.issuer) & (CatalogRow.client_id == tenant.client_id))
                | ((CatalogRow.issuer == "") & (CatalogRow.client_id == ""))
            )
        ).all()
        if not rows:
            return None
        row = min(rows, key=lambda r: r.issuer == "")  # the tenant's own first
        return row.digest, self._parsed_row(row.id, row.digest)

    def all_lesson_ids(self) -> set[str]:
        """Every lesson id of every stored catalog (what the background sync looks for)."""
        ids: set[str] = set()
        for row_id, digest in self._session.execute(select(CatalogRow.id, CatalogRow.digest)):
            ids.update(self._parsed_row(row_id, digest).lessons)
        return ids

    def _parsed_row(self, row_id: int, digest: str) -> Catalog:
        parsed = self._parsed.get(digest)
        if parsed is None:
            document = self._session.scalars(
                select(CatalogRow.document).where(CatalogRow.id == row_id)
            ).one()
            parsed = load_catalog(document)
            self._parsed.put(digest, parsed)
        return parsed
