"""A fault-injecting HTTP proxy of our own, put between Skillpath's client and a real LRS.

It forwards every request to the upstream LRS unless told to fail: answer 503 for the next N
requests, drop the connection without an answer (before or after forwarding, so a test can make
a request land and its answer get lost), delay answers, or rewrite the LRS's Consistent-Through.
Every request it sees is recorded, so a test can count how often the client tried.

This is the one fake in the xAPI tests: it stands in front of the peer, never instead of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

__all__ = ["FaultyProxy", "Fault", "faulty_proxy"]

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
}


@dataclass
class Fault:
    """One planned misbehaviour for the next `count` requests of `methods` (all when empty)."""

    kind: str  # "status", "drop-before", "drop-after"
    count: int
    status: int = 503
    methods: frozenset[str] = frozenset()

    def applies(self, method: str) -> bool:
        return self.count > 0 and (not self.methods or method in self.methods)


@dataclass
class FaultyProxy:
    """State shared by the proxy's handler threads."""

    upstream: str  # scheme://host:port
    faults: list[Fault] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)
    delay_seconds: float = 0.0
    consistent_through: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def fail(self, count: int, status: int = 503, methods: tuple[str, ...] = ()) -> None:
        """Answer `status` to the next `count` requests (of `methods`) without forwarding."""
        self.faults.append(Fault("status", count, status, frozenset(methods)))

    def drop(
        self, count: int, methods: tuple[str, ...] = (), after_forwarding: bool = False
    ) -> None:
        """Close the connection without an answer for the next `count` requests."""
        kind = "drop-after" if after_forwarding else "drop-before"
        self.faults.append(Fault(kind, count, methods=frozenset(methods)))

    def attempts(self, method: str) -> int:
        """How many requests of `method` reached the proxy."""
        return sum(1 for seen_method, _ in self.seen if seen_method == method)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def take_fault(self, method: str) -> Fault | None:
        with self.lock:
            self.seen.append((method, ""))
            for fault in self.faults:
                if fault.applies(method):
                    fault.count -= 1
                    return fault
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _handle(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        fault = proxy.take_fault(self.command)
        if fault is not None and fault.kind == "status":
            payload = b'{"error": "injected fault"}'
            self.send_response(fault.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if fault is not None and fault.kind == "drop-before":
            self.close_connection = True
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP | {"host"}}
        upstream = self.server.session.request(
            self.command, proxy.upstream + self.path, data=body, headers=headers, timeout=30
        )
        if fault is not None and fault.kind == "drop-after":
            self.close_connection = True
            return
        if proxy.delay_seconds:
            time.sleep(proxy.delay_seconds)
        content = upstream.content
        self.send_response(upstream.status_code)
        for key, value in upstream.headers.items():
            if key.lower() in _HOP_BY_HOP:
                continue
            if key.lower() == "x-experience-api-consistent-through" and proxy.consistent_through:
                value = proxy.consistent_through
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_PUT = do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultyProxy
    session: requests.Session


@contextmanager
def faulty_proxy(upstream: str) -> Iterator[FaultyProxy]:
    """Run a proxy to `upstream` (scheme://host:port) on 127.0.0.1 for the `with` block."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.proxy = FaultyProxy(upstream=upstream.rstrip("/"), port=server.server_address[1])
    server.session = requests.Session()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server.proxy
    finally:
        server.shutdown()
        server.server_close()
        server.session.close()
        thread.join(timeout=5)
