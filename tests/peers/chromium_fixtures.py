"""pytest fixtures for page tests in a real browser (Debian's Chromium via Playwright)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from peers.chromium import BrowserUnavailable, launched_chromium

# The widths every page is looked at: a laptop and a phone.
WIDTHS = (1280, 375)


@pytest.fixture(scope="session")
def chromium(playwright: Any) -> Iterator[Any]:
    """One headless Chromium for the session, on the session's Playwright driver (the root
    conftest's `playwright`: modules that import this fixture each get a browser, and they
    share the one driver Playwright's sync API allows)."""
    try:
        with launched_chromium(playwright=playwright) as browser:
            yield browser
    except BrowserUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Callable[..., Any]]:
    """`new_page(width=1280, height=800, **context_options)`: a page in a fresh context
    (its own cookies); every context is closed after the test."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 800, **options: Any) -> Any:
        context = chromium.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
