"""The platform peer's AGS and NRPS services: lti1p3platform's service classes over the
gradebook and rosters, and the rendering of their answers (paging Link headers). It must not
import Skillpath."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Response
from lti1p3platform.exceptions import (
    LineItemNotFoundException,
    LtiServiceException,
)
from lti1p3platform.lineitem import TLineItem
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.request import Request as PlatformRequest
from lti1p3platform.response import Response as ServiceResponse
from lti1p3platform.score import TScore, UpdateScoreStatus
from lti1p3platform.service_connector import (
    AssignmentsGradesService,
    NamesRoleProvisioningService,
    TPage,
)

from peers.platform_protocol import expand_roles
from peers.platform_store import Gradebook, Roster, ScorePost


def _parse_timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise LtiServiceException("timestamp must be an ISO 8601 string", 400)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise LtiServiceException(f"timestamp is not ISO 8601: {value!r}", 400) from exc
    if parsed.tzinfo is None:
        raise LtiServiceException("timestamp must carry a time zone offset", 400)
    return parsed


def _page(items: list[Any], page: int, limit: int | None) -> TPage:
    if not limit or limit <= 0:
        return {"content": items, "has_next": False, "next": None}
    start = (max(page, 1) - 1) * limit
    return {
        "content": items[start : start + limit],
        "has_next": start + limit < len(items),
        "next": None,
    }


class PeerAgsService(AssignmentsGradesService):
    """AGS line items, scores and results for one context, stored in the gradebook."""

    def __init__(
        self,
        req: PlatformRequest,
        platform_config: LTI1P3PlatformConfAbstract,
        *,
        gradebook: Gradebook,
        context_id: str,
        lineitems_url: str,
        lineitem_url: str | None = None,
        client_id: str | None = None,
        required_scopes: list[str] | None = None,
    ) -> None:
        super().__init__(req, platform_config, lineitems_url, lineitem_url)
        self._gradebook = gradebook
        self._context_id = context_id
        self._client_id = client_id
        self._required_scopes = required_scopes

    @property
    def allowed_scopes(self) -> list[str]:
        # The library accepts any AGS scope for every operation; a platform checks the one
        # the operation needs, so a tool that asks for too few scopes is caught here.
        return self._required_scopes or super().allowed_scopes

    def _item(self, line_item_id: str) -> dict[str, Any]:
        item = self._gradebook.line_item(line_item_id)
        if item is None or self._gradebook.owner_of(line_item_id) != self._context_id:
            raise LineItemNotFoundException(line_item_id)
        return item

    def find_lineitems(  # type: ignore[override]
        self,
        page: int = 1,
        limit: int | None = None,
        line_item_id: str | None = None,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        **_ignored: Any,
    ) -> TPage:
        wanted = {
            "resourceLinkId": resource_link_id,
            "resourceId": resource_id,
            "tag": tag,
            "id": line_item_id,
        }
        items = [
            item
            for item in self._gradebook.line_items(self._context_id)
            if all(v is None or item.get(k) == v for k, v in wanted.items())
        ]
        return _page(items, page, limit)

    def find_lineitem(self, line_item_id: str) -> TLineItem:
        return self._item(line_item_id)  # type: ignore[return-value]

    def create_lineitem(self, creation_data: TLineItem) -> TLineItem:
        data = dict(creation_data) if isinstance(creation_data, dict) else {}
        self._check_line_item(data)
        return self._gradebook.create_line_item(  # type: ignore[return-value]
            self._context_id, self.ags.lineitems_url or "", data
        )

    def update_lineitem(self, update_data: TLineItem) -> TLineItem:
        data = dict(update_data)
        self._item(str(data["id"]))
        self._check_line_item(data)
        updated = self._gradebook.update_line_item(str(data["id"]), data)
        if updated is None:
            raise LineItemNotFoundException(data["id"])
        return updated  # type: ignore[return-value]

    def delete_lineitem(self, line_item_id: str) -> None:
        self._item(line_item_id)
        self._gradebook.delete_line_item(line_item_id)

    @staticmethod
    def _check_line_item(data: Mapping[str, Any]) -> None:
        maximum = data.get("scoreMaximum")
        if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
            raise LtiServiceException("scoreMaximum must be a number greater than 0", 400)
        if not isinstance(data.get("label"), str) or not data["label"]:
            raise LtiServiceException("label is required", 400)

    def update_score(self, line_item_id: str, score: TScore) -> UpdateScoreStatus:
        self._item(line_item_id)
        if not isinstance(score, dict):
            raise LtiServiceException("a score must be a JSON object", 400)
        user_id = score.get("userId")
        if not isinstance(user_id, str) or not user_id:
            raise LtiServiceException("userId is required", 400)
        for name in ("activityProgress", "gradingProgress", "timestamp"):
            if name not in score:
                raise LtiServiceException(f"{name} is required", 400)
        timestamp = _parse_timestamp(score["timestamp"])
        if "scoreGiven" in score:
            given, maximum = score.get("scoreGiven"), score.get("scoreMaximum")
            if not isinstance(maximum, int | float) or maximum <= 0:
                raise LtiServiceException("scoreMaximum is required with scoreGiven and > 0", 400)
            if not isinstance(given, int | float) or given < 0:
                raise LtiServiceException("scoreGiven must be a number >= 0", 400)
        if user_id in self._gradebook.ungradable_users:
            raise LtiServiceException(f"User {user_id} cannot be graded in this course", 422)
        previous = self._gradebook.scores(line_item_id, user_id)
        stale = bool(previous) and _parse_timestamp(previous[-1]["timestamp"]) > timestamp
        self._gradebook.record_score(
            ScorePost(line_item_id, user_id, dict(score), self._client_id, time.time(), not stale)
        )
        if stale:
            return UpdateScoreStatus.OLD_TIMESTAMP
        return UpdateScoreStatus.SUCCESS if previous else UpdateScoreStatus.CREATED

    def get_results(  # type: ignore[override]
        self,
        line_item_id: str,
        page: int = 1,
        limit: int | None = None,
        user_id: str | None = None,
        **_ignored: Any,
    ) -> TPage:
        self._item(line_item_id)
        results = [
            r for r in self._gradebook.results(line_item_id) if user_id in (None, r["userId"])
        ]
        return _page(results, page, limit)


class PeerNrpsService(NamesRoleProvisioningService):
    """NRPS context memberships from the roster, paged."""

    def __init__(
        self,
        req: PlatformRequest,
        platform_config: LTI1P3PlatformConfAbstract,
        *,
        roster: Roster,
        context_id: str,
        context_memberships_url: str,
    ) -> None:
        super().__init__(req, platform_config, context_memberships_url)
        self._roster = roster
        self._context_id = context_id

    def get_member_data_page(  # type: ignore[override]
        self,
        page: int = 1,
        limit: int | None = None,
        role: str | None = None,
        since: str | None = None,
        **_ignored: Any,
    ) -> TPage:
        members = self._roster.members(self._context_id)
        if role:
            wanted = expand_roles(role)[0]
            members = [m for m in members if wanted in m["roles"]]
        return _page(members, page, limit)

    def get_context_by_id(self) -> Context:
        title, label = self._roster.context(self._context_id)
        return Context(id=self._context_id, label=label, title=title)

    def is_resource_link_valid(self, context_id: str, resource_link_id: str) -> bool:
        return self._roster.has_link(context_id, resource_link_id)


def render_service_response(resp: ServiceResponse, link_style: str = "next") -> Response:
    """lti1p3platform's service result as HTTP: JSON body, paging as a `Link` header.

    `link_style`: "next" (one link), "multi" (a `rel="first"` link before the next one, as
    platforms that send several links in one header do), "none" (no header: older Open edX).
    """
    if resp.code >= 400:
        return Response(json.dumps({"error": resp.message}), resp.code, mimetype="application/json")
    if resp.result is None or resp.code == 204:
        return Response(status=resp.code)
    body, next_url = resp.result, None
    if isinstance(body, dict) and "content" in body and "has_next" in body:
        body, next_url = body["content"], body.get("next")
    elif isinstance(body, dict) and "next" in body:
        body = dict(body)
        next_url = body.pop("next")
    out = Response(json.dumps(body), resp.code, content_type=resp.media_type)
    if next_url and link_style != "none":
        links = [f'<{next_url}>; rel="next"']
        if link_style == "multi":
            first = urlsplit(next_url)
            query = [(k, v) for k, v in parse_qsl(first.query) if k != "page"] + [("page", "1")]
            links.insert(0, f'<{urlunsplit(first._replace(query=urlencode(query)))}>; rel="first"')
        out.headers["Link"] = ", ".join(links)
    return out


# --- launch parameters ------------------------------------------------------------------
