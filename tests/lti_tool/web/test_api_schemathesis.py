"""Schemathesis against the OpenAPI document the app generates, with the session tokens of a
real learner launch and a real instructor launch (through the platform peer): every
operation, with generated parameters and bodies, never answers 5xx, and every answer has a
status the document names and a body its schema describes. Bounded by the number of
examples per operation (`SCHEMATHESIS_EXAMPLES`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from config import Settings
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer, start_tool
from tests.lti_tool.conftest import link, register_with
from tests.lti_tool.usecases.test_learner_path import import_example

SCHEMATHESIS_EXAMPLES = 60


@pytest.fixture
def api_tool(settings: Settings) -> Iterator[ToolServer]:
    # The test calls the API far faster than any person; the rate limit is tested elsewhere.
    server = start_tool(settings.replace(rate_limit_api="off"))
    yield server
    server.stop()


@pytest.fixture
def api_tokens(
    api_tool: ToolServer, platform_peer: PlatformPeer, launch_browser: LaunchBrowser
) -> dict[str, str]:
    register_with(api_tool, platform_peer, "schemathesis", "deployment-1")
    import_example(api_tool)
    tokens = {}
    for role, user in (("learner", "learner-1"), ("instructor", "teacher-1")):
        page = launch_browser.launch(link(platform_peer, "schemathesis", user=user, roles=role))
        assert page.status_code == 200, page.text[:300]
        tokens[role] = page.url.split("t=")[1]
    return tokens


def test_the_api_keeps_its_document(api_tool: ToolServer, api_tokens: dict[str, str]) -> None:
    """Each operation in turn: generated cases, called through the app with both tokens.
    (The schemathesis pytest plugin does not run under pytest 9; its strategies do.)"""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_tool.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    calls: dict[str, int] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=SCHEMATHESIS_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case: Any) -> None:
            for token in api_tokens.values():
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {token}"},
                    # An override's target depends on its kind (a rule, not a schema): a
                    # schema-valid body may still be refused, with a 400 naming the field.
                    excluded_checks=[positive_data_acceptance],
                )
                calls[case.operation.label] = calls.get(case.operation.label, 0) + 1

        call()
    print("schemathesis calls per operation:", calls)
    assert all(count >= 2 for count in calls.values()), calls
