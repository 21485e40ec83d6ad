"""Fixtures shared by every test package: settings on a fresh database, the app (pytest-flask
builds `client` on it), a CLI runner, and Skillpath served over real HTTP."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from config import Settings
from lti_tool import create_app
from peers.tool_server import ToolServer, database_url, start_tool, test_settings


def _utf8(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A test's report travels from a pytest-xdist worker as UTF-8: the fuzz tests' captured
    output may hold lone surrogates (the text they send), which would crash the worker.
    They are escaped in the report only; what the test saw is unchanged."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    report.sections = [(title, _utf8(content)) for title, content in report.sections]
    if report.longrepr is not None:
        text = str(report.longrepr)
        if _utf8(text) != text:
            report.longrepr = _utf8(text)


@pytest.fixture(scope="session")
def playwright() -> Iterator[object]:
    """Playwright's driver for the whole session (its sync API allows one per thread); the
    browsers of tests/peers/chromium_fixtures.py and of the page tests start on it."""
    from peers.chromium import BrowserUnavailable, playwright_driver

    try:
        with playwright_driver() as driver:
            yield driver
    except BrowserUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    with database_url(tmp_path, dict(os.environ)) as url:
        yield test_settings(tmp_path, dict(os.environ), url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings, initialise=True)
    yield app
    app.extensions["skillpath"].close()


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment under which `skillpath` commands use the test database."""
    return {
        "SKILLPATH_DATABASE_URL": settings.database_url,
        "SKILLPATH_SECRET_KEY": settings.secret_key,
        "SKILLPATH_INSTANCE_PATH": settings.instance_path,
        "SKILLPATH_REDIS_URL": settings.redis_url,
    }


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Callable[..., object]:
    from lti_tool.cli import main

    runner = CliRunner()

    def invoke(*args: str) -> object:
        return runner.invoke(main, list(args), env=cli_env, catch_exceptions=False)

    return invoke


@pytest.fixture
def tool(settings: Settings) -> Iterator[ToolServer]:
    """Skillpath listening on 127.0.0.1 (its own port), database migrated, key created."""
    server = start_tool(settings)
    yield server
    server.stop()
