"""Manual installation: `/install` (what each LMS asks for, in its own words) and Canvas's
developer key JSON at `/lti/config/canvas.json`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, make_response, render_template, request

from lti_tool.lti.tool_configuration import CANVAS_JSON_PATH
from lti_tool.usecases.install_info import canvas_configuration, endpoints, guides
from lti_tool.web.auth import container

bp = Blueprint("install", __name__)


@bp.get("/install")
def install() -> Response:
    lms = request.args.get("lms") or None
    page = render_template(
        "install.html", tool=endpoints(container()), guides=guides(container(), lms), chosen=lms
    )
    response = make_response(page)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get(CANVAS_JSON_PATH)
def canvas_json() -> Response:
    response = jsonify(canvas_configuration(container(), request.args.get("privacy")))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
