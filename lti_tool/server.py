"""`skillpath serve`: gunicorn with threaded workers.

Threads matter: while one request waits on a platform's token endpoint, the platform may
call our JWKS, and that request must find a free thread.
"""

from __future__ import annotations

from typing import Any

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
