"""Launches without the state cookie, over HTTP: the login page that stores a secret in the
platform's storage frame, the resumed launch that must bring it back (and only it), and the
state cookie's attributes on https (Partitioned). The browser side is in
tests/lti_tool/web/test_cookieless_in_browser.py."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask

from config import Settings
from lti_tool import create_app
from lti_tool.lti.registrations import RegistrationInput
from lti_tool.usecases import admin
from peers.tool_server import ToolServer
from tests.lti_tool.launch_forge import LaunchForge
from tests.lti_tool.lti.test_rejected_launches import launches_in

RESUME = {"X-Skillpath-Resume": "1", "Accept": "application/json"}


def storage_login(forge: LaunchForge, target: str = "_parent") -> tuple[dict[str, Any], str, str]:
    """A login naming a storage frame: the page's values, and the state and nonce of the
    platform URL it goes on to."""
    page = forge.browser.get(
        forge.tool + "/lti/login",
        params={
            "iss": forge.issuer,
            "client_id": forge.client_id,
            "login_hint": "learner-1",
            "lti_message_hint": "link-1",
            "target_link_uri": forge.tool + "/lti/launch",
            "lti_deployment_id": forge.deployment_id,
            "lti_storage_target": target,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert page.status_code == 200, page.text
    found = re.search(r'<script type="application/json" id="lti-login">(.*?)</script>', page.text)
    assert found is not None
    values = json.loads(found.group(1))
    query = parse_qs(urlsplit(values["auth_url"]).query)
    return values, query["state"][0], query["nonce"][0]


def test_the_login_stores_a_secret_in_the_platform_frame(forge: LaunchForge) -> None:
    values, state, _ = storage_login(forge, "post_message_forwarding")
    assert values["target"] == "post_message_forwarding"
    assert values["platform_origin"] == forge.issuer  # the peer's authorization endpoint
    assert values["key"] == "skillpath-" + state
    assert values["put_subject"] == "lti.put_data"
    assert values["value"] and values["value"] not in values["auth_url"]
    # The cookie path is kept: the state cookie is set as well.
    assert forge.browser.cookies.get(f"skillpath-{state}") == state


@pytest.mark.parametrize("target", ["</script><script>alert(1)", "a b", "x" * 65, ""])
def test_a_storage_target_that_is_no_frame_name_is_ignored(forge: LaunchForge, target: str) -> None:
    login = forge.login(lti_storage_target=target)
    assert login.response.status_code == 302


def test_a_resumed_launch_needs_the_stored_secret(forge: LaunchForge, tool: ToolServer) -> None:
    values, state, nonce = storage_login(forge)
    forge.browser.cookies.clear()  # the browser blocked the cookie
    id_token = forge.sign(forge.claims(nonce))
    resume_page = forge.post(id_token, state)
    assert resume_page.status_code == 200 and 'id="lti-resume"' in resume_page.text
    found = re.search(r'id="lti-resume">(.*?)</script>', resume_page.text)
    assert found is not None
    resume = json.loads(found.group(1))
    assert (resume["storage_target"], resume["key"], resume["get_subject"]) == (
        "_parent",
        values["key"],
        "lti.get_data",
    )
    assert values["value"] not in resume_page.text  # the secret only comes from the platform

    url = forge.tool + "/lti/launch/resume"
    body = {"id_token": id_token, "state": state, "proof": values["value"]}
    no_header = requests.post(url, json=body, headers={"Accept": "application/json"}, timeout=10)
    assert no_header.status_code == 400 and "X-Skillpath-Resume" in no_header.json()["message"]
    partial = requests.post(url, json={"state": state}, headers=RESUME, timeout=10)
    assert partial.status_code == 400
    assert launches_in(tool) == 0

    finished = requests.post(url, json=body, headers=RESUME, timeout=10)
    assert finished.status_code == 200, finished.text
    location = finished.json()["location"]
    assert location.startswith("/launch/")
    page = requests.get(forge.tool + location, timeout=10)
    assert page.status_code == 200 and 'data-view="learner"' in page.text
    assert launches_in(tool) == 1

    replayed = requests.post(url, json=body, headers=RESUME, timeout=10)
    assert replayed.status_code == 400 and replayed.json()["code"] == "state_unknown"


def test_a_wrong_secret_spends_the_login(forge: LaunchForge, tool: ToolServer) -> None:
    _, state, nonce = storage_login(forge)
    other, _, _ = storage_login(forge)
    forge.browser.cookies.clear()
    id_token = forge.sign(forge.claims(nonce))
    url = forge.tool + "/lti/launch/resume"
    wrong = requests.post(
        url,
        json={"id_token": id_token, "state": state, "proof": other["value"]},
        headers=RESUME,
        timeout=10,
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "storage_mismatch"
    assert launches_in(tool) == 0


def test_a_second_post_from_our_own_page_carries_the_cookie(
    forge: LaunchForge, tool: ToolServer
) -> None:
    """In a window of its own the resume page posts the launch again to Skillpath's origin,
    where a SameSite=Lax cookie travels: the launch then completes the usual way."""
    login = forge.login()
    id_token = forge.sign(forge.claims(login.nonce))
    bounced = forge.browser.post(
        forge.tool + "/lti/launch",
        data={"id_token": id_token, "state": login.state, "bounced": "1"},
        allow_redirects=False,
        timeout=10,
    )
    assert bounced.status_code == 303
    assert launches_in(tool) == 1


def test_the_page_offers_a_new_window_when_nothing_else_can_work(forge: LaunchForge) -> None:
    login = forge.login()
    forge.browser.cookies.clear()
    page = forge.browser.post(
        forge.tool + "/lti/launch",
        data={
            "id_token": forge.sign(forge.claims(login.nonce)),
            "state": login.state,
            "bounced": "1",
        },
        timeout=10,
    )
    assert page.status_code == 200
    assert 'data-testid="new-window"' in page.text and 'class="panel hidden"' not in page.text
    link = re.search(
        r'href="([^"]+)" target="_blank" rel="noopener" data-testid="open-new-window"', page.text
    )
    assert link is not None
    relaunch = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert relaunch["iss"] == [forge.issuer] and relaunch["login_hint"] == ["learner-1"]
    assert relaunch["lti_message_hint"] == ["link-1"] and relaunch["client_id"] == [forge.client_id]


@pytest.fixture
def https_app(settings: Settings) -> Any:
    app = create_app(settings.replace(base_url="https://skillpath.example.edu"), initialise=True)
    yield app
    app.extensions["skillpath"].close()


def test_on_https_the_state_cookie_is_partitioned(https_app: Flask) -> None:
    admin.register_platform(
        https_app.extensions["skillpath"],
        RegistrationInput(
            issuer="https://lms.example.edu",
            client_id="c-1",
            auth_login_url="https://lms.example.edu/auth",
            auth_token_url="https://lms.example.edu/token",
            keyset_url="https://lms.example.edu/jwks",
            deployments=["d-1"],
        ),
    )
    response = https_app.test_client().get(
        "/lti/login",
        query_string={
            "iss": "https://lms.example.edu",
            "client_id": "c-1",
            "login_hint": "u",
            "target_link_uri": "https://skillpath.example.edu/lti/launch",
        },
    )
    assert response.status_code == 302
    (cookie,) = response.headers.getlist("Set-Cookie")
    assert "; Secure" in cookie and "; SameSite=None" in cookie and "; Partitioned" in cookie
    assert "HttpOnly" in cookie
