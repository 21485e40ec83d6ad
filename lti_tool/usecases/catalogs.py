"""Catalog import and lookup, per tenant or the default.

Before the engine sees a document, it must be one Skillpath can keep and show: at most
`SKILLPATH_CATALOG_MAX_BYTES` of UTF-8 JSON, at most `SKILLPATH_CATALOG_MAX_ITEMS`
competencies, lessons and pathways, no NUL or lone surrogate anywhere, no string, number or
nesting beyond `CATALOG_JSON`, and the fields below within their columns and calendars.
Validation is then the engine's (`recommender.load_catalog`): a bad document names the JSON
path of each bad field and imports nothing. Ids are stable keys, so re-importing a changed
catalog updates it in place and learner history (kept by lesson and competency id) stays.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config import Settings
from lti_tool.errors import ConfigurationError, NoCatalog
from lti_tool.inputs import JsonLimits, json_problems, printable, text_problem
from lti_tool.lti import registrations
from lti_tool.storage import Tenant, Transaction
from lti_tool.usecases import pre_assessment
from recommender import Catalog, CatalogError, load_catalog

CATALOG_JSON = JsonLimits(max_depth=32, max_string=10_000)
LISTS = ("competencies", "lessons", "pathways")
# Lesson ids are kept in columns of 1000 characters (evidence, the last recommendation); a
# lesson's URL goes into a redirect's Location header; durations and due dates are added to
# today's date, so they must stay within a calendar.
LESSON_ID_LENGTH = 1000
LESSON_URL_LENGTH = 2000
MAX_DURATION_MINUTES = 7 * 24 * 60
MAX_DUE_DAYS = 3660
# How many problems one refusal lists (the rest are counted).
SHOWN_PROBLEMS = 10


@dataclass(frozen=True)
class CatalogLimits:
    max_bytes: int = Settings.catalog_max_bytes
    max_items: int = Settings.catalog_max_items

    @classmethod
    def of(cls, settings: Settings) -> CatalogLimits:
        return cls(settings.catalog_max_bytes, settings.catalog_max_items)


@dataclass(frozen=True)
class ImportResult:
    created: bool
    changed: bool
    competencies: int
    lessons: int
    pathways: int


def digest_of(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def refusal(problems: Sequence[tuple[str, str]]) -> ConfigurationError:
    """One line naming the first problems by JSON path, and how many more there are."""
    lines = [
        printable(f"{path}: {text}" if path else text) for path, text in problems[:SHOWN_PROBLEMS]
    ]
    more = len(problems) - SHOWN_PROBLEMS
    message = "the catalog was not imported: " + "; ".join(lines)
    if more > 0:
        message += f"; and {more} more"
    return ConfigurationError(message, details={"errors": list(problems)})


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_catalog(raw: bytes, limits: CatalogLimits) -> Any:
    """The JSON document in `raw` (UTF-8), or `ConfigurationError` saying why not."""
    if len(raw) > limits.max_bytes:
        raise ConfigurationError(
            f"the catalog is larger than {limits.max_bytes} bytes (SKILLPATH_CATALOG_MAX_BYTES)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"the catalog is not UTF-8 text ({exc.reason})") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ConfigurationError("the catalog is not JSON: it is nested too deeply") from None
    except ValueError as exc:
        raise ConfigurationError(f"the catalog is not JSON: {exc}") from None


def _field_problems(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for i, lesson in enumerate(_items(document, "lessons")):
        for key, limit in (("id", LESSON_ID_LENGTH), ("url", LESSON_URL_LENGTH)):
            value = lesson.get(key)
            problem = text_problem(value, limit) if isinstance(value, str) else None
            if problem:
                yield f"lessons[{i}].{key}", problem
        minutes = lesson.get("duration_minutes")
        if _over(minutes, MAX_DURATION_MINUTES):
            yield f"lessons[{i}].duration_minutes", f"must be at most {MAX_DURATION_MINUTES}"
    for i, pathway in enumerate(_items(document, "pathways")):
        milestones = pathway.get("milestones")
        for j, milestone in enumerate(milestones if isinstance(milestones, list) else ()):
            due = milestone.get("due_days") if isinstance(milestone, dict) else None
            if _over(due, MAX_DUE_DAYS):
                yield f"pathways[{i}].milestones[{j}].due_days", f"must be at most {MAX_DUE_DAYS}"


def _items(document: dict[str, Any], key: str) -> Iterator[dict[str, Any]]:
    values = document.get(key)
    for value in values if isinstance(values, list) else ():
        if isinstance(value, dict):
            yield value


def _over(value: Any, limit: float) -> bool:
    """A number (not a boolean) above `limit`."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value > limit


def check_limits(document: Any, limits: CatalogLimits) -> None:
    """Refuse what no page could take, before the engine reads the document."""
    problems = list(json_problems(document, CATALOG_JSON))
    if isinstance(document, dict):
        for key in LISTS:
            values = document.get(key)
            if isinstance(values, list) and len(values) > limits.max_items:
                problems.append(
                    (
                        key,
                        f"has {len(values)} items, more than {limits.max_items} "
                        "(SKILLPATH_CATALOG_MAX_ITEMS)",
                    )
                )
        if not problems:
            problems.extend(_field_problems(document))
    if problems:
        raise refusal(problems)


def import_catalog(
    tx: Transaction,
    document: Any,
    tenant: Tenant,
    now: datetime,
    limits: CatalogLimits | None = None,
) -> ImportResult:
    """Validate and store `document` for the tenant (or `Tenant.DEFAULT`); raise
    `ConfigurationError` naming every bad field (nothing is stored then)."""
    if bool(tenant.issuer) != bool(tenant.client_id):
        raise ConfigurationError(
            "give both --issuer and --client-id, or neither (the default catalog)"
        )
    registrations.check_tenant(tenant)
    check_limits(document, limits or CatalogLimits())
    if not tenant.is_default and tx.registrations.find(tenant) is None:
        raise ConfigurationError(
            f"no platform with issuer {tenant.issuer!r} and client id {tenant.client_id!r} "
            "is registered: register it first, or import the default catalog"
        )
    try:
        catalog = load_catalog(document)
    except CatalogError as exc:
        raise refusal(exc.errors) from None
    extension_problems = _extension_problems(document, list(catalog.competencies))
    if extension_problems:
        raise refusal(extension_problems)
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
