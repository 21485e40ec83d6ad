"""Looking straight into Skillpath's tables from a test (the app itself goes through the
repositories of `lti_tool.storage`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from lti_tool.container import Container
from lti_tool.storage import Tenant, Transaction
from peers.tool_server import ToolServer


def container_of(where: Container | ToolServer | Flask) -> Container:
    if isinstance(where, Container):
        return where
    app = where.app if isinstance(where, ToolServer) else where
    found: Container = app.extensions["skillpath"]
    return found


@contextmanager
def db(where: Container | ToolServer | Flask) -> Iterator[Session]:
    """A session on the app's database that commits when the block ends cleanly."""
    with (
        Session(container_of(where).storage.engine, expire_on_commit=False) as session,
        session.begin(),
    ):
        yield session


def add_registration(tx: Transaction, tenant: Tenant, now: datetime) -> None:
    """A registration at `https://lms.example` with one deployment, "d1", straight through
    the repository (the storage tests have no platform peer)."""
    tx.registrations.add(
        tenant,
        name="LMS",
        auth_login_url="https://lms.example/auth",
        auth_token_url="https://lms.example/token",
        keyset_url="https://lms.example/jwks",
        auth_audience=None,
        deployments=["d1"],
        now=now,
    )
