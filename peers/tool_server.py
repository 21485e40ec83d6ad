"""Our own app served over real HTTP on 127.0.0.1 for integration tests and benchmarks."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text
from werkzeug.serving import BaseWSGIServer, make_server

from config import Settings
from lti_tool import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def database_url(tmp: Path, environ: dict[str, str]) -> Iterator[str]:
    """A fresh database: a SQLite file, or a fresh PostgreSQL schema when
    SKILLPATH_TEST_DATABASE_URL is set (dropped afterwards)."""
    base = environ.get("SKILLPATH_TEST_DATABASE_URL", "")
    if not base:
        yield f"sqlite:///{tmp / 'skillpath.sqlite3'}"
        return
    schema = "sp_" + uuid.uuid4().hex[:12]
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_settings(tmp: Path, environ: dict[str, str], db_url: str, **overrides: object) -> Settings:
    settings = Settings(
        base_url="http://127.0.0.1:5000",
        database_url=db_url,
        redis_url=environ.get("SKILLPATH_TEST_REDIS_URL", ""),
        secret_key="test-secret-" + uuid.uuid4().hex,
        instance_path=str(tmp / "instance"),
        testing=True,
        embedded_worker=False,
        log_level="INFO",
    )
    return settings.replace(**overrides)


class ToolServer:
    """One Skillpath app instance listening on 127.0.0.1."""

    def __init__(self, app: Flask, port: int) -> None:
        self.app = app
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
        # A short poll: `shutdown` waits for the loop to notice, and every test stops one.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> ToolServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.app.extensions["skillpath"].close()

    @property
    def login_url(self) -> str:
        return self.base_url + "/lti/login"

    @property
    def launch_url(self) -> str:
        return self.base_url + "/lti/launch"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/.well-known/jwks.json"


def start_tool(
    settings: Settings, port: int | None = None, initialise: bool = True, base_url: str = ""
) -> ToolServer:
    """Serve an app on `port`; its public URL is its own address unless `base_url` says
    otherwise (several instances behind one public URL)."""
    port = port or free_port()
    settings = settings.replace(base_url=base_url or f"http://127.0.0.1:{port}")
    app = create_app(settings, initialise=initialise)
    return ToolServer(app, port).start()
