"""Manual installation: `/install` names each LMS's own fields with Skillpath's values,
`/lti/config/canvas.json` is a Canvas developer key, and `skillpath install-info` prints the
same."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

BASE = "http://127.0.0.1:5000"
SCOPES = {
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
}
# Each LMS's own field names, as its documentation spells them.
FIELDS = {
    "moodle": [
        "Initiate login URL",
        "Redirection URI(s)",
        "Public keyset",
        "Content Selection URL",
        "Platform ID",
        "Authentication request URL",
    ],
    "canvas": ["Redirect URIs", "JSON URL", "By Client ID", "Deployment Id"],
    "brightspace": [
        "OpenID Connect Login URL",
        "Redirect URLs",
        "Keyset URL",
        "Brightspace OAuth2 Audience",
        "Send Institution Role",
    ],
    "blackboard": [
        "Login Initiation URL",
        "Tool Redirect URL(s)",
        "Tool JWKS URL",
        "Application ID",
        "Register LTI 1.3/Advantage Tool",
    ],
    "openedx": [
        "Tool Launch URL",
        "Tool Initiate Login URL",
        "Tool Keyset URL",
        "Deep Linking Launch URL",
        "Access Token URL",
    ],
}


def test_install_page_names_every_lms_field(client: FlaskClient) -> None:
    page = client.get("/install")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"{BASE}/lti/register" in text and f"{BASE}/.well-known/jwks.json" in text
    for lms, fields in FIELDS.items():
        assert f'data-lms="{lms}"' in text
        for field in fields:
            assert field in text, (lms, field)
    assert f"{BASE}/lti/login" in text and f"{BASE}/lti/launch" in text


def test_install_page_for_one_lms(client: FlaskClient) -> None:
    text = client.get("/install?lms=brightspace").get_data(as_text=True)
    assert 'data-lms="brightspace"' in text and 'data-lms="moodle"' not in text
    refused = client.get("/install?lms=sakai")
    assert refused.status_code == 400
    assert "unknown LMS" in refused.get_data(as_text=True)


def test_canvas_developer_key(client: FlaskClient) -> None:
    key = client.get("/lti/config/canvas.json").get_json()
    assert key["oidc_initiation_url"] == f"{BASE}/lti/login"
    assert key["target_link_uri"] == f"{BASE}/lti/launch"
    assert key["public_jwk_url"] == f"{BASE}/.well-known/jwks.json"
    assert set(key["scopes"]) == SCOPES
    (canvas,) = key["extensions"]
    assert canvas["platform"] == "canvas.instructure.com"
    assert canvas["domain"] == "127.0.0.1:5000"
    assert canvas["privacy_level"] == "name_only"
    placements = {p["placement"]: p for p in canvas["settings"]["placements"]}
    assert placements["link_selection"]["message_type"] == "LtiDeepLinkingRequest"
    assert placements["assignment_selection"]["target_link_uri"] == f"{BASE}/lti/launch"
    assert placements["account_navigation"]["target_link_uri"] == f"{BASE}/admin"
    public = client.get("/lti/config/canvas.json?privacy=anonymous").get_json()
    assert public["extensions"][0]["privacy_level"] == "anonymous"
    refused = client.get(
        "/lti/config/canvas.json?privacy=everything", headers={"Accept": "application/json"}
    )
    assert refused.status_code == 400
    assert (
        "privacy must be one of anonymous, name_only, email_only, public"
        in refused.get_json()["message"]
    )


def test_install_info_command(cli: Any) -> None:
    printed = cli("install-info", "--lms", "moodle")
    assert printed.exit_code == 0, printed.output
    assert "Initiate login URL: http://127.0.0.1:5000/lti/login" in printed.output
    assert "Platform ID -> issuer" in printed.output
    everything = cli("install-info")
    for lms in ("Moodle", "Canvas", "D2L Brightspace", "Blackboard Learn", "Open edX"):
        assert f"== {lms}" in everything.output
    key = cli("install-info", "--canvas-json", "--privacy", "public")
    assert key.exit_code == 0 and '"privacy_level": "public"' in key.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--lms", "sakai"), "unknown LMS 'sakai': choose one of moodle, canvas, brightspace"),
        (("--canvas-json", "--privacy", "all"), "privacy must be one of"),
        (("--privacy", "public"), "--privacy goes with --canvas-json"),
    ],
)
def test_install_info_refuses_bad_input_in_one_line(
    cli: Any, args: tuple[str, ...], says: str
) -> None:
    result = cli("install-info", *args)
    assert result.exit_code != 0
    assert says in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_no_tool_openid_configuration(client: FlaskClient) -> None:
    """LTI Dynamic Registration has the platform publish an OpenID configuration, not the
    tool: Skillpath serves none (its registration says everything)."""
    assert client.get("/.well-known/openid-configuration").status_code == 404
