"""Into and out of the console: a local admin's sign-in (rate-limited in
`lti_tool.web.limits`), sign-out, and the LMS administrator's way in (the launch page offers
the console in a window of its own, with a single-use ticket)."""

from __future__ import annotations

from flask import g, make_response, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from lti_tool.errors import NotAuthenticated
from lti_tool.usecases.admin_accounts import redeem_ticket, sign_in, ticket_for_launch
from lti_tool.web.admin.blueprint import _next_path, bp, start_session
from lti_tool.web.auth import container, session_token


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    error, status = "", 200
    if request.method == "POST":
        try:
            console = sign_in(
                container(), request.form.get("username", ""), request.form.get("password", "")
            )
        except NotAuthenticated as exc:
            error, status = exc.message, exc.status
        else:
            start_session(console)
            return redirect(_next_path(request.args.get("next")), 303)
    page = render_template("admin/login.html", error=error, next=request.args.get("next", ""))
    return make_response(page, status)


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    g.pop("csrf_token", None)
    return redirect(url_for("admin.login"), 303)


@bp.get("/enter")
def enter() -> Response:
    start_session(redeem_ticket(container(), request.args.get("ticket", "")))
    return redirect(url_for("admin.overview"), 303)


@bp.get("/from-lms/<launch_id>")
def from_lms(launch_id: str) -> Response:
    """The page an LMS administrator's launch of the console lands on, inside the LMS."""
    launch = container().launches.launch_of(session_token(), launch_id)
    ticket = ticket_for_launch(container(), launch)
    page = render_template(
        "admin/handoff.html", enter_url=url_for("admin.enter", ticket=ticket), launch=launch
    )
    response = make_response(page)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
