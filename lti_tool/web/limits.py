"""The web edge's input limits, designed once: how large a request body each endpoint takes,
and how often one client may call it.

Bodies: each endpoint takes at most `BODY_LIMITS[endpoint]` bytes (else `DEFAULT_BODY_BYTES`).
A larger one is answered 413 with a page or JSON saying the limit, after reading and dropping
what the client sends (up to `DRAIN_BYTES`, else the connection is closed): a server that
answers before the body is read makes many clients report a reset instead of the answer.
Nothing of the request goes into a response header.

Rates: `init_limits(app)` builds one flask-limiter `Limiter`, kept in
`app.extensions[EXTENSION]`, counting in Redis when `SKILLPATH_REDIS_URL` is set (every
instance shares the counts) and in this process's memory otherwise. `RATE_LIMITS` says, by
endpoint name, which setting holds the limit and who is counted. The counters' keys start
with a prefix derived from the secret key: the instances of one installation share it, two
installations (or two test apps) on one Redis never do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis
from flask import Blueprint, Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from werkzeug.exceptions import RequestEntityTooLarge

from config import Settings
from lti_tool.errors import NotAuthenticated
from lti_tool.web.auth import container, session_token
from lti_tool.web.errors import render_error

EXTENSION = "skillpath.limiter"
KIB = 1024

# -- request bodies -----------------------------------------------------------------------

DEFAULT_BODY_BYTES = 64 * KIB
BODY_LIMITS: Mapping[str, int] = {
    # An id_token is refused past 64 KB with its own message (`lti.launch`); the body may
    # carry a little more so that the launch page, not a bare 413, says so.
    "lti.launch": 320 * KIB,
}
DRAIN_BYTES = 8 * 1024 * KIB
# Form fields per request: a launch has two or three, a login six.
MAX_FORM_PARTS = 50


# Endpoints whose body is a catalog file: room for the largest catalog the installation takes
# (`SKILLPATH_CATALOG_MAX_BYTES`) and its multipart wrapping, so the file's own check names
# the catalog limit and this one only stops what could not be a catalog at all.
CATALOG_UPLOADS = frozenset({"admin.upload_catalog"})


def body_limit(endpoint: str | None) -> int:
    if endpoint in CATALOG_UPLOADS:
        settings: Settings = current_app.extensions["skillpath"].settings
        return 2 * settings.catalog_max_bytes
    return BODY_LIMITS.get(endpoint or "", DEFAULT_BODY_BYTES)


def _apply_body_limit() -> None:
    limit = body_limit(request.endpoint)
    request.max_content_length = limit
    request.max_form_memory_size = limit
    # Refused before anything else looks at the request (who is asking, what it says).
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def _drain() -> bool:
    """Read and drop the rest of the request body, up to `DRAIN_BYTES`. True when all of it
    was read (the connection may then serve the next request)."""
    stream = request.environ.get("wsgi.input")
    if stream is None:
        return True
    length = request.content_length
    if length is None and not request.environ.get("wsgi.input_terminated"):
        return True  # no length and no end the server guarantees: nothing safe to read
    remaining = DRAIN_BYTES if length is None else min(length, DRAIN_BYTES)
    try:
        while remaining > 0:
            chunk = stream.read(min(64 * KIB, remaining))
            if not chunk:
                return True
            remaining -= len(chunk)
    except (OSError, ValueError):
        return False
    return length is not None and length <= DRAIN_BYTES


def _too_large(exc: RequestEntityTooLarge) -> Response:
    limit = body_limit(request.endpoint)
    drained = _drain()
    response = render_error(
        413,
        "request_too_large",
        f"The request is larger than {limit // KIB} KB, the most Skillpath takes here.",
    )
    if not drained:
        response.headers["Connection"] = "close"
    return response


# -- rates --------------------------------------------------------------------------------


def client_address() -> str:
    """Who sends the request: the peer's address, or the one the trusted proxies name
    (`SKILLPATH_TRUSTED_PROXIES`)."""
    return request.remote_addr or "unknown"


def session_or_address() -> str:
    """An API client is counted by its launch session when the token is valid (learners
    behind one campus address do not share a count), else by its address."""
    try:
        return "session:" + container().sessions.launch_id(session_token())
    except NotAuthenticated:
        return client_address()


@dataclass(frozen=True)
class RateLimit:
    setting: str  # the `Settings` field holding the limit; "off" means none
    counted: Callable[[], str]
    message: str
    methods: tuple[str, ...] | None = None  # None: every method


AGAIN = "wait a little, then try again."
# The admin console's sign-in view: branch install's admin blueprint names it this.
ADMIN_LOGIN = "admin.login"
# Endpoint name, or "<blueprint>.*" for every endpoint of a blueprint -> its rate limit.
RATE_LIMITS: Mapping[str, RateLimit] = {
    "lti.login": RateLimit(
        "rate_limit_login", client_address, "Too many launches from this address: " + AGAIN
    ),
    "lti.launch": RateLimit(
        "rate_limit_launch", client_address, "Too many launches from this address: " + AGAIN
    ),
    "api.*": RateLimit(
        "rate_limit_api", session_or_address, "Too many requests for this session: " + AGAIN
    ),
    ADMIN_LOGIN: RateLimit(
        "rate_limit_admin_login",
        client_address,
        "Too many sign-in attempts from here: wait a minute, then try again.",
        ("POST",),
    ),
}


def limit_of(settings: Settings, rule: RateLimit) -> str | None:
    value = str(getattr(settings, rule.setting))
    return None if value.lower() == "off" else value


def _counter_prefix(settings: Settings) -> str:
    return "skillpath-limits-" + hashlib.sha256(settings.secret_key.encode()).hexdigest()[:12]


def _rate_limited(exc: RateLimitExceeded) -> Response:
    response = render_error(429, "too_many_requests", exc.description or AGAIN)
    response.headers["Retry-After"] = str(max(1, int(exc.limit.limit.get_expiry())))
    return response


def init_limits(app: Flask) -> Limiter:
    """Body limits on every endpoint and `RATE_LIMITS` on the views already registered (an
    entry naming a view this app does not have is skipped)."""
    settings: Settings = app.extensions["skillpath"].settings
    app.config["MAX_CONTENT_LENGTH"] = DEFAULT_BODY_BYTES
    app.config["MAX_FORM_PARTS"] = MAX_FORM_PARTS
    app.before_request(_apply_body_limit)
    app.register_error_handler(RequestEntityTooLarge, _too_large)

    storage_options: dict[str, Any] = {}
    if settings.redis_url:
        # Our own pool, closed with the container; short timeouts: a stalled Redis must not
        # stall every request (the limiter then counts in memory).
        pool = redis.ConnectionPool.from_url(
            settings.redis_url, socket_timeout=1, socket_connect_timeout=1
        )
        app.extensions["skillpath"].closers.append(pool.disconnect)
        storage_options["connection_pool"] = pool
    limiter = Limiter(
        client_address,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        storage_options=storage_options,
        key_prefix=_counter_prefix(settings),
        strategy="sliding-window-counter",
        # Redis away: count in this process rather than refuse or fail every request.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    for name, rule in RATE_LIMITS.items():
        value = limit_of(settings, rule)
        if value is None:
            continue
        limit = limiter.limit(
            value,
            key_func=rule.counted,
            methods=list(rule.methods) if rule.methods else None,
            error_message=rule.message,
        )
        if name.endswith(".*"):
            blueprint = app.blueprints.get(name[:-2])
            if isinstance(blueprint, Blueprint):
                limit(blueprint)
        elif name in app.view_functions:
            # flask-limiter checks a view's own limits in the wrapper it returns.
            app.view_functions[name] = limit(app.view_functions[name])  # type: ignore[assignment]
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    app.extensions[EXTENSION] = limiter
    return limiter
