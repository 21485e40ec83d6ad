"""Launches in headless Chromium with third-party cookies blocked: the LMS (the platform peer,
on `localhost`) shows Skillpath (on `127.0.0.1`, another site) in a frame. Through the
platform's storage frame (LTI Client Side postMessage Storage, `_parent` and Canvas's
`post_message_forwarding`) the launch completes in the frame; without one, the page offers a
new window, and the launch completes there."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from peers.chromium import axe_check, describe, launched_chromium, screenshot
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.conftest import register_with
from tests.lti_tool.usecases.test_learner_path import import_example
from tests.lti_tool.web.frames import tool_frame

# Explicit, though this Chromium already blocks third-party cookies by default; the first
# test proves they are blocked.
BLOCKING = ("--test-third-party-cookie-phaseout",)


@pytest.fixture(scope="module")
def blocking_chromium(playwright: Any) -> Iterator[Any]:
    with launched_chromium(BLOCKING, playwright) as browser:
        yield browser


@pytest.fixture
def new_page(blocking_chromium: Any) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 900) -> Any:
        context = blocking_chromium.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def lms() -> Iterator[PlatformPeer]:
    """A platform on another site than the tool: its URLs say `localhost`."""
    with PlatformPeer(public_host="localhost") as peer:
        yield peer


@pytest.fixture
def client_id(tool: ToolServer, lms: PlatformPeer) -> str:
    client_id = "cs-" + uuid.uuid4().hex[:8]
    register_with(tool, lms, client_id, "deployment-1")
    import_example(tool)
    return client_id


@pytest.fixture
def cookie_probe() -> Iterator[tuple[str, list[str]]]:
    """A page on `localhost` framing a page on `127.0.0.1` that sets an unpartitioned
    SameSite=None cookie and reports the cookies it gets back."""
    seen: list[str] = []

    def app(environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        port = request.host.rsplit(":", 1)[1]
        if request.path == "/top":
            page = f'<iframe src="http://127.0.0.1:{port}/set"></iframe>'
            response = Response(page, mimetype="text/html")
        elif request.path == "/set":
            response = Response("<script>location.href='/check'</script>", mimetype="text/html")
            response.set_cookie("probe", "1", samesite="None", secure=True)
        else:
            seen.append(request.headers.get("Cookie", ""))
            response = Response("checked", mimetype="text/plain")
        return response(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}/top", seen
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def test_third_party_cookies_are_blocked(
    new_page: Callable[..., Any], cookie_probe: tuple[str, list[str]]
) -> None:
    url, seen = cookie_probe
    page = new_page()
    page.goto(url)
    page.wait_for_function("() => true")
    deadline = 50
    while not seen and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    assert seen and "probe" not in seen[0]


@pytest.mark.parametrize("storage", ["parent", "canvas"])
def test_a_launch_keeps_its_state_in_the_platform_frame(
    tool: ToolServer,
    lms: PlatformPeer,
    client_id: str,
    new_page: Callable[..., Any],
    storage: str,
) -> None:
    page = new_page()
    query = f"client_id={client_id}&user=learner-{storage}&roles=learner&name=Ada&storage={storage}"
    page.goto(f"{lms.issuer}/course?{query}")
    frame = tool_frame(page, f"{tool.base_url}/launch/")
    frame.wait_for_selector('[data-view="learner"]')
    holder = page if storage == "parent" else page.frame(name="post_message_forwarding")
    log = holder.evaluate("window.lti_storage_log")
    # (A message may be answered twice: the tool sends it again until the frame answers.)
    assert {(e["subject"], e["ok"], e["origin"]) for e in log} == {
        ("lti.put_data", True, tool.base_url),
        ("lti.get_data", True, tool.base_url),
    }
    assert [e["subject"] for e in log].index("lti.get_data") > 0
    assert page.context.cookies(tool.base_url) == [] or all(
        not c["name"].startswith("skillpath-state") for c in page.context.cookies(tool.base_url)
    )
    screenshot(page, f"cookieless-{storage}-1280")


@pytest.mark.parametrize("width", [1280, 375])
def test_without_storage_the_launch_opens_in_a_new_window(
    tool: ToolServer,
    lms: PlatformPeer,
    client_id: str,
    new_page: Callable[..., Any],
    width: int,
) -> None:
    page = new_page(width=width)
    page.goto(
        f"{lms.issuer}/course?client_id={client_id}&user=learner-nw&roles=learner&storage=none"
    )
    frame = tool_frame(page, f"{tool.base_url}/lti/launch")
    frame.wait_for_selector('[data-testid="new-window"]:not(.hidden)', timeout=15000)
    assert "Prevent cross-site tracking" in frame.inner_text('[data-testid="new-window"]')
    violations = axe_check(frame)
    assert violations == [], describe(violations)
    screenshot(page, f"new-window-{width}")

    with page.expect_popup() as opened:
        frame.click('[data-testid="open-new-window"]')
    popup = opened.value
    popup.wait_for_url(f"{tool.base_url}/launch/**", timeout=15000)
    popup.wait_for_selector('[data-view="learner"]')


@pytest.mark.parametrize("width", [1280, 375])
def test_the_instructor_page_fits_the_platform_frame(
    tool: ToolServer,
    lms: PlatformPeer,
    client_id: str,
    new_page: Callable[..., Any],
    width: int,
) -> None:
    """The class view as a course shows it: inside the LMS's frame (on another site), as wide
    as the frame and no wider (its tables scroll inside their own box), accessible, and
    screenshotted at a desktop and a phone width."""
    page = new_page(width=width)
    learner = f"client_id={client_id}&user=learner-frame&roles=learner&name=Ada&storage=parent"
    page.goto(f"{lms.issuer}/course?{learner}")
    tool_frame(page, f"{tool.base_url}/launch/").wait_for_selector('[data-view="learner"]')
    teacher = f"client_id={client_id}&user=teacher-frame&roles=instructor&name=Grace&storage=parent"
    page.goto(f"{lms.issuer}/course?{teacher}")
    frame = tool_frame(page, f"{tool.base_url}/")
    frame.wait_for_selector('[data-view="instructor"]')
    assert "Ada" in frame.inner_text('[data-view="instructor"]')
    overflow = frame.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page is {overflow} px wider than the frame"
    violations = axe_check(frame)
    assert violations == [], describe(violations)
    screenshot(page, f"instructor-in-frame-{width}")
