"""A real browser for page tests: Debian's Chromium, driven by Playwright for Python.

Never a browser download: Playwright is pointed at the system's `chromium` (installed by
`.ci/run`, or `apt-get install chromium`). The flags keep it quiet on a machine without a
screen or an open network. `axe_check` runs axe-core (from npm, installed by `make peers`
into `.peers/axe`) on the page and returns its violations.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AXE_SCRIPT = ROOT / ".peers" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

__all__ = [
    "AXE_SCRIPT",
    "SCREENSHOTS",
    "axe_check",
    "chromium_path",
    "launched_chromium",
    "playwright_driver",
]


class BrowserUnavailable(RuntimeError):
    """Chromium, Playwright or axe-core is not installed here."""


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserUnavailable("Chromium is not installed: `apt-get install chromium`")


@contextmanager
def playwright_driver() -> Iterator[Any]:
    """Playwright's driver (its sync API allows one per thread: several browsers share it)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        raise BrowserUnavailable("Playwright for Python is not installed") from exc
    with sync_playwright() as playwright:
        yield playwright


@contextmanager
def launched_chromium(extra_flags: tuple[str, ...] = (), playwright: Any = None) -> Iterator[Any]:
    """A running headless Chromium (a Playwright `Browser`), closed whatever happens; on the
    given driver, or on one of its own."""
    executable = chromium_path()
    if playwright is None:
        with playwright_driver() as own, launched_chromium(extra_flags, own) as browser:
            yield browser
        return
    browser = playwright.chromium.launch(
        executable_path=executable, headless=True, args=CHROMIUM_FLAGS + list(extra_flags)
    )
    try:
        yield browser
    finally:
        browser.close()


def axe_check(page: Any, *, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 AA violations on the page as it is now (an empty list is a pass)."""
    if not AXE_SCRIPT.is_file():
        raise BrowserUnavailable("axe-core is not installed: run `make peers`")
    # Evaluated by the browser's debugging protocol, not as a <script> of the page: the
    # pages' Content-Security-Policy (no inline scripts) stays in force for everything else.
    page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8") + "\n;true")
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    context = {"exclude": [[selector] for selector in exclude]} if exclude else {}
    result = page.evaluate(
        "([context, options]) => axe.run(Object.keys(context).length ? context : document,"
        " options)",
        [context, options],
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    """The violations in a form a failing test can print."""
    return json.dumps(
        [
            {"id": v["id"], "impact": v.get("impact"), "nodes": [n["target"] for n in v["nodes"]]}
            for v in violations
        ],
        indent=1,
    )


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
