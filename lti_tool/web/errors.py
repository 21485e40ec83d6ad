"""One handler for every error: a page for people in the LMS frame, JSON for API clients.
No stack trace ever reaches a user; unexpected errors are logged with an id to quote."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from lti_tool.errors import DatabaseUnavailable, SkillpathError
from lti_tool.web.auth import container
from lti_tool.web.observability import count_rejection, current_request_id

log = logging.getLogger("skillpath")


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(
    status: int, code: str, message: str, hint: str = "", fields: dict[str, Any] | None = None
) -> Response:
    request_id = current_request_id()
    if wants_json():
        errors: dict[str, Any] = dict(fields or {})
        if hint:
            errors["admin_hint"] = hint
        if request_id:
            errors["request_id"] = request_id
        body = {"code": code, "status": status, "message": message, "errors": errors}
        response = jsonify(body)
    else:
        response = make_response(
            render_template(
                "error.html",
                status=status,
                code=code,
                message=message,
                hint=hint,
                request_id=request_id,
            )
        )
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(SkillpathError)
    def skillpath_error(exc: SkillpathError) -> Response:
        count_rejection(exc)
        response = render_error(
            exc.status, exc.code, exc.message, exc.admin_hint, exc.details.get("fields")
        )
        cookies = exc.details.get("cookies")
        if cookies is not None:
            cookies.update_response(response)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = render_error(
            status, (exc.name or "error").lower().replace(" ", "_"), exc.description or ""
        )
        # What the exception says about the answer (a 405's `Allow`) stays on it.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        if container().storage.unavailable(exc):
            log.warning(
                "database unavailable on %s %s: %s",
                request.method,
                request.path,
                type(exc).__name__,
            )
            return skillpath_error(DatabaseUnavailable())
        # The request id is the incident: the page shows it, every log line of it carries it.
        incident = current_request_id() or uuid.uuid4().hex[:12]
        log.exception("unexpected error %s on %s %s", incident, request.method, request.path)
        return render_error(
            500,
            "internal_error",
            f"Something went wrong on Skillpath's side. Quote incident {incident} to your administrator.",
        )
