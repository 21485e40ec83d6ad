"""Issue 14, duplicates after SIGKILL: a `skillpath worker` process killed while its score
requests are at the platform. Its items move on after one lease (seconds, not two minutes),
the next worker checks with the platform before sending again, and every score is in the
gradebook exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from config import Settings
from lti_tool.lti.services.score_delivery import KIND
from peers.fault_proxy import FaultProxy
from tests.lti_tool.lti.services.conftest import GradeRig
from tests.lti_tool.lti.services.test_outages import assert_exactly_once, queue_scores

LEASE_SECONDS = 2


def test_a_killed_worker_process_sends_no_score_twice(
    rig: GradeRig, proxy: FaultProxy, settings: Settings, tmp_path: Path
) -> None:
    expected = queue_scores(rig, 4)
    proxy.faults.path_contains = "/scores"
    proxy.faults.slow_next = 4  # the platform takes the scores; the answers come 5 s later
    proxy.faults.slow_seconds = 5.0
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SKILLPATH_") and key.lower() not in ("no_proxy", "http_proxy")
    }
    env.update(
        SKILLPATH_DATABASE_URL=settings.database_url,
        SKILLPATH_REDIS_URL=settings.redis_url,
        SKILLPATH_SECRET_KEY=settings.secret_key,
        SKILLPATH_INSTANCE_PATH=settings.instance_path,
        SKILLPATH_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
        http_proxy=proxy.url,  # the worker reaches the platform through the fault proxy
    )
    skillpath = Path(sys.executable).with_name("skillpath")
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [str(skillpath), "worker"], env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 30
        while proxy.stats.slowed < 4:
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-2000:]
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
            time.sleep(0.05)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    killed_at = time.monotonic()
    with rig.services.storage.transaction() as tx:
        assert tx.outbox.counts([KIND]).pending == 4  # sent, but never recorded
    time.sleep(0.5)  # the forwarded requests reach the platform before the proxy answers
    rig.drain(timeout=30)
    assert time.monotonic() - killed_at < 30
    assert_exactly_once(rig, expected)
