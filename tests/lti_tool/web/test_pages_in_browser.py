"""The pages in a real browser: Chromium follows the platform peer's launch (login,
authorize, the auto-posted id_token) and lands on the page; the lessons are the demo's lesson
pages, reporting to the real Learning Locker peer that Skillpath reads.

- the core loop: a recommendation, the lesson opened, a statement in the LRS, back on the
  page the next lesson and the mastery have moved;
- format and minutes change the card at once;
- an instructor pins a lesson with a note, and the learner sees the note;
- the mastery CSV matches the heatmap on the page;
- axe-core finds no WCAG 2.1 AA violation on any page at 1280 and 375 px, no page scrolls
  sideways at 320 px, and each page's screenshot is saved (test-artifacts/screenshots/);
- inside a 600 px-high LMS frame the page tells the frame its height (lti.frameResize);
- no word of an instructor's data table is split across lines at 1280 or 375 px: a table
  wider than the page scrolls sideways in its own named region (the evidence table too).
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import make_server

from lti_tool.demo import sample_catalog
from lti_tool.demo.lessons import lessons_blueprint
from lti_tool.outbox.worker import worker_once
from lti_tool.usecases import admin
from peers.browser import LaunchBrowser
from peers.chromium import axe_check, describe, screenshot
from peers.lrs import LrsPeer
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer, free_port
from tests.lti_tool.conftest import link
from tests.lti_tool.usecases.test_learner_evidence import connect_lrs
from tests.peers.chromium_fixtures import WIDTHS, chromium, new_page  # noqa: F401
from tests.peers.lrs_fixtures import learning_locker  # noqa: F401
from xapi.client import StatementQuery

TIMEOUT = 10_000


@pytest.fixture
def lessons(learning_locker: LrsPeer) -> Iterator[str]:  # noqa: F811
    """The demo's lesson pages, served on 127.0.0.1, reporting to Learning Locker."""
    client = learning_locker.client()
    app = Flask("lessons")
    app.register_blueprint(
        lessons_blueprint(lambda s: client.put_statement(s, statement_id=s["id"]))
    )
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    client.close()


@pytest.fixture
def course(
    tool: ToolServer,
    platform: PlatformPeer,
    client_id: str,
    lessons: str,
    learning_locker: LrsPeer,  # noqa: F811
) -> dict[str, Any]:
    """The sample catalog with its lessons at the lesson server, and Learning Locker."""
    admin.import_catalog(tool.app.extensions["skillpath"], sample_catalog(lessons))
    connect_lrs(tool, learning_locker)
    return {"context": "course-" + uuid.uuid4().hex[:8], "client_id": client_id}


def launch(page: Any, platform: PlatformPeer, tool: ToolServer, course: dict[str, Any],
           **params: Any) -> None:  # fmt: skip
    params.setdefault("context_id", course["context"])
    page.set_default_timeout(TIMEOUT)
    page.goto(link(platform, course["client_id"], **params))
    page.wait_for_url(f"{tool.base_url}/launch/**")


def card_title(page: Any) -> str:
    return str(page.locator('[data-testid="next-title"]').inner_text()).strip()


def skip_pre_assessment(page: Any) -> None:
    page.get_by_role("button", name="Skip, start from the beginning").click()
    page.locator('[data-testid="pre-assessment"]').wait_for(state="detached", timeout=TIMEOUT)


def test_a_learner_opens_a_lesson_answers_and_comes_back_to_a_moved_path(
    tool: ToolServer,
    platform: PlatformPeer,
    course: dict[str, Any],
    learning_locker: LrsPeer,  # noqa: F811
    new_page: Callable[..., Any],  # noqa: F811
) -> None:
    sub = "learner-" + uuid.uuid4().hex[:8]
    page = new_page()
    launch(page, platform, tool, course, user=sub)
    skip_pre_assessment(page)
    first = card_title(page)
    basics = page.locator('[data-competency="comm.basics"]')
    assert basics.get_attribute("data-status") == "not_started"

    with page.context.expect_page() as opened:
        page.get_by_test_id("open-lesson").click()
    lesson = opened.value
    lesson.wait_for_load_state()
    assert first in lesson.locator("h1").inner_text()
    lesson.get_by_label("Your order left our warehouse today; you will have it by Friday.").check()
    lesson.get_by_test_id("answer").click()
    lesson.get_by_test_id("result").wait_for(timeout=TIMEOUT)
    assert lesson.get_by_test_id("result").inner_text() == "Right!"

    # The statement is in Learning Locker, about this learner and this lesson.
    client = learning_locker.client()
    agent = {"objectType": "Agent", "account": {"homePage": platform.issuer, "name": sub}}
    query = StatementQuery(agent=agent, verb="http://adlnet.gov/expapi/verbs/passed")
    found = [
        s
        for s in client.get_statements(query).statements
        if s["object"]["id"] == "https://lessons.example.org/comm/basics-video"
    ]
    client.close()
    assert len(found) == 1

    lesson.close()
    page.bring_to_front()
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # back on the Skillpath tab
    page.wait_for_function(
        "([sel, status]) => document.querySelector(sel).dataset.status !== status",
        arg=['[data-competency="comm.basics"]', "not_started"],
        timeout=TIMEOUT,
    )
    assert card_title(page) != first
    assert basics.get_attribute("data-status") in ("learning", "mastered")
    assert "raised" in basics.inner_text() and first in basics.inner_text()
    screenshot(page, "learner-after-lesson-1280")


