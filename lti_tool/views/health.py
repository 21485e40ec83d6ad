"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    services = current_app.extensions["skillpath"]
    problems = []
    try:
        with services.database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        problems.append(f"database: {type(exc).__name__}")
    try:
        services.store.ping()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"store: {type(exc).__name__}")
    if problems:
        return jsonify({"status": "unavailable", "problems": problems}), 503
    return jsonify({"status": "ready"}), 200
