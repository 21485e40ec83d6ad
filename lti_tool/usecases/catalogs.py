"""Catalog import and lookup, per tenant or the default.

Validation is the engine's (`recommender.load_catalog`): a bad document names the JSON path
of each bad field and imports nothing. Ids are stable keys, so re-importing a changed
catalog updates it in place and learner history (kept by lesson and competency id) stays.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lti_tool.errors import ConfigurationError, NoCatalog
from lti_tool.storage import Tenant, Transaction
from lti_tool.usecases import pre_assessment
from recommender import Catalog, CatalogError, load_catalog


@dataclass(frozen=True)
class ImportResult:
    created: bool
    changed: bool
    competencies: int
    lessons: int
    pathways: int


def digest_of(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def import_catalog(tx: Transaction, document: Any, tenant: Tenant, now: datetime) -> ImportResult:
    """Validate and store `document` for the tenant (or `Tenant.DEFAULT`); raise
    `ConfigurationError` naming every bad field (nothing is stored then)."""
    if bool(tenant.issuer) != bool(tenant.client_id):
        raise ConfigurationError(
            "give both --issuer and --client-id, or neither (the default catalog)"
        )
    if not tenant.is_default and tx.registrations.find(tenant) is None:
        raise ConfigurationError(
            f"no platform with issuer {tenant.issuer!r} and client id {tenant.client_id!r} "
            "is registered: register it first, or import the default catalog"
        )
    try:
        catalog = load_catalog(document)
    except CatalogError as exc:
        raise ConfigurationError(
            f"the catalog was not imported: {exc}", details={"errors": exc.errors}
        ) from None
    extension_problems = _extension_problems(document, list(catalog.competencies))
    if extension_problems:
        text = "; ".join(f"{path}: {message}" for path, message in extension_problems)
        raise ConfigurationError(
            f"the catalog was not imported: {text}", details={"errors": extension_problems}
        )
    digest = digest_of(document)
    before = tx.catalogs.digest(tenant)
    changed = before != digest
    created = before is None
    if changed:
        tx.catalogs.save(tenant, document, digest, now)
    return ImportResult(
        created=created,
        changed=changed,
        competencies=len(catalog.competencies),
        lessons=len(catalog.lessons),
        pathways=len(catalog.pathways),
    )


def _extension_problems(document: Any, competencies: list[str]) -> list[tuple[str, str]]:
    """What is wrong with the fields Skillpath's pages read beyond the engine's format (a
    pathway's pre-assessment), as (JSON path, message)."""
    found: list[tuple[str, str]] = []
    for i, pathway in enumerate(document.get("pathways") or []):
        if isinstance(pathway, dict):
            found += pre_assessment.problems(pathway, competencies, f"pathways[{i}]")
    return found


def catalog_for(tx: Transaction, tenant: Tenant) -> Catalog | None:
    """The tenant's catalog, else the default one, else None."""
    return tx.catalogs.for_tenant(tenant)


def require_catalog(tx: Transaction, tenant: Tenant) -> Catalog:
    catalog = tx.catalogs.for_tenant(tenant)
    if catalog is None:
        raise NoCatalog()
    return catalog
