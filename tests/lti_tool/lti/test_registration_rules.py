"""The rules of a Dynamic Registration on their own: what a configuration must say, what
Skillpath asks each LMS for, how a platform's answer is read (Canvas's shapes as its public
documentation shows them)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from config import Settings
from lti_tool.errors import RegistrationFailed
from lti_tool.lti.dynamic_registration import parse_answer, parse_configuration, tool_registration

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPES = [
    "openid",
    AGS + "lineitem",
    AGS + "lineitem.readonly",
    AGS + "result.readonly",
    AGS + "score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]
CANVAS = "https://canvas.instructure.com/lti/"


def canvas_configuration(issuer: str, host: str) -> dict[str, Any]:
    """The shape of Canvas's OpenID configuration (placements named by URI)."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"https://{host}/api/lti/authorize_redirect",
        "registration_endpoint": f"https://{host}/api/lti/registrations",
        "jwks_uri": f"https://{host}/api/lti/security/jwks",
        "token_endpoint": f"https://{host}/login/oauth2/token",
        "scopes_supported": SCOPES,
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "authorization_server": host,
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": "canvas",
            "version": "cloud",
            "messages_supported": [
                {
                    "type": "LtiResourceLinkRequest",
                    "placements": [CANVAS + "account_navigation", CANVAS + "course_navigation"],
                },
                {
                    "type": "LtiDeepLinkingRequest",
                    "placements": [
                        CANVAS + "assignment_selection",
                        CANVAS + "link_selection",
                        CANVAS + "editor_button",
                        "ContentArea",
                    ],
                },
            ],
        },
    }


def test_canvas_cloud_names_its_shared_issuer_from_a_school_host() -> None:
    document = canvas_configuration("https://canvas.instructure.com", "school.instructure.com")
    url = "https://school.instructure.com/api/lti/security/openid-configuration"
    parsed = parse_configuration(document, url)
    assert parsed.issuer == "https://canvas.instructure.com"
    assert parsed.authorization_server == "school.instructure.com"

    with pytest.raises(RegistrationFailed) as foreign:
        parse_configuration(document, "https://lms.example.org/openid-configuration")
    assert foreign.value.code == "foreign_issuer"
    # Only Canvas may: another LMS claiming Canvas's issuer from a school host is refused.
    document["https://purl.imsglobal.org/spec/lti-platform-configuration"][
        "product_family_code"
    ] = "moodle"
    with pytest.raises(RegistrationFailed):
        parse_configuration(document, url)


def test_what_skillpath_asks_canvas_for() -> None:
    settings = Settings(base_url="https://skillpath.example.edu")
    document = canvas_configuration("https://canvas.example.edu", "canvas.example.edu")
    platform = parse_configuration(document, "https://canvas.example.edu/openid")
    body = tool_registration(settings, platform)
    tool = body["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert tool["domain"] == "skillpath.example.edu"
    messages = {(m["type"], m["target_link_uri"]): m for m in tool["messages"]}
    picker = messages[("LtiDeepLinkingRequest", "https://skillpath.example.edu/lti/launch")]
    assert picker["placements"] == [
        CANVAS + "assignment_selection",
        CANVAS + "link_selection",
        "ContentArea",
    ]
    console = messages[("LtiResourceLinkRequest", "https://skillpath.example.edu/admin")]
    assert console["placements"] == [CANVAS + "account_navigation"]


def test_no_picker_for_a_platform_without_deep_linking() -> None:
    document = canvas_configuration("https://lms.example.org", "lms.example.org")
    document["https://purl.imsglobal.org/spec/lti-platform-configuration"] = {
        "product_family_code": "somelms",
        "messages_supported": [{"type": "LtiResourceLinkRequest"}],
    }
    platform = parse_configuration(document, "https://lms.example.org/openid")
    body = tool_registration(Settings(base_url="https://tool.example.org"), platform)
    messages = body["https://purl.imsglobal.org/spec/lti-tool-configuration"]["messages"]
    assert [m["type"] for m in messages] == ["LtiResourceLinkRequest"]


def answer(status: int, body: Any) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response._content_consumed = True
    return response


def test_the_deployment_is_read_where_the_spec_and_canvas_put_it() -> None:
    spec = answer(
        200,
        {
            "client_id": "c-1",
            "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": "d-1"},
        },
    )
    assert (parse_answer(spec).client_id, parse_answer(spec).deployment_id) == ("c-1", "d-1")
    canvas = answer(200, {"client_id": "10000000000005", "deployment_id": "9:8865aa05"})
    assert parse_answer(canvas).deployment_id == "9:8865aa05"
    assert parse_answer(answer(201, {"client_id": "c-2"})).deployment_id is None


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (400, {"error": "invalid_redirect_uri"}, 'HTTP 400: {"error": "invalid_redirect_uri"}'),
        (200, b"<html>oops</html>", "HTTP 200: <html>oops</html>"),
        (200, {"client_name": "Skillpath"}, "HTTP 200"),
    ],
)
def test_a_bad_answer_quotes_the_platform(status: int, body: Any, says: str) -> None:
    with pytest.raises(RegistrationFailed) as failed:
        parse_answer(answer(status, body))
    assert failed.value.platform_answer.startswith(says)
    assert failed.value.status == 502
