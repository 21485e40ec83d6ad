"""CI's dependency audit (`.ci/audit.py`) falls back to PyPI's per-project JSON when the
per-version document does not answer: a package at its latest release is audited from the
project's `vulnerabilities`, any other is reported as not audited. The PyPI side is a small
server on 127.0.0.1 answering as PyPI's JSON API documents it."""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROJECTS: dict[str, dict[str, Any]] = {
    "safe": {"info": {"version": "2.0"}, "vulnerabilities": []},
    "risky": {
        "info": {"version": "1.4"},
        "vulnerabilities": [
            {"id": "PYSEC-2026-1", "fixed_in": ["1.5"], "withdrawn": None},
            {"id": "PYSEC-2025-9", "fixed_in": [], "withdrawn": "2025-10-01T00:00:00Z"},
        ],
    },
}


class PyPI(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        parts = self.path.strip("/").split("/")
        found = PROJECTS.get(parts[1]) if len(parts) == 3 and parts[2] == "json" else None
        body = json.dumps(found or {"message": "Not Found"}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def audit() -> Iterator[ModuleType]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), PyPI)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.PROJECT_JSON = f"http://127.0.0.1:{server.server_port}/pypi/{{name}}/json"
    try:
        yield module
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_latest_release_is_audited_from_the_project_document(audit: ModuleType) -> None:
    assert audit._latest_release_audit("safe", "2.0") == []
    assert audit._latest_release_audit("risky", "1.4") == [
        {"id": "PYSEC-2026-1", "fix_versions": ["1.5"]}
    ]  # the withdrawn advisory is not counted


def test_an_older_release_or_an_unknown_project_is_not_audited(audit: ModuleType) -> None:
    assert audit._latest_release_audit("safe", "1.9") is None
    assert audit._latest_release_audit("nowhere", "1.0") is None
