"""Launches without third-party cookies: LTI Client Side postMessage Storage (the platform keeps
the login's state for the tool in a frame of its own page) and what a launch that arrives
without the state cookie needs to finish anyway.

At the login, a platform that names a storage frame (`lti_storage_target`: `_parent`, or a
frame such as Canvas's `post_message_forwarding`) gets a page that stores a secret of this
login in that frame (`lti.put_data`) before going on to the platform; the state cookie is set
as well, for platforms and browsers where it works. At the launch, a missing cookie is
answered with a page that either reads the secret back (`lti.get_data`) and sends it with the
id_token to `/lti/launch/resume`, or, in a window of its own, posts the launch again to this
origin (where the cookie now travels), or, when neither can work, offers to open the launch
in a new window. The secret is never in the platform's form post, so a forged post cannot
carry it: only a page of ours, reading the platform's storage in the same browser, finds it.

This module holds the values those pages need; the scripts are `static/lti-launch.js`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from lti_tool.lti.vocabulary import STORAGE_DEFAULT_TARGET

# A frame name the page may look up: `_parent` or a plain frame name, nothing a page could
# be tricked into evaluating.
_FRAME_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Parameters of the platform's login request a fresh login in a new window repeats.
RELAUNCH_PARAMS = (
    "iss",
    "login_hint",
    "lti_message_hint",
    "target_link_uri",
    "client_id",
    "lti_deployment_id",
)


def storage_target(value: Any) -> str | None:
    """The storage frame a platform named, when it is a name we can use."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    return value if value == STORAGE_DEFAULT_TARGET or _FRAME_NAME.match(value) else None


def storage_key(state: str) -> str:
    """The key the login's secret is stored under in the platform's frame."""
    return "skillpath-" + state


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class StorageLogin:
    """The login page's values: where to go next, and what to store where first."""

    auth_url: str
    target: str
    platform_origin: str
    key: str
    value: str


@dataclass(frozen=True)
class LaunchResume:
    """What the page answering a launch without its state cookie needs."""

    state: str
    id_token: str
    relaunch_url: str
    storage_target: str | None
    platform_origin: str
    key: str
    bounced: bool


def relaunch_url(login_url: str, params: dict[str, str]) -> str:
    """A fresh start of the same launch at our login (for a new window)."""
    kept = {name: params[name] for name in RELAUNCH_PARAMS if params.get(name)}
    return login_url + "?" + urlencode(kept)
