"""Finding a page's frames in Chromium while they navigate."""

from __future__ import annotations

from typing import Any


def tool_frame(page: Any, url_prefix: str = "", timeout: float = 15.0) -> Any:
    """The frame named `tool`, once its address starts with `url_prefix`. Looked up again
    each time: a frame that navigates across sites may be swapped for a new one."""
    waited = 0.0
    while True:
        found = [f for f in page.frames if f.name == "tool" and f.url.startswith(url_prefix)]
        if found:
            return found[-1]
        assert waited < timeout, (
            f"no frame named tool at {url_prefix}: {[f.url for f in page.frames]}"
        )
        page.wait_for_timeout(100)
        waited += 0.1
