"""Deep Linking: the picker (`/deep-linking/<launch id>`) a deep linking launch lands on, and
its answer: a page that posts the signed response to the platform's return URL.

The picker's form carries the launch's session token, which the answer requires from the
form itself (never a cookie), so another site cannot make a browser answer for it.
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, request

from lti_tool.errors import ConfigurationError, NoCatalog
from lti_tool.usecases.deep_linking import answer, picker
from lti_tool.web.auth import container, session_token

bp = Blueprint("deep_linking", __name__)


def _page(template: str, status: int = 200, **values: object) -> Response:
    response = make_response(render_template(template, **values), status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _picker_page(launch_id: str, token: str, error: str = "", status: int = 200) -> Response:
    launch = container().launches.launch_of(token, launch_id)
    try:
        choices = picker(container(), launch)
    except NoCatalog as exc:
        return _page("deep_linking_empty.html", launch=launch, message=exc.message)
    return _page(
        "deep_linking.html",
        status,
        launch=launch,
        picker=choices,
        session_token=token,
        error=error,
    )


@bp.get("/deep-linking/<launch_id>")
def choose(launch_id: str) -> Response:
    return _picker_page(launch_id, session_token() or "")


@bp.post("/deep-linking/<launch_id>")
def send(launch_id: str) -> Response:
    token = request.form.get("t", "")
    launch = container().launches.launch_of(token, launch_id)
    try:
        done = answer(container(), launch, request.form.getlist("item"))
    except ConfigurationError as exc:
        return _picker_page(launch_id, token, exc.message, exc.status)
    return _page("deep_linking_return.html", answer=done)
