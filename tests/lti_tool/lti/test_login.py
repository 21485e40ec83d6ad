"""OIDC login initiation (step 1): what it checks and what it leaves in the browser."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from lti_tool import create_app
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.usecases import admin

ISSUER = "https://lms.example.edu"


def register(app: Flask, client_id: str = "client-1") -> None:
    admin.register_platform(
        app.extensions["skillpath"],
        RegistrationInput(
            issuer=ISSUER,
            client_id=client_id,
            auth_login_url=f"{ISSUER}/auth",
            auth_token_url=f"{ISSUER}/token",
            keyset_url=f"{ISSUER}/jwks",
            deployments=["dep-1"],
        ),
    )


def login_params(app: Flask, **overrides: str) -> dict[str, str]:
    base = app.extensions["skillpath"].settings.base_url
    params = {
        "iss": ISSUER,
        "client_id": "client-1",
        "login_hint": "user-42",
        "lti_message_hint": "msg-1",
        "target_link_uri": base + "/lti/launch",
        "lti_deployment_id": "dep-1",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v != ""}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_login_redirects_to_the_platform_with_state_and_nonce(
    app: Flask, client: FlaskClient, method: str
) -> None:
    register(app)
    params = login_params(app)
    response = (
        client.get("/lti/login", query_string=params)
        if method == "GET"
        else client.post("/lti/login", data=params)
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{ISSUER}/auth"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == "client-1"
    assert query["login_hint"] == "user-42"
    assert query["lti_message_hint"] == "msg-1"
    assert query["response_mode"] == "form_post" and query["prompt"] == "none"
    assert query["redirect_uri"].endswith("/lti/launch")
    assert query["nonce"] and query["state"].startswith("state-")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"skillpath-{query['state']}=")
    assert "HttpOnly" in cookie and "Max-Age=600" in cookie
    # The login is remembered in the shared store, for whichever instance gets the launch.
    stored = app.extensions["skillpath"].store.get("login:" + query["state"])
    assert stored["nonce"] == query["nonce"] and stored["iss"] == ISSUER


@pytest.mark.parametrize(
    ("overrides", "code", "says"),
    [
        ({"iss": "https://unknown.example"}, "unknown_platform", "not registered"),
        ({"client_id": "someone-else"}, "unknown_platform", "not registered"),
        ({"iss": ""}, "missing_iss", "names no issuer"),
        ({"login_hint": ""}, "missing_login_hint", "no login_hint"),
        (
            {"target_link_uri": "https://evil.example/lti/launch"},
            "foreign_target_link_uri",
            "not this Skillpath",
        ),
        ({"target_link_uri": ""}, "missing_target_link_uri", "no target_link_uri"),
    ],
)
def test_bad_logins_answer_400_and_store_nothing(
    app: Flask, client: FlaskClient, overrides: dict[str, str], code: str, says: str
) -> None:
    register(app)
    response = client.get(
        "/lti/login",
        query_string=login_params(app, **overrides),
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json["code"] == code
    assert says in response.json["message"]
    assert "Set-Cookie" not in response.headers
    page = client.get("/lti/login", query_string=login_params(app, **overrides))
    assert page.status_code == 400 and b"Traceback" not in page.data
    assert says.encode() in page.data


def test_rejections_are_logged_with_issuer_and_client(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    client.get("/lti/login", query_string=login_params(app))
    assert f"code=unknown_platform issuer={ISSUER} client_id=client-1" in caplog.text


@pytest.fixture
def https_app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings.replace(base_url="https://skillpath.example.org"), initialise=True)
    yield app
    app.extensions["skillpath"].close()


def test_state_cookie_works_inside_the_lms_iframe_on_https(https_app: Flask) -> None:
    register(https_app)
    response = https_app.test_client().get("/lti/login", query_string=login_params(https_app))
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie


def test_single_registration_may_omit_client_id(app: Flask, client: FlaskClient) -> None:
    register(app)
    response = client.get("/lti/login", query_string=login_params(app, client_id=""))
    assert response.status_code == 302


def test_issuer_with_several_registrations_needs_client_id(app: Flask, client: FlaskClient) -> None:
    register(app, "client-1")
    register(app, "client-2")
    response = client.get(
        "/lti/login",
        query_string=login_params(app, client_id=""),
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "must send client_id" in response.json["errors"]["admin_hint"]
