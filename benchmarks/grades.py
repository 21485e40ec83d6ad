"""Grades benchmark: scores from Skillpath's outbox to the real platform peer
(lti1p3platform's AGS endpoints), and beside it the pylti1p3 way (one connector per
launch, posting inline), in one run.

    .venv/bin/python -m benchmarks.grades [--scores 10000] [--learners 1000]
        [--workers 4] [--concurrency 8] [--outage-seconds 30] [--reference-scores 1000]
        [--peer-process]

Phase "up": a producer enqueues the scores (one line item per competency, so none
supersedes another) while workers drain the outbox. Phase "outage": the same with the fault
proxy failing half of all requests (503) for the first `--outage-seconds`. Each phase reports
scores per second, tokens requested, delivery lag (enqueue commit → platform receipt)
p50/p99, and checks the platform's gradebook: lost and duplicated scores. Skillpath uses
SQLite, as in embedded mode; everything runs in this process on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.peer_process import PeerInProcess
from benchmarks.timing import percentile
from config import Settings
from lti_tool.container import Container
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.lti.services.clients import ServiceClients
from lti_tool.lti.services.score_delivery import KIND, AgsScoreDeliverer
from lti_tool.outbox import WorkerOptions, worker_once
from lti_tool.outbox.delivery import DelivererRegistry
from lti_tool.storage import LaunchRecord
from lti_tool.usecases import admin
from lti_tool.usecases.grades import enqueue_progress
from peers.fault_proxy import FaultProxy
from peers.lti_platform import AGS_CLAIM, PlatformPeer
from peers.tool_server import ToolServer, free_port, start_tool

COMPETENCIES = 10


@dataclass
class PhaseResult:
    name: str
    scores: int
    seconds: float
    tokens: int
    lag_p50: float
    lag_p99: float
    lost: int
    duplicates: int
    injected_faults: int = 0

    @property
    def rate(self) -> float:
        return self.scores / self.seconds if self.seconds else 0.0


def _learners(
    services: Container, peer: PlatformPeer, client_id: str, count: int
) -> list[LaunchRecord]:
    context_id = "bench-" + uuid.uuid4().hex[:8]
    rows = []
    with services.storage.transaction() as tx:
        for n in range(count):
            user = f"learner-{n:05}"
            claims = peer.default_claims(client_id=client_id, user=user, context_id=context_id)
            row = LaunchRecord(
                id="launch-" + uuid.uuid4().hex,
                issuer=peer.issuer,
                client_id=client_id,
                deployment_id="dep-1",
                message_type="LtiResourceLinkRequest",
                subject=user,
                role="learner",
                user_name=None,
                context_id=context_id,
                context_title=None,
                resource_link_id="link-1",
                resource_link_title=None,
                claims=claims,
                created_at=datetime.now(UTC),
            )
            tx.launches.add(row)
            rows.append(row)
    return rows


def _register(tool: ToolServer, peer: PlatformPeer) -> str:
    client_id = "bench-" + uuid.uuid4().hex[:8]
    admin.register_platform(
        tool.app.extensions["skillpath"],
        RegistrationInput(
            issuer=peer.issuer,
            client_id=client_id,
            auth_login_url=peer.auth_login_url,
            auth_token_url=peer.auth_token_url,
            keyset_url=peer.keyset_url,
            deployments=["dep-1"],
        ),
    )
    peer.register_tool(client_id, "dep-1", tool.login_url, tool.launch_url, tool.jwks_url)
    return client_id


def run_phase(
    name: str,
    tool: ToolServer,
    peer: PlatformPeer,
    scores: int,
    learners: int,
    workers: int,
    concurrency: int,
    proxy: FaultProxy | None = None,
    outage_seconds: float = 0.0,
) -> PhaseResult:
    services: Container = tool.app.extensions["skillpath"]
    client_id = _register(tool, peer)
    launches = _learners(services, peer, client_id, learners)
    context_id = launches[0].context_id
    tokens_before = len(peer.tokens_issued)
    enqueued_at: dict[tuple[str, str], float] = {}
    produced = threading.Event()

    def produce() -> None:
        batch = 100
        plan = [(c, launch) for c in range(COMPETENCIES) for launch in launches][:scores]
        for start in range(0, len(plan), batch):
            now = datetime.now(UTC)
            with services.storage.transaction() as tx:
                for competency, launch in plan[start : start + batch]:
                    enqueue_progress(tx, launch, 7, 10, now=now, competency_id=f"comp-{competency}")
            committed = time.time()
            for competency, launch in plan[start : start + batch]:
                enqueued_at[(f"comp-{competency}", str(launch.subject))] = committed
        produced.set()

    stop = threading.Event()

    def work() -> None:
        own = Container.build(services.settings)
        session = own.new_http_session(own.settings, concurrency + 2)
        if proxy is not None:
            session.proxies.update(proxy.proxies)
            session.trust_env = False
        clients = ServiceClients(own.tool_conf, own.store, own.signing_key, session)
        registry = DelivererRegistry()
        registry.register(KIND, AgsScoreDeliverer(clients))
        options = WorkerOptions(batch_size=50, concurrency=concurrency, kinds=(KIND,))
        try:
            while not stop.is_set():
                if worker_once(own, options, registry).claimed == 0:
                    time.sleep(0.02)
        finally:
            session.close()
            own.close()

    if proxy is not None and outage_seconds:
        proxy.fail_fraction_for(0.5, outage_seconds)
    started = time.time()
    threads = [threading.Thread(target=produce)] + [
        threading.Thread(target=work) for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    while True:
        time.sleep(0.1)
        if produced.is_set():
            with services.storage.transaction() as tx:
                if tx.outbox.counts([KIND]).pending == 0:
                    break
    stop.set()
    for thread in threads:
        thread.join()

    tag_of = {i["id"]: i.get("tag") for i in peer.gradebook.line_items(context_id)}
    posts = [p for p in peer.gradebook.posts() if p.line_item_id in tag_of]
    per_key = Counter((tag_of[p.line_item_id], p.user_id) for p in posts)
    lags = sorted(
        p.received_at - enqueued_at[(str(tag_of[p.line_item_id]), p.user_id)]
        for p in posts
        if (tag_of[p.line_item_id], p.user_id) in enqueued_at
    )
    finished = max(p.received_at for p in posts) if posts else time.time()
    return PhaseResult(
        name=name,
        scores=len(per_key),
        seconds=finished - started,
        tokens=len(peer.tokens_issued) - tokens_before,
        lag_p50=percentile(lags, 50),
        lag_p99=percentile(lags, 99),
        lost=len(set(enqueued_at) - set(per_key)),
        duplicates=sum(n - 1 for n in per_key.values() if n > 1),
        injected_faults=proxy.stats.injected_status if proxy else 0,
    )


def run_platform_ceiling(
    peer: PlatformPeer, tool: ToolServer, scores: int, concurrency: int
) -> PhaseResult:
    """The platform alone: one token, score posts fired from `concurrency` threads with no
    outbox, no database, no retries. What the platform can take is the ceiling for ours."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    services: Container = tool.app.extensions["skillpath"]
    client_id = _register(tool, peer)
    [launch] = _learners(services, peer, client_id, 1)
    clients = ServiceClients(services)
    endpoint = launch.claims[AGS_CLAIM]
    scopes = sorted(endpoint["scope"])
    client = clients.ags(peer.issuer, client_id, scopes)
    from lti_tool.lti.services.ags import LineItemSpec

    lineitem = client.resolve_line_item(
        endpoint["lineitems"], LineItemSpec("Ceiling", 10, tag="ceiling"), client_id
    )
    token = client.connector.get_access_token(scopes)
    tokens_before = len(peer.tokens_issued)
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=concurrency))
    lags: list[float] = []

    def post(n: int) -> None:
        sent = time.time()
        response = session.post(
            lineitem + "/scores",
            json={
                "userId": f"ceiling-{n}",
                "scoreGiven": 7,
                "scoreMaximum": 10,
                "activityProgress": "InProgress",
                "gradingProgress": "FullyGraded",
                "timestamp": datetime.now(UTC).isoformat(),
            },
            headers={"Authorization": "Bearer " + token},
            timeout=20,
        )
        response.raise_for_status()
        lags.append(time.time() - sent)

    started = time.time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(post, range(scores)))
    seconds = time.time() - started
    clients.close()
    session.close()
    lags.sort()
    return PhaseResult(
        name=f"platform alone, {concurrency} in flight (ceiling)",
        scores=scores,
        seconds=seconds,
        tokens=len(peer.tokens_issued) - tokens_before,
        lag_p50=percentile(lags, 50),
        lag_p99=percentile(lags, 99),
        lost=0,
        duplicates=0,
    )


