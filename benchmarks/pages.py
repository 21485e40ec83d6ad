"""Page benchmark: server time of the learner page, `GET /api/v1/me/path` and the
instructor's class view, with 1,000 learners, a 1,000-lesson catalog and 200 statements for
the measured learner; the pylti1p3 reference tool's page (its launch renders it) in the same
run.

    .venv/bin/python -m benchmarks.pages [--reads 400] [--class-reads 100]

Server time is measured inside each tool's WSGI stack (`benchmarks.timing.PathTimer`): the
client, the platform peer and the network are excluded. Everything runs in this process on
127.0.0.1; Skillpath uses SQLite (set SKILLPATH_BENCH_DATABASE_URL for PostgreSQL).

Setup: real launches through the platform peer for the measured learner, the instructor and
a sample of learners; the rest of the 1,000 learners are copies of the sample's records and
stored views under new ids (computing 1,000 views one by one would only time the setup).
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import insert, select
from werkzeug.serving import make_server

from benchmarks.reference_tool import make_reference_app
from benchmarks.timing import PathTimer, percentile
from config import Settings
from lti_tool import create_app
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.storage import Tenant
from lti_tool.storage.models import LearnerPageRow, LearnerRow
from lti_tool.usecases import admin
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import free_port
from recommender import Observation

COMPETENCIES = 100
LESSONS = 1000
LEARNERS = 1000
CLASS_SIZE = 500
STATEMENTS = 200
SAMPLE = 20
FORMATS = ("video", "text", "interactive", "simulation", "scenario", "audio")


def catalog() -> dict[str, Any]:
    """100 competencies, 1,000 lessons (ten per competency, some on two), one pathway whose
    goal is twelve competencies in four milestones."""
    competencies = [{"id": f"c{c:03d}", "name": f"Competency {c}"} for c in range(COMPETENCIES)]
    lessons = []
    for n in range(LESSONS):
        main = n % COMPETENCIES
        parts = [{"id": f"c{main:03d}", "weight": 1}]
        if n % 3 == 0:
            parts.append({"id": f"c{(main + 1) % COMPETENCIES:03d}", "weight": 0.3})
        lessons.append(
            {
                "id": f"https://lessons.example.org/bench/{n:04d}",
                "title": f"Lesson {n}",
                "url": f"https://lessons.example.org/bench/{n:04d}",
                "kind": "assessment" if n % 10 == 9 else "practice" if n % 2 else "lesson",
                "format": FORMATS[n % len(FORMATS)],
                "duration_minutes": 3 + n % 12,
                "difficulty": (n % 10) / 10,
                "competencies": parts,
            }
        )
    goal = [f"c{c:03d}" for c in range(12)]
    return {
        "format": "skillpath-catalog/1",
        "competencies": competencies,
        "lessons": lessons,
        "pathways": [
            {
                "id": "bench.path",
                "title": "Benchmark pathway",
                "goal": [{"competency": c, "level": 0.8} for c in goal],
                "milestones": [
                    {
                        "id": f"m{i + 1}",
                        "title": f"Milestone {i + 1}",
                        "competencies": goal[3 * i : 3 * i + 3],
                        "due_days": 7 * (i + 1),
                    }
                    for i in range(4)
                ],
            }
        ],
    }


class Served:
    def __init__(self, wsgi: Any, port: int, paths: list[str]) -> None:
        self.timer = PathTimer(wsgi, paths)
        self.server = make_server("127.0.0.1", port, self.timer, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _observations(sub: str, now: datetime) -> list[Observation]:
    found = []
    for n in range(STATEMENTS):
        lesson = n % 60  # the pathway's first competencies, as a learner on it takes them
        score = 0.3 + 0.7 * ((n * 7) % 10) / 10
        found.append(
            Observation(
                learner_id=sub,
                lesson_id=f"https://lessons.example.org/bench/{lesson:04d}",
                timestamp=now - timedelta(minutes=10 * (STATEMENTS - n)),
                score=score,
                success=score >= 0.6,
                statement_id=str(uuid.uuid4()),
            )
        )
    return found


def _clone_learners(app: Any, course_context: str, prefix: str, count: int) -> None:
    """Copies of the sample's learner records and stored views under new ids."""
    storage = app.extensions["skillpath"].storage
    with storage.engine.begin() as connection:
        sample = (
            connection.execute(
                select(LearnerRow.__table__, LearnerPageRow.__table__)
                .join(LearnerPageRow.__table__, LearnerPageRow.learner_id == LearnerRow.id)
                .where(LearnerRow.context_id == course_context, LearnerRow.subject.like("sample-%"))
            )
            .mappings()
            .all()
        )
        rows, pages = [], []
        next_id = int(
            connection.execute(select(LearnerRow.id).order_by(LearnerRow.id.desc())).first()[0]
        )
        for n in range(count):
            source = dict(sample[n % len(sample)])
            next_id += 1
            learner = {c.name: source[c.name] for c in LearnerRow.__table__.columns}
            learner.update(id=next_id, subject=f"{prefix}-{n:04d}")
            page = {c.name: source[c.name] for c in LearnerPageRow.__table__.columns}
            page.update(learner_id=next_id, display_name=f"Learner {prefix} {n}")
            rows.append(learner)
            pages.append(page)
        connection.execute(insert(LearnerRow.__table__), rows)
        connection.execute(insert(LearnerPageRow.__table__), pages)


