"""A small in-memory Learning Record Store for `skillpath demo`, so the demo shows the chain
without another service: learners' history comes from it, Skillpath's own statements go to it.

It speaks the part of xAPI 1.0.3 Skillpath uses (statements: PUT, POST, GET by id, by agent,
since, ascending, limit with `more` paging; `/about`), behind basic auth. It is a teaching aid
held in memory, not an LRS to deploy: the tests run against real LRSs (tests/peers/).
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request

VERSION = "1.0.3"
IDENTIFIERS = ("mbox", "mbox_sha1sum", "openid", "account")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _identity(agent: Any) -> str | None:
    if not isinstance(agent, dict):
        return None
    for key in IDENTIFIERS:
        if key in agent:
            return json.dumps({key: agent[key]}, sort_keys=True)
    return None


class DemoLrs:
    """Statements kept in arrival order; `stored` set here."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password
        self._lock = threading.Lock()
        self._statements: list[dict[str, Any]] = []
        self._by_id: dict[str, dict[str, Any]] = {}

    def store(self, statement: dict[str, Any], statement_id: str | None = None) -> tuple[str, bool]:
        """(id, conflict): a different statement under a known id is a conflict."""
        sid = statement_id or statement.get("id") or str(uuid.uuid4())
        with self._lock:
            known = self._by_id.get(sid)
            if known is not None:
                same = {k: v for k, v in known.items() if k not in ("stored", "authority")}
                return sid, same != {**statement, "id": sid}
            kept = {**statement, "id": sid, "stored": _now()}
            kept.setdefault("timestamp", kept["stored"])
            self._statements.append(kept)
            self._by_id[sid] = kept
        return sid, False

    def query(self, agent: str | None, since: str | None, ascending: bool) -> list[dict[str, Any]]:
        with self._lock:
            found = [
                s
                for s in self._statements
                if (agent is None or _identity(s.get("actor")) == agent)
                and (since is None or s["stored"] > since)
            ]
        return found if ascending else list(reversed(found))

    def get(self, statement_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._by_id.get(statement_id)


def lrs_blueprint(lrs: DemoLrs, prefix: str = "/lrs/xapi") -> Blueprint:
    bp = Blueprint("demo_lrs", __name__, url_prefix=prefix)

    @bp.before_request
    def authenticate() -> Response | None:
        expected = base64.b64encode(f"{lrs.username}:{lrs.password}".encode()).decode()
        if request.headers.get("Authorization", "") != f"Basic {expected}":
            return _error(401, "basic auth required")
        if request.endpoint != "demo_lrs.about" and not request.headers.get(
            "X-Experience-API-Version", ""
        ).startswith("1.0"):
            return _error(400, "X-Experience-API-Version 1.0.x required")
        return None

    @bp.after_request
    def version(response: Response) -> Response:
        response.headers["X-Experience-API-Version"] = VERSION
        return response

    @bp.get("/about")
    def about() -> Response:
        return jsonify({"version": [VERSION], "extensions": {"skillpath-demo": True}})

    @bp.put("/statements")
    def put_statement() -> Response:
        statement = request.get_json(silent=True)
        sid = request.args.get("statementId")
        if not isinstance(statement, dict) or not sid:
            return _error(400, "a statement object and statementId are required")
        _, conflict = lrs.store(statement, sid)
        return _error(409, "another statement has this id") if conflict else Response(status=204)

    @bp.post("/statements")
    def post_statements() -> Response:
        body = request.get_json(silent=True)
        batch: list[Any] = body if isinstance(body, list) else [body]
        if not all(isinstance(s, dict) for s in batch):
            return _error(400, "statements must be objects")
        ids = []
        for statement in batch:
            sid, conflict = lrs.store(statement)
            if conflict:
                return _error(409, f"another statement has the id {sid}")
            ids.append(sid)
        return jsonify(ids)

    @bp.get("/statements")
    def get_statements() -> Response:
        args = request.args
        if "statementId" in args:
            found = lrs.get(args["statementId"])
            return jsonify(found) if found else _error(404, "no such statement")
        try:
            agent = _identity(json.loads(args["agent"])) if "agent" in args else None
            limit = max(0, int(args.get("limit", "100"))) or 100
            offset = max(0, int(args.get("offset", "0")))
        except (ValueError, TypeError):
            return _error(400, "bad query")
        since = args.get("since")
        since = since.replace("+00:00", "Z") if since else None
        matching = lrs.query(agent, since, args.get("ascending") == "true")
        page = matching[offset : offset + limit]
        more = ""
        if offset + limit < len(matching):
            query = {k: v for k, v in args.items() if k != "offset"}
            query["offset"] = str(offset + limit)
            more = f"{request.script_root}{request.path}?" + "&".join(
                f"{k}={quote(v, safe='')}" for k, v in query.items()
            )
        response = jsonify({"statements": page, "more": more})
        response.headers["X-Experience-API-Consistent-Through"] = _now()
        return response

    return bp


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response
