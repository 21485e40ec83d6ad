"""HTTP client sessions that read their environment once (the LRS client's, and the tool's
sessions to platforms).

`requests` looks at the environment on every request when `trust_env` is on (proxy variables,
`.netrc`, CA bundle variables): measured here, over a millisecond of CPU per call, a large
share of a score delivery. When no proxy is configured, `quiet_session` turns that off and
keeps what the environment says about certificate bundles; with a proxy configured the
session is left as it is, so proxy and `no_proxy` rules still apply per request.
"""

from __future__ import annotations

import os
import urllib.request

import requests

__all__ = ["quiet_session"]

CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def quiet_session(session: requests.Session) -> requests.Session:
    """`session`, reading the environment now rather than on every request where that is
    safe (no proxy configured). Returns the same session."""
    if urllib.request.getproxies():
        return session
    session.trust_env = False
    for name in CA_BUNDLE_VARIABLES:
        bundle = os.environ.get(name)
        if bundle:
            session.verify = bundle
            break
    return session
