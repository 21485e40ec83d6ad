"""Each LMS's own launches, built from its public documentation (tests/fixtures/lms/), sent
through the full flow by the platform peer (login, authorize, signed id_token): the LMS's
adapter is chosen by `tool_platform.product_family_code` or, when the launch names none, by
the registration; roles are read as that LMS means them; launches without names or email
work and show the person's role."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest

from lti_tool.lti.registrations import RegistrationInput
from lti_tool.usecases import admin
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.db import container_of
from tests.lti_tool.usecases.test_learner_path import import_example

FIXTURES = Path(__file__).parents[2] / "fixtures" / "lms"
LMSS = sorted(p.stem for p in FIXTURES.glob("*.json"))
ADAPTERS = {
    "moodle": "moodle",
    "canvas": "canvas",
    "brightspace": "brightspace",
    "blackboard": "blackboard",
    "openedx": "openedx",
}
CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
PLATFORM = "https://purl.imsglobal.org/spec/lti/claim/tool_platform"


def fixture(lms: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{lms}.json").read_text()))


def install(tool: ToolServer, platform: PlatformPeer, family: str | None) -> str:
    client_id = "lms-" + uuid.uuid4().hex[:8]
    admin.register_platform(
        container_of(tool),
        RegistrationInput(
            issuer=platform.issuer,
            client_id=client_id,
            auth_login_url=platform.auth_login_url,
            auth_token_url=platform.auth_token_url,
            keyset_url=platform.keyset_url,
            deployments=["dep-1"],
            product_family_code=family,
        ),
    )
    platform.register_tool(client_id, "dep-1", tool.login_url, tool.launch_url, tool.jwks_url)
    return client_id


def stored_launch(tool: ToolServer, page_url: str) -> Any:
    launch_id = page_url.split("/launch/")[1].split("?")[0]
    with container_of(tool).storage.transaction() as tx:
        return tx.launches.get(launch_id)


@pytest.mark.parametrize("lms", LMSS)
def test_the_lms_launches_through_the_full_flow(
    lms: str,
    tool: ToolServer,
    platform: PlatformPeer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = fixture(lms)
    import_example(tool)
    client_id = install(tool, platform, data["registration_family"])
    for name, claims in data["launches"].items():
        overlay = f"{lms}-{name}-{uuid.uuid4().hex[:6]}"
        platform.claim_overlays[overlay] = {**data["common"], **claims}
        user = f"{lms}-{name}-{uuid.uuid4().hex[:6]}"
        expected = data["expect"][name]
        params: dict[str, Any] = {
            "client_id": client_id,
            "user": user,
            "overlay": overlay,
            "context_id": f"course-{name}",
        }
        if expected in ("console", "refused"):
            params["target_link_uri"] = f"{tool.base_url}/admin"
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="skillpath.launch"), LaunchBrowser() as browser:
            page = browser.launch(platform.launch_url(**params))
        where = f"{lms}/{name}"
        if expected == "console":
            assert page.status_code == 200, (where, page.text[:300])
            assert 'data-testid="handoff"' in page.text, where
            continue
        if expected == "refused":
            assert page.status_code == 403, where
            continue
        assert page.status_code == 200, (where, page.text[:300])
        assert f'data-view="{expected}"' in page.text, where
        launch = stored_launch(tool, page.url)
        assert launch.role == expected, where
        accepted = [r.getMessage() for r in caplog.records if "launch accepted" in r.getMessage()]
        assert accepted and f"lms={ADAPTERS[lms]}" in accepted[-1], (where, accepted)
        if name == "anonymous_learner":
            assert launch.user_name is None
            assert 'data-testid="who">Learner<' in page.text, where
            assert user not in page.text, where
        # Custom parameters the LMS left unsubstituted are not read as values.
        custom = launch.claims.get(CUSTOM, {})
        assert custom.get("pathway") == "support.onboarding", where
        assert not any(str(v).startswith("$") for v in custom.values()), where
        if data["registration_family"]:
            assert launch.claims[PLATFORM]["product_family_code"] == data["registration_family"]
            assert "(from the registration)" in accepted[-1]


def test_an_unknown_lms_gets_the_standard_behaviour_and_one_log_line(
    tool: ToolServer, platform: PlatformPeer, caplog: pytest.LogCaptureFixture
) -> None:
    import_example(tool)
    client_id = install(tool, platform, None)
    family = "sakai-" + uuid.uuid4().hex[:6]
    with caplog.at_level(logging.INFO):
        for n in range(2):
            with LaunchBrowser() as browser:
                page = browser.launch(
                    platform.launch_url(
                        client_id=client_id, user=f"u-{n}", product_family_code=family
                    )
                )
            assert page.status_code == 200 and 'data-view="learner"' in page.text
    said = [
        r.getMessage()
        for r in caplog.records
        if family in r.getMessage() and "no LMS adapter" in r.getMessage()
    ]
    assert len(said) == 1
