"""Every way a launch can be wrong answers 4xx with its reason, creates nothing, and is
logged with the issuer and client id. Each case is one real login through /lti/login and
a launch POST over HTTP, with an id_token signed by the platform peer's real key unless the
case is about the key."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from lti_tool.storage.models import LaunchRow
from peers.tool_server import ToolServer
from tests.lti_tool.db import db
from tests.lti_tool.launch_forge import (
    DROP,
    LTI,
    LaunchForge,
    hs256_with_public_key,
    raw_token,
)

OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def launches_in(tool: ToolServer) -> int:
    with db(tool.app.extensions["skillpath"]) as session:
        return int(session.scalar(select(func.count()).select_from(LaunchRow)) or 0)


def expect_rejected(
    tool: ToolServer, response: requests.Response, code: str, status: int = 400
) -> None:
    assert response.status_code == status, response.text[:500]
    assert f"({code})" in response.text, response.text[:800]
    assert "Traceback" not in response.text
    assert launches_in(tool) == 0


def signed(forge: LaunchForge, **changes: Any) -> Callable[[], requests.Response]:
    return lambda: forge.launch(**changes)


def with_token(
    forge: LaunchForge, make: Callable[[LaunchForge, str], str]
) -> Callable[[], requests.Response]:
    def run() -> requests.Response:
        login = forge.login()
        return forge.post(make(forge, login.nonce), login.state)

    return run


def now() -> int:
    return int(time.time())


CASES: dict[str, tuple[Callable[[LaunchForge], Callable[[], requests.Response]], str]] = {
    "bad signature": (
        lambda f: with_token(f, lambda f, n: f.sign(f.claims(n), key=OTHER_KEY)),
        "bad_signature",
    ),
    "alg none": (
        lambda f: with_token(
            f, lambda f, n: raw_token({"alg": "none", "kid": f.kid}, f.claims(n), b"")
        ),
        "bad_algorithm",
    ),
    "HS256 signed with the platform's public key": (
        lambda f: with_token(
            f, lambda f, n: hs256_with_public_key(f.claims(n), f.kid, f.public_pem)
        ),
        "bad_algorithm",
    ),
    "unknown kid": (
        lambda f: with_token(
            f, lambda f, n: f.sign(f.claims(n), key=OTHER_KEY, kid="not-published")
        ),
        "unknown_kid",
    ),
    "no kid": (
        lambda f: with_token(
            f, lambda f, n: jwt.encode(f.claims(n), f.private_key, algorithm="RS256")
        ),
        "missing_kid",
    ),
    "wrong iss": (lambda f: signed(f, iss="https://other-lms.example"), "wrong_issuer"),
    "missing iss": (lambda f: signed(f, iss=DROP), "missing_claim"),
    "wrong aud": (lambda f: signed(f, aud="another-client", azp=DROP), "wrong_audience"),
    "aud list without azp": (
        lambda f: signed(f, aud=[f.client_id, "another-client"], azp=DROP),
        "missing_azp",
    ),
    "azp naming another client": (
        lambda f: signed(f, aud=[f.client_id, "another-client"], azp="another-client"),
        "wrong_audience",
    ),
    "azp not among the audiences": (lambda f: signed(f, azp="stranger"), "bad_azp"),
    "expired": (lambda f: signed(f, iat=now() - 600, exp=now() - 60), "expired"),
    "iat in the future beyond the leeway": (
        lambda f: signed(f, iat=now() + 120, exp=now() + 600),
        "issued_in_future",
    ),
    "no exp": (lambda f: signed(f, exp=DROP), "missing_claim"),
    "no iat": (lambda f: signed(f, iat=DROP), "missing_claim"),
    "missing nonce": (lambda f: signed(f, nonce=DROP), "missing_nonce"),
    "nonce of another login": (lambda f: signed(f, nonce="made-up-nonce"), "nonce_mismatch"),
    "unknown deployment": (
        lambda f: with_token(
            f, lambda f, n: f.sign(f.claims(n, lti_deployment_id="unknown-deployment"))
        ),
        "unknown_deployment",
    ),
    "wrong LTI version": (lambda f: signed(f, lti_version="1.1.0"), "bad_version"),
    "unknown message type": (
        lambda f: signed(f, lti_message_type="LtiSubmissionReviewRequest"),
        "unsupported_message_type",
    ),
    "missing sub on a resource link": (lambda f: signed(f, sub=DROP), "missing_claim"),
    "missing resource_link id": (
        lambda f: signed(f, lti_resource_link={"title": "no id"}),
        "missing_claim",
    ),
    "missing resource_link claim": (lambda f: signed(f, lti_resource_link=DROP), "missing_claim"),
    "resource_link as a string": (lambda f: signed(f, lti_resource_link="link-1"), "invalid_claim"),
    "missing roles": (lambda f: signed(f, lti_roles=DROP), "missing_claim"),
    "roles as a string": (
        lambda f: signed(f, lti_roles="http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"),
        "invalid_claim",
    ),
    "context as a list": (lambda f: signed(f, lti_context=["course-1"]), "invalid_claim"),
    "target_link_uri not ours": (
        lambda f: signed(f, lti_target_link_uri="https://evil.example/lti/launch"),
        "foreign_target_link_uri",
    ),
    "payload is a JSON array": (
        lambda f: with_token(
            f,
            lambda f, n: jwt.api_jws.PyJWS().encode(
                json.dumps([f.claims(n)]).encode(), f.private_key, "RS256", {"kid": f.kid}
            ),
        ),
        "malformed_token",
    ),
    "garbage instead of a JWT": (
        lambda f: with_token(f, lambda f, n: "this-is-not-a-jwt"),
        "malformed_token",
    ),
    "three parts that are not base64 JSON": (
        lambda f: with_token(f, lambda f, n: "a.b.c"),
        "malformed_token",
    ),
    "oversized token": (
        lambda f: with_token(f, lambda f, n: f.sign(f.claims(n, padding="x" * 200_000))),
        "oversized_token",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rejected_launch(
    forge: LaunchForge, tool: ToolServer, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    make, code = CASES[case]
    response = make(forge)()
    expect_rejected(tool, response, code)
    # the state cookie is removed whatever happened
    assert not [c for c in forge.browser.cookies if c.name.startswith("skillpath-state-")]
    assert f"launch rejected: code={code}" in caplog.text
    assert "issuer=" in caplog.text and "client_id=" in caplog.text
    # no token in the log
    assert "eyJ" not in caplog.text


def test_replayed_launch_is_rejected(forge: LaunchForge, tool: ToolServer) -> None:
    login = forge.login()
    token = forge.sign(forge.claims(login.nonce))
    first = forge.post(token, login.state)
    assert first.status_code == 303
    # same state and token again, with the cookie put back as an attacker would
    forge.browser.cookies.set(f"skillpath-{login.state}", login.state)
    replay = forge.post(token, login.state)
    assert replay.status_code == 400 and "(state_unknown)" in replay.text
    # the token replayed under a fresh login's state: its nonce is not that login's
    fresh = forge.login()
    mixed = forge.post(token, fresh.state)
    assert mixed.status_code == 400 and "(nonce_mismatch)" in mixed.text
    assert launches_in(tool) == 1


def test_state_of_one_login_with_cookie_of_another(forge: LaunchForge, tool: ToolServer) -> None:
    first = forge.login()
    second = forge.login()
    forge.browser.cookies.clear()
    forge.browser.cookies.set(f"skillpath-{second.state}", first.state)
    response = forge.post(forge.sign(forge.claims(second.nonce)), second.state)
    expect_rejected(tool, response, "state_mismatch")


def test_missing_state_cookie(forge: LaunchForge, tool: ToolServer) -> None:
    """Without its cookie a launch is not accepted: the answer is the page that finishes it
    another way (platform storage, a same-origin post, a new window); nothing is created."""
    login = forge.login()
    forge.browser.cookies.clear()
    response = forge.post(forge.sign(forge.claims(login.nonce)), login.state)
    assert response.status_code == 200
    assert 'id="lti-resume"' in response.text
    assert "Prevent cross-site tracking" in response.text
    assert launches_in(tool) == 0
    # A state no login of ours made (in our format, or not) gets no such page.
    forged = forge.post(forge.sign(forge.claims(login.nonce)), "state-" + "f" * 32)
    expect_rejected(tool, forged, "missing_state_cookie")
    odd = forge.post(forge.sign(forge.claims(login.nonce)), "state-forged")
    expect_rejected(tool, odd, "invalid_state")


def test_missing_state_and_missing_token(forge: LaunchForge, tool: ToolServer) -> None:
    login = forge.login()
    expect_rejected(tool, forge.post(forge.sign(forge.claims(login.nonce)), None), "missing_state")
    expect_rejected(tool, forge.post(None, login.state), "missing_id_token")


def test_deployment_other_than_the_login_named(forge: LaunchForge, tool: ToolServer) -> None:
    login = forge.login(lti_deployment_id="dep-2")
    response = forge.post(forge.sign(forge.claims(login.nonce)), login.state)
    expect_rejected(tool, response, "unknown_deployment")


def test_target_link_uri_other_than_the_login_asked_for(
    forge: LaunchForge, tool: ToolServer
) -> None:
    login = forge.login(target_link_uri=tool.base_url + "/lti/launch?x=1")
    response = forge.post(forge.sign(forge.claims(login.nonce)), login.state)
    expect_rejected(tool, response, "foreign_target_link_uri")


def test_login_for_an_unregistered_issuer(forge: LaunchForge, tool: ToolServer) -> None:
    response = forge.browser.get(
        tool.base_url + "/lti/login",
        params={
            "iss": "https://unknown.example",
            "login_hint": "x",
            "target_link_uri": tool.base_url + "/lti/launch",
        },
        allow_redirects=False,
        timeout=10,
    )
    expect_rejected(tool, response, "unknown_platform")


def test_api_clients_get_json(forge: LaunchForge, tool: ToolServer) -> None:
    login = forge.login()
    response = forge.browser.post(
        tool.base_url + "/lti/launch",
        data={"id_token": "garbage", "state": login.state},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "malformed_token" and body["status"] == 400
    assert body["message"] == "The id_token is not a JSON Web Token."


def test_a_valid_crafted_launch_is_accepted(forge: LaunchForge, tool: ToolServer) -> None:
    """The control case: the forge's own claims are right, so each rejection above is due
    to the one thing the case changed."""
    response = forge.launch()
    assert response.status_code == 303
    page = forge.browser.get(tool.base_url + response.headers["Location"], timeout=10)
    assert 'data-testid="who">Ada Learner<' in page.text
    assert launches_in(tool) == 1


def test_leeway_accepts_small_clock_skew(forge: LaunchForge, tool: ToolServer) -> None:
    assert forge.launch(iat=now() + 3).status_code == 303


def test_lti_claims_checked_before_anything_is_stored(forge: LaunchForge, tool: ToolServer) -> None:
    response = forge.launch(**{LTI + "custom": "not-an-object"})
    expect_rejected(tool, response, "invalid_claim")


def test_a_rejection_is_logged_as_one_safe_line(
    forge: LaunchForge, tool: ToolServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The issuer and client id in a rejection's log line are unverified: a lone surrogate
    or a line break in them is escaped (a surrogate breaks a UTF-8 log stream)."""
    login = forge.login()
    claims = forge.claims(login.nonce, iss=forge.issuer + "/\ud800", aud="client\nforged")
    response = forge.post(forge.sign(claims), login.state)
    assert 400 <= response.status_code < 500
    [line] = [r.getMessage() for r in caplog.records if "launch rejected" in r.getMessage()]
    line.encode("utf-8")  # no lone surrogate left
    assert "\n" not in line and "\\ud800" in line and "client\\nforged" in line
