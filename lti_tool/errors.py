"""Skillpath's error tree. Each error carries a human message and an HTTP status; one
handler (`lti_tool.error_pages`) renders them, as a page inside the LMS iframe or as JSON."""

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


class NotFound(SkillpathError):
    status = 404
    code = "not_found"
    default_message = "There is nothing here."


class ConfigurationError(SkillpathError):
    """Bad input to a command or an admin action; nothing was changed."""

    status = 400
    code = "invalid_configuration"
