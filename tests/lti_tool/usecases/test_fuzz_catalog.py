"""Property-based fuzz of catalog import (hypothesis): random bytes and random or mutated
catalog documents are either refused with a `ConfigurationError` (one clear message) or
imported, and then the learner page and `/api/v1/me/path` of a launch under that catalog
answer without a 5xx. Bounded: a few seconds each."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lti_tool.errors import SkillpathError
from lti_tool.storage import LaunchRecord
from lti_tool.usecases import admin
from tests.lti_tool.usecases.test_learner_path import EXAMPLE

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EXAMPLE_DOCUMENT = json.loads(EXAMPLE.read_text())

# Strings a hostile or careless author writes: NUL, lone surrogates, very long, markup.
WEIRD_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\ud800",
            "a\udfffb",
            "x" * 1001,
            "https://l.example/" + "y" * 2100,
            "<script>alert(1)</script>",
            "comm.basics",
            "https://lessons.example.org/comm/basics-video",
            "\u202e\u200b",
        ]
    ),
)
NUMBERS = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 10**20, 10**400, 1e308, 0.5, 1, 10_081, 3661]),
)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBERS | WEIRD_TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(WEIRD_TEXT, children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _paths(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _paths(value, (*path, index))
    return found


EXAMPLE_PATHS = _paths(EXAMPLE_DOCUMENT)[1:]


@st.composite
def mutated_catalogs(draw: st.DrawFn) -> Any:
    """The example catalog with one to three values replaced by random JSON."""
    document = json.loads(json.dumps(EXAMPLE_DOCUMENT))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(EXAMPLE_PATHS))
        target = document
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = draw(JSON)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced what this path went through
    return document


def learner_session(app: Flask) -> tuple[str, str]:
    container = app.extensions["skillpath"]
    launch = LaunchRecord(
        id="launch-" + uuid.uuid4().hex,
        issuer="https://lms.example.edu",
        client_id="c-1",
        deployment_id="d-1",
        message_type="LtiResourceLinkRequest",
        subject="learner-" + uuid.uuid4().hex[:8],
        role="learner",
        user_name="Ada Learner",
        context_id="course-1",
        context_title="Support 101",
        resource_link_id="link-1",
        resource_link_title="Week 1",
        claims={},
        created_at=datetime.now(UTC),
    )
    with container.storage.transaction() as tx:
        tx.launches.add(launch)
    return launch.id, container.sessions.issue(launch.id)


def import_then_render(app: Flask, client: Any, document: Any) -> None:
    try:
        admin.import_catalog(app.extensions["skillpath"], document)
    except SkillpathError as exc:
        assert exc.status < 500 and exc.message.count("\n") == 0
        return
    launch_id, token = learner_session(app)
    page = client.get(f"/launch/{launch_id}?t={token}")
    assert page.status_code < 500, page.text[:500]
    api = client.get("/api/v1/me/path", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code < 500, api.text[:500]


@pytest.fixture
def fuzz_client(app: Flask) -> Any:
    return app.test_client()


def test_mutated_catalogs_are_refused_or_render(app: Flask, fuzz_client: Any) -> None:
    @FUZZ
    @given(mutated_catalogs())
    def check(document: Any) -> None:
        import_then_render(app, fuzz_client, document)

    check()


def test_random_json_is_refused_or_renders(app: Flask, fuzz_client: Any) -> None:
    @FUZZ
    @given(JSON | st.fixed_dictionaries({"format": st.just("skillpath-catalog/1")}, optional={
        "competencies": JSON, "lessons": JSON, "pathways": JSON}))  # fmt: skip
    def check(document: Any) -> None:
        import_then_render(app, fuzz_client, document)

    check()


def test_random_files_are_refused_in_one_message(app: Flask) -> None:
    container = app.extensions["skillpath"]
    example = EXAMPLE.read_bytes()

    @FUZZ
    @given(
        st.binary(max_size=200)
        | st.builds(lambda cut, junk: example[:cut] + junk, st.integers(0, len(example)), st.binary(max_size=8))
        | st.sampled_from([b"[" * 50_000, b"\xff\xfe", b'{"a": NaN}', b"1e999", b"\x00" * 10])
    )  # fmt: skip
    def check(raw: bytes) -> None:
        try:
            admin.import_catalog_file(container, raw)
        except SkillpathError as exc:
            assert exc.status < 500 and exc.message.count("\n") == 0

    check()