def card_minutes(page: Any) -> float:
    meta = page.get_by_test_id("next-meta").inner_text()
    return float(meta.split("·")[1].strip().split()[0])


# htmx swaps the new content in, then processes it (attaching its triggers) as it settles:
# a control used before then would not send its request.
SETTLED = (
    "document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added') === null"
)


def wait_for_card(page: Any, changed_from: str) -> str:
    page.wait_for_function(
        "t => document.querySelector('[data-testid=next-title]').textContent.trim() !== t"
        f" && {SETTLED}",
        arg=changed_from,
        timeout=TIMEOUT,
    )
    return card_title(page)


def test_format_and_minutes_change_the_card_at_once(
    tool: ToolServer,
    platform: PlatformPeer,
    course: dict[str, Any],
    new_page: Callable[..., Any],  # noqa: F811
) -> None:
    page = new_page()
    launch(page, platform, tool, course, user="learner-" + uuid.uuid4().hex[:8])
    assert card_title(page) == "Tone and clarity"  # the video
    page.get_by_label("Format I prefer").select_option("text")
    assert wait_for_card(page, "Tone and clarity") == "Tone and clarity (reading)"
    assert "reading" in page.get_by_test_id("next-meta").inner_text()
    assert "Tone and clarity" in page.get_by_test_id("alternatives").inner_text()
    page.get_by_label("Format I prefer").select_option("")
    wait_for_card(page, "Tone and clarity (reading)")

    # The pre-assessment shows the basics known: the engine moves on to empathy, whose only
    # lesson takes 8 minutes. Five minutes fit nothing the learner should do next: the card
    # says so, at once, and keeps the shortest such lesson; ten minutes fit it again.
    page.get_by_label("Your order left today; you will have it by Friday.").check()
    page.get_by_role("button", name="Set my starting point").click()
    before = wait_for_card(page, "Tone and clarity")
    assert card_minutes(page) > 5
    page.get_by_label("I have").select_option("5")
    wait_for_why(page, "Nothing fits your time", present=True)
    assert card_title(page) == before
    assert page.get_by_label("I have").input_value() == "5"
    page.get_by_label("I have").select_option("10")
    wait_for_why(page, "Nothing fits your time", present=False)
    assert card_title(page) == before and card_minutes(page) <= 10


def wait_for_why(page: Any, text: str, present: bool) -> None:
    page.wait_for_function(
        "([t, present]) => document.querySelector('[data-testid=why]').textContent.includes(t)"
        f" === present && {SETTLED}",
        arg=[text, present],
        timeout=TIMEOUT,
    )


def test_an_instructor_pins_a_lesson_with_a_note_and_the_learner_sees_it(
    tool: ToolServer,
    platform: PlatformPeer,
    course: dict[str, Any],
    new_page: Callable[..., Any],  # noqa: F811
) -> None:
    sub = "learner-" + uuid.uuid4().hex[:8]
    learner = new_page()
    launch(learner, platform, tool, course, user=sub, name="Noor Haddad")
    skip_pre_assessment(learner)
    teacher = new_page()
    launch(teacher, platform, tool, course, user="teacher-1", roles="instructor", name="Sam Lee")
    teacher.get_by_role("link", name="Noor Haddad").first.click()
    teacher.get_by_label("Action").select_option("pin")
    teacher.get_by_label("Lesson", exact=True).select_option(
        label="When we refund, and when we don't"
    )
    teacher.get_by_label("Note the learner sees").fill(
        "Start with the queue: you have a shift on Monday."
    )
    teacher.get_by_role("button", name="Save").click()
    teacher.get_by_test_id("saved").wait_for(timeout=TIMEOUT)
    assert "Start with the queue" in teacher.get_by_test_id("overrides").inner_text()

    learner.reload()
    assert card_title(learner) == "When we refund, and when we don't"
    note = learner.get_by_test_id("card-note").inner_text()
    assert "Start with the queue: you have a shift on Monday." in note
    assert "pinned" in learner.get_by_test_id("why").inner_text()


