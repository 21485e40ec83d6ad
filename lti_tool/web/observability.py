"""What operators see of each request: a request id (taken from a trusted proxy's
`X-Request-ID` when it is a plain token, else made here) on every log line, in the answer's
header and on error pages; one JSON log line per request; latency and launch metrics; and the
Prometheus endpoint `/metrics`.

The request line logs the path without its query string (the page URL carries the session
token) and never a header or body.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, Response, g, has_request_context, request

from lti_tool.errors import SkillpathError
from lti_tool.metrics import CONTENT_TYPE_LATEST
from lti_tool.web.auth import container

log = logging.getLogger("skillpath.http")

bp = Blueprint("observability", __name__)

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only when it is a plain token: it goes into logs and a header.
_PLAIN_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Endpoints whose time is also reported as page or recommendation latency.
PAGES = {"pages.launched": "launch_page"}
RECOMMEND = "api.my_path"
LAUNCH_ENDPOINTS = ("lti.login", "lti.launch")


def log_context() -> Mapping[str, Any]:
    """The fields each log record of a request carries (none outside a request)."""
    if has_request_context():
        request_id = g.get("request_id")
        if request_id:
            return {"request_id": request_id}
    return {}


def current_request_id() -> str:
    return str(g.get("request_id", "")) if has_request_context() else ""


def count_rejection(exc: SkillpathError) -> None:
    """A login or launch refused: counted by its error code (the error handler calls this)."""
    if has_request_context() and request.endpoint in LAUNCH_ENDPOINTS:
        container().metrics.rejections.labels(exc.code).inc()


def _begin() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _PLAIN_ID.match(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    if started is None:
        return response
    seconds = time.perf_counter() - started
    endpoint = request.endpoint or "unmatched"
    metrics = container().metrics
    status_class = f"{response.status_code // 100}xx"
    metrics.requests.labels(endpoint, request.method, status_class).observe(seconds)
    if endpoint in PAGES and response.status_code < 400:
        metrics.pages.labels(PAGES[endpoint]).observe(seconds)
    elif endpoint == RECOMMEND and response.status_code < 400:
        metrics.recommend.observe(seconds)
    elif endpoint == "lti.launch" and response.status_code == 303:
        metrics.launches.inc()
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
            "endpoint": endpoint,
        },
    )
    return response


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format. With `SKILLPATH_METRICS_TOKEN` set, only for its bearer."""
    services = container()
    token = services.settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("metrics need the metrics token\n", 401, mimetype="text/plain")
    body = services.metrics.exposition(services.database_metrics)
    return Response(body, 200, headers={"Content-Type": CONTENT_TYPE_LATEST})


def init_app(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_finish)
    app.register_blueprint(bp)
