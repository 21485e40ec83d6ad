"""Issue 14: PostgreSQL connections dropped and PostgreSQL away for a while. Pooled
connections that died are replaced before use (their socket says so), so pages and the worker
carry on; a worker whose database goes away after it sent scores records the answers once it
is back, and no score is sent twice. PostgreSQL is taken away through a TCP proxy of ours
(`peers.tcp_proxy`), never stopped."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from config import Settings
from lti_tool.lti.services.score_delivery import KIND
from lti_tool.outbox import WorkerReport, worker_once
from peers.fault_proxy import FaultProxy
from peers.tcp_proxy import TcpProxy, tcp_proxy
from tests.lti_tool.lti.services.conftest import GradeRig
from tests.lti_tool.lti.services.test_outages import assert_exactly_once, queue_scores

DATABASE = os.environ.get("SKILLPATH_TEST_DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not DATABASE, reason="needs SKILLPATH_TEST_DATABASE_URL (real PostgreSQL)"
)


@pytest.fixture
def database_proxy() -> Iterator[TcpProxy]:
    url = make_url(DATABASE)
    with tcp_proxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        yield proxy


@pytest.fixture
def settings(settings: Settings, database_proxy: TcpProxy) -> Settings:
    """The test settings (their own schema), with PostgreSQL reached through the proxy."""
    url = make_url(settings.database_url).set(host="127.0.0.1", port=database_proxy.port)
    return settings.replace(database_url=url.render_as_string(hide_password=False))


def test_dropped_connections_are_replaced_before_use(
    rig: GradeRig, database_proxy: TcpProxy
) -> None:
    rig.launch("learner-a")
    opened = database_proxy.accepted
    database_proxy.drop_connections()  # every pooled connection is dead now
    rig.launch("learner-b")
    expected = queue_scores(rig, 3)
    database_proxy.drop_connections()
    rig.drain()
    assert_exactly_once(rig, expected)
    assert database_proxy.accepted > opened  # new connections replaced the dead ones


def test_a_database_outage_during_delivery_sends_no_score_twice(
    rig: GradeRig, proxy: FaultProxy, database_proxy: TcpProxy
) -> None:
    expected = queue_scores(rig, 4)
    proxy.faults.path_contains = "/scores"
    proxy.faults.slow_next = 4  # the platform takes the scores, and answers 0.8 s later
    proxy.faults.slow_seconds = 0.8
    deliverers = rig.deliverers(proxy)
    reports: list[WorkerReport] = []
    worker = threading.Thread(
        target=lambda: reports.append(worker_once(rig.services, rig.options(), deliverers))
    )
    worker.start()
    deadline = time.monotonic() + 10
    while proxy.stats.slowed < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    database_proxy.cut()  # the answers arrive while the database is away
    time.sleep(2.0)
    database_proxy.restore()
    worker.join(60)
    assert reports and reports[0].delivered == 4 and reports[0].lease_lost == 0
    with rig.services.storage.transaction() as tx:
        assert tx.outbox.counts([KIND]).pending == 0
    assert_exactly_once(rig, expected)


def test_pages_render_again_when_the_database_is_back(
    rig: GradeRig, database_proxy: TcpProxy
) -> None:
    database_proxy.cut()
    url = rig.peer.launch_url(client_id=rig.client_id, user="learner-x", context_id="c")
    login = rig.browser.session.get(url, allow_redirects=False, timeout=10)
    answer = rig.browser.session.get(login.headers["Location"], allow_redirects=False, timeout=30)
    assert answer.status_code == 503 and "Traceback" not in answer.text
    assert "cannot reach its database" in answer.text
    database_proxy.restore()
    rig.launch("learner-x")
