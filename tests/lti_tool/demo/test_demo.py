"""The demo LMS of `make run` launches Skillpath with real signed LTI 1.3 messages."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from config import Settings
from lti_tool.demo import prepare_demo
from peers.browser import parse_form
from peers.tool_server import free_port


@pytest.fixture
def demo(demo_apps: tuple[str, Flask]) -> str:
    return demo_apps[0]


@pytest.fixture
def demo_apps(settings: Settings) -> Iterator[tuple[str, Flask]]:
    port, lms_port = free_port(), free_port()
    tool, lms = prepare_demo(settings.replace(base_url=f"http://127.0.0.1:{port}"), lms_port)
    servers = [
        make_server("127.0.0.1", port, tool, threaded=True),
        make_server("127.0.0.1", lms_port, lms, threaded=True),
    ]
    threads = [
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        for s in servers
    ]
    for thread in threads:
        thread.start()
    yield f"http://127.0.0.1:{lms_port}", tool
    for server in servers:
        server.shutdown()
        server.server_close()
    tool.extensions["skillpath"].close()


def launch_as(browser: requests.Session, lms: str, login: str) -> requests.Response:
    form_page = browser.get(f"{lms}/lms/launch/{login}", timeout=10)
    form = parse_form(form_page.text, form_page.url)
    return browser.post(form.action, data=form.fields, timeout=10)


@pytest.mark.parametrize(
    ("login", "who", "heading"),
    [
        ("alex", "Alex Rivera", "Support associate, first two weeks"),
        ("jordan", "Learner", "Support associate, first two weeks"),
        ("sam", "Sam Lee", "Class view"),
    ],
)
def test_demo_lms_launches_into_skillpath(demo: str, login: str, who: str, heading: str) -> None:
    with requests.Session() as browser:
        course = browser.get(demo + "/", timeout=10)
        assert 'iframe name="tool-frame"' in course.text
        page = launch_as(browser, demo, login)
        assert page.status_code == 200
        assert f'data-testid="who">{who}<' in page.text
        assert 'data-testid="course">Customer Support Onboarding<' in page.text
        # Inside the LMS's iframe the LMS page holds the h1: Skillpath's headings start at h2.
        assert re.search(rf"<h2>{heading}</h2>", page.text)
        if heading != "Class view":  # the sample catalog gives learners a path
            assert 'data-testid="next"' in page.text and 'data-testid="path"' in page.text
        # the one-use state cookie is gone; only the session remains
        assert [c.name for c in browser.cookies] == ["skillpath_session"]


def test_the_demo_shows_the_whole_chain(demo_apps: tuple[str, Flask]) -> None:
    """Alex's history in the demo LRS moves the path; statements go back to it; the progress
    score reaches the demo LMS's gradebook; the instructor sees the class list."""
    from lti_tool.outbox.worker import worker_once

    lms, tool = demo_apps

    def path_of(login: str) -> Any:
        with requests.Session() as browser:
            page = launch_as(browser, lms, login)
            token = page.url.split("t=")[1]
            return browser.get(
                page.url.split("/launch/")[0] + "/api/v1/me/path",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ).json()

    def basics(body: Any) -> float:
        return float(next(m["probability"] for m in body["mastery"]
                          if m["competency_id"] == "comm.basics"))  # fmt: skip

    alex, jordan = path_of("alex"), path_of("jordan")
    assert alex["evidence"]["status"] == jordan["evidence"]["status"] == "fresh"
    assert basics(alex) > basics(jordan) + 0.3  # Alex's history in the demo LRS counted

    report = worker_once(tool.extensions["skillpath"])
    assert report.failed == 0 and report.delivered == report.claimed >= 4
    gradebook = requests.get(lms + "/gradebook", timeout=10).text
    assert 'data-testid="gradebook"' in gradebook
    assert "Alex Rivera" in gradebook and "/ 100" in gradebook

    with requests.Session() as browser:
        teacher = launch_as(browser, lms, "sam")
        base, query = teacher.url.split("?", 1)
        teacher = browser.get(f"{base}/grades?{query}", timeout=10)
    assert 'data-testid="roster"' in teacher.text
    for name in ("Alex Rivera", "Sam Lee"):
        assert name in teacher.text


