"""The one exception tree of the `xapi` package.

Every error raised by the LRS client, the statement validator or the profile loader is an
`XapiError`. Subclasses carry the request that failed (method and URL, never credentials), the
HTTP status when there was one, and a human message fit for a log line or an admin page.

Must not import flask, sqlalchemy or anything outside the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "LrsAuthError",
    "LrsConnectionError",
    "LrsHttpError",
    "LrsProtocolError",
    "LrsRejectedStatement",
    "LrsRequest",
    "LrsServerError",
    "LrsTimeout",
    "StatementInvalid",
    "XapiError",
]


@dataclass(frozen=True, slots=True)
class LrsRequest:
    """What was asked of the LRS: enough to find it in the LRS's log, no secrets."""

    method: str
    url: str

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


class XapiError(Exception):
    """Root of every error of the `xapi` package."""

    default_message = "xAPI error"

    def __init__(self, message: str | None = None, *, request: LrsRequest | None = None) -> None:
        self.message = message or self.default_message
        self.request = request
        super().__init__(self.message if request is None else f"{self.message} ({request})")


class LrsConnectionError(XapiError):
    """The LRS could not be reached, or dropped the connection before answering."""

    default_message = "The LRS could not be reached"


class LrsTimeout(LrsConnectionError):
    """The LRS did not answer within the client's timeout."""

    default_message = "The LRS did not answer in time"


class LrsProtocolError(XapiError):
    """The LRS answered something that is not valid xAPI (bad JSON, missing fields)."""

    default_message = "The LRS answered something that is not xAPI"


class LrsHttpError(XapiError):
    """The LRS answered with an HTTP error status; `status` and `body` say which."""

    default_message = "The LRS refused the request"

    def __init__(
        self,
        message: str | None = None,
        *,
        request: LrsRequest | None = None,
        status: int,
        body: str = "",
    ) -> None:
        self.status = status
        self.body = body[:2000]
        super().__init__(f"{message or self.default_message}: HTTP {status}", request=request)


class LrsAuthError(LrsHttpError):
    """401 or 403: the LRS credentials are wrong or lack a scope."""

    default_message = "The LRS refused Skillpath's credentials"


class LrsRejectedStatement(LrsHttpError):
    """400 (or a 409 that is not an identical retry): the LRS rejected the statement."""

    default_message = "The LRS rejected the statement"


class LrsServerError(LrsHttpError):
    """5xx or 429: the LRS is failing or overloaded; safe requests were retried first."""

    default_message = "The LRS is failing"


class StatementInvalid(XapiError, ValueError):
    """A statement Skillpath built (or was given to send) breaks an xAPI rule."""

    default_message = "The statement is not valid xAPI"
