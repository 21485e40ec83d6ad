"""Who is asking: the launch a request's session token names, and the role checks of the API.

The session token travels in the `Authorization: Bearer` header (the page's scripts and API
clients), the page URL (`t`) and a cookie where cookies work. Writes take it from the header
only: no cross-site request can forge one.
"""

from __future__ import annotations

from flask import current_app, g, request

from lti_tool.container import Container
from lti_tool.errors import Forbidden, NotAuthenticated
from lti_tool.lti.sessions import COOKIE_NAME
from lti_tool.storage import LaunchRecord

# Where the launch a request's session names is kept for the rest of the request (the page's
# frame-ancestors are its platform's).
LAUNCH_OF_REQUEST = "skillpath_launch"


def container() -> Container:
    return current_app.extensions["skillpath"]  # type: ignore[no-any-return]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def session_token() -> str | None:
    return bearer_token() or request.args.get("t") or request.cookies.get(COOKIE_NAME)


def current_launch(expected_id: str | None = None) -> LaunchRecord:
    """The launch the request's session token names (and only that one). Kept on `g` for
    the rest of the request (the pages' locale and the security headers come from it)."""
    launch = container().launches.launch_of(session_token(), expected_id)
    setattr(g, LAUNCH_OF_REQUEST, launch)
    return launch


def instructor_launch(*, writing: bool = False, expected_id: str | None = None) -> LaunchRecord:
    """The instructor launch of the request's session. Writes take the session token from the
    Authorization header only, never from a cookie."""
    if writing and bearer_token() is None:
        raise NotAuthenticated(
            "Changes need the session token in the Authorization header (Bearer)."
        )
    launch = current_launch(expected_id)
    if launch.role != "instructor":
        raise Forbidden()
    return launch


def learner_launch(expected_id: str | None = None) -> LaunchRecord:
    """The learner launch of a request that changes something: the session token from the
    Authorization header only (never a cookie), and the learner role."""
    if bearer_token() is None:
        raise NotAuthenticated(
            "Changes need the session token in the Authorization header (Bearer)."
        )
    launch = current_launch(expected_id)
    if launch.role != "learner":
        raise Forbidden("Only learners change their own path.")
    return launch
