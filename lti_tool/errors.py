"""Skillpath's error tree: every error the app raises on purpose is a `SkillpathError`.

Each carries a human message, a stable `code` and an HTTP status; one handler
(`lti_tool.web.errors`) renders them, as a page inside the LMS iframe or as JSON
(`{code, status, message, errors}`). Errors of talking to a peer (`PeerError` and below) carry
what the peer answered, so the outbox and the pages can say it.

Imports nothing of ours: every layer may raise these.
"""

from __future__ import annotations

from typing import Any


class SkillpathError(Exception):
    """Root of every error Skillpath shows to a person or an API client."""

    status = 400
    code = "bad_request"
    default_message = "The request could not be handled."
    admin_hint = ""

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        admin_hint: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code
        if status:
            self.status = status
        if admin_hint is not None:
            self.admin_hint = admin_hint
        self.details = details or {}
        super().__init__(self.message)


# -- the request --------------------------------------------------------------------------


class LaunchRejected(SkillpathError):
    """An OIDC login or LTI launch that failed validation. Nothing was created."""

    status = 400
    code = "launch_rejected"
    default_message = "This launch could not be verified."
    admin_hint = (
        "Check the tool's registration in the LMS and in Skillpath (`skillpath platform list`)."
    )


class NotAuthenticated(SkillpathError):
    status = 401
    code = "not_authenticated"
    default_message = (
        "Your Skillpath session has expired or is missing: open the link in your course again."
    )


class Forbidden(SkillpathError):
    status = 403
    code = "forbidden"
    default_message = "Only the course's instructors may do this."


class NotFound(SkillpathError):
    status = 404
    code = "not_found"
    default_message = "There is nothing here."


class NoCatalog(NotFound):
    """The tenant has no catalog yet, or none with the pathway the link names (the page says
    so; it is not an error of the learner)."""

    code = "no_catalog"
    default_message = "This course has no Skillpath catalog yet."


class InvalidBody(SkillpathError):
    status = 400
    code = "invalid_body"
    default_message = "The request body is not valid."


class InvalidInput(SkillpathError):
    """A value of the request (a path segment, a field) that Skillpath cannot keep or use:
    NUL, a lone surrogate, too long. The message names the field."""

    status = 400
    code = "invalid_input"
    default_message = "The request holds a value Skillpath cannot use."


class RequestTooLarge(SkillpathError):
    status = 413
    code = "request_too_large"
    default_message = "The request is larger than Skillpath accepts here."


class RateLimited(SkillpathError):
    status = 429
    code = "too_many_requests"
    default_message = "Too many requests from here: wait a little, then try again."


class InvalidOverride(SkillpathError):
    status = 400
    code = "invalid_override"
    default_message = "This override cannot be applied."


class InvalidScore(SkillpathError):
    status = 400
    code = "invalid_score"
    default_message = "The score is not valid."


# -- configuration ------------------------------------------------------------------------


class ConfigurationError(SkillpathError):
    """Bad input to a command or an admin action; nothing was changed."""

    status = 400
    code = "invalid_configuration"


class DuplicateRegistration(ConfigurationError):
    code = "duplicate_registration"
    default_message = "That platform is already registered."


class UnknownRegistration(ConfigurationError):
    """No platform is registered under the issuer and client id a request names."""

    status = 404
    code = "unknown_registration"
    default_message = "No platform is registered under that issuer and client id."


class StorageUnavailable(SkillpathError):
    """The database could not be reached (the message names it, without its password)."""

    status = 503
    code = "storage_unavailable"
    default_message = "Skillpath's database cannot be reached just now."


class RegistrationFailed(ConfigurationError):
    """An LTI Dynamic Registration that did not complete: the message names the problem and
    what the platform answered (`platform_answer`); nothing was stored."""

    status = 400
    code = "registration_failed"
    default_message = "The registration did not complete."

    def __init__(self, message: str | None = None, *, platform_answer: str = "", **options: Any):
        super().__init__(message, **options)
        self.platform_answer = platform_answer


class StaleForm(SkillpathError):
    """An admin form sent twice, or made for another session: refused, nothing changed."""

    status = 400
    code = "stale_form"
    default_message = (
        "This form was already sent, or was made for another session: reload the page and "
        "send it again. Nothing was changed."
    )


class InvalidUpload(ConfigurationError):
    """An uploaded file refused before anything was read from it (size, encoding, characters)."""

    code = "invalid_upload"
    default_message = "The file could not be read."


class ToolKeyMissing(ConfigurationError):
    status = 503
    code = "no_tool_key"
    default_message = "The tool has no signing key: run `skillpath init`."


# -- peers: the LMS's services and the LRS ------------------------------------------------


class PeerError(SkillpathError):
    """A platform or LRS call that did not succeed. `peer_status` and `peer_body` are what
    the peer answered (None: no answer at all); `headers` its response headers."""

    status = 502
    code = "peer_error"
    default_message = "A service Skillpath depends on did not answer as expected."

    def __init__(
        self,
        message: str | None = None,
        *,
        peer_status: int | None = None,
        peer_body: str = "",
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(message, **options)
        self.peer_status = peer_status
        self.peer_body = peer_body
        self.headers = dict(headers or {})


class TokenRequestFailed(PeerError):
    """The platform's token endpoint refused or could not be reached."""

    code = "token_request_failed"


class ServiceCallFailed(PeerError):
    """An LTI Advantage service (AGS, NRPS) answered with something other than success."""

    code = "service_call_failed"


class GradeSyncUnavailable(PeerError):
    code = "grade_sync_unavailable"
    default_message = "The LMS gradebook could not be read just now; try again in a minute."


class RosterUnavailable(PeerError):
    """The roster could not be read whole; the instructor sees the message."""

    code = "roster_unavailable"
    default_message = (
        "The class list could not be read from the LMS just now, so none is shown rather "
        "than an incomplete one. Try again in a minute."
    )


class StoreUnavailable(SkillpathError):
    """The shared store (Redis) does not answer: logins and launches cannot be checked now."""

    status = 503
    code = "store_unavailable"
    default_message = (
        "Skillpath cannot reach its session store just now, so it cannot check this launch. "
        "Please wait a minute and open the link again."
    )
    admin_hint = (
        "The shared store (SKILLPATH_REDIS_URL) is not answering; /readyz says the same. "
        "Launches work again as soon as it is back."
    )


class DatabaseUnavailable(SkillpathError):
    """The database does not answer (restarting, network): nothing can be read or saved."""

    status = 503
    code = "database_unavailable"
    default_message = (
        "Skillpath cannot reach its database just now. Nothing was lost; please wait a "
        "minute and open the link again."
    )
    admin_hint = "The database (SKILLPATH_DATABASE_URL) is not answering; /readyz says the same."
