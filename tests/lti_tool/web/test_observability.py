"""Operable: JSON log lines with a request id (also in the answer and on error pages), no
secret in any line; Prometheus metrics at /metrics (launches, rejections by reason, page and
recommendation latency, outbox depth and oldest age per destination, peer calls, sync lag);
/healthz and /readyz."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from lti_tool import create_app
from lti_tool.container import Container
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link
from tests.lti_tool.usecases.test_learner_path import api, import_example
from xapi.sync import SyncCursor


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What Skillpath's own handler writes, for the test."""
    handler = next(
        h for h in logging.getLogger("skillpath").handlers if getattr(h, "_skillpath", False)
    )
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        found = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$", sample)
        if not found or found.group(1) != name:
            continue
        have = ",".join(sorted(p for p in (found.group(2) or "").split(",") if p))
        if have == wanted:
            return float(value)
    return 0.0


def test_every_log_line_is_json_with_the_request_id_and_no_secret(
    client: FlaskClient, log_lines: io.StringIO
) -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsZWFybmVyIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
    response = client.get(
        f"/launch/unknown-launch?t={token}",
        headers={"X-Request-ID": "req-abc-12345", "Accept": "text/html"},
    )
    assert response.status_code in (401, 404)
    assert response.headers["X-Request-ID"] == "req-abc-12345"
    assert "req-abc-12345" in response.get_data(as_text=True)  # quoted on the error page
    lines = records(log_lines)
    assert lines, "nothing was logged"
    request_line = next(r for r in lines if r["logger"] == "skillpath.http")
    assert request_line["request_id"] == "req-abc-12345"
    assert request_line["path"] == "/launch/unknown-launch"
    assert request_line["status"] == response.status_code
    assert {"time", "level", "message", "duration_ms"} <= set(request_line)
    assert token not in log_lines.getvalue()


def test_a_request_id_that_is_not_a_plain_token_is_replaced(client: FlaskClient) -> None:
    hostile = "x" * 10 + "\r\nSet-Cookie: a=b"
    response = client.get("/healthz", headers={"X-Request-ID": "x" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    response = client.get("/api/v1/me/path", headers={"X-Request-ID": hostile[:10] + "é"})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert response.json["errors"]["request_id"] == response.headers["X-Request-ID"]


def test_an_unexpected_error_page_names_the_request_id(app: Flask, log_lines: io.StringIO) -> None:
    @app.get("/boom-for-test")
    def boom() -> str:
        raise RuntimeError("password=hunter2 leaked?")

    response = app.test_client().get("/boom-for-test", headers={"Accept": "text/html"})
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    page = response.get_data(as_text=True)
    assert request_id in page and "Traceback" not in page
    failure = next(r for r in records(log_lines) if r["level"] == "ERROR")
    assert failure["request_id"] == request_id and request_id in str(failure["message"])
    assert "hunter2" not in log_lines.getvalue()


def test_text_logs_when_asked(settings: Settings, log_lines: io.StringIO) -> None:
    app = create_app(settings.replace(log_format="text"), initialise=True)
    try:
        app.test_client().get("/healthz")
        line = log_lines.getvalue().strip()
        assert " INFO skillpath.http: GET /healthz 200" in line and not line.startswith("{")
    finally:
        app.extensions["skillpath"].close()
        # Back to JSON for the tests after this one.
        create_app(settings, initialise=False).extensions["skillpath"].close()


def test_metrics_count_launches_rejections_latency_and_the_outbox(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    services: Container = tool.app.extensions["skillpath"]
    import_example(tool)
    page = browser.launch(link(platform, client_id, user="learner-m"))
    assert page.status_code == 200
    assert api(browser, page).status_code == 200
    refused = requests.get(
        tool.base_url + "/lti/login",
        params={"iss": "https://nobody.example", "login_hint": "x", "target_link_uri": "x"},
        timeout=10,
    )
    assert refused.status_code >= 400
    with services.storage.transaction() as tx:
        tx.outbox.enqueue(
            "xapi_statement",
            {"issuer": "https://lms.example", "client_id": "c9", "statement": {}},
            now=datetime.now(UTC) - timedelta(seconds=90),
        )

    # A call to the LMS through the container's session (the launch may have found the key
    # set in the shared store already).
    assert services.http.get(platform.keyset_url).status_code == 200
    text = requests.get(tool.base_url + "/metrics", timeout=10).text
    assert metric(text, "skillpath_launches_total") == 1
    reasons = [
        line for line in text.splitlines() if line.startswith("skillpath_launch_rejections_total{")
    ]
    assert reasons and all("reason=" in line for line in reasons)
    assert metric(text, "skillpath_page_duration_seconds_count", page="launch_page") >= 1
    assert metric(text, "skillpath_recommend_duration_seconds_count") == 1
    assert (
        metric(text, "skillpath_peer_request_duration_seconds_count", method="GET", peer="lms") >= 1
    )
    destination = "xapi_statement https://lms.example c9"
    assert metric(text, "skillpath_outbox_depth", destination=destination) == 1
    assert metric(text, "skillpath_outbox_oldest_age_seconds", destination=destination) >= 90


def test_sync_lag_and_the_metrics_token(settings: Settings) -> None:
    app = create_app(settings.replace(metrics_token="scrape-me"), initialise=True)
    services: Container = app.extensions["skillpath"]
    try:
        from lti_tool.usecases import admin

        record = admin.set_lrs(services, "https://lrs.example/xapi/", "u", "p")
        with services.storage.transaction() as tx:
            cursor = SyncCursor(since=datetime.now(UTC) - timedelta(minutes=5))
            tx.lrs.save_cursor(record.id, cursor.to_dict())
        client = app.test_client()
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        text = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).text
        lag = metric(text, "skillpath_sync_lag_seconds", lrs=f"{record.id} lrs.example")
        assert 299 <= lag <= 400
    finally:
        services.close()


def test_health_and_readiness(client: FlaskClient, app: Flask) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}
    services: Container = app.extensions["skillpath"]
    services.storage.migrate("downgrade", "0005_learner_course")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "not at the newest migration" in answer.json["problems"][0]
    services.storage.upgrade()
