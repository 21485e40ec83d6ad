"""A WSGI middleware that records how long the wrapped app spends on each request path:
the tool-side latency a benchmark reports, free of client and network time."""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any


class PathTimer:
    def __init__(self, app: Callable[..., Iterable[bytes]], paths: Iterable[str]) -> None:
        self._app = app
        self._paths = tuple(paths)
        self._lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        tracked = next((p for p in self._paths if path.startswith(p)), None)
        if tracked is None:
            return self._app(environ, start_response)
        started = time.perf_counter()
        body = list(self._app(environ, start_response))  # the whole response is produced here
        elapsed = time.perf_counter() - started
        with self._lock:
            self.samples[tracked].append(elapsed)
        return body

    def reset(self) -> None:
        with self._lock:
            self.samples.clear()

    def combined(self, *paths: str) -> list[float]:
        """Per-launch sums of the given paths (requests were made in pairs, in order)."""
        columns = [self.samples[p] for p in paths]
        return [sum(parts) for parts in zip(*columns, strict=False)]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values: list[float]) -> tuple[float, float, float]:
    """(p50, p99, mean) in milliseconds."""
    if not values:
        return (float("nan"),) * 3  # type: ignore[return-value]
    return (
        percentile(values, 50) * 1000,
        percentile(values, 99) * 1000,
        statistics.fmean(values) * 1000,
    )
