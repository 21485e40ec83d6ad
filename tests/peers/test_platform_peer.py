"""The platform peer itself: keys, authorization checks, tokens, AGS, NRPS paging, and a
full launch into a minimal pylti1p3 tool."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import pytest
import requests
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from benchmarks.reference_tool import ReferenceToolServer, start_reference_tool
from peers.browser import LaunchBrowser, parse_form
from peers.lti_platform import (
    AGS_CLAIM,
    NRPS_CLAIM,
    ROLE_SHORTHANDS,
    PlatformPeer,
    SigningKey,
)
from tests.peers.platform_fixtures import launch_browser, platform_peer  # noqa: F401

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
AGS_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem "
    "https://purl.imsglobal.org/spec/lti-ags/scope/score "
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
)
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


@dataclass
class ToolKeys:
    """A tool's RSA key with its JWKS served on 127.0.0.1 by a throwaway server."""

    key: SigningKey
    jwks_url: str
    base_url: str

    def client_assertion(self, client_id: str, token_url: str) -> str:
        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": token_url,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims, self.key.private_key, algorithm="RS256", headers={"kid": self.key.kid}
        )


@pytest.fixture(scope="module")
def tool_keys() -> Iterator[ToolKeys]:
    key = SigningKey.generate()
    body = json.dumps({"keys": [key.public_jwk]})

    def app(environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        if request.path != "/jwks":
            return Response("not found", 404)(environ, start_response)
        return Response(body, 200, mimetype="application/json")(environ, start_response)

    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        yield ToolKeys(key, f"{base}/jwks", base)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def client_id(platform_peer: PlatformPeer, tool_keys: ToolKeys) -> str:  # noqa: F811
    client_id = "peer-test-" + uuid.uuid4().hex[:8]
    platform_peer.register_tool(
        client_id,
        "dep-1",
        f"{tool_keys.base_url}/login",
        f"{tool_keys.base_url}/launch",
        tool_keys.jwks_url,
    )
    return client_id


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def access_token(
    http: requests.Session, peer: PlatformPeer, tool: ToolKeys, client_id: str, scope: str
) -> str:
    response = http.post(
        peer.auth_token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": tool.client_assertion(client_id, peer.auth_token_url),
            "scope": scope,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_jwks_serves_the_signing_key(platform_peer: PlatformPeer, http: requests.Session) -> None:  # noqa: F811
    keys = http.get(platform_peer.keyset_url, timeout=10).json()["keys"]
    assert [k["kid"] for k in keys] == [platform_peer.kid]
    assert keys[0]["kty"] == "RSA" and "d" not in keys[0]


def test_signed_id_token_verifies_with_the_jwks(
    platform_peer: PlatformPeer,  # noqa: F811
    client_id: str,
    http: requests.Session,
) -> None:
    claims = platform_peer.default_claims(client_id=client_id, roles="instructor", nonce="n-1")
    token = platform_peer.sign_id_token(claims)
    jwks = http.get(platform_peer.keyset_url, timeout=10).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid]
    decoded = jwt.decode(token, key, algorithms=["RS256"], audience=client_id)
    assert decoded["iss"] == platform_peer.issuer
    assert decoded["nonce"] == "n-1"
    assert decoded["https://purl.imsglobal.org/spec/lti/claim/roles"] == [
        ROLE_SHORTHANDS["instructor"]
    ]
    other = platform_peer.sign_id_token(claims, key=SigningKey.generate())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(other, key, algorithms=["RS256"], audience=client_id)


def _auth_params(peer: PlatformPeer, http: requests.Session, **launch: Any) -> dict[str, str]:
    """The authentication request a tool would send after the peer's login redirect."""
    response = http.get(peer.launch_url(**launch), allow_redirects=False, timeout=10)
    assert response.status_code == 302
    login = dict(parse_qsl(urlsplit(response.headers["Location"]).query))
    assert login["iss"] == peer.issuer
    return {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": login["client_id"],
        "redirect_uri": login["target_link_uri"],
        "login_hint": login["login_hint"],
        "lti_message_hint": login["lti_message_hint"],
        "nonce": uuid.uuid4().hex,
        "state": uuid.uuid4().hex,
    }


def test_authorize_checks_the_authentication_request(
    platform_peer: PlatformPeer,  # noqa: F811
    client_id: str,
    http: requests.Session,
) -> None:
    params = _auth_params(platform_peer, http, client_id=client_id, user="u-7", name="Ada")
    url = platform_peer.auth_login_url

    for name, bad in [
        ("redirect_uri", "http://127.0.0.1:9/evil"),
        ("response_type", "code"),
        ("login_hint", "someone-else"),
        ("lti_message_hint", "unknown"),
    ]:
        response = http.get(f"{url}?{urlencode({**params, name: bad})}", timeout=10)
        assert response.status_code == 400, name
        assert name in response.text or "registered" in response.text

    response = http.post(url, data=params, timeout=10)  # the form_post variant of the request
    assert response.status_code == 200
    form = parse_form(response.text, url)
    assert form.action == params["redirect_uri"]
    assert form.state == params["state"]
    claims = jwt.decode(
        form.id_token, platform_peer.public_key_pem, algorithms=["RS256"], audience=client_id
    )
    assert (claims["sub"], claims["name"], claims["nonce"]) == ("u-7", "Ada", params["nonce"])
    assert AGS_CLAIM in claims and NRPS_CLAIM in claims


def test_token_ags_and_results(
    platform_peer: PlatformPeer,  # noqa: F811
    tool_keys: ToolKeys,
    client_id: str,
    http: requests.Session,
) -> None:
    claims = platform_peer.default_claims(client_id=client_id, context_id="ags-course")
    lineitems_url = claims[AGS_CLAIM]["lineitems"]
    token = access_token(http, platform_peer, tool_keys, client_id, AGS_SCOPES)
    auth = {"Authorization": f"Bearer {token}"}

    assert http.get(lineitems_url, timeout=10).status_code == 401
    created = http.post(
        lineitems_url,
        json={"label": "Pathway progress", "scoreMaximum": 100, "tag": "progress"},
        headers={**auth, "Content-Type": LINEITEM_TYPE},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    item_url = created.json()["id"]
    assert item_url.startswith(lineitems_url + "/")

    for given in (40, 75):
        score = {
            "userId": "learner-9",
            "scoreGiven": given,
            "scoreMaximum": 100,
            "activityProgress": "InProgress",
            "gradingProgress": "FullyGraded",
            "timestamp": datetime.now(UTC).isoformat(),
        }
        posted = http.post(
            f"{item_url}/scores",
            data=json.dumps(score),
            headers={**auth, "Content-Type": SCORE_TYPE},
            timeout=10,
        )
        assert posted.status_code in (200, 201), posted.text

    results = http.get(f"{item_url}/results", headers=auth, timeout=10)
    assert results.status_code == 200
    assert [(r["userId"], r["resultScore"]) for r in results.json()] == [("learner-9", 75)]
    assert [s["scoreGiven"] for s in platform_peer.gradebook.scores(item_url, "learner-9")] == [
        40,
        75,
    ]
    listed = http.get(lineitems_url, headers=auth, params={"tag": "progress"}, timeout=10).json()
    assert [i["id"] for i in listed] == [item_url]


def test_token_rejects_an_assertion_signed_with_another_key(
    platform_peer: PlatformPeer,  # noqa: F811
    tool_keys: ToolKeys,
    client_id: str,
    http: requests.Session,
) -> None:
    stranger = ToolKeys(SigningKey.generate(), tool_keys.jwks_url, tool_keys.base_url)
    response = http.post(
        platform_peer.auth_token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": stranger.client_assertion(client_id, platform_peer.auth_token_url),
            "scope": NRPS_SCOPE,
        },
        timeout=10,
    )
    assert response.status_code == 401


@pytest.mark.parametrize("link_style", ["next", "multi"])
def test_nrps_pages_follow_link_next(
    link_style: str,
    platform_peer: PlatformPeer,  # noqa: F811
    tool_keys: ToolKeys,
    client_id: str,
    http: requests.Session,
) -> None:
    platform_peer.roster.set_members(
        "nrps-course",
        [{"user_id": f"u{n}", "roles": "learner", "name": f"User {n}"} for n in range(7)],
    )
    claims = platform_peer.default_claims(client_id=client_id, context_id="nrps-course")
    url: str | None = claims[NRPS_CLAIM]["context_memberships_url"]
    token = access_token(http, platform_peer, tool_keys, client_id, NRPS_SCOPE)
    platform_peer.nrps_page_size = 3
    platform_peer.nrps_link_style = link_style
    pages: list[list[str]] = []
    try:
        while url:
            response = http.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert response.status_code == 200, response.text
            assert response.json()["context"]["id"] == "nrps-course"
            pages.append([m["user_id"] for m in response.json()["members"]])
            url = response.links.get("next", {}).get("url")
    finally:
        platform_peer.nrps_page_size = None
        platform_peer.nrps_link_style = "next"
    assert pages == [["u0", "u1", "u2"], ["u3", "u4", "u5"], ["u6"]]


@pytest.fixture
def reference_tool(platform_peer: PlatformPeer) -> Iterator[ReferenceToolServer]:  # noqa: F811
    client_id = "reference-" + uuid.uuid4().hex[:8]
    with start_reference_tool(platform_peer.platform_settings(client_id, "ref-dep")) as tool:
        platform_peer.register_tool(
            client_id, "ref-dep", tool.login_url, tool.launch_url, tool.jwks_url
        )
        tool.app.config["CLIENT_ID"] = client_id
        yield tool
        platform_peer.unregister_tool(client_id)


@pytest.mark.parametrize(
    ("launch", "expected"),
    [
        ({"roles": "learner", "name": "Ada Lovelace"}, ["Welcome, Ada Lovelace", ">learner<"]),
        ({"roles": "instructor", "user": "t-1"}, ["Welcome, Instructor", ">instructor<"]),
    ],
)
def test_launch_into_a_pylti1p3_reference_tool(
    platform_peer: PlatformPeer,  # noqa: F811
    launch_browser: LaunchBrowser,  # noqa: F811
    reference_tool: ReferenceToolServer,
    launch: dict[str, str],
    expected: list[str],
) -> None:
    url = platform_peer.launch_url(
        client_id=reference_tool.app.config["CLIENT_ID"],
        context_title="Algebra",
        **launch,
    )
    response = launch_browser.launch(url)
    assert response.status_code == 200, response.text
    for text in expected:
        assert text in response.text
    assert "Algebra" in response.text


def test_crafted_id_tokens_reach_the_tool(
    platform_peer: PlatformPeer,  # noqa: F811
    launch_browser: LaunchBrowser,  # noqa: F811
    reference_tool: ReferenceToolServer,
) -> None:
    client_id = reference_tool.app.config["CLIENT_ID"]

    auth = launch_browser.login(launch_browser.start(platform_peer.launch_url(client_id=client_id)))
    claims = platform_peer.default_claims(client_id=client_id, nonce=auth.nonce, name="Crafted")
    accepted = launch_browser.post_id_token(
        auth.redirect_uri, platform_peer.sign_id_token(claims), auth.state
    )
    assert accepted.status_code == 200 and "Welcome, Crafted" in accepted.text

    auth = launch_browser.login(launch_browser.start(platform_peer.launch_url(client_id=client_id)))
    claims = platform_peer.default_claims(client_id=client_id, nonce=auth.nonce)
    forged = platform_peer.sign_id_token(claims, key=SigningKey.generate())
    rejected = launch_browser.post_id_token(auth.redirect_uri, forged, auth.state)
    assert rejected.status_code == 400


def test_scores_line_item_updates_and_stale_timestamps(
    platform_peer: PlatformPeer,  # noqa: F811
    tool_keys: ToolKeys,
    client_id: str,
    http: requests.Session,
) -> None:
    claims = platform_peer.default_claims(
        client_id=client_id, context_id="coupled", resource_link_id="rl-9", lineitem=True
    )
    item_url = claims[AGS_CLAIM]["lineitem"]
    coupled = platform_peer.gradebook.line_item(item_url)
    assert coupled is not None and coupled["resourceLinkId"] == "rl-9"
    auth = {
        "Authorization": f"Bearer {access_token(http, platform_peer, tool_keys, client_id, AGS_SCOPES)}"
    }

    updated = http.put(
        item_url, json={"label": "Renamed", "scoreMaximum": 10}, headers=auth, timeout=10
    )
    assert updated.status_code == 200 and updated.json()["label"] == "Renamed"

    def post(at: str) -> int:
        score = {
            "userId": "u1",
            "scoreGiven": 5,
            "scoreMaximum": 10,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": at,
        }
        return http.post(f"{item_url}/scores", json=score, headers=auth, timeout=10).status_code

    assert post("2026-01-02T00:00:00+00:00") == 201
    assert post("2026-01-01T00:00:00+00:00") == 409
    assert post("2026-01-03T00:00:00+00:00") == 200
    assert [p.accepted for p in platform_peer.gradebook.posts(item_url, "u1")] == [
        True,
        False,
        True,
    ]
    assert len(platform_peer.gradebook.scores(item_url, "u1")) == 2

    assert http.delete(item_url, headers=auth, timeout=10).status_code == 204
    assert http.get(item_url, headers=auth, timeout=10).status_code == 404


def test_deep_linking_request_and_response(
    platform_peer: PlatformPeer,  # noqa: F811
    tool_keys: ToolKeys,
    http: requests.Session,
) -> None:
    client_id = "dl-" + uuid.uuid4().hex[:8]
    platform_peer.register_tool(
        client_id,
        "dep-1",
        f"{tool_keys.base_url}/login",
        f"{tool_keys.base_url}/launch",
        tool_keys.jwks_url,
        deep_link_url=f"{tool_keys.base_url}/deep-link",
    )
    params = _auth_params(
        platform_peer, http, client_id=client_id, roles="instructor", deep_link=True
    )
    assert params["redirect_uri"] == f"{tool_keys.base_url}/deep-link"
    page = http.get(f"{platform_peer.auth_login_url}?{urlencode(params)}", timeout=10)
    form = parse_form(page.text, platform_peer.auth_login_url)
    request_claims = jwt.decode(
        form.id_token, platform_peer.public_key_pem, algorithms=["RS256"], audience=client_id
    )
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    assert request_claims[lti + "message_type"] == "LtiDeepLinkingRequest"
    settings = request_claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]

    items = [
        {
            "type": "ltiResourceLink",
            "title": "Pathway: algebra",
            "url": f"{tool_keys.base_url}/launch",
        }
    ]
    now = int(time.time())
    response_jwt = jwt.encode(
        {
            "iss": client_id,
            "aud": platform_peer.issuer,
            "iat": now,
            "exp": now + 300,
            "nonce": uuid.uuid4().hex,
            lti + "message_type": "LtiDeepLinkingResponse",
            lti + "version": "1.3.0",
            lti + "deployment_id": "dep-1",
            "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": items,
            "https://purl.imsglobal.org/spec/lti-dl/claim/data": settings["data"],
        },
        tool_keys.key.private_key,
        algorithm="RS256",
        headers={"kid": tool_keys.key.kid},
    )
    returned = http.post(settings["deep_link_return_url"], data={"JWT": response_jwt}, timeout=10)
    assert returned.status_code == 200, returned.text
    assert platform_peer.deep_link_responses[-1] == items
    (link,) = [v for v in platform_peer.deep_linked_links.values() if v["client_id"] == client_id]
    assert (link["title"], link["line_item"]) == ("Pathway: algebra", None)


