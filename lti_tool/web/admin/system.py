"""The console's installation-wide pages: the tool's signing keys and their rotation, the
outbox (what waits, what failed with the platform's or LRS's answer, retrying it) and the
audit log."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.errors import ConfigurationError
from lti_tool.usecases import admin, audit, outbox
from lti_tool.web.admin.blueprint import actor, bp
from lti_tool.web.auth import container


@bp.get("/keys")
def keys() -> Response:
    found = admin.tool_key_listing(container(), actor())
    page = render_template("admin/keys.html", keys=found, now=container().now())
    return make_response(page)


@bp.post("/keys/rotate")
def rotate_key() -> Response:
    key = admin.rotate_tool_key(container(), actor())
    flash(f"Skillpath now signs with the new key {key.kid}.", "ok")
    return redirect(url_for("admin.keys"), 303)


@bp.get("/outbox")
def outbox_page() -> Response:
    status = request.args.get("status") or None
    try:
        found = outbox.listing(
            container(), status=status, limit=50, with_attempts=True, actor=actor()
        )
    except ConfigurationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.outbox_page"), 303)
    page = render_template(
        "admin/outbox.html", listing=found, status=status, statuses=outbox.STATUSES
    )
    return make_response(page)


@bp.post("/outbox/retry")
def retry() -> Response:
    chosen = request.form.get("item", "")
    ids = [int(chosen)] if chosen.isdigit() else []
    if chosen and not ids:
        flash("No such item.", "error")
        return redirect(url_for("admin.outbox_page"), 303)
    count = outbox.retry_failed(container(), ids, actor())
    flash(
        f"Queued {count} failed item(s) again." if count else "Nothing failed to queue again.",
        "ok" if count else "error",
    )
    return redirect(url_for("admin.outbox_page", status="pending" if count else None), 303)


@bp.get("/audit")
def audit_page() -> Response:
    entries = audit.audit_log(container(), actor())
    return make_response(render_template("admin/audit.html", entries=entries))
