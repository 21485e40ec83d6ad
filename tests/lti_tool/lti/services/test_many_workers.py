"""Several workers, each with its own database engine (as separate processes would have),
drain one outbox into the platform: every score lands exactly once. On PostgreSQL when
SKILLPATH_TEST_DATABASE_URL is set (SKIP LOCKED), else on the SQLite file."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.container import Container
from lti_tool.lti.services.score_delivery import KIND
from lti_tool.outbox import worker_once
from lti_tool.storage.models import AttemptRow
from lti_tool.usecases.grades import PROGRESS_TAG, record_progress
from tests.lti_tool.lti.services.conftest import GradeRig

WORKERS = 4


def test_four_workers_never_post_a_score_twice(rig: GradeRig) -> None:
    expected = {}
    for n, launch in enumerate(rig.learners(120)):
        record_progress(rig.services, launch, n % 7, 7)
        expected[launch.subject] = n % 7
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def worker() -> None:
        # Each thread stands for a worker process: a container of its own.
        services = Container.build(rig.services.settings)
        try:
            barrier.wait()
            while True:
                report = worker_once(services, rig.options(concurrency=3, batch_size=5))
                if report.claimed == 0:
                    with services.storage.transaction() as tx:
                        if tx.outbox.counts([KIND]).pending == 0:
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
    with Session(rig.services.storage.engine) as session:
        outcomes = Counter(session.scalars(select(AttemptRow.outcome)))
        assert outcomes == Counter({"delivered": 120})
        workers = set(session.scalars(select(AttemptRow.worker)))
        assert len(workers) >= 1