def test_ags_operations_need_their_scope(
    platform_peer: PlatformPeer,  # noqa: F811
    tool_keys: ToolKeys,
    client_id: str,
    http: requests.Session,
) -> None:
    claims = platform_peer.default_claims(client_id=client_id, context_id="scoped", lineitem=True)
    item_url = claims[AGS_CLAIM]["lineitem"]
    score_only = access_token(
        http,
        platform_peer,
        tool_keys,
        client_id,
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    )
    auth = {"Authorization": f"Bearer {score_only}"}
    score = {
        "userId": "u1",
        "activityProgress": "Started",
        "gradingProgress": "NotReady",
        "timestamp": datetime.now(UTC).isoformat(),
    }
    assert http.post(f"{item_url}/scores", json=score, headers=auth, timeout=10).status_code == 201
    assert http.get(f"{item_url}/results", headers=auth, timeout=10).status_code == 401
    created = http.post(
        claims[AGS_CLAIM]["lineitems"],
        json={"label": "x", "scoreMaximum": 1},
        headers=auth,
        timeout=10,
    )
    assert created.status_code == 401


def test_rotated_platform_key_signs_with_a_new_kid(
    http: requests.Session,
) -> None:
    with PlatformPeer() as peer:
        old_kid = peer.kid
        peer.rotate_key()
        kids = [k["kid"] for k in http.get(peer.keyset_url, timeout=10).json()["keys"]]
        assert kids == [peer.kid, old_kid] and peer.kid != old_kid
        peer.register_tool(
            "c", "d", "http://127.0.0.1:9/l", "http://127.0.0.1:9/x", "http://127.0.0.1:9/j"
        )
        token = peer.sign_id_token(peer.default_claims())
        assert jwt.get_unverified_header(token)["kid"] == peer.kid
        params = _auth_params(peer, http, client_id="c")
        page = http.get(f"{peer.auth_login_url}?{urlencode(params)}", timeout=10)
        form = parse_form(page.text, peer.auth_login_url)
        assert jwt.get_unverified_header(form.id_token)["kid"] == peer.kid
        jwt.decode(form.id_token, peer.public_key_pem, algorithms=["RS256"], audience="c")
