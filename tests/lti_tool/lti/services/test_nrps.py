"""The roster from the platform peer's NRPS endpoint, paged; never a partial one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from lti_tool.lti.services.clients import ServiceClients
from lti_tool.lti.services.nrps import RosterUnavailable, forget_roster, read_roster
from lti_tool.storage import LaunchRecord
from peers.browser import LaunchBrowser
from peers.fault_proxy import Answer, FaultProxy
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.lti.services.conftest import GradeRig, register_pair

PAGE = 4


@pytest.fixture(scope="module")
def paged_peer() -> Iterator[PlatformPeer]:
    with PlatformPeer(nrps_page_size=PAGE) as peer:
        yield peer


@pytest.fixture
def paged(tool: ToolServer, paged_peer: PlatformPeer, launch_browser: LaunchBrowser) -> GradeRig:
    client_id = "skillpath-" + uuid.uuid4().hex[:8]
    register_pair(tool, paged_peer, client_id)
    rig = GradeRig(tool, paged_peer, launch_browser, client_id)
    paged_peer.roster.set_members(
        rig.context_id,
        [{"user_id": f"s{n:02}", "roles": "learner", "name": f"Student {n}"} for n in range(17)]
        + [{"user_id": "t1", "roles": "instructor", "name": "Teacher"}],
    )
    return rig


def uncached(rig: GradeRig, user: str, **kwargs: Any) -> LaunchRecord:
    """An instructor launch whose page has not left the roster in the cache (the instructor
    page reads it), so the read under test goes to the platform."""
    launch = rig.launch(user, **kwargs)
    forget_roster(rig.services.store, launch)
    return launch


def clients_through(rig: GradeRig, proxy: FaultProxy) -> ServiceClients:
    clients = rig.clients(proxy)
    return clients


def test_every_page_of_the_roster(paged: GradeRig) -> None:
    teacher = uncached(paged, "t1", roles="instructor")
    before = paged.peer.stats["memberships"]  # the instructor page read it once already
    members = read_roster(paged.services.lti_services, paged.services.store, teacher)
    assert sorted(m.user_id for m in members) == [f"s{n:02}" for n in range(17)] + ["t1"]
    assert paged.peer.stats["memberships"] - before == 5  # 18 members, 4 a page


def test_several_links_in_one_header(paged: GradeRig, proxy: FaultProxy) -> None:
    def canvas_style(path: str, status: int, headers: list[tuple[str, str]], body: bytes) -> Answer:
        out = []
        for name, value in headers:
            if name.lower() == "link":
                first = value.split(">")[0].lstrip("<").split("?")[0] + "?page=1&limit=4"
                value = f'<{first}>; rel="first", <{first}>; rel="current", {value}, <{first}>; rel="last"'
            out.append((name, value))
        return status, out, body

    proxy.faults.rewrite = canvas_style
    teacher = uncached(paged, "t1", roles="instructor")
    members = read_roster(clients_through(paged, proxy), paged.services.store, teacher)
    assert len(members) == 18


def test_a_failed_page_fails_the_whole_roster(paged: GradeRig, proxy: FaultProxy) -> None:
    teacher = uncached(paged, "t1", roles="instructor")
    clients = clients_through(paged, proxy)
    proxy.faults.path_contains = "page=3"
    proxy.faults.status_next = 1
    with pytest.raises(RosterUnavailable) as raised:
        read_roster(clients, paged.services.store, teacher)
    assert "rather than an incomplete one" in raised.value.message
    # Nothing partial was cached: the next read, with the platform well, is whole.
    assert len(read_roster(clients, paged.services.store, teacher)) == 18


def test_the_roster_is_cached_briefly(paged: GradeRig) -> None:
    teacher = uncached(paged, "t1", roles="instructor")
    read_roster(paged.services.lti_services, paged.services.store, teacher)
    before = paged.peer.stats["memberships"]
    read_roster(paged.services.lti_services, paged.services.store, teacher)
    assert paged.peer.stats["memberships"] == before
    read_roster(paged.services.lti_services, paged.services.store, teacher, use_cache=False)
    assert paged.peer.stats["memberships"] == before + 5


def test_per_resource_link_roster(paged: GradeRig) -> None:
    teacher = uncached(paged, "t1", roles="instructor", resource_link_id="link-r")
    members = read_roster(
        paged.services.lti_services, paged.services.store, teacher, per_resource_link=True
    )
    assert len(members) == 18


def test_no_nrps_claim_is_said_plainly(paged: GradeRig) -> None:
    teacher = uncached(paged, "t1", roles="instructor", nrps=False)
    with pytest.raises(RosterUnavailable, match="class list"):
        read_roster(paged.services.lti_services, paged.services.store, teacher)


def next_in_body_only(
    path: str, status: int, headers: list[tuple[str, str]], body: bytes
) -> Answer:
    """An Open edX before xblock-lti-consumer#669/#670: no Link header, `next` in the body."""
    link = next((v for k, v in headers if k.lower() == "link"), None)
    headers = [(k, v) for k, v in headers if k.lower() != "link"]
    if link and "/memberships" in path:
        data = json.loads(body)
        data["next"] = link.split(">")[0].lstrip("<")
        body = json.dumps(data).encode()
    return status, headers, body


def test_next_in_the_body_without_a_link_header_is_not_taken_for_the_end(
    paged: GradeRig, proxy: FaultProxy
) -> None:
    proxy.faults.rewrite = next_in_body_only
    teacher = uncached(paged, "t1", roles="instructor")
    with pytest.raises(RosterUnavailable):
        read_roster(clients_through(paged, proxy), paged.services.store, teacher)
