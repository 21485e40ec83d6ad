"""What the pages add, through real launches and the API: the pre-assessment (validated at
import, taken once, answers never sent to the browser), recognition of a milestone (shown,
recorded, sent to the gradebook as its own column), the equity report from a CSV of groups,
the CSV exports, the learner's language and the heading level inside an LMS frame; and
that one course never sees another's."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import pytest
import requests

from lti_tool.demo import sample_catalog
from lti_tool.errors import ConfigurationError
from lti_tool.outbox.worker import worker_once
from lti_tool.usecases import admin
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import link

RIGHT = {"q-basics": 1, "q-refunds": 0, "q-escalation": 0}


def sample(tool: ToolServer) -> None:
    admin.import_catalog(tool.app.extensions["skillpath"], sample_catalog("http://127.0.0.1:9"))


class Session:
    """A launch's session calling the API with its token."""

    def __init__(self, page: requests.Response) -> None:
        assert page.status_code == 200, page.text[:300]
        self.page = page
        self.token = page.url.split("t=")[1]
        self.base = page.url.split("/launch/")[0] + "/api/v1"
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kw: Any) -> requests.Response:
        return requests.get(self.base + path, headers=self.headers, timeout=10, **kw)

    def post(self, path: str, body: Any) -> requests.Response:
        return requests.post(self.base + path, json=body, headers=self.headers, timeout=10)

    def put(self, path: str, text: str) -> requests.Response:
        headers = self.headers | {"Content-Type": "text/csv"}
        return requests.put(self.base + path, data=text.encode(), headers=headers, timeout=10)


def launch(browser: LaunchBrowser, platform: PlatformPeer, client_id: str, **kw: Any) -> Session:
    return Session(browser.launch(link(platform, client_id, **kw)))


def test_a_bad_pre_assessment_is_refused_at_import_naming_the_field(tool: ToolServer) -> None:
    document = sample_catalog("http://127.0.0.1:9")
    questions = document["pathways"][0]["pre_assessment"]["questions"]
    questions[1]["answer"] = 7
    questions[2]["competency"] = "no.such"
    with pytest.raises(ConfigurationError) as raised:
        admin.import_catalog(tool.app.extensions["skillpath"], document)
    assert "pathways[0].pre_assessment.questions[1].answer" in raised.value.message
    assert "pathways[0].pre_assessment.questions[2].competency" in raised.value.message


