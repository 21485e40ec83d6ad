"""The protocol side of the platform peer: constants, roles, the signing key parsed once, and
lti1p3platform's registration, configuration, request, OIDC login and message launch classes
bound to the peer's in-memory state. It must not import Skillpath."""

from __future__ import annotations

import base64
import html
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import abort, redirect, request
from lti1p3platform.exceptions import (
    LtiException,
)
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request as PlatformRequest
from lti1p3platform.request import TRequest

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
ROLE_SHORTHANDS: dict[str, str] = {
    "learner": LIS + "membership#Learner",
    "instructor": LIS + "membership#Instructor",
    "ta": LIS + "membership/Instructor#TeachingAssistant",
    "mentor": LIS + "membership#Mentor",
    "content_developer": LIS + "membership#ContentDeveloper",
    "administrator": LIS + "institution/person#Administrator",
}
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
# Which access-token scopes allow which AGS operation (view name, HTTP method).
AGS_OPERATION_SCOPES: dict[tuple[str, str], tuple[str, ...]] = {
    ("line_items", "GET"): (AGS_SCOPE + "lineitem", AGS_SCOPE + "lineitem.readonly"),
    ("line_items", "POST"): (AGS_SCOPE + "lineitem",),
    ("line_item", "GET"): (AGS_SCOPE + "lineitem", AGS_SCOPE + "lineitem.readonly"),
    ("line_item", "PUT"): (AGS_SCOPE + "lineitem",),
    ("line_item", "DELETE"): (AGS_SCOPE + "lineitem",),
    ("scores", "POST"): (AGS_SCOPE + "score",),
    ("results", "GET"): (AGS_SCOPE + "result.readonly",),
}
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def expand_roles(roles: str | Iterable[str]) -> list[str]:
    """Role shorthands (`learner`, `instructor`, ...) or full URIs, comma separated or listed."""
    items = roles.split(",") if isinstance(roles, str) else list(roles)
    return [
        ROLE_SHORTHANDS.get(item.strip().lower(), item.strip()) for item in items if item.strip()
    ]


def context_key(context_id: str) -> str:
    """A URL path segment for any context id (ids may hold '/' or '%')."""
    return base64.urlsafe_b64encode(context_id.encode()).decode().rstrip("=")


def context_id_of(key: str) -> str:
    return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# --- keys and registrations -------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """An RSA key parsed once, with its PEMs and its public JWK (kid as lti1p3platform names it)."""

    private_key: rsa.RSAPrivateKey
    private_pem: str
    public_pem: str
    public_jwk: dict[str, Any]

    @property
    def kid(self) -> str:
        return str(self.public_jwk["kid"])

    @classmethod
    def generate(cls) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        jwk = Registration.get_jwk(public_pem)
        jwk.setdefault("kid", uuid.uuid4().hex)
        return cls(key, private_pem, public_pem, jwk)


class PeerRegistration(Registration):
    """lti1p3platform's registration, signing with a key object parsed once. The key comes
    from `key_source` on each use so that a platform key rotation reaches every registration."""

    def __init__(self, key_source: Callable[[], SigningKey]) -> None:
        self._key_source = key_source
        self.redirect_uris: set[str] = set()

    @property
    def _signing_key(self) -> SigningKey:
        return self._key_source()

    def get_platform_private_key(self) -> str:
        return self._signing_key.private_pem

    def get_platform_public_key(self) -> str:
        return self._signing_key.public_pem

    def get_kid(self) -> str:
        return self._signing_key.kid

    def get_jwks(self) -> list[dict[str, Any]]:
        return [dict(self._signing_key.public_jwk)]

    def platform_encode_and_sign(
        self, payload: dict[str, Any], expiration: int | None = None
    ) -> str:
        if expiration:
            now = int(time.time())
            payload.update({"iat": now, "exp": now + expiration})
        return jwt.encode(
            payload,
            self._signing_key.private_key,
            algorithm="RS256",
            headers={"kid": self.get_kid()},
        )

    # The library calls this (a static method there) through the instance for access tokens.
    def encode_and_sign(  # type: ignore[override]
        self,
        payload: dict[str, Any],
        private_key: str,
        headers: Any = None,
        expiration: int | None = None,
    ) -> str:
        return self.platform_encode_and_sign(payload, expiration=expiration)

    def forget_tool_key_set(self) -> None:
        self._tool_keyset = None