def run(reads: int, class_reads: int) -> list[dict[str, Any]]:
    platform = PlatformPeer().start()
    work = Path(tempfile.mkdtemp(prefix="skillpath-bench-pages-"))
    results: list[dict[str, Any]] = []
    try:
        port = free_port()
        settings = Settings(
            base_url=f"http://127.0.0.1:{port}",
            database_url=os.environ.get("SKILLPATH_BENCH_DATABASE_URL")
            or f"sqlite:///{work / 'bench.sqlite3'}",
            secret_key="benchmark",
            instance_path=str(work),
            log_level="WARNING",
            embedded_worker=False,
        )
        app = create_app(settings, initialise=True)
        services = app.extensions["skillpath"]
        admin.register_platform(
            services,
            RegistrationInput(
                issuer=platform.issuer,
                client_id="skillpath",
                auth_login_url=platform.auth_login_url,
                auth_token_url=platform.auth_token_url,
                keyset_url=platform.keyset_url,
                deployments=["d1"],
            ),
        )
        started = time.perf_counter()
        admin.import_catalog(services, catalog())
        print(f"catalog imported ({LESSONS} lessons) in {time.perf_counter() - started:.1f} s")
        ours = Served(app.wsgi_app, port, ["/launch/", "/api/v1/me/path", "/lti/launch"])
        base = f"http://127.0.0.1:{port}"
        platform.register_tool(
            "skillpath", "d1", base + "/lti/login", base + "/lti/launch",
            base + "/.well-known/jwks.json",
        )  # fmt: skip
        browser = LaunchBrowser()

        def launch(**params: Any) -> requests.Response:
            response = browser.launch(platform.launch_url(client_id="skillpath", **params))
            assert response.status_code == 200, response.text[:300]
            return response

        # The measured learner: 200 statements in their evidence, then their launch.
        now = datetime.now(UTC)
        with services.storage.transaction() as tx:
            tx.evidence.add_new(Tenant(platform.issuer, "skillpath"),
                                _observations("measured", now), now)  # fmt: skip
        started = time.perf_counter()
        page = launch(user="measured", roles="learner", context_id="course-a", name="Measured")
        first_launch = time.perf_counter() - started
        print(f"measured learner's first launch (200 statements applied): {first_launch:.2f} s")
        ours.timer.reset()
        page = launch(user="measured", roles="learner", context_id="course-a", name="Measured")
        relaunch = ours.timer.samples["/lti/launch"][-1]
        token = page.url.split("t=")[1]

        started = time.perf_counter()
        for n in range(SAMPLE):
            for context in ("course-a", "course-b"):
                launch(user=f"sample-{n}", roles="learner", context_id=context, name=f"S {n}")
        print(f"{2 * SAMPLE} sample launches in {time.perf_counter() - started:.1f} s")
        _clone_learners(app, "course-a", "a", CLASS_SIZE - SAMPLE - 1)
        _clone_learners(app, "course-b", "b", LEARNERS - CLASS_SIZE - SAMPLE)
        with services.storage.transaction() as tx:
            counted = len(tx.learner_pages.class_members(
                next(iter([tx.launches.get(page.url.split("/launch/")[1].split("?")[0])])).course
            ))  # fmt: skip
        print(f"learners: course A {counted}, total {LEARNERS}")
        teacher = launch(user="teacher", roles="instructor", context_id="course-a")

        session = requests.Session()
        bearer = {"Authorization": f"Bearer {token}"}

        def timed(url: str, count: int, path: str, **kw: Any) -> list[float]:
            for _ in range(5):  # warm-up
                assert session.get(url, timeout=30, **kw).status_code == 200
            ours.timer.reset()
            for _ in range(count):
                assert session.get(url, timeout=30, **kw).status_code == 200
            return list(ours.timer.samples[path])

        if os.environ.get("SKILLPATH_BENCH_PROFILE"):  # where the server time goes
            _profile(app, [(page.url, "learner page"), (teacher.url, "class view")])
        page_times = timed(page.url, reads, "/launch/")
        api_times = timed(base + "/api/v1/me/path", reads, "/api/v1/me/path", headers=bearer)
        class_times = timed(teacher.url, class_reads, "/launch/")
        results += [
            summary("Skillpath learner page", page_times),
            summary("Skillpath GET /api/v1/me/path", api_times),
            summary(f"Skillpath class view ({counted} learners)", class_times),
            summary("Skillpath launch POST (learner, again)", [relaunch]),
        ]
        ours.stop()

        # The reference tool: its page is what its launch renders.
        ref_port = free_port()
        ref_base = f"http://127.0.0.1:{ref_port}"
        platform.register_tool(
            "reference", "d1", ref_base + "/login", ref_base + "/launch", ref_base + "/jwks"
        )
        reference = Served(
            make_reference_app(platform.platform_settings("reference", "d1")).wsgi_app,
            ref_port,
            ["/launch"],
        )
        ref_browser = LaunchBrowser()
        for _ in range(5):
            ref_browser.launch(platform.launch_url(client_id="reference", roles="learner"))
        reference.timer.reset()
        for _ in range(min(reads, 200)):
            ref_browser.launch(platform.launch_url(client_id="reference", roles="learner"))
        results.append(
            summary("pylti1p3 reference page (its launch)", reference.timer.samples["/launch"])
        )
        reference.stop()
        for closing in (browser, ref_browser, session):
            closing.close()
        services.close()
    finally:
        platform.stop()
    return results


