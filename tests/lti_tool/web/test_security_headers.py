"""Headers on every answer: a page may be framed only by the platforms registered with
Skillpath (Content-Security-Policy `frame-ancestors`), no response is MIME-sniffed, and no
page (the error page included) sends a referrer: session tokens ride in page URLs."""

from __future__ import annotations

from typing import Any

import requests

from lti_tool.lti.registrations import RegistrationInput
from lti_tool.usecases import admin
from peers.tool_server import ToolServer, start_tool
from tests.lti_tool.launch_forge import LaunchForge

OTHER_LMS = "https://other-lms.example.org"


def register_other(tool: ToolServer) -> None:
    admin.register_platform(
        tool.app.extensions["skillpath"],
        RegistrationInput(
            issuer=OTHER_LMS,
            client_id="other",
            auth_login_url="https://sso.other-lms.example.org/auth",
            auth_token_url=OTHER_LMS + "/token",
            keyset_url=OTHER_LMS + "/jwks",
            deployments=["d"],
        ),
    )


def ancestors(response: requests.Response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    return directives["frame-ancestors"].split()


def launched_page(forge: LaunchForge, tool: ToolServer, **changes: Any) -> requests.Response:
    response = forge.launch(**changes)
    assert response.status_code == 303, response.text[:300]
    return forge.browser.get(tool.base_url + response.headers["Location"], timeout=10)


def test_a_page_may_be_framed_by_its_own_platform_only(
    forge: LaunchForge, tool: ToolServer
) -> None:
    register_other(tool)
    page = launched_page(forge, tool)
    assert page.status_code == 200
    assert ancestors(page) == ["'self'", forge.issuer]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_course_host_a_signed_launch_names_may_frame_it(
    forge: LaunchForge, tool: ToolServer
) -> None:
    page = launched_page(
        forge,
        tool,
        lti_launch_presentation={"return_url": "https://school.instructure.com/courses/1/x"},
    )
    assert ancestors(page) == ["'self'", forge.issuer, "https://school.instructure.com"]


def test_nothing_but_an_origin_reaches_the_policy(forge: LaunchForge, tool: ToolServer) -> None:
    page = launched_page(
        forge,
        tool,
        lti_launch_presentation={"return_url": "https://evil.example; script-src *"},
    )
    assert ancestors(page) == ["'self'", forge.issuer]
    assert "evil" not in page.headers["Content-Security-Policy"]


def test_the_error_page_may_be_framed_by_any_registered_platform_and_sends_no_referrer(
    forge: LaunchForge, tool: ToolServer
) -> None:
    register_other(tool)
    login = forge.login()
    error = forge.post("not-a-token", login.state)
    assert error.status_code == 400
    assert error.headers["Referrer-Policy"] == "no-referrer"
    assert error.headers["X-Content-Type-Options"] == "nosniff"
    assert ancestors(error) == [
        "'self'",
        forge.issuer,
        OTHER_LMS,
        "https://sso.other-lms.example.org",
    ]


def test_json_answers_are_not_sniffed(client: Any) -> None:
    for path in ("/api/v1/me/path", "/.well-known/jwks.json", "/api/v1/openapi.json"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert "Content-Security-Policy" not in response.headers, path


def test_an_installation_may_name_more_origins(settings: Any) -> None:
    tool = start_tool(settings.replace(frame_ancestors=("https://*.instructure.com",)))
    try:
        page = requests.get(tool.base_url + "/launch/nothing", timeout=10)
        assert page.status_code == 401
        assert ancestors(page) == ["'self'", "https://*.instructure.com"]
    finally:
        tool.stop()
