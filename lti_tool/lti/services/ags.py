"""The AGS calls Skillpath makes: find or create a line item, post a score, read results.

Every call goes through `SharedTokenConnector.send` (cached token, granted scopes only) and
answers with the raw HTTP response or a parsed value; the outbox deliverer decides what a
failure means. Errors here (`ServiceCallFailed`) carry the platform's status, body and headers
so callers can classify them.

Ours rather than pylti1p3's `AssignmentsGradesService`: that one raises on every non-2xx
without the answer's headers (no Retry-After for the outbox), lower-cases `Link` URLs, has no
DELETE, and resolves line items without guarding against twins across processes.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from lti_tool.errors import ServiceCallFailed
from lti_tool.lti.services.paging import next_link
from lti_tool.lti.services.tokens import SharedTokenConnector
from lti_tool.lti.vocabulary import LINEITEM_TYPE, LINEITEMS_TYPE, RESULTS_TYPE, SCORE_TYPE
from lti_tool.storage import SharedStore

MAX_PAGES = 100
LINE_ITEM_CACHE_SECONDS = 24 * 3600


def call_failed(what: str, response: requests.Response) -> ServiceCallFailed:
    """The platform's non-success answer, kept whole for classification."""
    return ServiceCallFailed(
        f"{what}: HTTP {response.status_code} {response.text[:300]}",
        peer_status=response.status_code,
        peer_body=response.text,
        headers=dict(response.headers),
    )


@dataclass(frozen=True)
class LineItemSpec:
    """The line item Skillpath owns for a link (pathway progress) or a competency."""

    label: str
    score_maximum: float
    resource_link_id: str | None = None
    tag: str | None = None
    resource_id: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"label": self.label, "scoreMaximum": self.score_maximum}
        if self.resource_link_id:
            body["resourceLinkId"] = self.resource_link_id
        if self.tag:
            body["tag"] = self.tag
        if self.resource_id:
            body["resourceId"] = self.resource_id
        body.update(self.extras)
        return body

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LineItemSpec:
        known = {"label", "scoreMaximum", "resourceLinkId", "tag", "resourceId"}
        return cls(
            label=str(data["label"]),
            score_maximum=float(data["scoreMaximum"]),
            resource_link_id=data.get("resourceLinkId"),
            tag=data.get("tag"),
            resource_id=data.get("resourceId"),
            extras={k: v for k, v in data.items() if k not in known},
        )

    def matches(self, item: Mapping[str, Any]) -> bool:
        return (
            item.get("resourceLinkId") == self.resource_link_id
            and item.get("tag") == self.tag
            and item.get("resourceId") == self.resource_id
        )


