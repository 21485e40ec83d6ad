"""Instructor overrides through `/api/v1/course/learners/<sub>/overrides`, from real launches:
they win over the policy at the learner's next launch, are recorded, reach the LRS as
"overrode" statements, and stay inside the instructor's own course and tenant."""

from __future__ import annotations

import re
import uuid
from typing import Any

import requests

from lti_tool.outbox.worker import worker_once
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link
from tests.lti_tool.usecases.test_learner_evidence import example_with_lrs
from tests.lti_tool.usecases.test_learner_path import api, import_example
from tests.lti_tool.usecases.test_reporting import CHECK, queued
from tests.peers.lrs_fixtures import LrsPeer, learning_locker  # noqa: F401


class Instructor:
    """An instructor's session from a real launch, calling the API with its token."""

    def __init__(self, page: requests.Response) -> None:
        assert page.status_code == 200, page.text[:300]
        self.token = page.url.split("t=")[1]
        self.base = page.url.split("/launch/")[0] + "/api/v1/course/learners/"

    def post(self, sub: str, body: Any, path: str = "overrides") -> requests.Response:
        return requests.post(
            f"{self.base}{sub}/{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )

    def get(self, sub: str) -> requests.Response:
        return requests.get(
            f"{self.base}{sub}/overrides",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )


def teacher(
    browser: LaunchBrowser, platform: PlatformPeer, client_id: str, **kw: Any
) -> Instructor:
    params = {"user": "teacher-1", "roles": "instructor", "name": "Grace Teacher"} | kw
    return Instructor(browser.launch(link(platform, client_id, **params)))


def learner_launch(browser: LaunchBrowser, platform: PlatformPeer, client_id: str, sub: str) -> Any:
    return api(browser, browser.launch(link(platform, client_id, user=sub))).json()


def test_an_assigned_lesson_comes_next_and_the_lrs_hears_of_it(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    browser: LaunchBrowser,
    learning_locker: LrsPeer,  # noqa: F811
) -> None:
    example_with_lrs(tool, learning_locker)
    sub = "learner-" + uuid.uuid4().hex[:8]
    assert learner_launch(browser, platform, client_id, sub)["next"]["lesson_id"] != CHECK

    grace = teacher(browser, platform, client_id)
    created = grace.post(sub, {"kind": "assign", "lesson_id": CHECK, "note": "try the check"})
    assert created.status_code == 201, created.text
    assert created.json()["by"] == "Grace Teacher"

    body = learner_launch(browser, platform, client_id, sub)
    assert body["next"]["lesson_id"] == CHECK
    assert body["recommendation"]["reasons"][0]["code"] == "assigned_by_instructor"

    listed = grace.get(sub).json()["overrides"]
    assert [(o["kind"], o["lesson_id"], o["note"]) for o in listed] == [
        ("assign", CHECK, "try the check")
    ]
    overrode = [s for s in queued(tool) if s["verb"]["display"]["en-US"] == "overrode"]
    assert len(overrode) == 1
    statement = overrode[0]
    assert statement["actor"]["account"] == {"homePage": platform.issuer, "name": "teacher-1"}
    learner_ext = next(v for k, v in statement["context"]["extensions"].items() if "learner" in k)
    assert learner_ext["account"]["name"] == sub
    assert worker_once(tool.app.extensions["skillpath"]).failed == 0
    assert learning_locker.client().get_statement(statement["id"])["id"] == statement["id"]


def test_mark_mastered_holds_across_launches_and_can_be_withdrawn(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    sub = "learner-" + uuid.uuid4().hex[:8]
    learner_launch(browser, platform, client_id, sub)
    grace = teacher(browser, platform, client_id)
    marked = grace.post(sub, {"kind": "mark_mastered", "competency_id": "comm.basics"})
    assert marked.status_code == 201, marked.text
    for _ in range(2):  # the state is rebuilt from evidence at each launch: the mark holds
        body = learner_launch(browser, platform, client_id, sub)
        basics = next(m for m in body["mastery"] if m["competency_id"] == "comm.basics")
        assert basics["mastered"] is True

    withdrawn = grace.post(
        sub,
        {"kind": "mark_mastered", "target": "comm.basics", "note": "oops"},
        "overrides/withdraw",
    )
    assert withdrawn.status_code == 200 and withdrawn.json() == {"withdrawn": 1}
    body = learner_launch(browser, platform, client_id, sub)
    assert not next(m for m in body["mastery"] if m["competency_id"] == "comm.basics")["mastered"]
    again = grace.post(
        sub, {"kind": "mark_mastered", "target": "comm.basics"}, "overrides/withdraw"
    )
    assert again.status_code == 404
    history = grace.get(sub).json()["overrides"]
    assert len(history) == 1 and history[0]["active"] is False and "oops" in history[0]["note"]


def test_bad_override_bodies_are_refused_with_the_field_named(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    sub = "learner-" + uuid.uuid4().hex[:8]
    learner_launch(browser, platform, client_id, sub)
    grace = teacher(browser, platform, client_id)
    cases: list[tuple[Any, str]] = [
        ({"kind": "promote", "lesson_id": CHECK}, "kind"),
        ({"kind": "pin"}, "lesson_id"),
        ({"kind": "mark_mastered", "lesson_id": CHECK}, "competency_id"),
        ({"kind": "skip", "lesson_id": CHECK, "colour": "red"}, "colour"),
        ({"kind": "skip", "lesson_id": CHECK, "note": "x" * 2001}, "note"),
        (["not", "an", "object"], "JSON object"),
    ]
    for body, named in cases:
        response = grace.post(sub, body)
        assert response.status_code == 400, (body, response.text)
        assert named in response.json()["message"], (body, response.json())
    unknown = grace.post(sub, {"kind": "pin", "lesson_id": "https://nowhere.example/x"})
    assert unknown.status_code == 400 and "not in the catalog" in unknown.json()["message"]
    nobody = grace.post("never-launched", {"kind": "pin", "lesson_id": CHECK})
    assert nobody.status_code == 404
    assert grace.get(sub).json()["overrides"] == []


def test_overrides_stay_in_the_instructors_course_and_need_an_instructor(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    import_example(tool)
    sub = "learner-" + uuid.uuid4().hex[:8]
    learner_page = browser.launch(link(platform, client_id, user=sub))
    body = {"kind": "skip", "lesson_id": CHECK}

    # A learner's session cannot override anything.
    as_learner = Instructor(learner_page).post(sub, body)
    assert as_learner.status_code == 403

    # An instructor of another course does not see this course's learners.
    other = teacher(browser, platform, client_id, context_id="course-other")
    assert other.post(sub, body).status_code == 404
    assert other.get(sub).json()["overrides"] == []

    # A write with the session only in a cookie (what a cross-site form would carry) is refused.
    grace = teacher(browser, platform, client_id)
    cookie_only = requests.post(
        f"{grace.base}{sub}/overrides",
        json=body,
        cookies={"skillpath_session": grace.token},
        timeout=10,
    )
    assert cookie_only.status_code == 401
    assert grace.post(sub, body).status_code == 201


def test_the_openapi_document_describes_every_api_route(client: Any) -> None:
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    described = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    app = client.application
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert routes == described


def test_the_openapi_document_is_the_schemas_that_validate(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    override = document["components"]["schemas"]["Override"]
    assert override["required"] == ["kind"]  # the target each kind needs is checked by rule
    assert override["properties"]["lesson_id"]["maxLength"] == 1000
    assert override["properties"]["note"]["maxLength"] == 2000
    assert override["additionalProperties"] is False
    error = document["components"]["schemas"]["Error"]
    assert set(error["properties"]) >= {"code", "status", "message", "errors"}


def test_a_method_the_route_does_not_take_is_405_with_allow(client: Any) -> None:
    for method, path in (
        ("put", "/api/v1/me/path"),
        ("delete", "/api/v1/course/learners"),
        ("get", "/lti/launch"),
        ("post", "/.well-known/jwks.json"),
    ):
        response = getattr(client, method)(path)
        assert response.status_code == 405, (method, path)
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed and method.upper() not in allowed, (method, path, allowed)
