"""Several workers, each with its own database engine (as separate processes would have),
drain one outbox into the platform: every score lands exactly once. On PostgreSQL when
SKILLPATH_TEST_DATABASE_URL is set (SKIP LOCKED), else on the SQLite file."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import select

from lti_tool.ags import record_progress
from lti_tool.ags.connect import ServiceClients
from lti_tool.ags.deliverer import KIND, AgsScoreDeliverer
from lti_tool.ags.progress import PROGRESS_TAG
from lti_tool.outbox import counts, worker_once
from lti_tool.outbox.delivery import DelivererRegistry
from lti_tool.outbox.models import DeliveryAttempt
from lti_tool.services import Services
from tests.lti_tool.ags.conftest import GradeRig

WORKERS = 4


def test_four_workers_never_post_a_score_twice(rig: GradeRig) -> None:
    expected = {}
    for n, launch in enumerate(rig.learners(120)):
        record_progress(rig.services, launch, n % 7, 7)
        expected[launch.subject] = n % 7
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def worker() -> None:
        services = Services.build(rig.services.settings)
        registry = DelivererRegistry()
        registry.register(KIND, AgsScoreDeliverer(ServiceClients(services)))
        try:
            barrier.wait()
            while True:
                report = worker_once(services, rig.options(concurrency=3, batch_size=5), registry)
                if report.claimed == 0:
                    with services.database.session() as session:
                        if counts(session, [KIND]).pending == 0:
                            return
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            services.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    item = rig.line_item(tag=PROGRESS_TAG)
    posts = rig.peer.gradebook.posts(item["id"])
    assert Counter(p.user_id for p in posts) == Counter(dict.fromkeys(expected, 1))
    assert {p.user_id: p.score["scoreGiven"] for p in posts} == expected
    with rig.services.database.session() as session:
        outcomes = Counter(session.scalars(select(DeliveryAttempt.outcome)))
        assert outcomes == Counter({"delivered": 120})
        workers = set(session.scalars(select(DeliveryAttempt.worker)))
        assert len(workers) >= 1