class PeerPlatformConf(LTI1P3PlatformConfAbstract):
    """The platform configuration for one registration (one client_id and deployment)."""

    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        assert self._registration is not None
        return self._registration

    def get_tool_public_key(self) -> bytes:
        # A tool that rotated its key names a kid we have not seen: refetch its JWKS once.
        try:
            return super().get_tool_public_key()
        except LtiException:
            registration = self._registration
            if (
                not isinstance(registration, PeerRegistration)
                or not registration.get_tool_key_set_url()
            ):
                raise
            registration.forget_tool_key_set()
            return super().get_tool_public_key()

    def validate_token(
        self, token: str, allowed_scopes: list[str] | None = None, audience: str | None = None
    ) -> bool:
        try:
            return super().validate_token(token, allowed_scopes, audience)
        except (jwt.PyJWTError, LtiException):
            return False


# --- requests and launches --------------------------------------------------------------


class PeerRequest(PlatformRequest):
    """lti1p3platform's request wrapper around metadata this adapter has already read."""

    def build_metadata(self, request: Any) -> TRequest:
        return request  # type: ignore[no-any-return]

    @classmethod
    def from_flask(cls, *, int_params: Iterable[str] = ("page", "limit")) -> PeerRequest:
        get_data: dict[str, Any] = request.args.to_dict()
        for name in int_params:
            if name in get_data:
                try:
                    get_data[name] = int(get_data[name])
                except ValueError:
                    abort(400, f"{name} must be an integer")
        metadata: TRequest = {
            "method": request.method,
            "form_data": request.form.to_dict(),
            "get_data": get_data,
            "headers": dict(request.headers),
            "content_type": request.content_type,
            "path": request.path,
            "json": request.get_json(silent=True) if request.is_json else None,
        }
        return cls(metadata)

    @classmethod
    def from_values(cls, get_data: dict[str, Any]) -> PeerRequest:
        metadata: TRequest = {
            "method": "GET",
            "form_data": {},
            "get_data": get_data,
            "headers": {},
            "content_type": None,
            "path": "/authorize",
            "json": None,
        }
        return cls(metadata)


@dataclass(frozen=True)
class LaunchRequest:
    """What a user clicking a link in the platform launches; `lti_message_hint` points at one."""

    client_id: str
    deployment_id: str
    user_id: str = "learner-1"
    roles: tuple[str, ...] = (ROLE_SHORTHANDS["learner"],)
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    context_id: str | None = "course-1"
    context_title: str | None = "Course 1"
    context_label: str | None = None
    resource_link_id: str = "link-1"
    resource_link_title: str | None = "Link 1"
    custom: Mapping[str, str] = field(default_factory=dict)
    ags: bool = True
    ags_can_create: bool = True
    lineitem_url: str | None = None
    nrps: bool = True
    deep_link: bool = False
    target_link_uri: str | None = None
    document_target: str | None = "iframe"
    return_url: str | None = None
    product_family_code: str = "lti1p3platform"
    locale: str | None = None
    # Set by the platform when the user clicks: the lti_message_hint naming this launch.
    message_hint: str | None = None
    # Deep linking settings the platform sends (`dl_lineitem` None: it does not say).
    dl_accept_multiple: bool = True
    dl_accept_lineitem: bool | None = None
    # LTI Client Side postMessage Storage: the frame the tool may store state in.
    storage_target: str | None = None
    # Claims that replace the library's (None removes one): an LMS's own launch, as its
    # documentation shows it.
    claim_overlay: Mapping[str, Any] = field(default_factory=dict)


class PeerOIDCLogin(OIDCLoginAbstract):
    """Third-party initiated login: the 302 to the tool's OIDC login URL."""

    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> Any:
        return redirect(url, code=302)


