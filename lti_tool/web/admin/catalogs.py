"""The console's catalog upload: the file is read and validated, the page shows every bad
field's JSON path or what the upload changes, and only a confirmation imports it."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.errors import ConfigurationError, InvalidUpload
from lti_tool.usecases import console
from lti_tool.usecases.catalog_upload import confirm_upload, preview_upload
from lti_tool.web.admin.blueprint import actor, bp
from lti_tool.web.auth import container


def _refused(key: str, message: str, status: int = 400) -> Response:
    view = console.tenant_view(container(), actor(), key)
    page = render_template("admin/catalog_preview.html", view=view, preview=None, refused=message)
    return make_response(page, status)


@bp.post("/registrations/<key>/catalog")
def upload_catalog(key: str) -> Response:
    # A body over its limit was refused before this view (`lti_tool.web.limits`).
    upload = request.files.get("catalog")
    if upload is None or not upload.filename:
        return _refused(key, "Choose a catalog file (JSON) to upload. Nothing was imported.")
    try:
        data = upload.read()
    finally:
        upload.close()
    try:
        preview = preview_upload(container(), actor(), key, data)
    except InvalidUpload as exc:
        return _refused(key, exc.message)
    view = console.tenant_view(container(), actor(), key)
    page = render_template("admin/catalog_preview.html", view=view, preview=preview, refused="")
    return make_response(page, 200 if preview.valid else 400)


@bp.post("/registrations/<key>/catalog/confirm")
def confirm_catalog(key: str) -> Response:
    try:
        result = confirm_upload(container(), actor(), key, request.form.get("token", ""))
    except ConfigurationError as exc:
        flash(exc.message, "error")
    else:
        done = "Imported" if result.created else ("Updated" if result.changed else "Kept")
        flash(
            f"{done} the catalog: {result.competencies} competencies, {result.lessons} "
            f"lessons, {result.pathways} pathways.",
            "ok",
        )
    return redirect(url_for("admin.registration", key=key), 303)
