"""The admin console's blueprint and what every console request goes through: the session
(a local admin, or an LMS's administrator limited to their registration), CSRF protection
(flask-wtf) and a single-use token on every form, and headers that keep the console out of
other sites' frames."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from lti_tool.errors import NotAuthenticated, StaleForm
from lti_tool.usecases.admin_accounts import ConsoleSession, current_actor
from lti_tool.usecases.audit import AdminActor
from lti_tool.web.auth import container

bp = Blueprint("admin", __name__, url_prefix="/admin")
csrf = CSRFProtect()

SESSION_KEY = "console"
FORM_SECONDS = 3600
# Reached without a console session: signing in, the LMS's way in, its ticket.
PUBLIC = frozenset({"admin.login", "admin.enter", "admin.from_lms"})
# Shown inside the LMS frame (the way in from a launch); every other page refuses frames.
FRAMEABLE = frozenset({"admin.from_lms"})


def actor() -> AdminActor:
    found: AdminActor = g.actor
    return found


def start_session(console: ConsoleSession) -> None:
    """A new console session (the old one, its CSRF token and form tokens, are dropped)."""
    session.clear()
    # flask-wtf keeps the token it made in `g`: the new session makes its own.
    g.pop("csrf_token", None)
    session[SESSION_KEY] = console.to_dict()
    session["sid"] = secrets.token_urlsafe(18)
    session.permanent = True


def _sid() -> str:
    sid = session.get("sid")
    if not isinstance(sid, str):
        sid = secrets.token_urlsafe(18)
        session["sid"] = sid
    return sid


def form_once() -> str:
    """A single-use token for one form of this session."""
    token = secrets.token_urlsafe(18)
    container().store.put("console-form:" + token, _sid(), FORM_SECONDS)
    return token


def _spend_form_token() -> None:
    token = request.form.get("once", "")
    owner = container().store.take("console-form:" + token) if token else None
    if owner is None or owner != session.get("sid"):
        raise StaleForm()


def _next_path(value: str | None) -> str:
    """Where to go after signing in: a console path of ours, never another site."""
    if value and value.startswith("/admin") and not value.startswith("//"):
        return value
    return url_for("admin.overview")


@bp.before_request
def guard() -> Response | None:
    if request.method == "POST":
        csrf.protect()
        _spend_form_token()
    if request.endpoint in PUBLIC:
        return None
    try:
        g.actor = current_actor(container(), ConsoleSession.from_dict(session.get(SESSION_KEY)))
    except NotAuthenticated:
        session.pop(SESSION_KEY, None)
        wanted = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("admin.login", next=wanted))
    return None


@bp.after_request
def headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint not in FRAMEABLE:
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


@bp.context_processor
def console_values() -> dict[str, Any]:
    return {"form_once": form_once, "console_actor": g.get("actor"), "next_path": _next_path}
