"""Validation of the launch message (step 2), on pylti1p3's Flask launch class.

pylti1p3 2.0 on its own accepts, among others, an `aud` list without `azp`, tokens with no
`exp`, a replayed id_token, another login's state, and claims of the wrong JSON type. Each
step below is ours where pylti1p3's is too lax; each failure is a `LaunchRejected` that says
what was wrong.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
from typing import Any, cast

import jwt
from pylti1p3.contrib.flask import FlaskMessageLaunch
from pylti1p3.exception import LtiException

from lti_tool.errors import LaunchRejected
from lti_tool.lti import claims
from lti_tool.lti.client_storage import LaunchResume, relaunch_url, storage_key, storage_target
from lti_tool.lti.login import STATE_PATTERN, login_key, refuse_inactive
from lti_tool.lti.platform_keys import PlatformKeys
from lti_tool.lti.registrations import DatabaseToolConf, SkillpathRegistration
from lti_tool.lti.vocabulary import (
    DEPLOYMENT_ID_CLAIM,
    STORAGE_TARGET_PARAM,
    TARGET_LINK_URI_CLAIM,
)
from lti_tool.storage import SharedStore

log = logging.getLogger("skillpath.launch")

MAX_ID_TOKEN_BYTES = 64 * 1024
# Three base64url segments: anything else is not a JWS in compact form.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _b64_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError, RecursionError):
        raise LaunchRejected(
            "The id_token is not a JSON Web Token.", code="malformed_token"
        ) from None


class SkillpathMessageLaunch(FlaskMessageLaunch):  # type: ignore[misc]
    def __init__(
        self,
        request: Any,
        tool_config: DatabaseToolConf,
        cookie_service: Any,
        session_service: Any,
        store: SharedStore,
        platform_keys: PlatformKeys,
        base_url: str,
        leeway_seconds: int,
        http: Any = None,
        storage_proof: str | None = None,
    ) -> None:
        # The shared HTTP session: pylti1p3 would build a new one (and its pools) per launch.
        super().__init__(
            request,
            tool_config,
            session_service=session_service,
            cookie_service=cookie_service,
            requests_session=http,
        )
        self._store = store
        self._platform_keys = platform_keys
        self._base_url = base_url
        self._leeway = leeway_seconds
        self._login: dict[str, Any] = {}
        self._client_id = ""
        self._storage_proof = storage_proof
        self._login_url = base_url.rstrip("/") + "/lti/login"

    def _body(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._jwt["body"])

    # What the log needs when a launch fails: whatever the unverified token says.
    def unverified_identity(self) -> tuple[str | None, str | None]:
        body = self._jwt.get("body") if isinstance(self._jwt, dict) else None
        if isinstance(body, dict):
            iss = body.get("iss") if isinstance(body.get("iss"), str) else None
            aud = body.get("aud")
            client = (
                aud
                if isinstance(aud, str)
                else (aud[0] if isinstance(aud, list) and aud and isinstance(aud[0], str) else None)
            )
            return iss, client
        return self._login.get("iss"), self._login.get("client_id")

    def validate(self) -> SkillpathMessageLaunch:
        self._validated = True
        try:
            self.validate_state()
            self.validate_jwt_format()
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_nonce()
            self.validate_deployment()
            self.validate_message()
            self.save_launch_data()
        except Exception:
            self._validated = False
            raise
        return self

    def validate_state(self) -> SkillpathMessageLaunch:
        state = self._get_request_param("state")
        # The state names the state cookie, so a state we could not have issued is refused
        # before any cookie is touched: nothing of the request goes into a header.
        if state and not (isinstance(state, str) and STATE_PATTERN.fullmatch(state)):
            raise LaunchRejected(
                "The launch's state is not one Skillpath issues.", code="invalid_state"
            )
        # The state cookie goes whatever happens: a state serves one launch attempt. (One the
        # request did not carry stays: a cross-site post may not bring a SameSite=Lax
        # cookie that a post from our own page then does.)
        cookie = self._cookie_service.get_cookie(state) if state else None
        if cookie is not None:
            self._cookie_service.remove_cookie(state)
        id_token = self._get_request_param("id_token")
        if not id_token:
            raise LaunchRejected("The launch carries no id_token.", code="missing_id_token")
        if len(id_token) > MAX_ID_TOKEN_BYTES:
            raise LaunchRejected(
                f"The id_token is larger than {MAX_ID_TOKEN_BYTES // 1024} KB.",
                code="oversized_token",
            )
        if not state:
            raise LaunchRejected("The launch carries no state.", code="missing_state")
        if cookie is None and self._storage_proof is None:
            raise self._missing_cookie(state, id_token)
        if cookie is not None and cookie != state:
            raise LaunchRejected(
                "The launch state does not match the login.", code="state_mismatch"
            )
        login = self._store.take(login_key(state))
        if not isinstance(login, dict):
            raise LaunchRejected(
                "This launch's login has already been used or has expired: open the link again.",
                code="state_unknown",
            )
        if cookie is None:
            # No cookie: the secret this login stored in the platform's frame must come back.
            secret = login.get("storage_secret")
            if not isinstance(secret, str) or not hmac.compare_digest(
                secret.encode(), (self._storage_proof or "").encode()
            ):
                raise LaunchRejected(
                    "The platform's storage did not confirm that this browser started the login.",
                    code="storage_mismatch",
                )
        self._login = login
        return self

    def _missing_cookie(self, state: str, id_token: str) -> LaunchRejected:
        """No state cookie: what the page answering this launch needs to finish it without
        one (the login is only looked at here, not spent)."""
        login = self._store.get(login_key(state))
        resume = None
        if isinstance(login, dict) and isinstance(login.get("relaunch"), dict):
            target = storage_target(
                self._get_request_param(STORAGE_TARGET_PARAM) or login.get("storage_target")
            )
            resume = LaunchResume(
                state=state,
                id_token=id_token,
                relaunch_url=relaunch_url(self._login_url, login["relaunch"]),
                storage_target=target,
                platform_origin=str(login.get("platform_origin") or ""),
                key=storage_key(state),
                bounced=self._get_request_param("bounced") == "1",
            )
        return LaunchRejected(
            "The browser did not send back the login cookie for this launch.",
            code="missing_state_cookie",
            admin_hint="The browser may block cookies in the LMS frame (Safari: 'Prevent cross-site tracking'); open the tool in a new window.",
            details={"resume": resume},
        )

    def validate_jwt_format(self) -> SkillpathMessageLaunch:
        id_token = self._get_request_param("id_token")
        if not _COMPACT_JWS.fullmatch(id_token):
            raise LaunchRejected("The id_token is not a JSON Web Token.", code="malformed_token")
        parts = id_token.split(".")
        header, body = _b64_json(parts[0]), _b64_json(parts[1])
        if not isinstance(body, dict):
            raise LaunchRejected(
                "The id_token's payload is not a JSON object.", code="malformed_token"
            )
        self._jwt = {"header": header, "body": body}  # type: ignore[typeddict-item]
        claims.check_text(header, body)
        claims.check_header(header)
        return self

    def get_client_id(self) -> str:
        if not self._client_id:
            self._client_id = claims.client_id_of(self._body())
        return self._client_id

    def validate_registration(self) -> SkillpathMessageLaunch:
        body = self._body()
        iss = body.get("iss")
        if not isinstance(iss, str) or not iss:
            raise LaunchRejected(
                "The launch is missing the required claim iss.", code="missing_claim"
            )
        client_id = self.get_client_id()
        if iss != self._login.get("iss"):
            raise LaunchRejected(
                "The token's issuer is not the platform that started this login.",
                code="wrong_issuer",
            )
        if client_id != self._login.get("client_id"):
            raise LaunchRejected(
                "The token is addressed to another client (aud).",
                code="wrong_audience",
                admin_hint="Check the client id registered in Skillpath for this platform.",
            )
        try:
            super().validate_registration()
        except LtiException:
            raise LaunchRejected(
                "This LMS platform is not registered with Skillpath.", code="unknown_platform"
            ) from None
        refuse_inactive(self._registration)
        return self

    def validate_jwt_signature(self) -> SkillpathMessageLaunch:
        kid = claims.check_header(self._jwt["header"])
        assert self._registration is not None, "validate_registration runs first"
        key = self._platform_keys.key_for(str(self._registration.get_key_set_url()), kid)
        try:
            jwt.decode(
                self._get_request_param("id_token"),
                key,
                algorithms=["RS256"],
                leeway=self._leeway,
                options={"require": ["exp", "iat"], "verify_aud": False, "verify_iss": False},
            )
        except jwt.ExpiredSignatureError:
            raise LaunchRejected(
                "The launch token has expired.",
                code="expired",
                admin_hint="Check the clocks of the LMS and Skillpath servers.",
            ) from None
        except jwt.ImmatureSignatureError:
            raise LaunchRejected(
                "The launch token was issued in the future (iat).",
                code="issued_in_future",
                admin_hint="Check the clocks of the LMS and Skillpath servers (SKILLPATH_JWT_LEEWAY_SECONDS).",
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchRejected(
                f"The launch is missing the required claim {exc.claim}.", code="missing_claim"
            ) from None
        except jwt.InvalidSignatureError:
            raise LaunchRejected(
                "The launch token's signature is not valid.", code="bad_signature"
            ) from None
        except jwt.InvalidTokenError as exc:
            raise LaunchRejected(
                f"The launch token is not valid ({exc}).", code="invalid_token"
            ) from None
        return self

    def validate_nonce(self) -> SkillpathMessageLaunch:
        nonce = self._body().get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise LaunchRejected(
                "The launch is missing the required claim nonce.", code="missing_nonce"
            )
        if nonce != self._login.get("nonce"):
            raise LaunchRejected(
                "The token's nonce does not belong to this login (a replayed or mixed-up launch).",
                code="nonce_mismatch",
            )
        # Single use: the nonce lived only in the login record, which validate_state took
        # (atomically, on any instance), so a second use of this token finds nothing.
        return self

    def validate_deployment(self) -> SkillpathMessageLaunch:
        deployment_id = self._body().get(DEPLOYMENT_ID_CLAIM)
        if not isinstance(deployment_id, str) or not deployment_id:
            raise LaunchRejected(
                "The launch is missing the required claim deployment_id.", code="missing_claim"
            )
        hinted = self._login.get("deployment_id")
        if hinted and hinted != deployment_id:
            raise LaunchRejected(
                "The token's deployment is not the one the login named.", code="unknown_deployment"
            )
        registration = self._registration
        if isinstance(registration, SkillpathRegistration) and (
            registration.deployment_found == deployment_id
        ):
            return self  # found with the registration, in the same query
        try:
            super().validate_deployment()
        except LtiException:
            raise LaunchRejected(
                f"The deployment {deployment_id!r} is not registered with Skillpath.",
                code="unknown_deployment",
                admin_hint=f"Add it with `skillpath deployment add --deployment-id {deployment_id} ...`.",
            ) from None
        return self

    def validate_message(self) -> SkillpathMessageLaunch:
        body = self._body()
        claims.check_message(body, self._base_url)
        claims.check_fits(claims.LaunchClaims.from_body(body, self.get_client_id()), body)
        target = body[TARGET_LINK_URI_CLAIM]
        if self._login.get("target_link_uri") and target != self._login["target_link_uri"]:
            raise LaunchRejected(
                "The token's target_link_uri differs from the one the login asked for.",
                code="foreign_target_link_uri",
            )
        try:
            super().validate_message()
        except LtiException as exc:
            raise LaunchRejected(
                f"The launch message is not valid: {exc}.", code="invalid_message"
            ) from None
        return self

    def save_launch_data(self) -> SkillpathMessageLaunch:
        # The validated claims are kept in the launch record (`flow.complete_launch`), which
        # every instance reads. Unlike pylti1p3, no "state is valid for this token" marker is
        # written: a replay must fail.
        return self

    def claims(self) -> claims.LaunchClaims:
        return claims.LaunchClaims.from_body(self._body(), self.get_client_id())

    def registration_family(self) -> str | None:
        """The LMS family the registration was given (Dynamic Registration, an admin)."""
        family = getattr(self._registration, "product_family", None)
        return family if isinstance(family, str) and family else None
