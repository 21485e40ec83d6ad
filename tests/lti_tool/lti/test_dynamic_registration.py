"""LTI Dynamic Registration against the platform peer's registration endpoint (written from the
specification in peers/platform_registration.py): a registration that produces a working
launch with no manual step, one that waits for an admin, and every bad configuration named
on the page with nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from config import Settings
from lti_tool.storage import Tenant
from lti_tool.usecases import admin
from lti_tool.usecases.audit import AdminActor
from lti_tool.usecases.registrations import change_status
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.platform_registration import TOOL_CONFIGURATION
from peers.tool_server import ToolServer, free_port, start_tool
from tests.lti_tool.conftest import link
from tests.lti_tool.db import container_of

LOCAL = AdminActor("local admin test")


@pytest.fixture
def dr(platform: PlatformPeer) -> Iterator[PlatformPeer]:
    """The platform peer, its Dynamic Registration faults reset after the test."""
    yield platform
    platform.dynamic_registrations.reset()


@pytest.fixture
def open_tool(settings: Settings) -> Iterator[ToolServer]:
    """A tool whose dynamic registrations launch at once."""
    server = start_tool(settings.replace(registration_approval="automatic"))
    yield server
    server.stop()


def register(tool: ToolServer, platform: PlatformPeer) -> requests.Response:
    url = platform.registration_initiation_url(f"{tool.base_url}/lti/register")
    return requests.get(url, timeout=15)


def stored(tool: ToolServer) -> list[Any]:
    return admin.list_platforms(container_of(tool))


def test_a_registration_launches_with_no_manual_step(
    open_tool: ToolServer, dr: PlatformPeer, browser: LaunchBrowser
) -> None:
    page = register(open_tool, dr)
    assert page.status_code == 200, page.text
    sent = dr.dynamic_registrations.received[-1]
    answer = dr.dynamic_registrations.answered[-1]
    client_id = answer["client_id"]
    deployment_id = answer[TOOL_CONFIGURATION]["deployment_id"]
    assert client_id in page.text and deployment_id in page.text
    assert "Active" in page.text and 'data-close-message="org.imsglobal.lti.close"' in page.text

    # What Skillpath asked for: its URLs, grades and roster scopes, both messages.
    tool_config = sent[TOOL_CONFIGURATION]
    assert sent["initiate_login_uri"] == open_tool.login_url
    assert sent["redirect_uris"] == [open_tool.launch_url]
    assert sent["jwks_uri"] == open_tool.jwks_url
    assert set(sent["scope"].split()) == {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    }
    assert tool_config["target_link_uri"] == open_tool.launch_url
    assert [m["type"] for m in tool_config["messages"]] == [
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    ]
    assert tool_config["messages"][1]["placements"] == ["ContentArea"]
    assert "email" not in tool_config["claims"]

    # The token went as a bearer token to both calls and served once.
    token = dr.dynamic_registrations.configuration_requests[-1]["authorization"]
    assert token.startswith("Bearer regtoken-")
    assert token[7:] not in dr.dynamic_registrations.tokens

    (registration,) = stored(open_tool)
    assert (registration.issuer, registration.client_id) == (dr.issuer, client_id)
    assert registration.deployments == (deployment_id,)
    assert (registration.status, registration.source) == ("active", "dynamic")
    assert registration.product_family_code == "lti1p3platform"
    assert registration.auth_login_url == dr.auth_login_url
    assert registration.keyset_url == dr.keyset_url

    landed = browser.launch(link(dr, client_id))
    assert landed.status_code == 200, landed.text
    assert landed.url.startswith(f"{open_tool.base_url}/launch/")


def test_a_registration_waits_for_an_admin_by_default(
    tool: ToolServer, dr: PlatformPeer, browser: LaunchBrowser
) -> None:
    page = register(tool, dr)
    assert page.status_code == 200, page.text
    assert "Waiting for approval" in page.text and f"{tool.base_url}/admin" in page.text
    client_id = dr.dynamic_registrations.answered[-1]["client_id"]
    (registration,) = stored(tool)
    assert registration.status == "pending"

    with pytest.raises(AssertionError) as refused:
        browser.launch(link(dr, client_id))
    assert "waits for its administrator" in str(refused.value)

    change_status(container_of(tool), Tenant(dr.issuer, client_id), "approve", LOCAL)
    landed = browser.launch(link(dr, client_id))
    assert landed.status_code == 200, landed.text


def test_a_registration_without_a_deployment_says_so(
    open_tool: ToolServer, dr: PlatformPeer
) -> None:
    dr.dynamic_registrations.deployment_in_answer = False
    page = register(open_tool, dr)
    assert page.status_code == 200
    assert "The LMS named none yet" in page.text
    (registration,) = stored(open_tool)
    assert registration.deployments == ()


def _unreachable() -> str:
    return f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"


@pytest.mark.parametrize(
    ("fault", "status", "says", "answer"),
    [
        ("missing", 400, "carries no openid_configuration", None),
        ("not_a_url", 400, "must be the absolute http(s) URL", None),
        ("unreachable", 502, "the platform did not answer", "no answer"),
        ("not_json", 400, "is not JSON", "HTTP 200: this is not json"),
        ("server_error", 502, "could not be read", "HTTP 500"),
        ("no_token", 502, "could not be read", "HTTP 401"),
        ("list", 400, "is not a JSON object", None),
        (
            "foreign_issuer",
            400,
            "is for another platform: its issuer is https://lms.example.org",
            None,
        ),
        ("no_registration_endpoint", 400, "lacks registration_endpoint", None),
        ("no_platform_block", 400, "has no LTI platform configuration", None),
        ("missing_scopes", 400, "https://purl.imsglobal.org/spec/lti-ags/scope/score", None),
        ("no_rs256", 400, "does not sign with RS256", None),
        ("refused", 502, "refused Skillpath's registration", "HTTP 400"),
    ],
)
def test_a_bad_configuration_is_named_and_stores_nothing(
    tool: ToolServer, dr: PlatformPeer, fault: str, status: int, says: str, answer: str | None
) -> None:
    registrations = dr.dynamic_registrations
    configuration_url = f"{dr.issuer}/.well-known/openid-configuration"
    token: str | None = registrations.new_token()
    if fault == "missing":
        configuration_url = ""
    elif fault == "not_a_url":
        configuration_url = "lms.example.org/config"
    elif fault == "unreachable":
        configuration_url = _unreachable()
    elif fault == "not_json":
        registrations.configuration_body = b"this is not json"
    elif fault == "server_error":
        registrations.configuration_status = 500
        registrations.configuration_body = b'{"error": "database down"}'
    elif fault == "no_token":
        token = None
    elif fault == "list":
        registrations.configuration_body = json.dumps([1, 2]).encode()
    elif fault == "foreign_issuer":
        registrations.configuration_override["issuer"] = "https://lms.example.org"
    elif fault == "no_registration_endpoint":
        registrations.configuration_override["registration_endpoint"] = None
    elif fault == "no_platform_block":
        registrations.configuration_override[
            "https://purl.imsglobal.org/spec/lti-platform-configuration"
        ] = None
    elif fault == "missing_scopes":
        registrations.configuration_override["scopes_supported"] = ["openid"]
    elif fault == "no_rs256":
        registrations.configuration_override["id_token_signing_alg_values_supported"] = ["HS256"]
    elif fault == "refused":
        registrations.registration_status = 400
    params = {"openid_configuration": configuration_url}
    if token:
        params["registration_token"] = token
    page = requests.get(f"{tool.base_url}/lti/register", params=params, timeout=15)

    assert page.status_code == status, page.text
    assert says in page.text.replace("&#39;", "'")
    assert "Nothing was stored in Skillpath" in page.text
    if answer is not None:
        assert "The platform answered:" in page.text and answer in page.text
    assert stored(tool) == []
    if fault == "refused":
        assert "refused by test" in page.text
    if fault == "missing_scopes":
        assert "lacks the scopes" in page.text and "contextmembership.readonly" in page.text
    if fault in ("foreign_issuer", "missing_scopes", "no_registration_endpoint"):
        assert registrations.received == []  # nothing was posted either
