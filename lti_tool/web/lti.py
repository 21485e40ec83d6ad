"""LTI endpoints: OIDC login, launch (and its resumption without the state cookie), the
tool's JWKS."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.errors import InvalidBody, LaunchRejected
from lti_tool.lti.claims import is_our_path
from lti_tool.lti.client_storage import LaunchResume
from lti_tool.lti.cookies import StateCookies
from lti_tool.lti.flow import CompletedLaunch
from lti_tool.lti.vocabulary import (
    DEEP_LINKING_REQUEST,
    GET_DATA_MESSAGE,
    PUT_DATA_MESSAGE,
    TARGET_LINK_URI_CLAIM,
)
from lti_tool.usecases.keys import public_jwks
from lti_tool.usecases.learner_path import arrive
from lti_tool.web.auth import container

bp = Blueprint("lti", __name__)

# The resumed launch is a script's JSON request with this header: another site cannot send
# it without a CORS preflight, which Skillpath never grants.
RESUME_HEADER = "X-Skillpath-Resume"


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> Response:
    step = container().launches.begin_login(request)
    if step.storage is None:
        response = redirect(step.redirect_url, 302)
    else:
        values = {
            "auth_url": step.redirect_url,
            "target": step.storage.target,
            "platform_origin": step.storage.platform_origin,
            "key": step.storage.key,
            "value": step.storage.value,
            "put_subject": PUT_DATA_MESSAGE,
        }
        response = make_response(render_template("storage_login.html", values=values))
    step.cookies.update_response(response)
    return _no_store(response)


def landing_url(completed: CompletedLaunch) -> str:
    """Where a validated launch goes: the picker for a deep linking request, the console's
    way in for a launch of the admin link, else its page."""
    target = completed.launch.claims.get(TARGET_LINK_URI_CLAIM)
    if completed.claims.message_type == DEEP_LINKING_REQUEST:
        page = "deep_linking.choose"
    elif isinstance(target, str) and is_our_path(target, container().settings.base_url, "/admin"):
        page = "admin.from_lms"
    else:
        page = "pages.launched"
    return url_for(page, launch_id=completed.launch_id, t=completed.session_token)


def _resume_page(resume: LaunchResume, cookies: StateCookies | None) -> Response:
    values: dict[str, Any] = {
        "state": resume.state,
        "id_token": resume.id_token,
        "storage_target": resume.storage_target,
        "platform_origin": resume.platform_origin,
        "key": resume.key,
        "bounced": resume.bounced,
        "resume_url": url_for("lti.resume"),
        "get_subject": GET_DATA_MESSAGE,
    }
    page = render_template(
        "launch_resume.html",
        resume=resume,
        values=values,
        show_fallback=resume.bounced and not resume.storage_target,
    )
    response = make_response(page)
    if cookies is not None:
        cookies.update_response(response)
    return _no_store(response)


@bp.post("/lti/launch")
def launch() -> Response:
    try:
        completed = container().launches.complete_launch(request)
    except LaunchRejected as exc:
        resume = exc.details.get("resume")
        if exc.code == "missing_state_cookie" and isinstance(resume, LaunchResume):
            return _resume_page(resume, exc.details.get("cookies"))
        raise
    # A learner's launch reads their new statements from the LRS and stores the path view.
    arrive(container(), completed.launch)
    # Redirect after POST: a page refresh reloads the page instead of replaying the launch.
    response = redirect(landing_url(completed), 303)
    completed.cookies.update_response(response)
    return _no_store(response)


@bp.post("/lti/launch/resume")
def resume() -> Response:
    """A launch that arrived without its state cookie, finished by the resume page with the
    secret it read back from the platform's storage frame."""
    if request.headers.get(RESUME_HEADER) != "1":
        raise InvalidBody(f"A resumed launch is sent by Skillpath's page with {RESUME_HEADER}.")
    body = request.get_json(silent=True)
    given = body if isinstance(body, dict) else {}
    fields = {
        name: value
        for name in ("id_token", "state", "proof")
        if isinstance(value := given.get(name), str) and value
    }
    if len(fields) != 3:
        raise InvalidBody("A resumed launch needs id_token, state and proof as strings.")
    completed = container().launches.complete_launch(
        request,
        fields={"id_token": fields["id_token"], "state": fields["state"]},
        storage_proof=fields["proof"],
    )
    arrive(container(), completed.launch)
    response = jsonify({"location": landing_url(completed)})
    completed.cookies.update_response(response)
    return _no_store(response)


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    response = jsonify(public_jwks(container()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
