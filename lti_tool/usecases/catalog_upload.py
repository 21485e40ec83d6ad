"""A catalog uploaded in the admin console: read safely, validated with the JSON path of every
bad field, compared with the catalog it would replace, and imported only when the admin
confirms that comparison.

Refused with one clear message before validation, importing nothing: a file over
the installation's catalog size (`SKILLPATH_CATALOG_MAX_BYTES`, as for `catalog import`), one
that is not UTF-8, or one holding characters no catalog may (NUL,
other control characters, lone surrogates: PostgreSQL refuses the first, Python cannot
encode the last, and `"\\ud800"` is valid JSON).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lti_tool.errors import ConfigurationError, InvalidUpload
from lti_tool.storage import Tenant
from lti_tool.usecases import admin
from lti_tool.usecases.audit import AdminActor
from lti_tool.usecases.catalogs import ImportResult
from lti_tool.usecases.console import resolve
from lti_tool.usecases.ports import Ports
from recommender import CatalogError, load_catalog

PENDING_SECONDS = 1800
SECTIONS = ("competencies", "lessons", "pathways")
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def _bad_character(text: str) -> str | None:
    for char in text:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return "a lone surrogate"
        if char == "\x00":
            return "a NUL character"
        if (code < 0x20 and char not in _ALLOWED_CONTROLS) or code == 0x7F:
            return f"the control character U+{code:04X}"
    return None


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a JSON document (keys too) with its JSON path."""
    if isinstance(value, str):
        yield path or "(document)", value
    elif isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            yield here, str(key)
            yield from _strings(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def read_catalog_file(data: bytes, max_bytes: int) -> Any:
    """The uploaded bytes as a JSON value, or `InvalidUpload` with one clear message. The
    size limit is the installation's (`SKILLPATH_CATALOG_MAX_BYTES`, as for the command)."""
    if len(data) > max_bytes:
        raise InvalidUpload(
            f"The file is {len(data) // 1024} KB; catalogs up to {max_bytes // 1024} KB "
            "are accepted. Nothing was imported."
        )
    if not data.strip():
        raise InvalidUpload("The file is empty. Nothing was imported.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidUpload(
            f"The file is not UTF-8 text (byte {exc.start} is not valid UTF-8): save it as "
            "UTF-8 and upload it again. Nothing was imported."
        ) from None
    bad = _bad_character(text)
    if bad is not None:
        raise InvalidUpload(f"The file holds {bad}, which no catalog may. Nothing was imported.")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidUpload(
            f"The file is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            "Nothing was imported."
        ) from None
    for path, value in _strings(document):
        bad = _bad_character(value)
        if bad is not None:
            raise InvalidUpload(f"{path} holds {bad}, which no catalog may. Nothing was imported.")
    return document


@dataclass(frozen=True)
class SectionDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True)
class CatalogPreview:
    """What an upload would do: its problems (JSON path, message), or the changes it makes
    to the current catalog and the token that confirms it."""

    errors: list[tuple[str, str]]
    diff: dict[str, SectionDiff]
    first_import: bool
    token: str | None
    counts: Mapping[str, int]

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def unchanged(self) -> bool:
        return self.valid and not self.first_import and all(d.empty for d in self.diff.values())


def _by_id(document: Any, section: str) -> dict[str, Any]:
    items = document.get(section) if isinstance(document, dict) else None
    return {
        str(item["id"]): item
        for item in items or []
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }


def _describe(item_id: str, before: dict[str, Any], after: dict[str, Any]) -> str:
    fields = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return f"{item_id} ({', '.join(fields)})"


def compare(current: Any, uploaded: Any) -> dict[str, SectionDiff]:
    """Per section: ids added, removed, and changed (with the fields that changed)."""
    diff: dict[str, SectionDiff] = {}
    for section in SECTIONS:
        old, new = _by_id(current, section), _by_id(uploaded, section)
        diff[section] = SectionDiff(
            added=sorted(set(new) - set(old)),
            removed=sorted(set(old) - set(new)),
            changed=[
                _describe(i, old[i], new[i])
                for i in sorted(set(old) & set(new))
                if old[i] != new[i]
            ],
        )
    return diff


def preview_upload(ports: Ports, actor: AdminActor, key: str, data: bytes) -> CatalogPreview:
    """Read and validate an upload for the tenant `key` names; a valid one is kept for
    `PENDING_SECONDS` under a token the admin's confirmation sends back."""
    tenant, _ = resolve(ports, actor, key)
    document = read_catalog_file(data, ports.settings.catalog_max_bytes)
    try:
        catalog = load_catalog(document)
    except CatalogError as exc:
        return CatalogPreview(list(exc.errors), {}, False, None, {})
    with ports.storage.transaction() as tx:
        current = tx.catalogs.document(tenant)
    token = secrets.token_urlsafe(24)
    ports.store.put(
        "catalog-upload:" + token,
        {
            "issuer": tenant.issuer,
            "client_id": tenant.client_id,
            "actor": actor.label,
            "document": document,
        },
        PENDING_SECONDS,
    )
    counts = {
        "competencies": len(catalog.competencies),
        "lessons": len(catalog.lessons),
        "pathways": len(catalog.pathways),
    }
    return CatalogPreview([], compare(current or {}, document), current is None, token, counts)


def confirm_upload(ports: Ports, actor: AdminActor, key: str, token: str) -> ImportResult:
    """Import the upload the token names, into the tenant it was uploaded for, by the
    admin who uploaded it (once)."""
    tenant, _ = resolve(ports, actor, key)
    pending = ports.store.take("catalog-upload:" + token) if token else None
    if (
        not isinstance(pending, dict)
        or Tenant(pending.get("issuer", ""), pending.get("client_id", "")) != tenant
        or pending.get("actor") != actor.label
    ):
        raise ConfigurationError(
            "This upload was already imported or has expired: upload the file again.",
            code="upload_expired",
        )
    return admin.import_catalog(ports, pending["document"], tenant, actor)
