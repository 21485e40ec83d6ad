"""The pages after a launch: the learner's path and the instructor's class view, and the
learner's way out to a lesson. Each view reads the session, calls one use case, renders."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.errors import NoCatalog, NotFound
from lti_tool.lti.sessions import COOKIE_NAME, SESSION_SECONDS
from lti_tool.usecases.class_view import AT_RISK_FROM, instructor_page
from lti_tool.usecases.learner_path import learner_path, lesson_url
from lti_tool.web.auth import container, current_launch, session_token

bp = Blueprint("pages", __name__)


@bp.get("/launch/<launch_id>")
def launched(launch_id: str) -> Response:
    launch = current_launch(launch_id)
    token = session_token() or ""
    if launch.role == "instructor":
        view = instructor_page(container(), launch)
        page = render_template(
            "instructor.html",
            launch=launch,
            session_token=token,
            grades=view.grades,
            roster=view.roster,
            roster_error=view.roster_error,
            progress=view.progress,
            names=view.names,
            at_risk_from=AT_RISK_FROM,
        )
    else:
        path, missing = None, None
        try:
            path = learner_path(container(), launch)
        except NoCatalog as exc:
            missing = exc.message if exc.message != NoCatalog.default_message else None
        page = render_template(
            "learner.html", launch=launch, session_token=token, view=path, missing=missing
        )
    response = make_response(page)
    settings = container().settings
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
    url = lesson_url(container(), launch, request.args.get("lesson", ""))
    response = redirect(url, code=303)
    response.headers["Referrer-Policy"] = "no-referrer"  # the session token stays here
    response.headers["Cache-Control"] = "no-store"
    return response