class PeerMessageLaunch(LTIAdvantageMessageLaunchAbstract):
    """The id_token for one authorised launch, and the auto-submit form that carries it."""

    def __init__(
        self,
        req: PlatformRequest,
        platform_config: LTI1P3PlatformConfAbstract,
        launch: LaunchRequest,
        platform_base_url: str,
    ) -> None:
        super().__init__(req, platform_config)
        self._launch = launch
        self._base_url = platform_base_url

    def prepare_launch(self, preflight_response: dict[str, Any]) -> None:
        launch = self._launch
        self.set_user_data(
            launch.user_id, list(launch.roles), full_name=launch.name, email_address=launch.email
        )
        assert self.lti_claim_user_data is not None
        for claim, value in (
            ("given_name", launch.given_name),
            ("family_name", launch.family_name),
        ):
            if value:
                self.lti_claim_user_data[claim] = value
        if launch.context_id is not None:
            self.set_launch_context_claim(
                launch.context_id,
                context_types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
                context_title=launch.context_title,
                context_label=launch.context_label,
            )
        if not launch.deep_link:
            self.set_resource_link_claim(launch.resource_link_id, title=launch.resource_link_title)
        if launch.custom:
            self.set_custom_parameters_claim(dict(launch.custom))
        self.set_launch_presentation_claim(launch.document_target, launch.return_url)
        if launch.locale:
            # The library's setter has no locale; the claim is LTI 1.3's (section 5.4.5).
            presentation = dict(self.lti_claim_launch_presentation or {})
            claim = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
            presentation[claim] = {**presentation.get(claim, {}), "locale": launch.locale}
            self.lti_claim_launch_presentation = presentation
        self.set_extra_claims(
            {
                "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
                    "guid": self._base_url,
                    "name": "lti1p3platform test peer",
                    "product_family_code": launch.product_family_code,
                    "version": "0.1.8",
                }
            }
        )
        if launch.target_link_uri:
            self.set_launch_url(launch.target_link_uri)
        if launch.context_id is not None:
            key = context_key(launch.context_id)
            if launch.ags:
                self.set_ags(
                    f"{self._base_url}/ags/{key}/lineitems",
                    launch.lineitem_url,
                    allow_creating_lineitems=launch.ags_can_create,
                )
            if launch.nrps:
                self.set_nrps(f"{self._base_url}/nrps/{key}/memberships")
        if launch.deep_link:
            session = launch.message_hint or ""
            self.set_dl(
                f"{self._base_url}/deep_link_return" + (f"?launch={session}" if session else ""),
                title="Add a Skillpath activity",
                accept_types={"ltiResourceLink"},
                extra_data={"session": session} if session else None,
            )
            settings = (self._deep_linking_launch_data or {}).get(DEEP_LINKING_SETTINGS)
            if isinstance(settings, dict):
                settings["accept_multiple"] = launch.dl_accept_multiple
                if launch.dl_accept_lineitem is not None:
                    settings["accept_lineitem"] = launch.dl_accept_lineitem

    def get_launch_data(self) -> tuple[dict[str, Any], str]:
        message, state = super().get_launch_data()
        for claim, value in self._launch.claim_overlay.items():
            if value is None:
                message.pop(claim, None)
            else:
                message[claim] = value
        return message, state

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> str:
        values = {name: launch_data[name] for name in ("id_token", "state")}
        if self._launch.storage_target:
            # The platform names its storage frame in the launch too (lti-cs-oidc).
            values["lti_storage_target"] = self._launch.storage_target
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(str(value))}">'
            for name, value in values.items()
        )
        action = html.escape(str(launch_data["launch_url"]))
        return (
            "<!DOCTYPE html><html><head><title>Launching</title></head>"
            '<body onload="document.forms[0].submit()">'
            f'<form method="post" action="{action}">{fields}'
            '<noscript><button type="submit">Continue</button></noscript></form></body></html>'
        )

    def claims(self, nonce: str) -> dict[str, Any]:
        """The complete unsigned claim set this launch would sign (for crafted launches)."""
        self._registration = self._platform_config.get_registration()
        preflight = {"nonce": nonce, "state": "", "client_id": self._launch.client_id}
        self._request = PeerRequest.from_values(preflight)
        self.prepare_launch(preflight)
        claims, _state = self.get_launch_data()
        if self._dl and self._deep_linking_launch_data:
            claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] = (
                "LtiDeepLinkingRequest"
            )
            claims.update(self._deep_linking_launch_data)
        now = int(time.time())
        claims.update({"iat": now, "exp": now + self.id_token_expiration})
        return claims
