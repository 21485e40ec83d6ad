"""xAPI sync benchmark: Skillpath's client beside tincan's `RemoteLRS`, same LRS, same run.

Seeds Learning Locker's statement service (the test peer, in-memory) with N statements for
1,000 learners, then times a full sync, an incremental sync (1% new statements) and the
single-learner refresh done at launch (p50/p95), through our client and through tincan.
"Our share" is the CPU time of the calling thread (request building, JSON parsing, reading
statements into observations) over the wall time: the rest is the LRS and the network.

Run: python -m benchmarks.xapi_sync [--statements 100000] [--learners 1000]
Needs the peers (`make peers`).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tincan import Agent, AgentAccount, RemoteLRS  # type: ignore[import-untyped]

from adapters.lrs import LearningLockerPaging
from peers.lrs import LrsPeer, start_learning_locker
from xapi.client import LrsClient
from xapi.identity import ActorMatcher, IdentityPolicy
from xapi.sync import SyncCursor, refresh_learner, sync_statements
from xapi.timestamps import format_timestamp

ISSUER = "https://lms.bench.skillpath-tests.org"
LESSONS = [f"https://content.skillpath-tests.org/lessons/{n}" for n in range(40)]
VERBS = [
    "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/answered",
    "http://adlnet.gov/expapi/verbs/experienced",
]


def make_statement(rng: random.Random, learner: int, moment: datetime) -> dict[str, Any]:
    verb = rng.choice(VERBS)
    body: dict[str, Any] = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "actor": {"objectType": "Agent", "account": {"homePage": ISSUER, "name": f"l{learner}"}},
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": rng.choice(LESSONS)},
        "timestamp": format_timestamp(moment),
    }
    if not verb.endswith("experienced"):
        body["result"] = {
            "score": {"scaled": round(rng.random(), 3)},
            "success": rng.random() > 0.3,
        }
    return body


def seed(client: LrsClient, rng: random.Random, count: int, learners: int) -> float:
    started = time.perf_counter()
    start = datetime.now(UTC) - timedelta(days=30)
    batch: list[dict[str, Any]] = []
    for n in range(count):
        batch.append(make_statement(rng, rng.randrange(learners), start + timedelta(seconds=n)))
        if len(batch) == 1000:
            client.post_statements(batch)
            batch = []
    if batch:
        client.post_statements(batch)
    return time.perf_counter() - started


def timed(action: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, this thread's CPU seconds, result)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    result = action()
    return time.perf_counter() - wall, time.thread_time() - cpu, result


def tincan_lrs(peer: LrsPeer) -> RemoteLRS:
    return RemoteLRS(
        endpoint=peer.endpoint, username=peer.username, password=peer.password, version="1.0.3"
    )


def tincan_sync(lrs: RemoteLRS, since: datetime | None) -> tuple[int, datetime | None]:
    """Read every statement with tincan, following `more`; (count, newest stored)."""
    query: dict[str, Any] = {"limit": 500, "ascending": True}
    if since is not None:
        query["since"] = format_timestamp(since)
    response = lrs.query_statements(query)
    count, newest = 0, since
    while True:
        if not response.success:
            raise RuntimeError(f"tincan query failed: {response.response.status}")
        result = response.content
        count += len(result.statements)
        if result.statements:
            newest = result.statements[-1].stored
        if not result.more:
            return count, newest
        response = lrs.more_statements(result)


def tincan_refresh(lrs: RemoteLRS, learner: int) -> int:
    agent = Agent(account=AgentAccount(home_page=ISSUER, name=f"l{learner}"))
    response = lrs.query_statements({"agent": agent, "limit": 500, "ascending": True})
    if not response.success:
        raise RuntimeError(f"tincan query failed: {response.response.status}")
    return len(response.content.statements)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--refreshes", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(4)
    workdir = Path(tempfile.mkdtemp(prefix="xapi-bench-"))
    peer = start_learning_locker(workdir / "ll")
    rows: list[tuple[str, str, str, str]] = []
    try:
        client = LrsClient(peer.endpoint, peer.username, peer.password, timeout=120)
        matcher = ActorMatcher([IdentityPolicy(ISSUER)])
        lessons = set(LESSONS)
        seeded = seed(client, rng, args.statements, args.learners)
        print(f"seeded {args.statements} statements for {args.learners} learners in {seeded:.1f} s")

        wall, cpu, full = timed(
            lambda: sync_statements(client, lessons, matcher, None, page_size=500)
        )
        rows.append(
            (
                "full sync",
                "skillpath",
                f"{wall:.2f} s ({full.counts.read} read)",
                f"{100 * cpu / wall:.1f}%",
            )
        )
        t_wall, t_cpu, (t_count, t_newest) = timed(lambda: tincan_sync(tincan_lrs(peer), None))
        rows.append(
            (
                "full sync",
                "tincan RemoteLRS",
                f"{t_wall:.2f} s ({t_count} read)",
                f"{100 * t_cpu / t_wall:.1f}%",
            )
        )

        fresh = max(1, args.statements // 100)
        now = datetime.now(UTC)
        client.post_statements(
            [make_statement(rng, rng.randrange(args.learners), now) for _ in range(fresh)]
        )
        cursor: SyncCursor = full.cursor
        wall, cpu, inc = timed(
            lambda: sync_statements(client, lessons, matcher, cursor, page_size=500)
        )
        rows.append(
            (
                "incremental sync",
                "skillpath",
                f"{wall:.2f} s ({inc.counts.read} read)",
                f"{100 * cpu / wall:.1f}%",
            )
        )
        t_wall, t_cpu, (t_count, _) = timed(lambda: tincan_sync(tincan_lrs(peer), t_newest))
        rows.append(
            (
                "incremental sync",
                "tincan RemoteLRS",
                f"{t_wall:.2f} s ({t_count} read)",
                f"{100 * t_cpu / t_wall:.1f}%",
            )
        )

        paging = LearningLockerPaging()
        picks = [rng.randrange(args.learners) for _ in range(args.refreshes)]
        ours, ours_cpu, theirs = [], 0.0, []
        for learner in picks:
            actor = {"objectType": "Agent", "account": {"homePage": ISSUER, "name": f"l{learner}"}}
            wall, cpu, _ = timed(
                lambda a=actor: refresh_learner(  # type: ignore[misc]
                    client, a, lessons, matcher, paging=paging, timeout_seconds=10
                )
            )
            ours.append(wall)
            ours_cpu += cpu
        lrs = tincan_lrs(peer)
        for learner in picks:
            wall, _, _ = timed(lambda n=learner: tincan_refresh(lrs, n))  # type: ignore[misc]
            theirs.append(wall)
        for name, samples, share in (
            ("skillpath", ours, f"{100 * ours_cpu / sum(ours):.1f}%"),
            ("tincan RemoteLRS", theirs, ""),
        ):
            rows.append(
                (
                    f"learner refresh x{len(samples)}",
                    name,
                    f"p50 {1000 * statistics.median(samples):.1f} ms, "
                    f"p95 {1000 * percentile(samples, 0.95):.1f} ms",
                    share,
                )
            )
        client.close()
    finally:
        peer.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    widths = [max(len(r[i]) for r in rows + [HEADER]) for i in range(4)]
    for row in [HEADER, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


HEADER = ("what", "client", "wall time", "our CPU share")

if __name__ == "__main__":
    main()
