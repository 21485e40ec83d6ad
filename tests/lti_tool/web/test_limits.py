"""Input limits of the web edge: request bodies over an endpoint's limit get a readable 413
(the body read and dropped, so the client sees the answer), and `/lti/login`, `/lti/launch`
and the API are rate limited by flask-limiter in the shared store, with limits from settings
(`lti_tool/web/limits.py`)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from config import Settings
from lti_tool import create_app
from lti_tool.web import limits
from peers.tool_server import ToolServer, start_tool


@pytest.fixture
def limited(settings: Settings) -> Iterator[Any]:
    """Make apps on the test database with rate limits of the test's choosing."""
    made: list[Flask] = []

    def make(**changes: Any) -> Flask:
        app = create_app(settings.replace(**changes), initialise=not made)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["skillpath"].close()


def address() -> dict[str, str]:
    """A client address of the test's own, so no other test's requests count with it."""
    return {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"}


def test_a_body_over_the_limit_is_a_readable_413_and_the_connection_goes_on(
    tool: ToolServer,
) -> None:
    with requests.Session() as session:
        big = session.post(
            tool.base_url + "/api/v1/course/learners/x/overrides",
            data=b"x" * (5 * 1024 * 1024),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert big.status_code == 413
        body = big.json()
        assert body["code"] == "request_too_large" and body["status"] == 413
        assert "larger than 64 KB" in body["message"]
        # the same client carries on
        assert session.get(tool.base_url + "/healthz", timeout=10).status_code == 200


def test_a_launch_body_over_its_limit_is_a_page(tool: ToolServer) -> None:
    page = requests.post(
        tool.base_url + "/lti/launch",
        data={"id_token": "x" * (400 * 1024), "state": "state-abc"},
        timeout=30,
    )
    assert page.status_code == 413
    assert "larger than 320 KB" in page.text and "(request_too_large)" in page.text
    assert "Set-Cookie" not in page.headers


def test_a_body_far_over_the_limit_still_gets_its_answer(tool: ToolServer) -> None:
    """Past what is worth reading, the answer is sent and the connection closed."""
    size = limits.DRAIN_BYTES + 4 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", tool.port), timeout=30) as conn:
        conn.sendall(
            b"POST /api/v1/course/learners/x/overrides HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n" + f"Content-Length: {size}\r\n\r\n".encode()
        )
        chunk = b"x" * (1024 * 1024)
        try:
            for _ in range(size // len(chunk)):
                conn.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: what matters is that its answer arrived first
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += conn.recv(65536)
        head, _, body = answer.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += conn.recv(65536)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b"Connection: close" in head
    assert b"request_too_large" in body


def test_login_and_launch_are_limited_per_client_address(limited: Any) -> None:
    app = limited(rate_limit_login="3 per minute", rate_limit_launch="2 per minute")
    client = app.test_client()
    me, other = address(), address()
    for _ in range(3):
        assert client.get("/lti/login", environ_base=me).status_code == 400
    refused = client.get("/lti/login", environ_base=me)
    assert refused.status_code == 429
    assert "(too_many_requests)" in refused.text and "Too many launches" in refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert client.get("/lti/login", environ_base=other).status_code == 400

    for _ in range(2):
        assert client.post("/lti/launch", environ_base=me).status_code == 400
    assert client.post("/lti/launch", environ_base=me).status_code == 429


def test_the_api_is_limited_per_session(limited: Any) -> None:
    app = limited(rate_limit_api="2 per minute")
    sessions = app.extensions["skillpath"].sessions
    client = app.test_client()
    me = address()
    first = {"Authorization": "Bearer " + sessions.issue("launch-" + uuid.uuid4().hex)}
    second = {"Authorization": "Bearer " + sessions.issue("launch-" + uuid.uuid4().hex)}
    for _ in range(2):
        assert client.get("/api/v1/me/path", headers=first, environ_base=me).status_code == 404
    refused = client.get("/api/v1/me/path", headers=first, environ_base=me)
    assert refused.status_code == 429
    assert refused.json["code"] == "too_many_requests"
    assert refused.json["message"].startswith("Too many requests for this session")
    # another learner behind the same address is counted on their own
    assert client.get("/api/v1/me/path", headers=second, environ_base=me).status_code == 404
    # tokens that are not sessions are counted by address
    for _ in range(2):
        client.get("/api/v1/me/path", headers={"Authorization": "Bearer forged"}, environ_base=me)
    assert (
        client.get(
            "/api/v1/me/path", headers={"Authorization": "Bearer other"}, environ_base=me
        ).status_code
        == 429
    )


def test_off_turns_a_limit_off(limited: Any) -> None:
    app = limited(rate_limit_login="off")
    client = app.test_client()
    me = address()
    assert all(client.get("/lti/login", environ_base=me).status_code == 400 for _ in range(30))


def test_behind_trusted_proxies_the_forwarded_address_counts(limited: Any) -> None:
    app = limited(rate_limit_login="1 per minute", trusted_proxies=1)
    client = app.test_client()
    proxy = address()
    for forwarded in ("192.0.2.1", "192.0.2.2"):
        headers = {"X-Forwarded-For": forwarded}
        assert client.get("/lti/login", headers=headers, environ_base=proxy).status_code == 400
    again = client.get("/lti/login", headers={"X-Forwarded-For": "192.0.2.1"}, environ_base=proxy)
    assert again.status_code == 429


@pytest.mark.skipif(
    not os.environ.get("SKILLPATH_TEST_REDIS_URL"), reason="needs SKILLPATH_TEST_REDIS_URL"
)
def test_instances_on_one_redis_share_the_count(settings: Settings) -> None:
    assert settings.redis_url
    first = start_tool(settings.replace(rate_limit_login="2 per minute"))
    second = start_tool(settings.replace(rate_limit_login="2 per minute"), initialise=False)
    try:
        answers = [
            requests.get(server.base_url + "/lti/login", timeout=10).status_code
            for server in (first, second, second)
        ]
        assert answers == [400, 400, 429]
    finally:
        first.stop()
        second.stop()


def test_every_limit_names_a_view_of_the_app(app: Flask) -> None:
    for name in limits.RATE_LIMITS:
        if name == limits.ADMIN_LOGIN:
            continue  # the admin console's, when it is installed
        if name.endswith(".*"):
            assert name[:-2] in app.blueprints, name
        else:
            assert name in app.view_functions, name
    assert app.extensions[limits.EXTENSION] is not None


def test_default_limits_are_far_above_what_a_launch_needs() -> None:
    from limits import parse

    defaults = Settings()
    for setting in ("rate_limit_login", "rate_limit_launch"):
        item = parse(getattr(defaults, setting))
        assert item.amount / item.get_expiry() >= 10  # per second, per address
