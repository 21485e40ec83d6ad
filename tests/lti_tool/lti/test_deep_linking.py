"""Deep Linking 2.0 through the platform peer (lti1p3platform): the picker, the signed answer
the platform validates, the items it creates (custom parameters naming the pathway, a line
item each), and a launch through a created link opening that pathway."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jwt
import requests

from lti_tool.lti.registrations import RegistrationInput
from lti_tool.storage import Tenant
from lti_tool.usecases import admin
from peers.browser import LaunchBrowser, parse_form
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.db import container_of

TWO_PATHWAYS = Path(__file__).parents[2] / "fixtures" / "catalog-two-pathways.json"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


def install(tool: ToolServer, platform: PlatformPeer, *, catalog: bool = True) -> str:
    """A registration whose deployment the platform also knows, with a deep linking URL."""
    client_id = "dl-" + uuid.uuid4().hex[:8]
    admin.register_platform(
        container_of(tool),
        RegistrationInput(
            issuer=platform.issuer,
            client_id=client_id,
            auth_login_url=platform.auth_login_url,
            auth_token_url=platform.auth_token_url,
            keyset_url=platform.keyset_url,
            deployments=["dep-1"],
        ),
    )
    platform.register_tool(
        client_id,
        "dep-1",
        tool.login_url,
        tool.launch_url,
        tool.jwks_url,
        deep_link_url=tool.launch_url,
    )
    if catalog:
        admin.import_catalog(
            container_of(tool),
            json.loads(TWO_PATHWAYS.read_text()),
            Tenant(platform.issuer, client_id),
        )
    return client_id


def open_picker(
    browser: LaunchBrowser, platform: PlatformPeer, client_id: str, **params: Any
) -> requests.Response:
    url = platform.launch_url(
        client_id=client_id,
        roles="instructor",
        user="teacher-1",
        deep_link=True,
        context_id="course-dl",
        **params,
    )
    return browser.launch(url)


def token_of(picker: requests.Response) -> str:
    return parse_form(picker.text, picker.url).fields["t"]


def choose(
    browser: LaunchBrowser, picker: requests.Response, items: list[str], token: str | None = None
) -> requests.Response:
    data: list[tuple[str, str]] = [("t", token if token is not None else token_of(picker))]
    data += [("item", item) for item in items]
    return browser.session.post(picker.url.split("?")[0], data=data, timeout=10)


def test_chosen_items_reach_the_platform_and_open_their_pathway(
    tool: ToolServer, platform: PlatformPeer, browser: LaunchBrowser
) -> None:
    client_id = install(tool, platform)
    picker = open_picker(browser, platform, client_id)
    assert picker.status_code == 200, picker.text
    assert picker.url.startswith(f"{tool.base_url}/deep-linking/")
    for value in (
        "pathway|support.basics",
        "milestone|support.onboarding|m1",
        "lesson|support.onboarding|https://lessons.example.org/comm/escalation-check",
    ):
        assert f'value="{value}"' in picker.text
    assert 'type="checkbox"' in picker.text

    chosen = ["pathway|support.basics", "milestone|support.onboarding|m1"]
    answer = choose(browser, picker, chosen)
    assert answer.status_code == 200, answer.text
    form = parse_form(answer.text, answer.url)
    assert form.action.startswith(f"{platform.issuer}/deep_link_return")

    # Signed with the tool's current key, as its JWKS publishes it.
    jwks = requests.get(tool.jwks_url, timeout=10).json()
    header = jwt.get_unverified_header(form.fields["JWT"])
    assert header["kid"] == jwks["keys"][0]["kid"]
    key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(form.fields["JWT"], key, algorithms=["RS256"], audience=platform.issuer)
    assert claims["iss"] == client_id
    assert (
        claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    )

    accepted = browser.post_form(form)
    assert accepted.status_code == 200, accepted.text
    items = platform.deep_link_responses[-1]
    assert [i["title"] for i in items] == ["Support basics refresher", "Writes clear escalations"]
    assert items[0]["type"] == "ltiResourceLink" and items[0]["url"] == tool.launch_url
    assert items[0]["custom"] == {"pathway": "support.basics"}
    assert items[1]["custom"] == {"pathway": "support.onboarding", "milestone": "m1"}
    assert items[0]["lineItem"] == {
        "scoreMaximum": 100.0,
        "label": "Support basics refresher",
        "resourceId": "support.basics",
        "tag": "skillpath-pathway",
    }
    assert items[1]["lineItem"]["resourceId"] == "support.onboarding#m1"
    assert "Goal: Customer communication basics" in items[0]["text"]

    # The platform made a link of each, with its line item in the gradebook.
    links = {
        link_id: link
        for link_id, link in platform.deep_linked_links.items()
        if link["client_id"] == client_id
    }
    basics_id = next(k for k, v in links.items() if v["custom"] == {"pathway": "support.basics"})
    line_item = links[basics_id]["line_item"]
    assert line_item["resourceLinkId"] == basics_id
    assert platform.gradebook.line_item(line_item["id"])["label"] == "Support basics refresher"

    # A learner's launch through the link opens that pathway and grades go to its column.
    with LaunchBrowser() as learner:
        page = learner.launch(platform.deep_linked_launch_url(basics_id, user="learner-dl"))
        assert page.status_code == 200, page.text
        token = page.url.split("t=")[1]
        path = requests.get(
            f"{tool.base_url}/api/v1/me/path",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
    assert path["pathway"]["id"] == "support.basics"
    queued = container_of(tool).storage
    with queued.transaction() as tx:
        scores = [e for e in tx.outbox.entries(kind="ags_score", limit=20)]
    assert any(e.payload["lineitem"] == line_item["id"] for e in scores)


def test_a_platform_that_takes_one_item(
    tool: ToolServer, platform: PlatformPeer, browser: LaunchBrowser
) -> None:
    client_id = install(tool, platform)
    picker = open_picker(browser, platform, client_id, dl_multiple=False, dl_lineitem=False)
    assert 'type="radio"' in picker.text and "The LMS takes one item here." in picker.text
    token = token_of(picker)
    refused = choose(browser, picker, ["pathway|support.basics", "pathway|support.onboarding"])
    assert refused.status_code == 400
    assert "The LMS takes one item here: choose one." in refused.text
    nothing = choose(browser, picker, [], token)
    assert nothing.status_code == 400 and "Choose at least one" in nothing.text
    forged = choose(browser, picker, ["pathway|no.such"], token)
    assert forged.status_code == 400 and "is not something this catalog offers" in forged.text

    answer = choose(browser, picker, ["pathway|support.onboarding"], token)
    accepted = browser.post_form(parse_form(answer.text, answer.url))
    assert accepted.status_code == 200, accepted.text
    (item,) = platform.deep_link_responses[-1]
    assert "lineItem" not in item  # the platform said it ignores line items

    again = choose(browser, picker, ["pathway|support.onboarding"], token)
    assert again.status_code == 400 and "already answered" in again.text


def test_a_tenant_without_a_catalog_is_told_how_to_add_one(
    tool: ToolServer, platform: PlatformPeer, browser: LaunchBrowser
) -> None:
    client_id = install(tool, platform, catalog=False)
    page = open_picker(browser, platform, client_id)
    assert page.status_code == 200
    assert 'data-testid="no-catalog"' in page.text
    assert (
        f"skillpath catalog import FILE --issuer {platform.issuer} --client-id {client_id}"
        in page.text
    )


def test_an_unknown_deployment_gets_no_answer(
    tool: ToolServer, platform: PlatformPeer, browser: LaunchBrowser
) -> None:
    client_id = install(tool, platform)
    platform.register_tool(
        client_id,
        "dep-stranger",
        tool.login_url,
        tool.launch_url,
        tool.jwks_url,
        deep_link_url=tool.launch_url,
    )
    refused = open_picker(browser, platform, client_id, deployment_id="dep-stranger")
    assert refused.status_code == 400
    assert "The deployment &#39;dep-stranger&#39; is not registered" in refused.text
    assert "/deep-linking/" not in refused.url

    picker = open_picker(browser, platform, client_id, deployment_id="dep-1")
    admin.remove_deployment(container_of(tool), Tenant(platform.issuer, client_id), "dep-1")
    answered = len(platform.deep_link_responses)
    gone = choose(browser, picker, ["pathway|support.basics"])
    assert gone.status_code == 403
    assert "is not registered with Skillpath (any more)" in gone.text
    assert "JWT" not in gone.text and len(platform.deep_link_responses) == answered


def test_the_answer_wants_the_session_token_in_the_form(
    tool: ToolServer, platform: PlatformPeer, browser: LaunchBrowser
) -> None:
    client_id = install(tool, platform)
    picker = open_picker(browser, platform, client_id)
    forged = choose(browser, picker, ["pathway|support.basics"], token="")
    assert forged.status_code == 401
    assert "JWT" not in forged.text


def test_answers_are_signed_with_the_rotated_key(
    tool: ToolServer, platform: PlatformPeer, browser: LaunchBrowser
) -> None:
    client_id = install(tool, platform)
    new_key = container_of(tool).rotate_keys()
    picker = open_picker(browser, platform, client_id)
    answer = choose(browser, picker, ["pathway|support.basics"])
    form = parse_form(answer.text, answer.url)
    assert jwt.get_unverified_header(form.fields["JWT"])["kid"] == new_key.kid
    assert browser.post_form(form).status_code == 200
