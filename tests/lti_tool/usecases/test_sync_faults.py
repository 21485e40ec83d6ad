"""Issue 14, sync: one unreachable LRS does not stop the others; a sync stopped midway keeps
what it read (its cursor is saved with each page) and the next one goes on from there."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from lti_tool.container import Container
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.storage import Tenant
from lti_tool.usecases import admin
from lti_tool.usecases.evidence_sync import sync_all
from peers.fault_proxy import fault_proxy
from peers.tool_server import free_port
from tests.lti_tool.usecases.test_learner_evidence import BASICS, passed
from tests.peers.lrs_fixtures import LrsPeer, learning_locker  # noqa: F401
from xapi.sync import SyncCursor


def container_of(app: Flask) -> Container:
    found: Container = app.extensions["skillpath"]
    return found


def start_from_now(services: Container) -> None:
    """Every LRS connection's cursor at 'a second ago': the shared LRS peer's older
    statements (other tests') are not this test's business."""
    cursor = SyncCursor(since=datetime.now(UTC) - timedelta(seconds=1)).to_dict()
    with services.storage.transaction() as tx:
        for connection in tx.lrs.all():
            tx.lrs.save_cursor(connection.id, cursor)


def seed(lrs: LrsPeer, count: int) -> None:
    client = lrs.client()
    sub = "learner-" + uuid.uuid4().hex[:8]
    for _ in range(count):
        statement = passed("https://lms.example", sub, BASICS, 0.8)
        client.put_statement(statement, statement_id=statement["id"])


def test_one_unreachable_lrs_does_not_stop_the_others(
    app: Flask,
    learning_locker: LrsPeer,  # noqa: F811
    cli: Any,
) -> None:
    services = container_of(app)
    tenant = Tenant("https://down.example", "client-down")
    admin.register_platform(
        services,
        RegistrationInput(
            tenant.issuer, tenant.client_id, "https://down.example/auth",
            "https://down.example/token", "https://down.example/jwks", ["d1"],
        ),
    )  # fmt: skip
    dead = f"http://127.0.0.1:{free_port()}/xapi/"
    # The dead one first: it used to stop every LRS after it.
    admin.set_lrs(services, dead, "u", "p", tenant)
    admin.set_lrs(
        services, learning_locker.endpoint, learning_locker.username, learning_locker.password
    )
    start_from_now(services)
    seed(learning_locker, 3)

    result = cli("sync", "--once")  # the runner lets an unexpected exception through
    assert result.exit_code == 1  # one clear line (ClickException), not a crash
    assert f"{learning_locker.endpoint}: read 3" in result.output
    assert "sync failed for 1 of 2 LRS: " + dead in result.output


def test_a_stopped_sync_resumes_after_its_last_stored_page(
    app: Flask,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    services = container_of(app)
    parts = urlsplit(learning_locker.endpoint)
    with fault_proxy(f"{parts.scheme}://{parts.netloc}") as proxy:
        admin.set_lrs(
            services,
            proxy.url + parts.path,
            learning_locker.username,
            learning_locker.password,
        )
        start_from_now(services)
        seed(learning_locker, 10)
        # Pages of 3: the third page's request fails (a 400 is not retried).
        proxy.fail(1, 400, ("GET",), path_contains="statements", after=2)
        (first,) = sync_all(services, page_size=3)
        assert first.error and first.pages == 2 and first.read == 6
        with services.storage.transaction() as tx:
            (connection,) = tx.lrs.all()
        saved = SyncCursor.from_dict(connection.sync_cursor or {})
        assert saved.since is not None and saved.since == first.cursor_at

        (second,) = sync_all(services, page_size=3)
    assert second.ok
    # From the saved cursor: the last 4, plus any re-read at the cursor's own instant.
    assert 4 <= second.read <= 5
