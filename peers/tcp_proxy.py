"""A TCP proxy of our own between Skillpath and a real service (PostgreSQL, Redis), so a test
can take the service away and give it back without touching the machine's own server.

`cut()` closes every open connection and stops listening (clients get "connection refused"),
`restore()` listens again on the same port; `drop_connections()` closes the open connections
but keeps listening (what a database restart or a firewall's idle timeout does to a pool).
Bytes are forwarded untouched.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `upstream_host`:`upstream_port`."""

    def __init__(self, upstream_host: str, upstream_port: int, port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = port
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.accepted = 0

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: cut() or stop()
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
                self.accepted += 1
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()

    def drop_connections(self) -> None:
        """Close every open connection; new ones are still accepted."""
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            self._close(sock)

    def cut(self) -> None:
        """The service is gone: open connections closed, new ones refused."""
        if self._listener is not None:
            # shutdown wakes the thread blocked in accept(); close alone does not on Linux.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.drop_connections()

    def restore(self) -> None:
        """The service is back, on the same port."""
        if self._listener is None:
            self.start()

    def stop(self) -> None:
        self.cut()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextlib.contextmanager
def tcp_proxy(upstream_host: str, upstream_port: int) -> Iterator[TcpProxy]:
    """A running proxy for the `with` block; stopped whatever happens."""
    proxy = TcpProxy(upstream_host, upstream_port).start()
    try:
        yield proxy
    finally:
        proxy.stop()