def test_the_mastery_export_matches_the_heatmap(
    tool: ToolServer,
    platform: PlatformPeer,
    course: dict[str, Any],
    learning_locker: LrsPeer,  # noqa: F811
    new_page: Callable[..., Any],  # noqa: F811
) -> None:
    client = learning_locker.client()
    subs = ["learner-" + uuid.uuid4().hex[:8] for _ in range(2)]
    statement = {
        "actor": {"objectType": "Agent", "account": {"homePage": platform.issuer, "name": subs[0]}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
        "object": {"objectType": "Activity", "id": "https://lessons.example.org/comm/basics-text"},
        "result": {"success": True, "score": {"scaled": 0.9}},
    }
    client.put_statement({**statement, "id": str(uuid.uuid4())})
    client.close()
    for sub in subs:
        launch(new_page(), platform, tool, course, user=sub)
    teacher = new_page()
    launch(teacher, platform, tool, course, user="teacher-1", roles="instructor")
    on_page = {
        (str(row.get_attribute("data-subject")), str(cell.get_attribute("data-competency"))): str(
            cell.get_attribute("data-percent")
        )
        for row in teacher.locator("table.heatmap tbody tr").all()
        for cell in row.locator("td.heat").all()
    }
    assert on_page and any(v for v in on_page.values())
    with teacher.expect_download() as download:
        teacher.get_by_role("link", name="Mastery (CSV)").click()
    with open(download.value.path(), encoding="utf-8") as exported_file:
        text = exported_file.read()
    exported = {
        (r["sub"], r["competency_id"]): ("" if r["status"] == "not_started" else r["percent"])
        for r in csv.DictReader(io.StringIO(text))
    }
    assert exported == on_page


def _no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


# The words of the cells that a line break splits: a word whose pieces lie on two lines (a
# break after a hyphen or a dash is a break between words).
_SPLIT_WORDS = r"""table => {
  const split = [];
  for (const cell of table.querySelectorAll("th, td")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.data.matchAll(/[^\s\-–—]+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) split.push(word[0]);
      }
    }
  }
  return split;
}"""


# The learners besides Ada: two groups of five with her (the equity report leaves smaller
# groups out); the platform refuses to grade the last one (a failure on the grades page).
OTHERS = (
    ("Day shift", "Grace Hopper"),
    ("Day shift", "Maria Fernanda Albuquerque-Vasconcelos"),
    ("Day shift", "Kwame Mensah"),
    ("Day shift", "Li Wei"),
    ("Evening shift, Porto office", "Noor Haddad"),
    ("Evening shift, Porto office", "Oluwaseun Adebayo-Williams"),
    ("Evening shift, Porto office", "Sofia Lindqvist"),
    ("Evening shift, Porto office", "Tomás Ferreira"),
    ("Evening shift, Porto office", "Alexandria Papadopoulou"),
)

# The data tables of each page (data-testid): each scrolls in its own named region.
TABLES = {
    "instructor-class": ("class-progress",),
    "instructor-learner": ("evidence",),
    "instructor-lessons": ("lessons", "time-to-proficiency"),
    "instructor-equity": ("equity",),
    "instructor-grades": ("failures", "roster"),
}


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_is_accessible_and_screenshotted(
    tool: ToolServer,
    platform: PlatformPeer,
    course: dict[str, Any],
    learning_locker: LrsPeer,  # noqa: F811
    browser: LaunchBrowser,
    new_page: Callable[..., Any],  # noqa: F811
    width: int,
) -> None:
    """Each page at a laptop's and a phone's width: no axe violation, no sideways scroll of
    the page; each data table has rows, sits in a named region reachable by keyboard (which
    scrolls sideways when the table is wider), and no word of it is split across lines."""
    client = learning_locker.client()
    sub = "learner-" + uuid.uuid4().hex[:8]
    for n in range(3):
        client.put_statement(
            {
                "id": str(uuid.uuid4()),
                "actor": {
                    "objectType": "Agent",
                    "account": {"homePage": platform.issuer, "name": sub},
                },
                "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
                "object": {
                    "objectType": "Activity",
                    "id": "https://lessons.example.org/comm/basics-video",
                },
                "result": {"success": True, "score": {"scaled": 0.9 + n * 0.03}},
            }
        )
    client.close()
    pages: list[tuple[str, Any]] = []
    learner = new_page(width=width)
    launch(learner, platform, tool, course, user=sub, name="Ada Learner")
    pages.append(("learner-pre-assessment", learner))
    split: dict[str, list[str]] = {}

    def check(name: str, page: Any) -> None:
        page.wait_for_load_state("networkidle")
        screenshot(page, f"{name}-{width}")
        violations = axe_check(page)
        assert violations == [], f"{name}: {describe(violations)}"
        assert _no_sideways_scroll(page), name
        tables = page.locator("table")
        testids = [t.get_attribute("data-testid") for t in tables.all()]
        assert sorted(testids) == sorted(TABLES.get(name, ())), name
        for testid in testids:
            table = page.get_by_test_id(testid)
            assert table.locator("tbody tr").count() > 0, f"{name}: {testid}"
            region = table.locator("xpath=..")
            assert region.evaluate(
                "e => e.matches('.table-scroll[role=region][tabindex=\"0\"]')"
            ), f"{name}: {testid}"
            expect(region).to_have_accessible_name(re.compile(r"\w"))
            words = table.evaluate(_SPLIT_WORDS)
            if words:
                split[f"{name}-{width} {testid}"] = words
            if region.evaluate("e => e.scrollWidth > e.clientWidth"):  # its far end, to look at
                region.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
                screenshot(page, f"{name}-{width}-{testid}-scrolled")
                region.evaluate("e => { e.scrollLeft = 0; }")

    check("learner-pre-assessment", learner)
    learner.get_by_label("Your order left today; you will have it by Friday.").check()
    learner.get_by_role("button", name="Set my starting point").click()
    learner.locator('[data-testid="pre-assessment"]').wait_for(state="detached", timeout=TIMEOUT)
    check("learner", learner)
    learner.get_by_role("link", name="What data Skillpath uses and why").click()
    check("data-use", learner)

    groups = [("Day shift", sub)]
    for n, (group, name) in enumerate(OTHERS):
        other = "learner-" + uuid.uuid4().hex[:8]
        if n == len(OTHERS) - 1:
            platform.gradebook.ungradable_users.add(other)
        browser.launch(link(platform, course["client_id"], user=other, name=name,
                            context_id=course["context"]))  # fmt: skip
        groups.append((group, other))
    worker_once(tool.app.extensions["skillpath"])

    teacher = new_page(width=width)
    launch(teacher, platform, tool, course, user="teacher-1", roles="instructor", name="Sam Lee")
    check("instructor-class", teacher)
    teacher.get_by_role("link", name="Ada Learner").first.click()
    check("instructor-learner", teacher)
    teacher.get_by_role("link", name="Lessons", exact=True).click()
    check("instructor-lessons", teacher)
    # Long category names are drawn on several lines (one line was cut at 375 px).
    names = teacher.evaluate(
        "() => window.Chart.getChart(document.getElementById('chart-ttp')).data.labels"
    )
    assert ["Customer", "communication", "basics"] in names, names
    teacher.get_by_role("link", name="Equity", exact=True).click()
    teacher.get_by_label("or paste it").fill("".join(f'{s},"{g}"\n' for g, s in groups))
    teacher.get_by_role("button", name="Save groups").click()
    teacher.get_by_test_id("groups-saved").wait_for(timeout=TIMEOUT)
    # The swapped-in page draws its chart too (it stayed blank until a reload).
    teacher.wait_for_function(
        "() => { const c = document.getElementById('chart-equity');"
        " return c && window.Chart.getChart(c) !== undefined; }",
        timeout=TIMEOUT,
    )
    check("instructor-equity", teacher)
    teacher.get_by_role("link", name="Grades and roster", exact=True).click()
    check("instructor-grades", teacher)
    assert split == {}, "words split across lines: " + json.dumps(split, ensure_ascii=False)


def test_pages_fit_320_px_and_a_600_px_lms_frame(
    tool: ToolServer,
    platform: PlatformPeer,
    course: dict[str, Any],
    new_page: Callable[..., Any],  # noqa: F811
) -> None:
    page = new_page(width=320, height=600)
    launch(page, platform, tool, course, user="learner-" + uuid.uuid4().hex[:8])
    assert _no_sideways_scroll(page)
    skip_pre_assessment(page)
    assert _no_sideways_scroll(page)
    url = page.url

    host = new_page(width=1280, height=800)
    # The LMS page is on the platform's origin: the page may be framed only by its platform
    # (Content-Security-Policy frame-ancestors).
    host.goto(platform.keyset_url)
    host.set_content(
        '<!doctype html><html lang="en"><title>LMS</title><h1>Course</h1>'
        f'<iframe title="Skillpath" src="{url}" width="900" height="600"></iframe>'
        "<script>window.heights = []; window.addEventListener('message', e => {"
        " if (!e.data || e.data.subject !== 'lti.frameResize') return;"
        " window.heights.push(e.data.height);"
        " if (window.grow) document.querySelector('iframe').height = e.data.height;"
        "});</script>"
    )
    host.wait_for_function("window.heights.length > 0", timeout=TIMEOUT)
    height = host.evaluate("window.heights[window.heights.length - 1]")
    frame = host.frame_locator("iframe")
    content = frame.locator("body").evaluate("e => Math.ceil(e.getBoundingClientRect().height)")
    assert height == content and height > 600  # the LMS can grow the frame: no nested scroll
    # The card and its Open button are in the first 600 px of the frame.
    box = frame.get_by_test_id("open-lesson").bounding_box()
    assert box is not None and box["y"] + box["height"] < 600 + 8
    frame.get_by_label("Format I prefer").select_option("text")
    host.wait_for_function(f"window.heights.length > 1 || window.heights[0] !== {height}",
                           timeout=TIMEOUT)  # fmt: skip
    assert json.loads(json.dumps(host.evaluate("window.heights")))
    # An LMS that grows the frame to the height it is told: the page settles, no loop.
    host.evaluate("window.grow = true; window.heights.push(0)")
    frame.get_by_label("Format I prefer").select_option("")
    host.wait_for_function("window.heights[window.heights.length - 1] > 600", timeout=TIMEOUT)
    host.wait_for_timeout(300)
    settled = host.evaluate("window.heights.length")
    host.wait_for_timeout(300)
    assert host.evaluate("window.heights.length") == settled


@pytest.mark.parametrize("width", WIDTHS)
def test_the_evidence_table_keeps_its_words_whole(
    tool: ToolServer,
    platform: PlatformPeer,
    course: dict[str, Any],
    learning_locker: LrsPeer,  # noqa: F811
    new_page: Callable[..., Any],  # noqa: F811
    width: int,
) -> None:
    """The instructor's learner page: no word of the evidence table is split across lines; on
    a phone the table scrolls sideways in its own region (named, reachable by keyboard)
    instead of breaking its words letter by letter, and the page does not scroll sideways."""
    client = learning_locker.client()
    sub = "learner-" + uuid.uuid4().hex[:8]
    for lesson, success, score in (
        ("comm/basics-video", True, 0.9),
        ("policy/refunds-video", False, 0.35),
        ("comm/escalation-scenario", True, 1.0),
        ("tools/ticket-triage", True, None),
    ):
        statement: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "account": {"homePage": platform.issuer, "name": sub}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/" + ("passed" if success else "failed")},
            "object": {"objectType": "Activity", "id": f"https://lessons.example.org/{lesson}"},
            "result": {"success": success},
        }
        if score is not None:
            statement["result"]["score"] = {"scaled": score}
        client.put_statement(statement)
    client.close()
    launch(new_page(width=width), platform, tool, course, user=sub, name="Ada Learner")

    teacher = new_page(width=width)
    launch(teacher, platform, tool, course, user="teacher-1", roles="instructor", name="Sam Lee")
    teacher.get_by_role("link", name="Ada Learner").first.click()
    table = teacher.get_by_test_id("evidence")
    table.wait_for(timeout=TIMEOUT)
    teacher.wait_for_load_state("networkidle")
    assert table.locator("tbody tr").count() == 4
    screenshot(teacher, f"instructor-learner-evidence-{width}")

    assert table.evaluate(_SPLIT_WORDS) == []
    assert _no_sideways_scroll(teacher)
    region = teacher.locator('[role="region"][tabindex="0"]').filter(has=table)
    expect(region).to_have_accessible_name("Evidence")
    assert region.evaluate("e => getComputedStyle(e).overflowX") in ("auto", "scroll")
    scrolls = region.evaluate("e => e.scrollWidth > e.clientWidth")
    assert scrolls == (width < 576)  # at least 36rem wide: on a phone it scrolls, by keyboard too
    if scrolls:
        region.focus()
        teacher.keyboard.press("ArrowRight")
        teacher.wait_for_function("() => document.activeElement.scrollLeft > 0", timeout=TIMEOUT)
        region.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
        screenshot(teacher, f"instructor-learner-evidence-{width}-scrolled")
    violations = axe_check(teacher)
    assert violations == [], describe(violations)
