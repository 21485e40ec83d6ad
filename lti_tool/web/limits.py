"""Rate limits (flask-limiter): one `Limiter` per app, kept in `app.extensions`, counting in
Redis when `SKILLPATH_REDIS_URL` is set (every instance shares the counts) and in memory
otherwise; the limits are a table by endpoint name.

The counters' keys start with a prefix derived from the secret key: every instance of one
installation shares it, and two installations (or two test apps) on one Redis never do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

EXTENSION = "skillpath.limiter"

# endpoint -> (limit, methods it counts, what the person is told)
LIMITS: Mapping[str, tuple[str, tuple[str, ...], str]] = {
    "admin.login": (
        "5 per minute",
        ("POST",),
        "Too many sign-in attempts from here: wait a minute, then try again.",
    ),
}


def init_limits(app: Flask) -> Limiter:
    """Build the app's limiter and apply `LIMITS` to the views already registered."""
    settings = app.extensions["skillpath"].settings
    prefix = "skillpath-limits-" + hashlib.sha256(settings.secret_key.encode()).hexdigest()[:12]
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        key_prefix=prefix,
        strategy="moving-window",
        headers_enabled=True,
        # Redis away: count in this process rather than refuse every sign-in.
        in_memory_fallback_enabled=True,
    )
    for endpoint, (limit, methods, message) in LIMITS.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            limited = limiter.limit(limit, methods=list(methods), error_message=message)(view)
            app.view_functions[endpoint] = limited  # type: ignore[assignment]
    app.extensions[EXTENSION] = limiter
    return limiter
