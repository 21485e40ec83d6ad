"""Each LMS quirk, shown against the platform peer launching as that LMS
(`tool_platform.product_family_code`), with the fault proxy playing the LMS's habits."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

from adapters.lms import (
    STANDARD,
    BlackboardAdapter,
    CanvasAdapter,
    MoodleAdapter,
    OpenEdxAdapter,
    adapter_named,
)
from lti_tool.lti.services.nrps import read_roster
from lti_tool.lti.vocabulary import product_family
from lti_tool.outbox import worker_once
from lti_tool.usecases.grades import PROGRESS_TAG, grade_sync_for, record_progress
from peers.browser import LaunchBrowser
from peers.fault_proxy import FaultProxy
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.lti.services.conftest import GradeRig, register_pair
from tests.lti_tool.lti.services.test_nrps import next_in_body_only


def test_the_adapter_is_chosen_by_product_family_code(caplog: pytest.LogCaptureFixture) -> None:
    claim = "https://purl.imsglobal.org/spec/lti/claim/tool_platform"
    assert isinstance(
        adapter_named(product_family({claim: {"product_family_code": "Canvas"}})), CanvasAdapter
    )
    assert isinstance(adapter_named("moodle"), MoodleAdapter)
    assert adapter_named("desire2learn").name == "brightspace"
    assert isinstance(adapter_named("blackboard"), BlackboardAdapter)
    assert isinstance(adapter_named("openedx"), OpenEdxAdapter)
    code = "sakai-" + uuid.uuid4().hex[:4]
    with caplog.at_level(logging.INFO, logger="skillpath.adapters"):
        assert adapter_named(product_family({claim: {"product_family_code": code}})) is STANDARD
    assert f"no LMS adapter for product family '{code}'" in caplog.text
    assert adapter_named(product_family({})) is STANDARD


def test_canvas_scores_only_students(rig: GradeRig) -> None:
    teacher = rig.launch("t1", roles="instructor", product_family_code="canvas")
    done = record_progress(rig.services, teacher, 1, 2)
    assert not done.queued and "only for students" in done.reason
    student = rig.launch("s1", product_family_code="canvas")
    assert record_progress(rig.services, student, 1, 2).queued
    rig.drain()
    assert [p.user_id for p in rig.peer.gradebook.posts()].count("s1") >= 1
    assert not rig.peer.gradebook.posts(user_id="t1")


def test_canvas_rate_limit_403_is_retried_and_posts_go_one_at_a_time(
    rig: GradeRig,
    proxy: FaultProxy,
) -> None:
    launches = rig.learners(6, product_family_code="canvas")
    for launch in launches:
        record_progress(rig.services, launch, 5, 10)
    proxy.faults.path_contains = "/scores"
    proxy.faults.status_next = 2
    proxy.faults.status_code = 403
    proxy.faults.status_body = b"403 Forbidden (Rate Limit Exceeded)"
    proxy.faults.slow_next = 6
    proxy.faults.slow_seconds = 0.1
    rig.drain(proxy, concurrency=6)
    item = rig.line_item(tag=PROGRESS_TAG)
    posts = rig.peer.gradebook.posts(item["id"])
    assert sorted(p.user_id for p in posts) == sorted(str(row.subject) for row in launches)
    arrivals = sorted(p.received_at for p in posts)
    # Each answer took 0.1 s; one at a time means no two arrived closer than that.
    assert min(b - a for a, b in zip(arrivals, arrivals[1:], strict=False)) >= 0.09


def test_moodle_users_it_cannot_grade_fail_at_once(rig: GradeRig) -> None:
    launch = rig.launch("guest-1", product_family_code="moodle")
    rig.peer.gradebook.ungradable_users.add("guest-1")
    try:
        record_progress(rig.services, launch, 1, 2)
        report = rig.drain()
    finally:
        rig.peer.gradebook.ungradable_users.discard("guest-1")
    assert report.failed == 1 and report.retrying == 0
    with rig.services.storage.transaction() as tx:
        [item] = tx.outbox.entries(kind="ags_score")
        assert item.status == "failed" and item.attempts == 1
        assert item.last_error is not None
        assert item.last_error.startswith("Moodle cannot grade this user")
        assert "cannot be graded in this course" in item.last_error
        assert tx.outbox.counts().failed == 1
        [attempt] = tx.outbox.attempts_of(item.id)
        assert attempt.response_status == 422


def test_moodle_conflict_is_final_where_standard_would_retry() -> None:
    assert MoodleAdapter().read_response(409, "not gradable", {}) is not None
    assert STANDARD.read_response(409, "", {}) is None


def test_brightspace_the_tool_creates_the_grade_item(rig: GradeRig) -> None:
    launch = rig.launch("s1", product_family_code="desire2learn", resource_link_id="d2l-1")
    assert not rig.peer.gradebook.line_items(rig.context_id)  # Brightspace made none
    record_progress(rig.services, launch, 8, 10)
    rig.drain()
    item = rig.line_item(resourceLinkId="d2l-1")
    assert item["tag"] == PROGRESS_TAG
    assert rig.peer.gradebook.latest_score(item["id"], "s1")["scoreGiven"] == 8
    # Without the right to create grade items, the admin is told what to change.
    other = rig.launch("s2", product_family_code="desire2learn", ags_can_create=False)
    sync = grade_sync_for(other.claims)
    assert not sync.available and "Brightspace does not create a grade item" in sync.reason


def test_blackboard_line_items_say_grades_are_released(rig: GradeRig) -> None:
    launch = rig.launch("s1", product_family_code="blackboard", resource_link_id="bb-1")
    record_progress(rig.services, launch, 3, 4)
    rig.drain()
    assert rig.line_item(resourceLinkId="bb-1")["gradesReleased"] is True


@pytest.fixture(scope="module")
def paged_peer() -> Iterator[PlatformPeer]:
    with PlatformPeer(nrps_page_size=5) as peer:
        yield peer


def test_open_edx_roster_without_link_headers_is_read_whole(
    tool: ToolServer,
    paged_peer: PlatformPeer,
    launch_browser: LaunchBrowser,
    proxy: FaultProxy,
) -> None:
    client_id = "skillpath-" + uuid.uuid4().hex[:8]
    register_pair(tool, paged_peer, client_id)
    edx = GradeRig(tool, paged_peer, launch_browser, client_id)
    paged_peer.roster.set_members(
        edx.context_id, [{"user_id": f"u{n}", "roles": "learner"} for n in range(12)]
    )
    teacher = edx.launch("u0", roles="instructor", product_family_code="openedx")
    proxy.faults.rewrite = next_in_body_only
    members = read_roster(edx.clients(proxy), edx.services.store, teacher)
    assert len(members) == 12
    assert paged_peer.stats["memberships"] == 3


def test_worker_once_report_names_nothing_for_an_empty_outbox(rig: GradeRig) -> None:
    assert worker_once(rig.services, rig.options()).claimed == 0
