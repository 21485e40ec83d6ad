"""Headers every response carries: no MIME sniffing, no referrer (session tokens ride in page
URLs), and on pages a Content-Security-Policy whose `frame-ancestors` names only the
platforms that may show the page (`lti_tool.usecases.framing`).

A view may set its own policy (the admin console forbids framing): it is kept."""

from __future__ import annotations

import logging

from flask import Flask, Response, g

from lti_tool.storage import LaunchRecord
from lti_tool.usecases.framing import frame_ancestors
from lti_tool.web.auth import LAUNCH_OF_REQUEST, container

log = logging.getLogger("skillpath")

# Scripts, styles and images only from Skillpath itself; no plugins; no <base> tricks.
PAGE_POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"


def page_policy(launch: LaunchRecord | None) -> str:
    try:
        origins = frame_ancestors(container(), launch)
    except Exception:  # an error page must render even when the database does not answer
        log.warning("frame-ancestors could not be read; pages may be framed by this site only")
        origins = ()
    ancestors = " ".join(("'self'", *origins))
    return f"{PAGE_POLICY}; frame-ancestors {ancestors}"


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        # A redirect is never shown: it needs no page policy (nor the registry read for it).
        if (
            response.mimetype == "text/html"
            and not 300 <= response.status_code < 400
            and "Content-Security-Policy" not in response.headers
        ):
            launch = g.get(LAUNCH_OF_REQUEST)
            response.headers["Content-Security-Policy"] = page_policy(launch)
        return response
