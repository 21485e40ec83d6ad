"""`skillpath serve` runs gunicorn with threaded workers on the configured database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from peers.tool_server import free_port


def test_serve_answers_over_http_and_stops_cleanly(cli: object, cli_env: dict[str, str]) -> None:
    cli("init")  # type: ignore[operator]
    port = free_port()
    env = dict(os.environ, **cli_env, SKILLPATH_BASE_URL=f"http://127.0.0.1:{port}")
    skillpath = Path(sys.executable).with_name("skillpath")
    process = subprocess.Popen(
        [
            str(skillpath),
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, (
                    process.stderr.read().decode() if process.stderr else ""
                )
                assert time.monotonic() < deadline, "gunicorn did not start within 30 s"
                time.sleep(0.2)
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        jwks = requests.get(f"http://127.0.0.1:{port}/.well-known/jwks.json", timeout=5)
        assert jwks.json()["keys"][0]["kid"]
        for _ in range(6):
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        # Two worker processes, one exposition: prometheus-client's multi-process mode.
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        healthz = [
            line
            for line in metrics.splitlines()
            if line.startswith("skillpath_http_request_duration_seconds_count{")
            and 'endpoint="health.healthz"' in line
        ]
        assert len(healthz) == 1 and float(healthz[0].rsplit(" ", 1)[1]) == 6
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stderr:
            logged = process.stderr.read().decode()
            process.stderr.close()
            # gunicorn's own lines and the app's are JSON objects, one per line.
            lines = [line for line in logged.splitlines() if line.strip()]
            assert lines and all(line.startswith("{") for line in lines), logged[:2000]