def run_reference(peer: PlatformPeer, tool: ToolServer, scores: int) -> PhaseResult:
    """pylti1p3 as its examples use it: per launch a new ServiceConnector (so a new token),
    `put_grade` inline, one at a time."""
    from pylti1p3.assignments_grades import AssignmentsGradesService
    from pylti1p3.grade import Grade
    from pylti1p3.lineitem import LineItem
    from pylti1p3.service_connector import ServiceConnector

    services: Container = tool.app.extensions["skillpath"]
    client_id = _register(tool, peer)
    launches = _learners(services, peer, client_id, scores)
    registration = services.tool_conf.find_registration_by_params(peer.issuer, client_id)
    tokens_before = len(peer.tokens_issued)
    started = time.time()
    lags = []
    for launch in launches:
        sent = time.time()
        connector = ServiceConnector(registration)
        ags = AssignmentsGradesService(connector, launch.claims[AGS_CLAIM])
        grade = Grade().set_score_given(7).set_score_maximum(10)
        grade.set_activity_progress("InProgress").set_grading_progress("FullyGraded")
        grade.set_timestamp(datetime.now(UTC).isoformat()).set_user_id(str(launch.subject))
        line_item = LineItem().set_tag("progress").set_label("Progress").set_score_maximum(10)
        ags.put_grade(grade, line_item)
        lags.append(time.time() - sent)
    seconds = time.time() - started
    lags.sort()
    return PhaseResult(
        name="pylti1p3 inline (reference)",
        scores=scores,
        seconds=seconds,
        tokens=len(peer.tokens_issued) - tokens_before,
        lag_p50=percentile(lags, 50),
        lag_p99=percentile(lags, 99),
        lost=0,
        duplicates=0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scores", type=int, default=10_000)
    parser.add_argument("--learners", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--outage-seconds", type=float, default=30.0)
    parser.add_argument("--reference-scores", type=int, default=1_000)
    parser.add_argument(
        "--peer-process",
        action="store_true",
        help="run the platform peer in its own process (its own GIL and core), as a real LMS",
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    work = Path(tempfile.mkdtemp(prefix="skillpath-grades-"))
    port = free_port()
    settings = Settings(
        base_url=f"http://127.0.0.1:{port}",
        database_url=f"sqlite:///{work / 'bench.sqlite3'}",
        secret_key="benchmark",
        instance_path=str(work),
        log_level="WARNING",
        embedded_worker=False,
    )
    peer: Any = PeerInProcess() if args.peer_process else PlatformPeer().start()
    tool = start_tool(settings, port=port)
    proxy = FaultProxy().start()
    results = []
    try:
        results.append(
            run_platform_ceiling(peer, tool, min(args.scores, 3000), args.concurrency * 2)
        )
        results.append(
            run_phase(
                "Skillpath outbox, platform up",
                tool,
                peer,
                args.scores,
                args.learners,
                args.workers,
                args.concurrency,
            )
        )
        results.append(
            run_phase(
                f"Skillpath outbox, 50% failing for {args.outage_seconds:g} s",
                tool,
                peer,
                args.scores,
                args.learners,
                args.workers,
                args.concurrency,
                proxy=proxy,
                outage_seconds=args.outage_seconds,
            )
        )
        if args.reference_scores:
            results.append(run_reference(peer, tool, args.reference_scores))
    finally:
        proxy.stop()
        tool.stop()
        peer.stop()

    where = "in its own process" if args.peer_process else "in this process"
    print(
        f"grades: {args.scores} scores for {args.learners} learners, {args.workers} workers x "
        f"{args.concurrency} in flight, SQLite; platform peer lti1p3platform 0.1.8 {where}"
    )
    header = (
        f"{'run':<44} {'scores':>7} {'seconds':>8} {'scores/s':>9} {'tokens':>7} "
        f"{'lag p50 s':>10} {'lag p99 s':>10} {'lost':>5} {'dup':>4} {'faults':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.name:<44} {r.scores:>7} {r.seconds:>8.1f} {r.rate:>9.1f} {r.tokens:>7} "
            f"{r.lag_p50:>10.2f} {r.lag_p99:>10.2f} {r.lost:>5} {r.duplicates:>4} "
            f"{r.injected_faults:>7}"
        )


if __name__ == "__main__":
    main()
