"""`skillpath serve` (gunicorn with threaded workers) and `skillpath demo`.

Threads matter: while one request waits on a platform's token endpoint, the platform may
call our JWKS, and that request must find a free thread.

Several worker processes share their Prometheus metrics through prometheus-client's
multi-process folder (`PROMETHEUS_MULTIPROC_DIR`, else `metrics/` in the instance folder,
emptied at start). gunicorn's own lines are JSON like the app's (`SKILLPATH_LOG_FORMAT`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from config import Settings, SettingsError
from config.logging import json_handler
from lti_tool.cli.support import instance_path
from lti_tool.metrics import mark_process_dead, use_multiprocess_dir


class SkillpathServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from lti_tool import create_app

        return create_app()


class NoAccessLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's logger without its access log: the app logs every request itself, with its
    request id (gunicorn would otherwise build each access line and drop it: 8% of a
    launch's CPU, measured)."""

    def access(self, *args: Any, **kwargs: Any) -> None:
        return None


def gunicorn_logging(log_format: str) -> dict[str, Any]:
    """gunicorn's own loggers: JSON lines like the app's. The app logs one line per request
    (with its request id), so gunicorn's access log is left off."""
    if log_format != "json":
        return {}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"json": {"()": json_handler}},
        "root": {"level": "WARNING", "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": [], "level": "INFO", "propagate": False},
        },
    }


def run_gunicorn(bind: str, workers: int, threads: int) -> None:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    metrics_dir = settings.metrics_dir or str(Path(instance_path(settings)) / "metrics")
    use_multiprocess_dir(metrics_dir, clear=True)
    options: dict[str, Any] = {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 60,
        # Browsers that collected cookies from many platforms send long headers.
        "limit_request_field_size": 16384,
        "child_exit": lambda server, worker: mark_process_dead(metrics_dir, worker.pid),
    }
    logconfig = gunicorn_logging(settings.log_format)
    if logconfig:
        options["logconfig_dict"] = logconfig
        options["logger_class"] = NoAccessLogger
    else:
        # Path without the query string: the launch page URL carries the session token.
        options["accesslog"] = "-"
        options["access_log_format"] = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
    SkillpathServer(options).run()


@click.command()
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
def serve(bind: str, workers: int, threads: int) -> None:
    """Run the production server (gunicorn, threaded workers)."""
    run_gunicorn(bind=bind, workers=workers, threads=threads)


@click.command()
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--lms-port", default=5001, show_default=True, type=click.IntRange(1, 65535))
def demo(port: int, lms_port: int) -> None:
    """Start Skillpath and a demo LMS on 127.0.0.1, registered with each other."""
    from lti_tool.demo import run_demo  # the product never imports the demo; this command runs it

    run_demo(port=port, lms_port=lms_port)
