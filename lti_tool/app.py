"""The app factory: `create_app(settings)` builds one Flask app around one `Container`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from jinja2 import StrictUndefined
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings, configure_logging
from lti_tool import web
from lti_tool.container import Container, resolve_settings
from lti_tool.outbox import EmbeddedWorker, WorkerOptions
from lti_tool.web.templating import SkillpathFlask

PACKAGE = Path(__file__).resolve().parent
EXTENSION = "skillpath"
WORKER_EXTENSION = "skillpath.outbox_worker"


def static_folder() -> Path:
    """The pages' CSS and scripts: inside the package when installed from a wheel, the
    project's `static/` when running from a checkout."""
    installed = PACKAGE / "static"
    return installed if installed.is_dir() else PACKAGE.parent / "static"


def create_app(settings: Settings | None = None, *, initialise: bool = False) -> Flask:
    """Build the app. `settings` default to the environment; `initialise` runs the
    migrations and creates the first tool key (what `skillpath init` does)."""
    app = SkillpathFlask(
        __name__,
        static_folder=str(static_folder()),
        template_folder="web/templates",
        instance_relative_config=True,
    )
    settings = resolve_settings(settings or Settings.from_env(), app.instance_path)
    configure_logging(settings.log_level, settings.log_format, web.log_context)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        PREFERRED_URL_SCHEME="https" if settings.is_https else "http",
    )
    # A template that names a value the view did not pass is a bug: fail, don't render blank.
    app.jinja_env.undefined = StrictUndefined
    if settings.trusted_proxies:
        # The client's address as the trusted proxies name it (the rate limits count it).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    container = Container.build(settings)
    if initialise:
        container.initialise()
    app.extensions[EXTENSION] = container
    web.init_app(app)
    if settings.embedded_worker and not settings.testing:
        start_embedded_worker(app)
    return app


def start_embedded_worker(app: Flask, options: WorkerOptions | None = None) -> EmbeddedWorker:
    """Embedded deployment: the outbox drains in a background thread of this process (once
    per app)."""
    existing = app.extensions.get(WORKER_EXTENSION)
    if isinstance(existing, EmbeddedWorker) and existing.alive:
        return existing
    container = app.extensions[EXTENSION]
    if options is None:
        options = WorkerOptions(lease=timedelta(seconds=container.settings.outbox_lease_seconds))
    worker = EmbeddedWorker(container, options).start()
    app.extensions[WORKER_EXTENSION] = worker
    return worker
