"""The OIDC state cookie: one per login, short-lived, removed as soon as the launch uses it.

pylti1p3's own cookie service keeps one `lti1p3-state-*` cookie per login for an hour; a
browser that launches a few dozen times then sends a Cookie header that servers reject.
"""

from __future__ import annotations

from typing import Any

from pylti1p3.cookie import CookieService

STATE_COOKIE_SECONDS = 600


class StateCookies(CookieService):
    """Cookie service for pylti1p3's login and launch classes, iframe-ready on https."""

    _cookie_prefix = "skillpath"

    def __init__(self, request_cookies: dict[str, str], secure: bool) -> None:
        self._request_cookies = request_cookies
        self._secure = secure
        self._to_set: dict[str, tuple[str, int | None]] = {}
        self._to_delete: set[str] = set()

    def _name(self, key: str) -> str:
        return f"{self._cookie_prefix}-{key}"

    def get_cookie(self, name: str) -> str | None:
        return self._request_cookies.get(self._name(name))

    def set_cookie(
        self, name: str, value: str | int, exp: int | None = STATE_COOKIE_SECONDS
    ) -> None:
        self._to_set[self._name(name)] = (
            str(value),
            min(exp or STATE_COOKIE_SECONDS, STATE_COOKIE_SECONDS),
        )

    def remove_cookie(self, name: str) -> None:
        self._to_delete.add(self._name(name))

    def update_response(self, response: Any) -> None:
        options: dict[str, Any] = {"path": "/", "httponly": True, "secure": self._secure}
        if self._secure:
            # Inside the LMS iframe the launch POST is cross-site: only SameSite=None travels.
            # Partitioned (CHIPS): kept per LMS site, so browsers that block third-party
            # cookies (Chrome) still keep it for the launch in the LMS frame.
            options["samesite"] = "None"
            options["partitioned"] = True
        else:
            options["samesite"] = "Lax"
        for key, (value, max_age) in self._to_set.items():
            response.set_cookie(key, value, max_age=max_age, **options)
        for key in self._to_delete:
            response.delete_cookie(key, **options)
