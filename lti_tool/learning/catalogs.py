"""Catalog import and lookup, per tenant (issuer + client id) or the default.

Validation is the engine's (`recommender.load_catalog`): a bad document names the JSON path
of each bad field and imports nothing. Ids are stable keys, so re-importing a changed
catalog updates it in place and learner history (kept by lesson and competency id) stays.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.errors import ConfigurationError
from lti_tool.models import CatalogRecord, utcnow
from recommender import Catalog, CatalogError, load_catalog


@dataclass(frozen=True)
class ImportResult:
    created: bool
    changed: bool
    competencies: int
    lessons: int
    pathways: int


def _digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def import_catalog(
    session: Session, document: Any, issuer: str = "", client_id: str = ""
) -> ImportResult:
    """Validate and store `document` for the tenant; raise `ConfigurationError` naming
    every bad field (nothing is stored then)."""
    if bool(issuer) != bool(client_id):
        raise ConfigurationError(
            "give both --issuer and --client-id, or neither (the default catalog)"
        )
    try:
        catalog = load_catalog(document)
    except CatalogError as exc:
        raise ConfigurationError(
            f"the catalog was not imported: {exc}", details={"errors": exc.errors}
        ) from None
    digest = _digest(document)
    record = session.scalars(
        select(CatalogRecord).where(
            CatalogRecord.issuer == issuer, CatalogRecord.client_id == client_id
        )
    ).first()
    created = record is None
    changed = created or (record is not None and record.digest != digest)
    if record is None:
        record = CatalogRecord(issuer=issuer, client_id=client_id, document=document, digest=digest)
        session.add(record)
    elif changed:
        record.document, record.digest, record.imported_at = document, digest, utcnow()
    session.flush()
    return ImportResult(
        created=created,
        changed=changed,
        competencies=len(catalog.competencies),
        lessons=len(catalog.lessons),
        pathways=len(catalog.pathways),
    )


# Parsed catalogs by digest: a launch reads the digest and parses only a version it has not
# seen (a catalog of thousands of lessons is milliseconds to parse, not to look up).
_PARSED: dict[str, Catalog] = {}
_PARSED_LOCK = threading.Lock()


def catalog_for(session: Session, issuer: str, client_id: str) -> Catalog | None:
    """The tenant's catalog, else the default one, else None. Parsed once per version."""
    rows = session.execute(
        select(CatalogRecord.id, CatalogRecord.issuer, CatalogRecord.digest).where(
            ((CatalogRecord.issuer == issuer) & (CatalogRecord.client_id == client_id))
            | ((CatalogRecord.issuer == "") & (CatalogRecord.client_id == ""))
        )
    ).all()
    if not rows:
        return None
    row = min(rows, key=lambda r: r.issuer == "")  # the tenant's own first
    with _PARSED_LOCK:
        parsed = _PARSED.get(row.digest)
    if parsed is None:
        document = session.scalars(
            select(CatalogRecord.document).where(CatalogRecord.id == row.id)
        ).one()
        parsed = load_catalog(document)
        with _PARSED_LOCK:
            if len(_PARSED) > 64:
                _PARSED.clear()
            _PARSED[row.digest] = parsed
    return parsed
