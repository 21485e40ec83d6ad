"""LTI endpoints: OIDC login, launch, the tool's JWKS."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, request, url_for
from werkzeug.wrappers import Response

from lti_tool.lti.vocabulary import DEEP_LINKING_REQUEST
from lti_tool.usecases.keys import public_jwks
from lti_tool.web.auth import container

bp = Blueprint("lti", __name__)


@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> Response:
    return container().launches.begin_login(request)


@bp.post("/lti/launch")
def launch() -> Response:
    completed = container().launches.complete_launch(request)
    # Redirect after POST: a page refresh reloads the page instead of replaying the launch.
    # A deep linking request goes to the picker; every other message to its page.
    page = (
        "deep_linking.choose"
        if completed.claims.message_type == DEEP_LINKING_REQUEST
        else "pages.launched"
    )
    response = redirect(
        url_for(page, launch_id=completed.launch_id, t=completed.session_token), 303
    )
    completed.cookies.update_response(response)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    response = jsonify(public_jwks(container()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
