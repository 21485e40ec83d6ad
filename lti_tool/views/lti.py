"""LTI endpoints: OIDC login, launch, the tool's JWKS."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from werkzeug.wrappers import Response

from lti_tool import tool_keys
from lti_tool.launch.flow import begin_login, complete_launch
from lti_tool.services import Services, now

bp = Blueprint("lti", __name__)


def services() -> Services:
    return current_app.extensions["skillpath"]  # type: ignore[no-any-return]


@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> Response:
    return begin_login(services(), request)


@bp.post("/lti/launch")
def launch() -> Response:
    completed = complete_launch(services(), request)
    # Redirect after POST: a page refresh reloads the page instead of replaying the launch.
    response = redirect(
        url_for("pages.launched", launch_id=completed.launch_id, t=completed.session_token), 303
    )
    completed.cookies.update_response(response)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    with services().database.session() as session:
        body = tool_keys.published_jwks(session, now())
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
