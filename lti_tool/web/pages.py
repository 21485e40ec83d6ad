"""The pages after a launch: the learner's path or the instructor's class view, the learner's
way out to a lesson, and the "what data Skillpath uses and why" page. Each view reads the
session, calls one use case, renders. The learner's page reads their stored view: the LRS is
read at the launch itself (`lti_tool.web.lti`), never by a page view."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, make_response, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.errors import NoCatalog, NotFound
from lti_tool.lti.sessions import COOKIE_NAME, SESSION_SECONDS
from lti_tool.lti.vocabulary import in_iframe
from lti_tool.storage import LaunchRecord
from lti_tool.usecases.learner_path import BUDGETS, PACES, lesson_url, read_path
from lti_tool.web.auth import container, current_launch, session_token

bp = Blueprint("pages", __name__)


def heading_level(launch: LaunchRecord) -> int:
    """Inside the LMS's page (an iframe) the platform holds the page's h1: ours start at h2."""
    return 2 if in_iframe(launch.claims) else 1


def page_response(page: str) -> Response:
    """A page with the session cookie (where cookies work) and no caching or referrer."""
    response = make_response(page)
    settings = container().settings
    response.set_cookie(
        COOKIE_NAME,
        session_token() or "",
        max_age=SESSION_SECONDS,
        httponly=True,
        secure=settings.is_https,
        samesite="None" if settings.is_https else "Lax",
        path="/",
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def learner_context(launch: LaunchRecord, view: Any) -> dict[str, Any]:
    return {
        "launch": launch,
        "session_token": session_token() or "",
        "view": view,
        "hl": heading_level(launch),
        "budgets": BUDGETS,
        "paces": PACES,
    }


@bp.get("/launch/<launch_id>")
def launched(launch_id: str) -> Response:
    launch = current_launch(launch_id)
    if launch.role == "instructor":
        from lti_tool.web.instructor_pages import class_page

        return page_response(class_page(launch))
    view, missing = None, None
    try:
        view = read_path(container(), launch)
    except NoCatalog as exc:
        missing = exc.message if exc.message != NoCatalog.default_message else None
    page = render_template("learner.html", missing=missing, **learner_context(launch, view))
    return page_response(page)


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


@bp.get("/launch/<launch_id>/data")
def data_use(launch_id: str) -> Response:
    """What data Skillpath uses and why, in plain words."""
    launch = current_launch(launch_id)
    page = render_template(
        "data_use.html",
        launch=launch,
        session_token=session_token() or "",
        hl=heading_level(launch),
    )
    return page_response(page)