def test_the_pre_assessment_sets_the_start_once_and_keeps_its_answers(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    sample(tool)
    me = launch(browser, platform, client_id, user="learner-" + uuid.uuid4().hex[:8])
    assert 'data-testid="pre-assessment"' in me.page.text
    before = me.get("/me/path").json()
    form = before["pre_assessment"]["form"]
    assert len(form["questions"]) == 3 and "answer" not in json.dumps(form)
    assert 'name="q-basics"' in me.page.text and "data-answer" not in me.page.text

    assert me.post("/me/pre-assessment", {"answers": {"nope": 1}}).status_code == 400
    after = me.post("/me/pre-assessment", {"answers": RIGHT})
    assert after.status_code == 200, after.text
    body = after.json()
    assert body["pre_assessment"] == {"available": True, "status": "done", "form": None}
    refunds = next(m for m in body["mastery"] if m["competency_id"] == "policy.refunds")
    assert refunds["status"] == "mastered"
    assert refunds["last_change"]["source"] == "pre_assessment"
    assert me.post("/me/pre-assessment", {"skip": True}).status_code == 400  # taken once
    page = browser.session.get(me.page.url, timeout=10).text
    assert 'data-testid="pre-assessment"' not in page


def test_a_milestone_reached_is_shown_recorded_and_sent_to_the_gradebook(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    sample(tool)
    course = "course-" + uuid.uuid4().hex[:8]
    sub = "learner-" + uuid.uuid4().hex[:8]
    me = launch(browser, platform, client_id, user=sub, context_id=course, ags=True)
    body = me.post("/me/pre-assessment", {"answers": RIGHT}).json()
    [reached] = [r for r in body["recognitions"] if r["milestone_id"] == "m2"]
    assert reached["title"] == "Knows the refund policy" and not reached["seen"]
    page = browser.session.get(me.page.url, timeout=10).text
    assert 'data-testid="recognition"' in page and "Knows the refund policy" in page
    m2 = next(m for m in body["milestones"] if m["milestone_id"] == "m2")
    assert m2["status"] == "done" and m2["reached_at"]

    worker_once(tool.app.extensions["skillpath"])
    items = platform.gradebook.line_items(course)
    milestone = [i for i in items if i.get("tag") == "milestone:m2"]
    assert len(milestone) == 1 and milestone[0]["label"] == "Milestone: Knows the refund policy"
    [score] = platform.gradebook.scores(milestone[0]["id"], sub)
    assert score["activityProgress"] == "Completed"

    seen = me.post("/me/recognitions/seen", {}).json()
    assert all(r["seen"] for r in seen["recognitions"])
    again = me.post("/me/pre-assessment", {"skip": True})
    assert again.status_code == 400
    assert len(platform.gradebook.line_items(course)) == len(items)  # recorded once


def test_equity_from_a_csv_of_groups_with_a_plain_reading(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    sample(tool)
    course = "course-" + uuid.uuid4().hex[:8]
    subs = [f"learner-{uuid.uuid4().hex[:6]}" for _ in range(12)]
    for n, sub in enumerate(subs):
        me = launch(browser, platform, client_id, user=sub, context_id=course)
        if n < 5:  # group A knows the refund policy: its milestone rate is higher
            me.post("/me/pre-assessment", {"answers": RIGHT})
    teacher = launch(browser, platform, client_id, user="t-1", roles="instructor",
                     context_id=course)  # fmt: skip
    assert teacher.put("/course/groups", "sub,group\nnobody\n").status_code == 400
    rows = "sub,group\n" + "".join(
        f"{s},{'A' if n < 5 else 'B' if n < 10 else 'C'}\n" for n, s in enumerate(subs)
    )
    assert teacher.put("/course/groups", rows).json() == {"learners": 12}
    report = teacher.get("/course/equity").json()
    assert set(report["groups"]) == {"A", "B"}
    assert report["left_out"] == [{"group": "C", "learners": 2}]
    milestones = next(r for r in report["readings"] if r["metric"] == "milestone_rate")
    assert milestones["group"] == "B" and milestones["reference_group"] == "A"
    assert milestones["flagged"] and "four-fifths" in milestones["text"]
    page = browser.session.get(teacher.page.url.replace("?", "/equity?"), timeout=10).text
    assert 'data-testid="readings"' in page and "Below the four-fifths line" in page

    other = launch(browser, platform, client_id, user="t-2", roles="instructor",
                   context_id="course-other-" + uuid.uuid4().hex[:6])  # fmt: skip
    assert other.get("/course/equity").json()["groups"] == {}
    learner = Session(browser.launch(link(platform, client_id, user=subs[0], context_id=course)))
    assert learner.get("/course/equity").status_code == 403


def test_exports_hold_the_course_only_and_no_formulas(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    sample(tool)
    course = "course-" + uuid.uuid4().hex[:8]
    sub = "learner-" + uuid.uuid4().hex[:8]
    me = launch(browser, platform, client_id, user=sub, context_id=course, name="=HYPERLINK(1)")
    me.post("/me/pre-assessment", {"answers": RIGHT})
    launch(browser, platform, client_id, user="elsewhere", context_id="course-x")
    teacher = launch(browser, platform, client_id, user="t", roles="instructor", context_id=course)
    mastery = list(csv.DictReader(io.StringIO(teacher.get("/course/export/mastery.csv").text)))
    assert {r["sub"] for r in mastery} == {sub}
    assert {r["name"] for r in mastery} == {"'=HYPERLINK(1)"}
    refunds = next(r for r in mastery if r["competency_id"] == "policy.refunds")
    assert refunds["status"] == "mastered" and int(refunds["percent"]) >= 80
    assessments = teacher.get("/course/export/assessments.csv")
    assert assessments.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(assessments.text)))
    assert {r["source"] for r in rows} == {"pre_assessment"} and len(rows) == 3
    assert teacher.get("/course/export/secrets.csv").status_code == 404
    assert me.get("/course/export/mastery.csv").status_code == 403


def test_the_page_speaks_the_learners_language_and_sits_in_the_lms_frame(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    sample(tool)
    french = browser.launch(
        link(platform, client_id, user="learner-" + uuid.uuid4().hex[:8], locale="fr-CA")
    ).text
    assert '<html lang="fr">' in french
    assert "Votre prochaine micro-leçon" in french and "Pourquoi celle-ci" in french
    assert "Pas commencé" in french
    english = browser.launch(
        link(platform, client_id, user="learner-" + uuid.uuid4().hex[:8], document_target="window")
    ).text
    assert '<html lang="en">' in english and "Your next micro-lesson" in english
    # In a window Skillpath's page has the h1; inside the LMS's iframe the LMS page has it.
    assert "<h1>Support associate, first two weeks</h1>" in english
    assert "<h2>Support associate, first two weeks</h2>" in french
    assert "<h1>" not in french


def test_the_french_catalog_is_complete_and_compiled() -> None:
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    web = Path(__file__).parents[3] / "lti_tool" / "web"
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    keywords = {"_": None, "ngettext": (1, 2)}
    used = {
        m[2] if isinstance(m[2], str) else m[2][0]
        for m in extract_from_dir(str(web), method_map, keywords=keywords)
    }
    folder = web / "translations" / "fr" / "LC_MESSAGES"
    with open(folder / "messages.po", "rb") as handle:
        po = read_po(handle)
    with open(folder / "messages.mo", "rb") as handle:
        mo = read_mo(handle)

    def key(message_id: Any) -> str:
        return message_id[0] if isinstance(message_id, tuple | list) else message_id

    def forms_of(value: Any) -> Any:
        return tuple(value) if isinstance(value, tuple | list) else value

    translated = {key(m.id): forms_of(m.string) for m in po if m.id}
    assert used <= set(translated), sorted(used - set(translated))
    for message in used:
        forms = translated[message]
        assert all(forms) if isinstance(forms, tuple) else forms, message
    assert {key(m.id): forms_of(m.string) for m in mo if m.id} == translated  # compiled


def test_equity_groups_from_a_field_of_the_class_list(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    sample(tool)
    course = "course-" + uuid.uuid4().hex[:8]
    subs = [f"learner-{uuid.uuid4().hex[:6]}" for _ in range(10)]
    domains = {s: ("north.example" if n < 5 else "south.example") for n, s in enumerate(subs)}
    platform.roster.set_members(
        course,
        [{"user_id": s, "roles": "learner", "email": f"{s}@{d}"} for s, d in domains.items()],
    )
    for n, sub in enumerate(subs):
        me = launch(browser, platform, client_id, user=sub, context_id=course)
        if n < 5:
            me.post("/me/pre-assessment", {"answers": RIGHT})
    teacher = launch(browser, platform, client_id, user="t-1", roles="instructor",
                     context_id=course, nrps=True)  # fmt: skip
    report = teacher.get("/course/equity", params={"group_by": "email_domain"}).json()
    assert set(report["groups"]) == {"north.example", "south.example"}
    assert report["groups"]["north.example"]["milestone_rate"] > 0
    assert teacher.get("/course/equity", params={"group_by": "shoe_size"}).status_code == 400


def test_a_groups_csv_that_is_not_csv_is_a_400_naming_the_line() -> None:
    """Found by schemathesis: a carriage return inside an unquoted field made `csv` raise."""
    import pytest

    from lti_tool.errors import InvalidBody
    from lti_tool.usecases.course_reports import parse_groups

    for text in ("\r\U000718a7;-|\x0c\U000c4fcdSéâ%\x0b\u008d", "a,b\r\nc\rd,e", "s\x00,g"):
        with pytest.raises(InvalidBody) as raised:
            parse_groups(text)
        assert "line" in raised.value.message or "CSV" in raised.value.message
    assert parse_groups("sub,group\r\nada,north\r\ngrace,south\r\n") == {
        "ada": "north",
        "grace": "south",
    }
