"""The console's registrations: the overview, one registration (or the defaults) with its
deployments, LMS family, LRS and catalog, status changes, and adding a platform by hand.

Each view reads the form, calls one use case, and answers with the page or a redirect
carrying a message; a refused change says why and changes nothing."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.errors import ConfigurationError
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.usecases import admin, console, registrations
from lti_tool.web.admin.blueprint import actor, bp
from lti_tool.web.auth import container

LMS_FAMILIES = (
    ("", "not named (standard LTI)"),
    ("canvas", "Canvas"),
    ("moodle", "Moodle"),
    ("brightspace", "D2L Brightspace"),
    ("blackboardlearn", "Blackboard Learn"),
    ("openedx", "Open edX"),
)


def _back(key: str) -> Response:
    return redirect(url_for("admin.registration", key=key), 303)


def _page(view: console.TenantView, status: int = 200, **values: Any) -> Response:
    lrs_form = values.pop("lrs_form", None) or {
        "endpoint": view.lrs.endpoint if view.lrs else "",
        "username": view.lrs.username if view.lrs else "",
    }
    page = render_template(
        "admin/registration.html",
        view=view,
        families=LMS_FAMILIES,
        lrs_form=lrs_form,
        probe=values.pop("probe", None),
        **values,
    )
    return make_response(page, status)


@bp.get("/")
def overview() -> Response:
    found = console.overview(container(), actor())
    if not actor().sees_everything and len(found.registrations) == 1:
        return redirect(url_for("admin.registration", key=found.registrations[0].id), 303)
    return make_response(render_template("admin/overview.html", overview=found))


@bp.get("/registrations/<key>")
def registration(key: str) -> Response:
    return _page(console.tenant_view(container(), actor(), key))


@bp.post("/registrations/<key>/status")
def change_status(key: str) -> Response:
    tenant, _ = console.resolve(container(), actor(), key)
    change = request.form.get("change", "")
    try:
        changed = registrations.change_status(container(), tenant, change, actor())
    except ConfigurationError as exc:
        flash(exc.message, "error")
    else:
        flash(f"{changed.name} is now {changed.status}.", "ok")
    return _back(key)


@bp.post("/registrations/<key>/remove")
def remove(key: str) -> Response:
    tenant, found = console.resolve(container(), actor(), key)
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm the removal.", "error")
        return _back(key)
    admin.remove_platform(container(), tenant, actor())
    flash(f"Removed {found.name if found else tenant.issuer}; its sessions ended.", "ok")
    return redirect(url_for("admin.overview"), 303)


@bp.post("/registrations/<key>/deployments")
def deployments(key: str) -> Response:
    tenant, _ = console.resolve(container(), actor(), key)
    deployment_id = request.form.get("deployment_id", "").strip()
    try:
        if request.form.get("action") == "remove":
            admin.remove_deployment(container(), tenant, deployment_id, actor())
            flash(f"Removed deployment {deployment_id}.", "ok")
        else:
            admin.add_deployment(container(), tenant, deployment_id, actor())
            flash(f"Added deployment {deployment_id}.", "ok")
    except ConfigurationError as exc:
        flash(exc.message, "error")
    return _back(key)


@bp.post("/registrations/<key>/lms")
def lms_family(key: str) -> Response:
    tenant, _ = console.resolve(container(), actor(), key)
    try:
        registrations.set_product_family(container(), tenant, request.form.get("family"), actor())
    except ConfigurationError as exc:
        flash(exc.message, "error")
    else:
        flash("Saved which LMS this is.", "ok")
    return _back(key)


@bp.post("/registrations/<key>/lrs")
def lrs(key: str) -> Response:
    form = {name: request.form.get(name, "") for name in ("endpoint", "username", "password")}
    try:
        if request.form.get("action") == "test":
            probe = console.test_lrs(container(), actor(), key, **form)
            view = console.tenant_view(container(), actor(), key)
            shown = {"endpoint": form["endpoint"], "username": form["username"]}
            return _page(view, 200 if probe.ok else 502, lrs_form=shown, probe=probe)
        console.save_lrs(container(), actor(), key, **form)
    except ConfigurationError as exc:
        view = console.tenant_view(container(), actor(), key)
        shown = {"endpoint": form["endpoint"], "username": form["username"]}
        return _page(view, exc.status, lrs_form=shown, lrs_error=exc.message)
    flash("Saved the LRS connection (the password is stored encrypted).", "ok")
    return _back(key)


@bp.route("/registrations/new", methods=["GET", "POST"])
def new_registration() -> Response:
    actor().require_everything()
    form = {
        name: request.form.get(name, "").strip()
        for name in (
            "name",
            "issuer",
            "client_id",
            "auth_login_url",
            "auth_token_url",
            "keyset_url",
            "auth_audience",
            "deployment_id",
            "family",
        )
    }
    error = ""
    if request.method == "POST":
        data = RegistrationInput(
            issuer=form["issuer"],
            client_id=form["client_id"],
            auth_login_url=form["auth_login_url"],
            auth_token_url=form["auth_token_url"],
            keyset_url=form["keyset_url"],
            deployments=[form["deployment_id"]] if form["deployment_id"] else [],
            name=form["name"],
            auth_audience=form["auth_audience"] or None,
            product_family_code=form["family"] or None,
        )
        try:
            added = admin.register_platform(container(), data, actor())
        except ConfigurationError as exc:
            error = exc.message
        else:
            flash(f"Registered {added.name}.", "ok")
            return redirect(url_for("admin.registration", key=added.id), 303)
    page = render_template(
        "admin/new_registration.html", form=form, error=error, families=LMS_FAMILIES
    )
    return make_response(page, 400 if error else 200)
