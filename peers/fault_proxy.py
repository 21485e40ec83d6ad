"""The one fault-injecting HTTP proxy of the tests, put between Skillpath and a real peer
(the platform, or an LRS).

It forwards requests (as a forward proxy for absolute-URI requests, or to a fixed upstream
for origin-form ones) and, when told, misbehaves: answers 503 (or any status, with a
Retry-After) for the next N requests, refuses connections, answers slowly, drops the
connection before or after the request reached the peer, fails a fraction of requests for a
while, or rewrites an answer's headers. Faults can be planned in order for given methods
(`fail`, `drop`) or set as counters on `faults`. It never stands in for the peer: every answer
that is not an injected fault is the peer's own. It counts what it saw, per path and method.
"""

from __future__ import annotations

import http.client
import random
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
}


Answer = tuple[int, list[tuple[str, str]], bytes]


@dataclass
class Faults:
    """What the proxy does to the next requests that match `path_contains`."""

    path_contains: str = ""
    status_next: int = 0
    status_code: int = 503
    retry_after: str | None = None
    status_body: bytes = b'{"error": "injected by the fault proxy"}'
    drop_after_forward_next: int = 0
    # The next N matching requests are forwarded at once but answered `slow_seconds` late.
    slow_next: int = 0
    slow_seconds: float = 0.0
    fail_fraction: float = 0.0
    fail_until: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(5))
    # Rewrites forwarded answers (path, status, headers, body) -> (status, headers, body):
    # an LMS's own habits, e.g. several links in one Link header, or none at all.
    rewrite: Callable[[str, int, list[tuple[str, str]], bytes], Answer] | None = None


@dataclass
class PlannedFault:
    """One misbehaviour for the next `count` requests of `methods` (all when empty)."""

    kind: str  # "status", "drop-before", "drop-after"
    count: int
    status: int = 503
    methods: frozenset[str] = frozenset()
    # Only requests whose path holds this; the first `after` of them pass untouched.
    path_contains: str = ""
    after: int = 0

    def applies(self, method: str, path: str = "") -> bool:
        if self.count <= 0 or (self.methods and method not in self.methods):
            return False
        if self.path_contains not in path:
            return False
        if self.after > 0:
            self.after -= 1
            return False
        return True


@dataclass
class ProxyStats:
    forwarded: int = 0
    injected_status: int = 0
    dropped_after_forward: int = 0
    slowed: int = 0
    by_path: dict[str, int] = field(default_factory=dict)
    by_method: dict[str, int] = field(default_factory=dict)
    by_upstream: dict[str, int] = field(default_factory=dict)


