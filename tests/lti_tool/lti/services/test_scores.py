"""Scores from real launches to the platform peer; assertions on the peer's gradebook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lti_tool.storage import Tenant
from lti_tool.usecases.grades import PROGRESS_TAG, grade_sync_for, read_results, record_progress
from tests.lti_tool.lti.services.conftest import GradeRig


def test_progress_reaches_the_gradebook_on_a_line_item_we_own(rig: GradeRig) -> None:
    launch = rig.launch("ada", resource_link_id="link-a", resource_link_title="Week 1")
    assert grade_sync_for(launch.claims).available
    done = record_progress(rig.services, launch, 3, 10, pathway_id="path-1")
    assert done.queued
    report = rig.drain()
    assert report.delivered == 1
    item = rig.line_item(tag=PROGRESS_TAG)
    assert item["resourceLinkId"] == "link-a"
    assert item["resourceId"] == "path-1"
    [score] = rig.peer.gradebook.scores(item["id"], "ada")
    assert score["scoreGiven"] == 3
    assert score["scoreMaximum"] == 10
    assert score["activityProgress"] == "InProgress"
    assert score["gradingProgress"] == "FullyGraded"
    assert score["userId"] == "ada"
    assert score["timestamp"].endswith("Z")


def test_the_platforms_own_line_item_is_honoured(rig: GradeRig) -> None:
    launch = rig.launch("ada", resource_link_id="link-b", lineitem=True)
    made_by_platform = rig.line_item(resourceLinkId="link-b")
    record_progress(rig.services, launch, 7, 10, activity_progress="Completed")
    rig.drain()
    assert rig.peer.gradebook.latest_score(made_by_platform["id"], "ada")["scoreGiven"] == 7
    assert len(rig.peer.gradebook.line_items(rig.context_id)) == 1


def test_one_line_item_per_competency_and_one_per_link(rig: GradeRig) -> None:
    learners = [rig.launch(user, resource_link_id="link-c") for user in ("ada", "bob", "cy")]
    for n, launch in enumerate(learners):
        record_progress(rig.services, launch, n, 5)
        for competency in ("comp-x", "comp-y"):
            record_progress(
                rig.services, launch, n + 1, 4, competency_id=competency, pathway_id="path-1"
            )
    rig.drain()
    items = rig.peer.gradebook.line_items(rig.context_id)
    assert sorted(i["tag"] for i in items) == ["comp-x", "comp-y", PROGRESS_TAG]
    comp = rig.line_item(tag="comp-y")
    assert comp["resourceId"] == "path-1"
    assert rig.peer.gradebook.latest_score(comp["id"], "bob")["scoreGiven"] == 2
    assert len(rig.peer.gradebook.posts()) >= 9


def test_only_the_newest_undelivered_score_is_sent(rig: GradeRig) -> None:
    launch = rig.launch("ada", resource_link_id="link-d")
    now = datetime.now(UTC)
    for n in range(5):
        record_progress(rig.services, launch, n, 10, now=now - timedelta(seconds=5 - n))
    rig.drain()
    item = rig.line_item(tag=PROGRESS_TAG)
    assert [s["scoreGiven"] for s in rig.peer.gradebook.scores(item["id"], "ada")] == [4]


def test_results_read_back_for_the_instructor(rig: GradeRig) -> None:
    for user, score in (("ada", 4), ("bob", 9)):
        record_progress(rig.services, rig.launch(user, resource_link_id="link-e"), score, 10)
    rig.drain()
    teacher = rig.launch("teacher", roles="instructor", resource_link_id="link-e")
    results = {r.user_id: (r.score, r.maximum) for r in read_results(rig.services, teacher)}
    assert results == {"ada": (4, 10), "bob": (9, 10)}


def test_launch_without_ags_sends_no_grades_and_says_why(rig: GradeRig) -> None:
    launch = rig.launch("ada", ags=False)
    sync = grade_sync_for(launch.claims)
    assert not sync.available
    assert "did not enable grade passback" in sync.reason
    done = record_progress(rig.services, launch, 1, 2)
    assert not done.queued and done.reason == sync.reason


def test_without_the_lineitem_scope_only_the_platforms_line_item_is_used(rig: GradeRig) -> None:
    launch = rig.launch("ada", ags_can_create=False, resource_link_id="link-f")
    assert not grade_sync_for(launch.claims).available
    launch = rig.launch("ada", ags_can_create=False, lineitem=True, resource_link_id="link-g")
    assert grade_sync_for(launch.claims).available
    record_progress(rig.services, launch, 2, 4)
    rig.drain()
    item = rig.line_item(resourceLinkId="link-g")
    assert rig.peer.gradebook.latest_score(item["id"], "ada")["scoreGiven"] == 2
    # Only granted scopes were asked for.
    scopes = {t["scope"] for t in rig.peer.tokens_issued if t["client_id"] == rig.client_id}
    assert all("/scope/lineitem " not in s + " " for s in scopes)


def test_one_token_per_scope_set_shared_through_the_store(rig: GradeRig) -> None:
    launches = [rig.launch(f"u{n}", resource_link_id="link-h") for n in range(4)]
    for launch in launches:
        record_progress(rig.services, launch, 1, 2)
    rig.drain()
    for launch in launches:
        record_progress(rig.services, launch, 2, 2)
    # Another instance has no copy in memory (`drain` builds fresh service clients, token
    # cache included): it finds the token in the shared store.
    rig.drain()
    issued = [t for t in rig.peer.tokens_issued if t["client_id"] == rig.client_id]
    assert len(issued) == 1


def test_workers_in_several_processes_ask_for_one_token(
    rig: GradeRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from lti_tool.lti.services.ags_claim import ags_endpoint

    # Each thread stands for a worker process: service clients of its own, so no shared
    # in-process lock and no in-process copy.
    launch = rig.learners(1)[0]
    endpoint = ags_endpoint(launch.claims)
    assert endpoint is not None
    scopes = endpoint.token_scopes()
    barrier = threading.Barrier(6)
    got: list[str] = []

    def ask() -> None:
        connector = rig.clients().connector(Tenant(rig.peer.issuer, rig.client_id))
        barrier.wait()
        got.append(connector.get_access_token(scopes))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    issued = [t for t in rig.peer.tokens_issued if t["client_id"] == rig.client_id]
    assert len(issued) == 1
    assert len(got) == 6 and len(set(got)) == 1


def test_workers_in_two_processes_creating_the_same_line_item_settle_on_one(
    rig: GradeRig,
) -> None:
    import threading

    from lti_tool.lti.services.ags import LineItemSpec
    from lti_tool.lti.services.ags_claim import ags_endpoint

    launch = rig.learners(1)[0]
    endpoint = ags_endpoint(launch.claims)
    assert endpoint is not None and endpoint.lineitems
    spec = LineItemSpec("Progress", 10, resource_link_id="link-twin", tag=PROGRESS_TAG)
    barrier = threading.Barrier(2)
    chosen: list[str] = []

    def resolve() -> None:
        # `_find_or_create` skips the in-process lock, as a worker in another process would.
        client = rig.clients().ags(Tenant(rig.peer.issuer, rig.client_id), endpoint.token_scopes())
        barrier.wait()
        chosen.append(client._find_or_create(endpoint.lineitems or "", spec))

    threads = [threading.Thread(target=resolve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(chosen)) == 1
    assert [i["id"] for i in rig.peer.gradebook.line_items(rig.context_id)] == chosen[:1]


def test_a_line_item_deleted_on_the_platform_is_created_again(rig: GradeRig) -> None:
    launch = rig.launch("ada", resource_link_id="link-del")
    record_progress(rig.services, launch, 1, 10)
    rig.drain()
    first = rig.line_item(tag=PROGRESS_TAG)
    assert rig.peer.gradebook.delete_line_item(first["id"])
    record_progress(rig.services, launch, 2, 10)
    rig.drain()
    second = rig.line_item(tag=PROGRESS_TAG)
    assert second["id"] != first["id"]
    assert [s["scoreGiven"] for s in rig.peer.gradebook.scores(second["id"], "ada")] == [2]
