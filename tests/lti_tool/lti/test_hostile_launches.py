"""Launches and logins carrying what a database or an HTTP client cannot take: NUL, lone
surrogates, values longer than their column, a state or hint the size of a page. Each is
refused with a 4xx that names the field, creates nothing, and copies nothing of the request
into a response header. Run on SQLite and, with SKILLPATH_TEST_DATABASE_URL, on PostgreSQL
(where NUL and lone surrogates used to answer 500)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from peers.tool_server import ToolServer
from tests.lti_tool.launch_forge import DROP, LaunchForge
from tests.lti_tool.lti.test_rejected_launches import expect_rejected, launches_in

NUL = "Ada\x00Learner"
SURROGATE = "Ada \ud800 Learner"
LONG_ID = "x" * 501

CASES: dict[str, tuple[dict[str, Any], str]] = {
    "NUL in the name": ({"name": NUL}, "name"),
    "lone surrogate in the name": ({"name": SURROGATE}, "name"),
    "lone surrogate in the given name": ({"name": DROP, "given_name": SURROGATE}, "given_name"),
    "NUL in the sub": ({"sub": "learner\x00-1"}, "sub"),
    "lone surrogate in the sub": ({"sub": "learner-\udfff"}, "sub"),
    "NUL in the course title": (
        {"lti_context": {"id": "course-1", "title": "Support\x00101"}},
        "context.title",
    ),
    "lone surrogate in the course title": (
        {"lti_context": {"id": "course-1", "title": "Support \ud83d 101"}},
        "context.title",
    ),
    "NUL in the context id": ({"lti_context": {"id": "course\x001"}}, "context.id"),
    "NUL in a custom parameter's name": ({"lti_custom": {"path\x00way": "x"}}, "custom"),
    "sub over 500 characters": ({"sub": LONG_ID}, "sub"),
    "context id over 500 characters": ({"lti_context": {"id": LONG_ID}}, "context.id"),
    "resource link id over 500 characters": (
        {"lti_resource_link": {"id": LONG_ID}},
        "resource_link.id",
    ),
    "name over 500 characters": ({"name": "A" * 501}, "name"),
    "course title over 1000 characters": (
        {"lti_context": {"id": "course-1", "title": "T" * 1001}},
        "context.title",
    ),
    "email over 500 characters": ({"email": "a" * 490 + "@example.org"}, "email"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_claim_the_database_cannot_hold_is_refused_naming_it(
    forge: LaunchForge, tool: ToolServer, case: str
) -> None:
    changes, field = CASES[case]
    response = forge.launch(**changes)
    expect_rejected(tool, response, "invalid_claim")
    assert f"The claim {field} " in response.text, response.text[:800]


def test_identifiers_of_exactly_500_characters_are_accepted(
    forge: LaunchForge, tool: ToolServer
) -> None:
    long = "y" * 500
    response = forge.launch(
        sub=long,
        name="Ada " + "\u00e9\U0001f600",  # real non-ASCII text (an astral character) is fine
        lti_context={"id": long, "title": "T" * 1000},
        lti_resource_link={"id": long, "title": "Week 1"},
    )
    assert response.status_code == 303, response.text[:500]
    page = forge.browser.get(tool.base_url + response.headers["Location"], timeout=10)
    assert page.status_code == 200
    assert "\U0001f600" in page.text
    assert launches_in(tool) == 1


def _header_bytes(response: requests.Response) -> int:
    return max(len(name) + len(value) for name, value in response.raw.headers.items())


def test_a_huge_state_is_refused_and_never_copied_into_a_header(
    forge: LaunchForge, tool: ToolServer
) -> None:
    login = forge.login()
    token = forge.sign(forge.claims(login.nonce))
    huge = "state-" + "A" * 100_000
    forge.browser.cookies.set(f"skillpath-{login.state}", login.state)
    response = forge.post(token, huge)
    expect_rejected(tool, response, "invalid_state")
    assert _header_bytes(response) < 1024
    assert "AAAA" not in str(response.headers)
    # the login it did not name is still usable
    assert forge.post(token, login.state).status_code == 303


@pytest.mark.parametrize(
    "state", ["state-\x00abc", "state-\u00fc" * 4, "x" * 200, "state-../../etc", "state-a;b=c"]
)
def test_a_state_we_could_not_have_issued_is_refused(
    forge: LaunchForge, tool: ToolServer, state: str
) -> None:
    login = forge.login()
    response = forge.post(forge.sign(forge.claims(login.nonce)), state)
    expect_rejected(tool, response, "invalid_state")
    assert "Set-Cookie" not in response.headers


def test_an_id_token_with_other_characters_is_malformed(
    forge: LaunchForge, tool: ToolServer
) -> None:
    login = forge.login()
    # NUL and the UTF-8 bytes of a surrogate, as a browser form would never send them
    body = f"id_token=a.b.c%00%ED%A0%80&state={login.state}"
    response = forge.browser.post(
        forge.tool + "/lti/launch",
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
        timeout=10,
    )
    expect_rejected(tool, response, "malformed_token")


LOGIN_CASES: dict[str, tuple[dict[str, str], str]] = {
    "NUL in the issuer": ({"iss": "https://lms\x00.example"}, "iss"),
    "NUL in the client id": ({"client_id": "client\x00"}, "client_id"),
    "issuer of 10,000 characters": ({"iss": "https://" + "i" * 10_000}, "iss"),
    "NUL in the deployment hint": ({"lti_deployment_id": "dep\x00"}, "lti_deployment_id"),
    "login hint of 10 KB": ({"login_hint": "h" * 10_000}, "login_hint"),
    "message hint of 10 KB": ({"lti_message_hint": "m" * 10_000}, "lti_message_hint"),
    "NUL in the target": ({"target_link_uri": "http://127.0.0.1/\x00"}, "target_link_uri"),
}


@pytest.mark.parametrize("case", list(LOGIN_CASES))
def test_a_login_parameter_that_cannot_be_kept_is_refused_naming_it(
    forge: LaunchForge, tool: ToolServer, case: str
) -> None:
    overrides, field = LOGIN_CASES[case]
    params = {
        "iss": forge.issuer,
        "client_id": forge.client_id,
        "login_hint": "learner-1",
        "target_link_uri": forge.tool + "/lti/launch",
        **overrides,
    }
    response = requests.post(
        forge.tool + "/lti/login", data=params, allow_redirects=False, timeout=10
    )
    expect_rejected(tool, response, "invalid_login_parameter")
    assert field in response.text
    assert _header_bytes(response) < 1024
    assert "Set-Cookie" not in response.headers
