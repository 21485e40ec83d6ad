"""The demo LMS's LTI Advantage services: an OAuth2 token endpoint (the tool's signed client
assertion checked against the tool's JWKS), Assignment and Grade Services (line items,
scores, results), Names and Role Provisioning (the demo course's people) and a gradebook page.

In memory, for `skillpath demo` only; the tests use a real third-party platform.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from flask import Blueprint, Response, jsonify, render_template, request

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
AGS_SCOPES = (AGS + "lineitem", AGS + "lineitem.readonly", AGS + "result.readonly", AGS + "score")
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPES = (*AGS_SCOPES, NRPS_SCOPE)
TOKEN_SECONDS = 3600


@dataclass
class DemoGradebook:
    """Line items and the latest score of each user on each."""

    line_items: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_line_item(self, base: str, data: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            item_id = f"{base}/{len(self.line_items) + 1}"
            fields = ("label", "scoreMaximum", "tag", "resourceId", "resourceLinkId")
            item: dict[str, Any] = {k: data[k] for k in fields if k in data}
            item["id"] = item_id
            self.line_items[item_id] = item
            return dict(item)


def demo_services(
    *,
    issuer: str,
    client_ids: Callable[[], set[str]],
    tool_jwks_url: str,
    course: dict[str, str],
    members: Callable[[], Iterable[dict[str, Any]]],
) -> tuple[Blueprint, DemoGradebook]:
    bp = Blueprint("demo_services", __name__)
    book = DemoGradebook()
    tokens: dict[str, tuple[float, set[str]]] = {}
    token_url = f"{issuer}/lms/token"
    jwks = jwt.PyJWKClient(tool_jwks_url, cache_keys=True, lifespan=60)
    lineitems_url = f"{issuer}/lms/ags/{course['id']}/lineitems"

    def granted(scope: str) -> Response | None:
        header = request.headers.get("Authorization", "")
        found = tokens.get(header[7:]) if header.startswith("Bearer ") else None
        if found is None or found[0] < time.time():
            return _error(401, "a valid access token is required")
        if scope not in found[1]:
            return _error(403, f"the token lacks the scope {scope}")
        return None

    @bp.post("/lms/token")
    def token() -> Response:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type")
        assertion = form.get("client_assertion", "")
        try:
            key = jwks.get_signing_key_from_jwt(assertion)
            claims = jwt.decode(assertion, key.key, algorithms=["RS256"], audience=token_url)
        except (jwt.PyJWTError, requests.RequestException) as exc:
            return _error(401, f"invalid_client: {exc}")
        client_id = claims.get("iss")
        if client_id not in client_ids() or claims.get("sub") != client_id:
            return _error(401, "invalid_client: unknown client")
        scopes = set(form.get("scope", "").split()) & set(SCOPES)
        access = secrets.token_urlsafe(24)
        tokens[access] = (time.time() + TOKEN_SECONDS, scopes)
        return jsonify({"access_token": access, "token_type": "Bearer",
                        "expires_in": TOKEN_SECONDS, "scope": " ".join(sorted(scopes))})  # fmt: skip

    @bp.route("/lms/ags/<course_id>/lineitems", methods=["GET", "POST"])
    def line_items(course_id: str) -> Response:
        if course_id != course["id"]:
            return _error(404, "no such course")
        if request.method == "POST":
            denied = granted(AGS + "lineitem")
            if denied:
                return denied
            data = request.get_json(silent=True)
            if not isinstance(data, dict) or not data.get("label") or not data.get("scoreMaximum"):
                return _error(400, "label and scoreMaximum are required")
            response = jsonify(book.add_line_item(lineitems_url, data))
            response.status_code = 201
            return response
        denied = granted(AGS + "lineitem")
        if denied:
            return denied
        filters = {"tag": "tag", "resource_id": "resourceId", "resource_link_id": "resourceLinkId"}
        with book.lock:
            items = [
                dict(i)
                for i in book.line_items.values()
                if all(
                    i.get(field) == request.args[arg]
                    for arg, field in filters.items()
                    if arg in request.args
                )  # fmt: skip
            ]
        return jsonify(items)

    @bp.get("/lms/ags/<course_id>/lineitems/<int:number>")
    def line_item(course_id: str, number: int) -> Response:
        denied = granted(AGS + "lineitem")
        item = book.line_items.get(f"{lineitems_url}/{number}")
        return denied or (jsonify(item) if item else _error(404, "no such line item"))

    @bp.post("/lms/ags/<course_id>/lineitems/<int:number>/scores")
    def score(course_id: str, number: int) -> Response:
        denied = granted(AGS + "score")
        if denied:
            return denied
        item_id = f"{lineitems_url}/{number}"
        data = request.get_json(silent=True)
        if item_id not in book.line_items:
            return _error(404, "no such line item")
        if not isinstance(data, dict) or not data.get("userId"):
            return _error(400, "userId is required")
        if data["userId"] not in {m["user_id"] for m in members()}:
            return _error(422, "this user is not in the course")
        with book.lock:
            book.scores[(item_id, data["userId"])] = data
        return Response(status=204)

    @bp.get("/lms/ags/<course_id>/lineitems/<int:number>/results")
    def results(course_id: str, number: int) -> Response:
        denied = granted(AGS + "result.readonly")
        if denied:
            return denied
        item_id = f"{lineitems_url}/{number}"
        with book.lock:
            found = [
                {
                    "userId": user,
                    "resultScore": s.get("scoreGiven"),
                    "resultMaximum": s.get("scoreMaximum"),
                    "scoreOf": item_id,
                }  # fmt: skip
                for (item, user), s in book.scores.items()
                if item == item_id
            ]
        return jsonify(found)

    @bp.get("/lms/nrps/<course_id>/memberships")
    def memberships(course_id: str) -> Response:
        denied = granted(NRPS_SCOPE)
        if denied:
            return denied
        response = jsonify({"id": request.url, "context": course, "members": list(members())})
        response.headers["Content-Type"] = (
            "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        )
        return response

    @bp.get("/gradebook")
    def gradebook() -> str:
        people = list(members())
        with book.lock:
            items = list(book.line_items.values())
            cells = {
                (item, user): f"{s.get('scoreGiven', '–')} / {s.get('scoreMaximum', '–')}"
                for (item, user), s in book.scores.items()
            }
        return render_template(
            "gradebook.html", course=course, items=items, people=people, cells=cells
        )

    return bp, book


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response
