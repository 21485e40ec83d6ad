"""`skillpath serve` (gunicorn with threaded workers) and `skillpath demo`.

Threads matter: while one request waits on a platform's token endpoint, the platform may
call our JWKS, and that request must find a free thread.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication


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


def run_gunicorn(bind: str, workers: int, threads: int) -> None:
    SkillpathServer(
        {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": "-",
            # Path without the query string: the launch page URL carries the session token.
            "access_log_format": '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss',
            "timeout": 60,
            # Browsers that collected cookies from many platforms send long headers.
            "limit_request_field_size": 16384,
        }
    ).run()


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