def _profile(app: Any, pages: list[tuple[str, str]]) -> None:
    import cProfile
    import pstats

    client = app.test_client()
    for url, label in pages:
        path = "/" + url.split("/", 3)[3]
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(10):
            client.get(path)
        profile.disable()
        print(label)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


def summary(name: str, values: list[float]) -> dict[str, Any]:
    return {
        "what": name,
        "n": len(values),
        "p50 ms": percentile(values, 50) * 1000,
        "p95 ms": percentile(values, 95) * 1000,
        "p99 ms": percentile(values, 99) * 1000,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    print("\nPage benchmark: server time inside each tool's WSGI stack (milliseconds)\n")
    print(f"| {'what':<44} | {'n':>5} | {'p50 ms':>8} | {'p95 ms':>8} | {'p99 ms':>8} |")
    print(f"|{'-' * 46}|{'-' * 7}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for r in rows:
        print(
            f"| {r['what']:<44} | {r['n']:>5} | {r['p50 ms']:>8.2f} | {r['p95 ms']:>8.2f} "
            f"| {r['p99 ms']:>8.2f} |"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reads", type=int, default=400)
    parser.add_argument("--class-reads", type=int, default=100)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print_table(run(args.reads, args.class_reads))


if __name__ == "__main__":
    main()
