"""OIDC third-party initiated login (step 1 of a launch), on pylti1p3's Flask login class.

The login record (nonce, issuer, client id, target) is kept in the shared store under the
state, so whichever instance receives the launch can check that the token answers *this*
login, once.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any
from urllib.parse import urlencode

from pylti1p3.contrib.flask import FlaskOIDCLogin
from pylti1p3.exception import OIDCException

from lti_tool.errors import LaunchRejected
from lti_tool.inputs import IDENTIFIER_LENGTH, text_problem
from lti_tool.lti.claims import is_our_url
from lti_tool.lti.client_storage import (
    RELAUNCH_PARAMS,
    StorageLogin,
    origin_of,
    storage_key,
    storage_target,
)
from lti_tool.lti.cookies import STATE_COOKIE_SECONDS
from lti_tool.lti.registrations import DatabaseToolConf
from lti_tool.lti.vocabulary import STORAGE_TARGET_PARAM
from lti_tool.storage import REGISTRATION_ACTIVE, REGISTRATION_PENDING, SharedStore

log = logging.getLogger("skillpath.launch")


# The states this login issues ("state-" and 32 URL-safe characters); a launch naming
# anything else is refused before its state names a cookie.
STATE_PATTERN = re.compile(r"state-[A-Za-z0-9_-]{16,64}")

# What each login parameter may hold. The hints go back to the platform in the redirect's
# Location header (OIDC requires it), so they are bounded too.
PARAMETER_LENGTHS = {
    "iss": IDENTIFIER_LENGTH,
    "client_id": IDENTIFIER_LENGTH,
    "lti_deployment_id": IDENTIFIER_LENGTH,
    "target_link_uri": 2048,
    "login_hint": 4096,
    "lti_message_hint": 4096,
}


def login_key(state: str) -> str:
    return "login:" + state


def refuse_inactive(registration: Any) -> None:
    """A registration waiting for approval, or disabled, may not log in or launch."""
    status = getattr(registration, "status", REGISTRATION_ACTIVE)
    if status == REGISTRATION_PENDING:
        raise LaunchRejected(
            "Skillpath is installed in this LMS but waits for its administrator's approval.",
            code="registration_pending",
            status=403,
            admin_hint="Approve the registration in Skillpath's admin console (/admin).",
        )
    if status != REGISTRATION_ACTIVE:
        raise LaunchRejected(
            "Skillpath's administrator has disabled this LMS platform.",
            code="registration_disabled",
            status=403,
            admin_hint="Enable the registration again in Skillpath's admin console (/admin).",
        )


class SkillpathOIDCLogin(FlaskOIDCLogin):  # type: ignore[misc]
    def __init__(
        self,
        request: Any,
        tool_config: DatabaseToolConf,
        cookie_service: Any,
        store: SharedStore,
        base_url: str,
    ) -> None:
        super().__init__(request, tool_config, cookie_service=cookie_service)
        self._store = store
        self._base_url = base_url
        self.storage_login: StorageLogin | None = None

    def _param(self, key: str) -> str | None:
        value = self._get_request_param(key)
        return value if isinstance(value, str) and value else None

    def check_parameters(self) -> None:
        """Each parameter Skillpath reads must be text it can keep and send on."""
        for name, limit in PARAMETER_LENGTHS.items():
            value = self._get_request_param(name)
            problem = text_problem(value, limit) if isinstance(value, str) else None
            if problem:
                raise LaunchRejected(
                    f"The login parameter {name} {problem}.", code="invalid_login_parameter"
                )

    def validate_oidc_login(self) -> Any:
        self.check_parameters()
        iss = self._param("iss")
        client_id = self._param("client_id")
        if not iss:
            raise LaunchRejected("The login request names no issuer (iss).", code="missing_iss")
        if not self._param("login_hint"):
            raise LaunchRejected("The login request has no login_hint.", code="missing_login_hint")
        try:
            registration = super().validate_oidc_login()
        except OIDCException:
            registration = None
        if registration is None:
            hint = (
                f"Register it with `skillpath platform add --issuer {iss}"
                + (f" --client-id {client_id}" if client_id else "")
                + " ...`."
            )
            if not client_id:
                hint += (
                    " If this issuer has several registrations, the platform must send client_id."
                )
            raise LaunchRejected(
                "This LMS platform is not registered with Skillpath.",
                code="unknown_platform",
                status=400,
                admin_hint=hint,
            )
        refuse_inactive(registration)
        return registration

    def _prepare_redirect_url(self, launch_url: str) -> str:
        registration = self.validate_oidc_login()
        self._registration = registration
        target = self._param("target_link_uri")
        if target is None:
            raise LaunchRejected(
                "The login request has no target_link_uri.", code="missing_target_link_uri"
            )
        if not is_our_url(target, self._base_url):
            raise LaunchRejected(
                "The login asks to open a URL that is not this Skillpath installation.",
                code="foreign_target_link_uri",
                admin_hint=f"Set the tool's target link URI in the LMS to an address under {self._base_url}.",
            )
        state = "state-" + secrets.token_urlsafe(24)
        nonce = secrets.token_urlsafe(24)
        # Third-party cookies may be blocked: a secret of this login for the platform's
        # storage frame, where it names one, and what a new window needs to start over.
        target_frame = storage_target(self._param(STORAGE_TARGET_PARAM))
        secret = secrets.token_urlsafe(24)
        platform_origin = origin_of(str(registration.get_auth_login_url()))
        self._store.put(
            login_key(state),
            {
                "nonce": nonce,
                "iss": registration.get_issuer(),
                "client_id": registration.get_client_id(),
                "target_link_uri": target,
                "deployment_id": self._param("lti_deployment_id"),
                "storage_target": target_frame,
                "storage_secret": secret,
                "platform_origin": platform_origin,
                "relaunch": {name: self._param(name) or "" for name in RELAUNCH_PARAMS},
            },
            STATE_COOKIE_SECONDS,
        )
        self._cookie_service.set_cookie(state, state, STATE_COOKIE_SECONDS)
        params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": registration.get_client_id(),
            "redirect_uri": launch_url,
            "state": state,
            "nonce": nonce,
            "login_hint": self._param("login_hint"),
        }
        message_hint = self._param("lti_message_hint")
        if message_hint:
            params["lti_message_hint"] = message_hint
        auth_url = registration.get_auth_login_url()
        separator = "&" if "?" in auth_url else "?"
        redirect_url = str(auth_url) + separator + urlencode(params)
        self.storage_login = (
            StorageLogin(redirect_url, target_frame, platform_origin, storage_key(state), secret)
            if target_frame
            else None
        )
        return redirect_url

    def prepare(self, launch_url: str) -> str:
        """Validate the login request and store the login; the platform URL to go on to
        (`storage_login` says what to store in the platform's frame first, if anything)."""
        return self._prepare_redirect_url(launch_url)
