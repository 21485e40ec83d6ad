"""The app factory: `create_app(settings)` builds one Flask app around one `Services`."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import StrictUndefined

from config import Settings, configure_logging
from lti_tool import error_pages
from lti_tool.learning import lrs_evidence
from lti_tool.services import Services, resolve_settings
from lti_tool.views import api, health, lti, openapi, pages, xapi_profile

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_REQUEST_BYTES = 1024 * 1024


def create_app(settings: Settings | None = None, *, initialise: bool = False) -> Flask:
    """Build the app. `settings` default to the environment; `initialise` runs the
    migrations and creates the first tool key (what `skillpath init` does)."""
    app = Flask(
        __name__,
        static_folder=str(PROJECT_ROOT / "static"),
        instance_relative_config=True,
    )
    settings = resolve_settings(settings or Settings.from_env(), app.instance_path)
    configure_logging(settings.log_level)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        TESTING=settings.testing,
        PREFERRED_URL_SCHEME="https" if settings.is_https else "http",
    )
    # A template that names a value the view did not pass is a bug: fail, don't render blank.
    app.jinja_env.undefined = StrictUndefined
    services = Services.build(settings)
    if initialise:
        services.initialise()
    app.extensions["skillpath"] = services
    lrs_evidence.init_app(app, services)
    error_pages.init_app(app)
    app.register_blueprint(lti.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(xapi_profile.bp)
    if settings.embedded_worker and not settings.testing:
        # Embedded deployment: the outbox drains in a background thread of this process.
        from lti_tool.outbox import start_embedded_worker

        start_embedded_worker(app)
    return app
