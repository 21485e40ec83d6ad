"""What a returning learner's launch reads: their page record once (the stored view in it is
the largest value a launch decodes), and nothing about how learners are named in an LRS when
the tenant has none."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from peers.tool_server import ToolServer
from recommender import LearnerState
from tests.lti_tool.launch_forge import LaunchForge
from tests.lti_tool.usecases.test_learner_path import import_example


@contextmanager
def statements(tool: ToolServer) -> Iterator[list[str]]:
    engine = tool.app.extensions["skillpath"].storage.engine
    seen: list[str] = []
    lock = threading.Lock()

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        with lock:
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_returning_learners_launch_reads_their_page_record_once(
    forge: LaunchForge, tool: ToolServer
) -> None:
    import_example(tool)
    assert forge.launch().status_code == 303  # the first launch makes the record
    with statements(tool) as seen:
        assert forge.launch().status_code == 303
    page_reads = [s for s in seen if s.startswith("SELECT") and "learner_pages.snapshot" in s]
    assert len(page_reads) == 1, page_reads
    # with the learner record, in the same query
    assert "FROM learners LEFT OUTER JOIN learner_pages" in page_reads[0]
    assert not [s for s in seen if s.startswith("SELECT") and "FROM learners WHERE" in s]
    assert not [s for s in seen if "xapi_identity" in s]  # no LRS, no naming policy read


def test_a_launch_finds_its_registration_and_deployment_in_one_query_and_settings_kept(
    forge: LaunchForge, tool: ToolServer
) -> None:
    """The launch POST asks for the platform's registration once, with its deployment in the
    same query; the tenant's catalog version, fit and LRS come from the process's settings
    cache (`settings_cache`) when a launch a moment before read them."""
    import_example(tool)
    assert forge.launch().status_code == 303
    with statements(tool) as seen:
        assert forge.launch().status_code == 303
    registrations = [s for s in seen if "FROM platform_registrations" in s]
    # The login's lookup and the launch's, which also asks for the deployment.
    assert len(registrations) == 2, registrations
    assert sum("FROM deployments" in s for s in registrations) == 1
    assert not [s for s in seen if s.startswith("SELECT deployments.id")]
    for table in ("catalogs", "model_fits", "lrs_connections"):
        assert not [s for s in seen if f"FROM {table}" in s], table


@contextmanager
def checkouts(tool: ToolServer) -> Iterator[list[int]]:
    """How many times the pool hands a connection out (each was a ping round trip, and is a
    pool lock and reset, before `Storage.read_scope`)."""
    engine = tool.app.extensions["skillpath"].storage.engine
    seen: list[int] = []

    def record(*_: Any) -> None:
        seen.append(1)

    event.listen(engine, "checkout", record)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", record)


def test_a_page_reads_on_one_pooled_connection(forge: LaunchForge, tool: ToolServer) -> None:
    import_example(tool)
    assert forge.launch().status_code == 303
    launched = forge.launch()
    assert launched.status_code == 303
    with checkouts(tool) as taken:
        page = forge.browser.get(forge.tool + launched.headers["Location"], timeout=10)
    assert page.status_code == 200
    # The launch, the stored view, the catalog and the frame-ancestors policy: one connection.
    assert len(taken) == 1


def test_a_returning_learner_with_nothing_new_is_not_parsed(
    forge: LaunchForge, tool: ToolServer, monkeypatch: Any
) -> None:
    # The stored view stands when nothing is new: the learner's stored state (tens of KB,
    # about a millisecond to turn into objects after a hundred statements) is not parsed.
    import_example(tool)
    assert forge.launch().status_code == 303
    parsed: list[int] = []
    original = LearnerState.from_dict

    def counting(data: Any) -> LearnerState:
        parsed.append(1)
        return original(data)

    monkeypatch.setattr(LearnerState, "from_dict", staticmethod(counting))
    assert forge.launch().status_code == 303
    assert parsed == []