class FaultProxy:
    """`start()` it, point clients at `url` (as their HTTP proxy) and set `faults`."""

    def __init__(self, upstream: str = "", port: int = 0, also: Sequence[str] = ()) -> None:
        self.upstream = upstream.rstrip("/")
        # With `also`, origin-form requests go round-robin over every upstream (a load
        # balancer in front of several instances); `stats.by_upstream` counts them.
        self.upstreams = [self.upstream, *(u.rstrip("/") for u in also)]
        self._next_upstream = 0
        self.faults = Faults()
        self.planned: list[PlannedFault] = []
        self.stats = ProxyStats()
        # Every answer is held this long; the LRS's Consistent-Through is replaced when set.
        self.delay_seconds = 0.0
        self.consistent_through: str | None = None
        self._lock = threading.Lock()
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        server = _QuietServer(("127.0.0.1", self._port), Handler)
        server.daemon_threads = True
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def refuse_connections(self) -> None:
        """Close the listening socket: clients get "connection refused" until `resume()`."""
        self.stop()

    def resume(self) -> None:
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def proxies(self) -> dict[str, str]:
        """For `requests.Session.proxies`."""
        return {"http": self.url}

    def _pick_upstream(self) -> str:
        with self._lock:
            chosen = self.upstreams[self._next_upstream % len(self.upstreams)]
            self._next_upstream += 1
            self.stats.by_upstream[chosen] = self.stats.by_upstream.get(chosen, 0) + 1
        return chosen

    # -- planned faults, in order ------------------------------------------------------------
    def fail(
        self,
        count: int,
        status: int = 503,
        methods: tuple[str, ...] = (),
        *,
        path_contains: str = "",
        after: int = 0,
    ) -> None:
        """Answer `status` to the next `count` requests (of `methods`, to paths holding
        `path_contains`, once `after` of them went through) without forwarding."""
        with self._lock:
            self.planned.append(
                PlannedFault("status", count, status, frozenset(methods), path_contains, after)
            )

    def drop(
        self, count: int, methods: tuple[str, ...] = (), after_forwarding: bool = False
    ) -> None:
        """Close the connection without an answer for the next `count` requests."""
        kind = "drop-after" if after_forwarding else "drop-before"
        with self._lock:
            self.planned.append(PlannedFault(kind, count, methods=frozenset(methods)))

    def attempts(self, method: str) -> int:
        """How many requests of `method` reached the proxy."""
        with self._lock:
            return self.stats.by_method.get(method, 0)

    # -- decisions (called by the handler) -------------------------------------------------
    def _decide(self, method: str, path: str) -> tuple[str, int]:
        with self._lock:
            self.stats.by_method[method] = self.stats.by_method.get(method, 0) + 1
            self.stats.by_path[path] = self.stats.by_path.get(path, 0) + 1
            for planned in self.planned:
                if planned.applies(method, path):
                    planned.count -= 1
                    if planned.kind == "status":
                        self.stats.injected_status += 1
                        return "status", planned.status
                    return ("drop" if planned.kind == "drop-after" else "drop-before"), 0
            return self._decide_by_counters(path), self.faults.status_code

    def _decide_by_counters(self, path: str) -> str:
        # Called with the lock held.
        faults = self.faults
        if faults.path_contains and faults.path_contains not in path:
            return "forward"
        if faults.status_next > 0:
            faults.status_next -= 1
            self.stats.injected_status += 1
            return "status"
        if faults.fail_fraction and time.monotonic() < faults.fail_until:
            if faults.rng.random() < faults.fail_fraction:
                self.stats.injected_status += 1
                return "status"
        if faults.drop_after_forward_next > 0:
            faults.drop_after_forward_next -= 1
            self.stats.dropped_after_forward += 1
            return "drop"
        if faults.slow_next > 0:
            faults.slow_next -= 1
            self.stats.slowed += 1
            return "slow"
        return "forward"

    def fail_fraction_for(self, fraction: float, seconds: float, status: int = 503) -> None:
        with self._lock:
            self.faults.fail_fraction = fraction
            self.faults.fail_until = time.monotonic() + seconds
            self.faults.status_code = status


class _QuietServer(ThreadingHTTPServer):
    """A client that went away (a test done, a timeout) while an answer was held back is
    expected here: no traceback for it on stderr, where it would land in another test's
    captured output."""

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _ProxyHandler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _target(self) -> tuple[str, str]:
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            return f"{parts.scheme}://{parts.netloc}", path
        return self.owner._pick_upstream(), self.path

    def _handle(self) -> None:
        origin, path = self._target()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        decision, status_code = self.owner._decide(self.command, path)
        faults = self.owner.faults
        if decision == "drop-before":
            self.close_connection = True
            return
        if decision == "status":
            payload = faults.status_body
            self.send_response(status_code)
            if faults.retry_after is not None:
                self.send_header("Retry-After", faults.retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        status, headers, answer = self._forward(origin, path, body)
        if decision == "drop":
            # The platform has the request; the client never sees the answer.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if decision == "slow":
            time.sleep(faults.slow_seconds)
        if self.owner.delay_seconds:
            time.sleep(self.owner.delay_seconds)
        if self.owner.consistent_through is not None:
            headers = [
                (name, value)
                for name, value in headers
                if name.lower() != "x-experience-api-consistent-through"
            ] + [("X-Experience-API-Consistent-Through", self.owner.consistent_through)]
        if faults.rewrite is not None:
            status, headers, answer = faults.rewrite(path, status, headers, answer)
        with self.owner._lock:
            self.owner.stats.forwarded += 1
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def _forward(
        self, origin: str, path: str, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(origin)
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=30
        )
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Host"] = parts.netloc
        try:
            connection.request(self.command, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_DELETE = _handle


@contextmanager
def fault_proxy(upstream: str = "", also: Sequence[str] = ()) -> Iterator[FaultProxy]:
    """A running proxy (to `upstream`, scheme://host:port, for origin-form requests; round-robin
    over it and `also`) for the `with` block; stopped whatever happens."""
    proxy = FaultProxy(upstream, also=also).start()
    try:
        yield proxy
    finally:
        proxy.stop()
