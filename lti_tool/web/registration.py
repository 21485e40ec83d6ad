"""LTI Dynamic Registration's initiation URL (`/lti/register`): the platform opens it with
`openid_configuration` and `registration_token`; the page says what was registered, or what
went wrong and what the platform answered, and closes the platform's window with the
`org.imsglobal.lti.close` postMessage."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, make_response, render_template, request

from lti_tool.errors import RegistrationFailed
from lti_tool.lti.vocabulary import REGISTRATION_CLOSE_MESSAGE
from lti_tool.usecases.registrations import register_dynamically
from lti_tool.web.auth import container

bp = Blueprint("registration", __name__)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "*"


@bp.get("/lti/register")
def register() -> Response:
    configuration_url = request.args.get("openid_configuration", "")
    token = request.args.get("registration_token") or None
    result, error, status = None, None, 200
    try:
        result = register_dynamically(container(), configuration_url, token)
    except RegistrationFailed as exc:
        error, status = exc, exc.status
    page = render_template(
        "registration_result.html",
        result=result,
        error=error,
        target_origin=_origin(result.platform.issuer) if result else "*",
        close_message=REGISTRATION_CLOSE_MESSAGE,
        console_url=container().settings.url_for_path("/admin"),
    )
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
