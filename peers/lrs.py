"""Real LRSs for the tests: Learning Locker's statement service and Ralph, each started on
127.0.0.1 on a free port in its own process group, and stopped (the whole group) at teardown.

- Learning Locker: npm `xapi-statements` 5.0.1 from `.peers/ll` (`make peers`), in-memory
  models, basic auth through `AUTH_REPO=fetch` against a small client-info endpoint served here,
  forced onto 127.0.0.1 by the `ll_localhost.js` preload.
- Ralph: `ralph-malph` 5.1.0 from its own venv `.peers/ralph-venv`, filesystem backend, started
  by `ralph_launcher.py` (which patches its append-after-first-POST defect).

A peer that is not installed fails the test that needs it with the command that installs it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import requests

from xapi.client import LrsClient

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / ".peers"
LL_SERVER = PEERS / "ll" / "node_modules" / "xapi-statements" / "dist" / "server.js"
RALPH_PYTHON = PEERS / "ralph-venv" / "bin" / "python"
HERE = Path(__file__).resolve().parent

__all__ = ["LrsPeer", "PeerUnavailable", "start_learning_locker", "start_ralph"]


class PeerUnavailable(RuntimeError):
    """A peer is not installed, or did not come up (its output's end is in the message)."""


@dataclass
class LrsPeer:
    """A running LRS: where it is, how to log in, and how to stop it."""

    name: str
    endpoint: str
    username: str
    password: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self, **kwargs: Any) -> LrsClient:
        """A Skillpath client on this LRS."""
        return LrsClient(self.endpoint, self.username, self.password, **kwargs)

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the peer's output, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the peer's whole process group: SIGTERM, then SIGKILL after 5 s."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(
    command: list[str], env: dict[str, str], cwd: Path, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: teardown kills all of it
    )


def _wait_ready(peer: LrsPeer, probe: str, timeout: float = 60.0) -> None:
    """Wait until the peer answers `probe`. Every kind of request error (refused, reset, a
    read that timed out on a busy machine) means "not yet" until the deadline; a peer that
    does not come up is stopped, whole process group, before the fixture fails."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if peer.process.poll() is not None:
                break
            try:
                requests.get(probe, timeout=2, auth=(peer.username, peer.password))
                return
            except requests.RequestException:
                time.sleep(0.1)
    except BaseException:
        peer.stop()
        raise
    peer.stop()
    raise PeerUnavailable(f"{peer.name} did not start on {peer.endpoint}:\n{peer.log_tail()}")


# -- Learning Locker ------------------------------------------------------------------------------


class _ClientInfoServer(ThreadingHTTPServer):
    daemon_threads = True
    expected_authorization = ""
    client_info: dict[str, Any] = {}


class _ClientInfoHandler(BaseHTTPRequestHandler):
    """What `AUTH_REPO=fetch` asks: the client behind an Authorization header, or 404."""

    server: _ClientInfoServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.headers.get("Authorization") != self.server.expected_authorization:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps(self.server.client_info).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@dataclass
class _LearningLocker(LrsPeer):
    auth_server: _ClientInfoServer | None = None

    def stop(self) -> None:
        super().stop()
        if self.auth_server is not None:
            self.auth_server.shutdown()
            self.auth_server.server_close()


def start_learning_locker(workdir: Path) -> LrsPeer:
    """Start Learning Locker's statement service; fail with the install command if missing."""
    node = shutil.which("node")
    if node is None or not LL_SERVER.is_file():
        raise PeerUnavailable(
            "Learning Locker (xapi-statements 5.0.1) is not installed: run `make peers`"
        )
    username, password = "skillpath", uuid.uuid4().hex
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    auth = _ClientInfoServer(("127.0.0.1", 0), _ClientInfoHandler)
    auth.expected_authorization = f"Basic {token}"
    auth.client_info = {
        "_id": "5988f0f00000000000000001",
        "title": "Skillpath tests",
        "authority": {
            "objectType": "Agent",
            "name": "Skillpath",
            "account": {"homePage": "http://127.0.0.1", "name": username},
        },
        "isTrusted": True,
        "lrs_id": "5988f0f00000000000000000",
        "organisation": "5988f0f00000000000000000",
        "scopes": ["all"],
    }
    threading.Thread(target=auth.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        return _start_learning_locker_service(node, workdir, auth, username, password)
    except BaseException:
        auth.shutdown()
        auth.server_close()
        raise


def _start_learning_locker_service(
    node: str, workdir: Path, auth: _ClientInfoServer, username: str, password: str
) -> LrsPeer:
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        "MODELS_REPO": "memory",
        "STORAGE_REPO": "local",
        "EVENTS_REPO": "test",
        "AUTH_REPO": "fetch",
        "LL_CLIENT_INFO_ENDPOINT": f"http://127.0.0.1:{auth.server_address[1]}/client",
        "EXPRESS_PORT": str(port),
        "FS_LOCAL_STORAGE_DIR": str(workdir / "storage"),
        "EXPRESS_MORGAN_DIRECTORY": str(workdir / "accessLogs"),
        "WINSTON_CONSOLE_LEVEL": "warning",
    }
    log_path = workdir / "ll.log"
    with log_path.open("wb") as log:
        process = _spawn(
            [node, "-r", str(HERE / "ll_localhost.js"), str(LL_SERVER)], env, workdir, log
        )
    peer = _LearningLocker(
        name="learning-locker",
        endpoint=f"http://127.0.0.1:{port}/xAPI/",
        username=username,
        password=password,
        process=process,
        log_path=log_path,
        auth_server=auth,
    )
    _wait_ready(peer, f"http://127.0.0.1:{port}/xAPI/about")
    return peer


# -- Ralph ----------------------------------------------------------------------------------------


def start_ralph(workdir: Path) -> LrsPeer:
    """Start Ralph with its filesystem backend; fail with the install command if missing."""
    if not RALPH_PYTHON.is_file():
        raise PeerUnavailable("Ralph (ralph-malph 5.1.0) is not installed: run `make peers`")
    username, password = "skillpath", uuid.uuid4().hex
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(workdir)}
    log_path = workdir / "ralph.log"
    with log_path.open("wb") as log:
        process = _spawn(
            [
                str(RALPH_PYTHON),
                str(HERE / "ralph_launcher.py"),
                str(port),
                str(workdir / "data"),
                username,
                password,
            ],
            env,
            workdir,
            log,
        )
    peer = LrsPeer(
        name="ralph",
        endpoint=f"http://127.0.0.1:{port}/xAPI/",
        username=username,
        password=password,
        process=process,
        log_path=log_path,
    )
    _wait_ready(peer, f"http://127.0.0.1:{port}/__lbheartbeat__")
    return peer