def test_a_demo_lesson_reports_to_the_demo_lrs_and_the_path_moves(
    demo_apps: tuple[str, Flask],
) -> None:
    """Jordan opens the card's lesson (a page of the demo LMS), answers its question, comes
    back: the statement is in the demo LRS, the mastery moved, the gradebook has it."""
    from lti_tool.outbox.worker import worker_once

    lms, tool = demo_apps
    with requests.Session() as browser:
        page = launch_as(browser, lms, "jordan")
        token = page.url.split("t=")[1]
        base = page.url.split("/launch/")[0]
        headers = {"Authorization": f"Bearer {token}"}
        me = browser.post(base + "/api/v1/me/pre-assessment", json={"skip": True},
                          headers=headers, timeout=10).json()  # fmt: skip
        lesson = me["next"]
        assert lesson["opens"]
        opened = browser.get(
            page.url.split("?")[0] + "/open",
            params={"lesson": lesson["lesson_id"], "t": token},
            timeout=10,
        )
        assert opened.url.startswith(lms + "/lessons/") and "actor=" in opened.url
        form = parse_form(opened.text, opened.url)
        from lti_tool.demo.lessons import LESSONS

        right = next(x for x in LESSONS.values() if x.lesson_id == lesson["lesson_id"]).answer
        answered = browser.post(form.action, data={**form.fields, "choice": str(right)},
                                timeout=10)  # fmt: skip
        assert 'data-testid="result"' in answered.text and "Right!" in answered.text
        back = browser.post(base + "/api/v1/me/returned", headers=headers, timeout=10).json()
    assert back["next"]["lesson_id"] != lesson["lesson_id"]
    moved = [m for m in back["mastery"] if m["last_change"]]
    assert moved and moved[0]["last_change"]["lesson_id"] == lesson["lesson_id"]
    worker_once(tool.extensions["skillpath"])
    gradebook = requests.get(lms + "/gradebook", timeout=10).text
    assert "Mastery: Customer communication basics" in gradebook


def test_the_demo_lms_registers_skillpath_by_url_and_opens_the_console(
    demo_apps: tuple[str, Flask],
) -> None:
    """`make run`'s Dynamic Registration: the demo LMS's "register a tool by URL" frames
    Skillpath's registration page; the registration waits for approval in the console; once
    approved, learners launch through it; the LMS's administrator opens the console."""
    from lti_tool.storage import Tenant
    from lti_tool.usecases.audit import AdminActor
    from lti_tool.usecases.registrations import change_status

    lms, tool = demo_apps
    registration_url = tool.extensions["skillpath"].settings.url_for_path("/lti/register")
    course = requests.get(lms + "/", timeout=10).text
    assert "Register a tool by URL" in course and f'value="{registration_url}"' in course
    page = requests.get(lms + "/lms/register-tool", params={"url": registration_url}, timeout=10)
    frame = re.search(r'<iframe name="registration" title="[^"]+" src="([^"]+)"', page.text)
    assert frame is not None
    result = requests.get(frame.group(1).replace("&amp;", "&"), timeout=10)
    assert result.status_code == 200 and "Waiting for approval" in result.text
    client_id = re.search(r'data-testid="client-id">([^<]+)<', result.text).group(1)  # type: ignore[union-attr]
    assert client_id.startswith("demo-dr-")
    change_status(
        tool.extensions["skillpath"], Tenant(lms, client_id), "approve", AdminActor("test")
    )

    with requests.Session() as browser:
        form_page = browser.get(f"{lms}/lms/launch/jordan?tool={client_id}", timeout=10)
        form = parse_form(form_page.text, form_page.url)
        page = browser.post(form.action, data=form.fields, timeout=10)
        assert page.status_code == 200 and 'data-view="learner"' in page.text
        form_page = browser.get(f"{lms}/lms/launch/dana?target=admin&tool={client_id}", timeout=10)
        form = parse_form(form_page.text, form_page.url)
        handoff = browser.post(form.action, data=form.fields, timeout=10)
        assert 'data-testid="handoff"' in handoff.text
        enter = re.search(r'href="(/admin/enter\?ticket=[^"]+)"', handoff.text)
        assert enter is not None
        console = browser.get(handoff.url.split("/admin/")[0] + enter.group(1), timeout=10)
        assert "Dana Admin (administrator of skillpath-demo at" in console.text
