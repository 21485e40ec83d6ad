"""The admin console at `/admin`: registrations (including pending dynamic ones),
deployments, each registration's LRS and catalog, the tool key, the outbox and the audit log.

Reached by a local admin's sign-in or by an LMS administrator's launch (limited to that
registration); never shown inside another site's frame. Every form carries a CSRF token
(flask-wtf) and a single-use token; every change goes to the audit log (in the use cases).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from lti_tool.web.admin import access, catalogs, registrations, system
from lti_tool.web.admin.blueprint import bp, csrf

__all__ = ["access", "bp", "catalogs", "init_app", "registrations", "system"]

SESSION_HOURS = 8


def init_app(app: Flask) -> None:
    settings = app.extensions["skillpath"].settings
    # CSRF is checked on the console's forms only (the LTI endpoints take the platform's
    # signed posts; the API takes bearer tokens).
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # The console's session cookie: first-party (the console opens in its own window).
    app.config.setdefault("SESSION_COOKIE_NAME", "skillpath_console")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_SECURE", settings.is_https)
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=SESSION_HOURS))
    csrf.init_app(app)
    app.register_blueprint(bp)
