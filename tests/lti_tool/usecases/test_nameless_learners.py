"""A platform that withholds names and emails (its privacy settings): everything works, and
the instructor's pages, the API and the CSV exports show "Learner N" (the learner's number
in the course, by first launch, stable across requests) where a name would be, never the
LTI user id (`sub`), which stays in links and data attributes only."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid

from lti_tool.outbox.worker import worker_once
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.usecases.test_pages_usecases import Session, launch, sample


def visible(page: str) -> str:
    """The text a person reads: no tags, attributes, scripts or styles."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]*>", " ", text))


def tab(browser: LaunchBrowser, teacher: Session, name: str = "", **params: str) -> str:
    base, query = teacher.page.url.split("?", 1)
    extra = "".join(f"&{k}={v}" for k, v in params.items())
    response = browser.session.get(f"{base}{name}?{query}{extra}", timeout=10)
    assert response.status_code == 200, response.text[:500]
    return response.text


def test_learners_without_a_name_are_numbered_in_every_view(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    sample(tool)
    course = "course-" + uuid.uuid4().hex[:8]
    subs = [f"anon-{uuid.uuid4().hex}" for _ in range(3)]
    # The first one opens the path in another course first: numbers are per course.
    launch(browser, platform, client_id, user=subs[2], name=None, context_id="course-elsewhere")
    me = [launch(browser, platform, client_id, user=s, name=None, context_id=course) for s in subs]
    named = launch(browser, platform, client_id, user="named-" + uuid.uuid4().hex[:6],
                   name="Noor Haddad", context_id=course, ags=True)  # fmt: skip
    # The learner's own page names their role.
    assert 'data-testid="who">Learner<' in me[0].page.text
    assert subs[0] not in visible(me[0].page.text)

    teacher = launch(browser, platform, client_id, user="teacher-" + uuid.uuid4().hex[:6],
                     roles="instructor", name="Grace Teacher", context_id=course, ags=True)  # fmt: skip
    expected = {subs[0]: "Learner 1", subs[1]: "Learner 2", subs[2]: "Learner 3"}

    def no_sub_shows(page: str) -> None:
        text = visible(page)
        assert not [s for s in subs if s in text], text

    # The class view: each row by its number; the sub only in links and data attributes.
    page = teacher.page.text
    no_sub_shows(page)
    for sub, label in expected.items():
        assert re.search(rf'data-subject="{sub}".*?>{label}</a>', page, re.S), label
    assert "Noor Haddad" in visible(page)
    # Sorted by name: named learners first, then by number.
    by_name = visible(tab(browser, teacher, sort="name"))
    order = [by_name.index(x) for x in ("Noor Haddad", "Learner 1", "Learner 2", "Learner 3")]
    assert order == sorted(order)

    # The same numbers on the next request, after the learners come back in another order,
    # and a newcomer gets the next one.
    for sub in reversed(subs):
        launch(browser, platform, client_id, user=sub, name=None, context_id=course)
    newcomer = "anon-" + uuid.uuid4().hex
    launch(browser, platform, client_id, user=newcomer, name=None, context_id=course)
    rows = {r["subject"]: r for r in teacher.get("/course/learners").json()["learners"]}
    assert {s: rows[s]["label"] for s in subs} == expected
    assert rows[newcomer]["label"] == "Learner 5" and rows[newcomer]["name"] is None
    assert rows[subs[1]]["number"] == 2

    # The drill-down: title and heading; its actions still address the learner by sub.
    detail = tab(browser, teacher, f"/learners/{subs[1]}")
    assert "<title>Skillpath: Learner 2</title>" in detail
    assert re.search(r"<h\d>Learner 2</h\d>", detail)
    assert f"/learners/{subs[1]}/overrides" in detail
    no_sub_shows(detail)
    api_detail = teacher.get(f"/course/learners/{subs[1]}/path").json()
    assert (api_detail["label"], api_detail["number"], api_detail["name"]) == ("Learner 2", 2, None)

    # The CSV exports: `sub` identifies, `name` is what the pages show.
    mastery = list(csv.DictReader(io.StringIO(teacher.get("/course/export/mastery.csv").text)))
    assert {r["sub"]: r["name"] for r in mastery if r["sub"] in expected} == expected

    # Analytics, equity, grades and the class list: no sub anywhere a person reads.
    for name in ("/analytics", "/equity"):
        no_sub_shows(tab(browser, teacher, name))
    worker_once(tool.app.extensions["skillpath"])
    grades = tab(browser, teacher, "/grades")
    no_sub_shows(grades)
    roster = visible(grades.split('data-testid="roster"')[1].split("</table>")[0])
    for label in ("Learner 1", "Learner 2", "Learner 3", "Noor Haddad", "Grace Teacher"):
        assert label in roster, roster
    assert named.page.status_code == 200


def test_a_nameless_instructors_override_is_signed_with_the_role(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    sample(tool)
    course = "course-" + uuid.uuid4().hex[:8]
    sub = "anon-" + uuid.uuid4().hex
    launch(browser, platform, client_id, user=sub, name=None, context_id=course)
    instructor_sub = "anon-teacher-" + uuid.uuid4().hex
    teacher = launch(browser, platform, client_id, user=instructor_sub, roles="instructor",
                     name=None, context_id=course)  # fmt: skip
    assert 'data-testid="who">Instructor<' in teacher.page.text
    lesson = teacher.get(f"/course/learners/{sub}/path").json()["pathways"][0]["lessons"][0]
    created = teacher.post(
        f"/course/learners/{sub}/overrides",
        {"kind": "pin", "lesson_id": lesson["lesson_id"], "note": "Start here"},
    )
    assert created.status_code == 201, created.text
    assert instructor_sub not in created.text
    detail = tab(browser, teacher, f"/learners/{sub}")
    assert "Learner 1" in visible(detail) and " · instructor · " in visible(detail)
    assert instructor_sub not in visible(detail) and sub not in visible(detail)


def test_a_nameless_learners_failed_grade_is_shown_by_number(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    sample(tool)
    course = "course-" + uuid.uuid4().hex[:8]
    refused = "anon-" + uuid.uuid4().hex
    platform.gradebook.ungradable_users.add(refused)
    launch(browser, platform, client_id, user=refused, name=None, context_id=course, ags=True)
    worker_once(tool.app.extensions["skillpath"])
    teacher = launch(browser, platform, client_id, user="t-" + uuid.uuid4().hex[:6],
                     roles="instructor", context_id=course, ags=True)  # fmt: skip
    grades = tab(browser, teacher, "/grades")
    failures = visible(grades.split('data-testid="failures"')[1].split("</table>")[0])
    assert "Learner 1" in failures and refused not in visible(grades)
    [failure] = teacher.get("/course/grades").json()["failures"]
    assert (failure["label"], failure["user_id"]) == ("Learner 1", refused)