def subpath(url: str, segment: str) -> str:
    """`<lineitem>/scores` keeping the line item URL's query string."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + segment))


class LineItemCache:
    """Line item URLs this process has resolved (they do not change while the line item
    exists), and one lock per line item so one thread at a time resolves it (no twins)."""

    def __init__(self) -> None:
        self._urls: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str) -> str | None:
        return self._urls.get(key)

    def put(self, key: str, url: str) -> None:
        self._urls[key] = url

    def forget(self, key: str) -> None:
        self._urls.pop(key, None)

    def lock_for(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class AgsClient:
    """AGS for one registration and one scope set."""

    def __init__(
        self,
        connector: SharedTokenConnector,
        scopes: tuple[str, ...],
        store: SharedStore,
        line_items: LineItemCache,
    ) -> None:
        self.connector = connector
        self.scopes = scopes
        self.store = store
        self._line_items = line_items

    def _get_json(self, url: str, accept: str, params: dict[str, str] | None = None) -> Any:
        response = self.connector.send("GET", url, self.scopes, accept=accept, params=params)
        if not response.ok:
            raise call_failed(f"GET {url}", response)
        return response.json() if response.content else None, response

    def line_items(self, lineitems_url: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        """Every line item of the container matching `filters` (all pages)."""
        found: list[dict[str, Any]] = []
        url: str | None = lineitems_url
        params: dict[str, str] | None = filters or None
        for _ in range(MAX_PAGES):
            if url is None:
                break
            body, response = self._get_json(url, LINEITEMS_TYPE, params)
            found.extend(i for i in (body or []) if isinstance(i, dict))
            url, params = next_link(response.headers.get("Link")), None
        return found

    @staticmethod
    def _line_item_key(lineitems_url: str, spec: LineItemSpec, cache_scope: str) -> str:
        raw = repr((cache_scope, lineitems_url, spec.resource_link_id, spec.tag, spec.resource_id))
        return "ags-lineitem:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]

    def forget_line_item(self, lineitems_url: str, spec: LineItemSpec, cache_scope: str) -> None:
        """Drop a resolved URL the platform no longer knows (the line item was deleted)."""
        key = self._line_item_key(lineitems_url, spec, cache_scope)
        self._line_items.forget(key)
        self.store.delete(key)

    def resolve_line_item(self, lineitems_url: str, spec: LineItemSpec, cache_scope: str) -> str:
        """The URL of the line item `spec` describes: cached, else found, else created.
        One thread per process resolves a given spec at a time (no twin line items)."""
        key = self._line_item_key(lineitems_url, spec, cache_scope)
        known = self._line_items.get(key)
        if known is not None:
            return known
        cached = self.store.get(key)
        if isinstance(cached, str):
            self._line_items.put(key, cached)
            return cached
        with self._line_items.lock_for(key):
            cached = self.store.get(key)
            if isinstance(cached, str):
                return cached
            url = self._find_or_create(lineitems_url, spec)
            self.store.put(key, url, LINE_ITEM_CACHE_SECONDS)
            self._line_items.put(key, url)
            return url

    def _find_or_create(self, lineitems_url: str, spec: LineItemSpec) -> str:
        filters = {}
        if spec.resource_link_id:
            filters["resource_link_id"] = spec.resource_link_id
        if spec.tag:
            filters["tag"] = spec.tag
        if spec.resource_id:
            filters["resource_id"] = spec.resource_id
        for item in self.line_items(lineitems_url, filters):
            # Platforms may ignore the filters: match ourselves.
            if spec.matches(item) and isinstance(item.get("id"), str):
                return str(item["id"])
        response = self.connector.send(
            "POST",
            lineitems_url,
            self.scopes,
            json_body=spec.to_json(),
            content_type=LINEITEM_TYPE,
            accept=LINEITEM_TYPE,
        )
        if not response.ok:
            raise call_failed(f"POST {lineitems_url}", response)
        created = response.json()
        if not isinstance(created, dict) or not isinstance(created.get("id"), str):
            raise call_failed("the created line item has no id", response)
        return self._settle_twins(lineitems_url, spec, filters, str(created["id"]))

    def _settle_twins(
        self, lineitems_url: str, spec: LineItemSpec, filters: dict[str, str], ours: str
    ) -> str:
        """Workers in other processes may have created the same line item at the same
        moment: all of them keep the first one the platform lists and drop their own twin."""
        try:
            twins = [
                str(i["id"])
                for i in self.line_items(lineitems_url, filters)
                if spec.matches(i) and isinstance(i.get("id"), str)
            ]
        except (ServiceCallFailed, requests.RequestException):
            return ours
        if not twins or twins[0] == ours:
            return ours
        if ours in twins:
            try:
                self.connector.send("DELETE", ours, self.scopes, accept=LINEITEM_TYPE)
            except requests.RequestException:
                pass  # a stray empty column; scores go to the kept one either way
        return twins[0]

    def post_score(self, lineitem_url: str, score: Mapping[str, Any]) -> requests.Response:
        """POST one score; the raw response."""
        return self.connector.send(
            "POST",
            subpath(lineitem_url, "scores"),
            self.scopes,
            json_body=dict(score),
            content_type=SCORE_TYPE,
        )

    def results(self, lineitem_url: str, user_id: str | None = None) -> list[dict[str, Any]]:
        """The platform's results on a line item (all pages), optionally for one user."""
        found: list[dict[str, Any]] = []
        url: str | None = subpath(lineitem_url, "results")
        params = {"user_id": user_id} if user_id else None
        for _ in range(MAX_PAGES):
            if url is None:
                break
            body, response = self._get_json(url, RESULTS_TYPE, params)
            found.extend(r for r in (body or []) if isinstance(r, dict))
            url, params = next_link(response.headers.get("Link")), None
        if user_id:
            found = [r for r in found if r.get("userId") == user_id]
        return found
