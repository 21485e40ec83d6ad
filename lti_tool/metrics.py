"""Prometheus metrics, with the official client (`prometheus-client`).

One `Metrics` per container, on a registry the container owns (no module-level metric
objects). What happens in a process (launches, rejections, request and peer-call latency) is
counted as it happens; what is true of the database (outbox depth and oldest age per
destination, sync lag per LRS) is read from it at each scrape by `DatabaseCollector`, so every
instance reports the same, and several workers never add it up twice.

Under gunicorn with several worker processes the client's multi-process mode is used
(`PROMETHEUS_MULTIPROC_DIR`, see `use_multiprocess_dir`): each process writes its values to
files there and `/metrics` merges them.

Imports storage and prometheus_client; nothing of the web, the CLI or the use cases.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lti_tool.storage import Storage
from xapi.sync import SyncCursor

__all__ = ["CONTENT_TYPE_LATEST", "DatabaseCollector", "Metrics", "use_multiprocess_dir"]

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# Latency buckets for pages and API calls (seconds): the goals are tens of milliseconds.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PEER_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


def use_multiprocess_dir(directory: str, *, clear: bool) -> None:
    """Make this process (and the workers it forks) write metric values to `directory`, as
    the client's multi-process mode wants; `clear` empties it first (a server starting)."""
    path = Path(directory)
    if clear and path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    # The client reads this variable; its value class was chosen when it was imported.
    os.environ[MULTIPROCESS_VARIABLE] = str(path)
    values.ValueClass = values.get_value_class()


def mark_process_dead(directory: str, pid: int) -> None:
    """gunicorn's `child_exit`: forget a dead worker's live values."""
    multiprocess.mark_process_dead(pid, directory)


class Metrics:
    """The metrics of one process, on `registry`; `multiprocess_dir` (the settings'
    `metrics_dir`) merges every process's values at each scrape."""

    def __init__(
        self, registry: CollectorRegistry | None = None, multiprocess_dir: str = ""
    ) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.multiprocess_dir = multiprocess_dir
        r = self.registry
        self.launches = Counter(
            "skillpath_launches",
            "LTI launches accepted (resource link, deep linking)",
            registry=r,
        )
        self.rejections = Counter(
            "skillpath_launch_rejections",
            "OIDC logins and launches refused, by reason (the error code)",
            ["reason"],
            registry=r,
        )
        self.requests = Histogram(
            "skillpath_http_request_duration_seconds",
            "Time to answer an HTTP request, by endpoint and status class",
            ["endpoint", "method", "status"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.pages = Histogram(
            "skillpath_page_duration_seconds",
            "Time to render a learner or instructor page",
            ["page"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.recommend = Histogram(
            "skillpath_recommend_duration_seconds",
            "Time to answer a learner's path and next lesson (GET /api/v1/me/path)",
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.peer_calls = Histogram(
            "skillpath_peer_request_duration_seconds",
            "Calls to the LMS (tokens, AGS, NRPS, JWKS) and to LRSs, by peer and method",
            ["peer", "method"],
            buckets=PEER_BUCKETS,
            registry=r,
        )
        self.peer_errors = Counter(
            "skillpath_peer_request_errors",
            "Failed calls to the LMS or an LRS: no answer (timeout, connect) or a 5xx/429",
            ["peer", "reason"],
            registry=r,
        )

    def observe_peer(
        self, peer: str, method: str, status: int | None, seconds: float, error: str | None
    ) -> None:
        """One call to a peer (the HTTP sessions call this)."""
        self.peer_calls.labels(peer, method).observe(seconds)
        if error is not None:
            self.peer_errors.labels(peer, error).inc()
        elif status is not None and (status >= 500 or status == 429):
            self.peer_errors.labels(peer, f"http_{status}").inc()

    def peer_observer(self, peer: str) -> Callable[[str, int | None, float, str | None], None]:
        def observe(method: str, status: int | None, seconds: float, error: str | None) -> None:
            self.observe_peer(peer, method, status, seconds, error)

        return observe

    def exposition(self, extra: Collector | None = None) -> bytes:
        """The text format of every metric: this process's, or all processes' in
        multi-process mode, plus `extra` (read at this scrape)."""
        if self.multiprocess_dir:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
            if extra is not None:
                registry.register(extra)
            return generate_latest(registry)
        text = generate_latest(self.registry)
        if extra is not None:
            scrape = CollectorRegistry()
            scrape.register(extra)
            text += generate_latest(scrape)
        return text


class DatabaseCollector(Collector):
    """What the database says, at scrape time: the outbox per destination and the sync lag
    of every LRS. A database that does not answer yields nothing (and /readyz says so)."""

    def __init__(self, storage: Storage, clock: Callable[[], datetime]) -> None:
        self._storage = storage
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        depth = GaugeMetricFamily(
            "skillpath_outbox_depth", "Items waiting in the outbox", labels=["destination"]
        )
        oldest = GaugeMetricFamily(
            "skillpath_outbox_oldest_age_seconds",
            "Age of the oldest waiting item",
            labels=["destination"],
        )
        failing = GaugeMetricFamily(
            "skillpath_outbox_destination_failing",
            "1 while a destination is failing (probed instead of sent to)",
            labels=["destination"],
        )
        lag = GaugeMetricFamily(
            "skillpath_sync_lag_seconds",
            "How far the background sync of an LRS is behind now (its cursor's age)",
            labels=["lrs"],
        )
        try:
            with self._storage.transaction() as tx:
                destinations = tx.outbox.destinations()
                connections = tx.lrs.all()
        except Exception:  # noqa: BLE001 - a scrape must not fail with the database
            return
        for health in destinations:
            depth.add_metric([health.destination], health.pending)
            age = (
                (now - health.oldest_pending_at).total_seconds() if health.oldest_pending_at else 0
            )
            oldest.add_metric([health.destination], max(age, 0.0))
            failing.add_metric([health.destination], 1.0 if health.failing else 0.0)
        for connection in connections:
            cursor = SyncCursor.from_dict(connection.sync_cursor or {})
            if cursor.since is None:
                continue
            host = urlsplit(connection.endpoint).hostname or "?"
            lag.add_metric(
                [f"{connection.id} {host}"], max((now - cursor.since).total_seconds(), 0.0)
            )
        yield from (depth, oldest, failing, lag)
