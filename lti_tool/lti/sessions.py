"""The Skillpath session that a launch opens: a signed token naming the launch.

It travels in the page URL and the `Authorization` header (so it works when the browser
blocks third-party cookies), and in a cookie where cookies work.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lti_tool.errors import NotAuthenticated

SESSION_SECONDS = 8 * 3600
COOKIE_NAME = "skillpath_session"


class LaunchSessions:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="skillpath-launch-session")

    def issue(self, launch_id: str) -> str:
        return self._serializer.dumps(launch_id)

    def launch_id(self, token: str | None) -> str:
        if not token:
            raise NotAuthenticated()
        try:
            value = self._serializer.loads(token, max_age=SESSION_SECONDS)
        except SignatureExpired:
            raise NotAuthenticated(
                "Your Skillpath session has expired: open the link in your course again."
            ) from None
        except BadSignature:
            raise NotAuthenticated() from None
        if not isinstance(value, str):
            raise NotAuthenticated()
        return value
