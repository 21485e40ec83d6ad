"""The first pages after a launch: learner and instructor views of the launched link."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.ags.status import grade_sync_status
from lti_tool.errors import NotAuthenticated, NotFound
from lti_tool.launch.flow import load_launch
from lti_tool.learning.class_view import AT_RISK_FROM, class_progress
from lti_tool.learning.evidence import EvidenceSource
from lti_tool.learning.learner_path import NoCatalog, learner_path, record_lesson_opened
from lti_tool.models import Launch
from lti_tool.nrps import RosterUnavailable, read_roster
from lti_tool.services import Services, now
from lti_tool.sessions import COOKIE_NAME, SESSION_SECONDS

bp = Blueprint("pages", __name__)


def services() -> Services:
    return current_app.extensions["skillpath"]  # type: ignore[no-any-return]


def session_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.args.get("t") or request.cookies.get(COOKIE_NAME)


def current_launch(expected_id: str | None = None) -> Launch:
    """The launch the request's session token names (and only that one)."""
    launch_id = services().sessions.launch_id(session_token())
    if expected_id is not None and launch_id != expected_id:
        raise NotAuthenticated()
    launch = load_launch(services(), launch_id)
    if launch is None:
        raise NotFound("This launch is no longer known: open the link in your course again.")
    return launch


def evidence_source(launch: Launch) -> EvidenceSource | None:
    """Where the learner's evidence comes from: the tenant's LRS, if one is connected."""
    factory = current_app.extensions.get("skillpath.evidence")
    return factory(launch) if factory is not None else None


def statements_base_url(launch: Launch) -> str | None:
    """The base of Skillpath's statement IRIs when the tenant has an LRS to send them to."""
    gateway = current_app.extensions.get("skillpath.lrs")
    if gateway is None or gateway.settings_for(launch.issuer, launch.client_id) is None:
        return None
    return services().settings.base_url


def learner_view(launch: Launch) -> dict[str, Any]:
    """The learner's path now (one transaction); raises `NoCatalog`."""
    with services().database.session() as session:
        return learner_path(
            session,
            launch,
            now(),
            evidence_source(launch),
            statements_base_url=services().settings.base_url,
        )


@bp.get("/launch/<launch_id>")
def launched(launch_id: str) -> Response:
    launch = current_launch(launch_id)
    token = session_token() or ""
    if launch.role == "instructor":
        with services().database.session() as session:
            grades = grade_sync_status(session, launch)
            progress = class_progress(session, launch, now())
        roster, roster_error = None, None
        try:
            roster = read_roster(services(), launch)
        except RosterUnavailable as exc:
            roster_error = exc.message  # loud, never a partial list
        page = render_template(
            "instructor.html",
            launch=launch,
            session_token=token,
            grades=grades,
            roster=roster,
            roster_error=roster_error,
            progress=progress,
            names={m.user_id: m.name for m in roster or () if m.name},
            at_risk_from=AT_RISK_FROM,
        )
    else:
        view, missing = None, None
        try:
            view = learner_view(launch)
        except NoCatalog as exc:
            missing = str(exc) or None
        page = render_template(
            "learner.html", launch=launch, session_token=token, view=view, missing=missing
        )
    response = make_response(page)
    settings = services().settings
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        secure=settings.is_https,
        samesite="None" if settings.is_https else "Lax",
        path="/",
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/launch/<launch_id>/open")
def open_lesson(launch_id: str) -> WerkzeugResponse:
    """The learner opens a lesson from their path: "launched" goes to the LRS (through the
    outbox), then the browser goes on to the lesson."""
    launch = current_launch(launch_id)
    if launch.role != "learner":
        raise NotFound("Only learners open lessons from a path.")
    lesson_id = request.args.get("lesson", "")
    base_url = statements_base_url(launch)
    with services().database.session() as session:
        url = record_lesson_opened(session, launch, lesson_id, now(), base_url)
    response = redirect(url, code=303)
    response.headers["Referrer-Policy"] = "no-referrer"  # the session token stays here
    response.headers["Cache-Control"] = "no-store"
    return response
