"""A real LTI 1.3 platform peer for tests and benchmarks, served over HTTP on 127.0.0.1.

The protocol is `lti1p3platform`'s (PyPI): its OIDC login builds the redirect to the tool,
its message launch builds and signs the id_token, its platform configuration issues and
checks access tokens, and its AGS and NRPS services answer the service calls. This module
is only what that library leaves to a framework adapter: the HTTP glue (Flask), the state a
platform keeps (registrations, pending launches, a gradebook, rosters) held in memory, and a
signing key parsed once (the library re-parses its PEM on every signature, tens of ms).

It must not import Skillpath: it is the other side of the wire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, abort, redirect, request
from lti1p3platform.exceptions import (
    LineItemNotFoundException,
    LtiException,
    LtiServiceException,
    MissingRequiredClaim,
    PreflightRequestValidationException,
    UnsupportedGrantType,
)
from lti1p3platform.lineitem import TLineItem
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request as PlatformRequest
from lti1p3platform.request import TRequest
from lti1p3platform.response import Response as ServiceResponse
from lti1p3platform.score import TScore, UpdateScoreStatus
from lti1p3platform.service_connector import (
    AssignmentsGradesService,
    NamesRoleProvisioningService,
    TPage,
)
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

__all__ = [
    "AGS_CLAIM",
    "NRPS_CLAIM",
    "ROLE_SHORTHANDS",
    "Gradebook",
    "LaunchRequest",
    "PlatformPeer",
    "Roster",
    "ScorePost",
    "SigningKey",
    "expand_roles",
    "launch_query",
]

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
            self.set_dl(
                f"{self._base_url}/deep_link_return",
                title="Add a Skillpath activity",
                accept_types={"ltiResourceLink"},
            )

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> str:
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(str(launch_data[name]))}">'
            for name in ("id_token", "state")
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


# --- the platform's state: gradebook and rosters ----------------------------------------


@dataclass(frozen=True)
class ScorePost:
    """One score a tool posted, as the platform received it, in arrival order."""

    line_item_id: str
    user_id: str
    score: dict[str, Any]
    client_id: str | None
    received_at: float
    accepted: bool


class Gradebook:
    """Line items and every posted score, kept in memory; safe across server threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._line_items: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, str] = {}  # line item id -> context id
        self._posts: list[ScorePost] = []
        # (line item, user) -> their posts: a platform looks a user's score up by key, and so
        # must this one, or each post would cost a scan of every post before it.
        self._by_key: dict[tuple[str, str], list[ScorePost]] = {}
        self._next_id = 1
        # Users the platform refuses to grade (Moodle's non-gradable users): 422 on a score.
        self.ungradable_users: set[str] = set()

    def clear(self) -> None:
        with self._lock:
            self._line_items.clear()
            self._owners.clear()
            self._posts.clear()
            self._by_key.clear()
            self.ungradable_users.clear()

    # reading, for tests
    def line_items(self, context_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                dict(item)
                for item_id, item in self._line_items.items()
                if context_id is None or self._owners[item_id] == context_id
            ]

    def line_item(self, line_item_id: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._line_items.get(line_item_id)
            return dict(item) if item is not None else None

    def find_line_items(self, **match: Any) -> list[dict[str, Any]]:
        """Line items whose fields equal all of `match` (e.g. tag=..., resourceLinkId=...)."""
        return [i for i in self.line_items() if all(i.get(k) == v for k, v in match.items())]

    def posts(self, line_item_id: str | None = None, user_id: str | None = None) -> list[ScorePost]:
        """Every score post received (accepted or not), oldest first."""
        with self._lock:
            if line_item_id is not None and user_id is not None:
                return list(self._by_key.get((line_item_id, user_id), ()))
            return [
                p
                for p in self._posts
                if (line_item_id is None or p.line_item_id == line_item_id)
                and (user_id is None or p.user_id == user_id)
            ]

    def scores(self, line_item_id: str, user_id: str) -> list[dict[str, Any]]:
        """Every accepted score for (line item, user), in the order received."""
        return [p.score for p in self.posts(line_item_id, user_id) if p.accepted]

    def latest_score(self, line_item_id: str, user_id: str) -> dict[str, Any] | None:
        scores = self.scores(line_item_id, user_id)
        return scores[-1] if scores else None

    def results(self, line_item_id: str) -> list[dict[str, Any]]:
        """AGS result objects: the latest accepted score of each user of the line item."""
        latest: dict[str, dict[str, Any]] = {}
        for post in self.posts(line_item_id):
            if post.accepted:
                latest[post.user_id] = post.score
        out = []
        for user_id, score in latest.items():
            result: dict[str, Any] = {
                "id": f"{line_item_id}/results/{user_id}",
                "scoreOf": line_item_id,
                "userId": user_id,
            }
            if "scoreGiven" in score:
                result["resultScore"] = score["scoreGiven"]
                result["resultMaximum"] = score.get("scoreMaximum")
            if "comment" in score:
                result["comment"] = score["comment"]
            out.append(result)
        return out

    # writing, for the AGS service
    def create_line_item(
        self, context_id: str, lineitems_url: str, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            item_id = f"{lineitems_url}/{self._next_id}"
            self._next_id += 1
            item = {k: v for k, v in data.items() if k != "id"}
            item["id"] = item_id
            self._line_items[item_id] = item
            self._owners[item_id] = context_id
            return dict(item)

    def update_line_item(self, line_item_id: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            if line_item_id not in self._line_items:
                return None
            item = {k: v for k, v in data.items() if k != "id"}
            item["id"] = line_item_id
            self._line_items[line_item_id] = item
            return dict(item)

    def delete_line_item(self, line_item_id: str) -> bool:
        with self._lock:
            self._owners.pop(line_item_id, None)
            return self._line_items.pop(line_item_id, None) is not None

    def record_score(self, post: ScorePost) -> None:
        with self._lock:
            self._posts.append(post)
            self._by_key.setdefault((post.line_item_id, post.user_id), []).append(post)

    def owner_of(self, line_item_id: str) -> str | None:
        with self._lock:
            return self._owners.get(line_item_id)


class Roster:
    """Members per context, as NRPS reports them; launches enrol the launching user."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._members: dict[str, dict[str, dict[str, Any]]] = {}
        self._titles: dict[str, tuple[str, str]] = {}
        self._links: dict[str, set[str]] = {}

    def clear(self) -> None:
        with self._lock:
            self._members.clear()
            self._titles.clear()
            self._links.clear()

    def set_members(self, context_id: str, members: Iterable[Mapping[str, Any]]) -> None:
        """Replace a context's members: dicts with `user_id`, `roles` (shorthands allowed),
        and optionally `name`, `given_name`, `family_name`, `email`, `status`."""
        with self._lock:
            self._members[context_id] = {}
            for member in members:
                self.add(context_id, **member)

    def add(
        self, context_id: str, user_id: str, roles: str | Iterable[str] = "learner", **attrs: Any
    ) -> None:
        member = {"user_id": user_id, "roles": expand_roles(roles), "status": "Active"}
        member.update({k: v for k, v in attrs.items() if v is not None})
        with self._lock:
            self._members.setdefault(context_id, {})[user_id] = member

    def members(self, context_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._members.get(context_id, {}).values()]

    def set_context(self, context_id: str, title: str = "", label: str = "") -> None:
        with self._lock:
            self._titles[context_id] = (title, label)

    def context(self, context_id: str) -> tuple[str, str]:
        with self._lock:
            return self._titles.get(context_id, ("", ""))

    def add_link(self, context_id: str, resource_link_id: str) -> None:
        with self._lock:
            self._links.setdefault(context_id, set()).add(resource_link_id)

    def has_link(self, context_id: str, resource_link_id: str) -> bool:
        with self._lock:
            return resource_link_id in self._links.get(context_id, set())

    def enrol_launch(self, launch: LaunchRequest) -> None:
        if launch.context_id is None:
            return
        with self._lock:
            if launch.context_title and launch.context_id not in self._titles:
                self._titles[launch.context_id] = (launch.context_title, launch.context_label or "")
            self.add_link(launch.context_id, launch.resource_link_id)
            if launch.user_id not in self._members.get(launch.context_id, {}):
                self.add(
                    launch.context_id,
                    launch.user_id,
                    list(launch.roles),
                    name=launch.name,
                    given_name=launch.given_name,
                    family_name=launch.family_name,
                    email=launch.email,
                )


# --- AGS and NRPS: lti1p3platform's services over the gradebook and rosters -------------


def _parse_timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise LtiServiceException("timestamp must be an ISO 8601 string", 400)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise LtiServiceException(f"timestamp is not ISO 8601: {value!r}", 400) from exc
    if parsed.tzinfo is None:
        raise LtiServiceException("timestamp must carry a time zone offset", 400)
    return parsed


def _page(items: list[Any], page: int, limit: int | None) -> TPage:
    if not limit or limit <= 0:
        return {"content": items, "has_next": False, "next": None}
    start = (max(page, 1) - 1) * limit
    return {
        "content": items[start : start + limit],
        "has_next": start + limit < len(items),
        "next": None,
    }


class PeerAgsService(AssignmentsGradesService):
    """AGS line items, scores and results for one context, stored in the gradebook."""

    def __init__(
        self,
        req: PlatformRequest,
        platform_config: LTI1P3PlatformConfAbstract,
        *,
        gradebook: Gradebook,
        context_id: str,
        lineitems_url: str,
        lineitem_url: str | None = None,
        client_id: str | None = None,
        required_scopes: list[str] | None = None,
    ) -> None:
        super().__init__(req, platform_config, lineitems_url, lineitem_url)
        self._gradebook = gradebook
        self._context_id = context_id
        self._client_id = client_id
        self._required_scopes = required_scopes

    @property
    def allowed_scopes(self) -> list[str]:
        # The library accepts any AGS scope for every operation; a platform checks the one
        # the operation needs, so a tool that asks for too few scopes is caught here.
        return self._required_scopes or super().allowed_scopes

    def _item(self, line_item_id: str) -> dict[str, Any]:
        item = self._gradebook.line_item(line_item_id)
        if item is None or self._gradebook.owner_of(line_item_id) != self._context_id:
            raise LineItemNotFoundException(line_item_id)
        return item

    def find_lineitems(  # type: ignore[override]
        self,
        page: int = 1,
        limit: int | None = None,
        line_item_id: str | None = None,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        **_ignored: Any,
    ) -> TPage:
        wanted = {
            "resourceLinkId": resource_link_id,
            "resourceId": resource_id,
            "tag": tag,
            "id": line_item_id,
        }
        items = [
            item
            for item in self._gradebook.line_items(self._context_id)
            if all(v is None or item.get(k) == v for k, v in wanted.items())
        ]
        return _page(items, page, limit)

    def find_lineitem(self, line_item_id: str) -> TLineItem:
        return self._item(line_item_id)  # type: ignore[return-value]

    def create_lineitem(self, creation_data: TLineItem) -> TLineItem:
        data = dict(creation_data) if isinstance(creation_data, dict) else {}
        self._check_line_item(data)
        return self._gradebook.create_line_item(  # type: ignore[return-value]
            self._context_id, self.ags.lineitems_url or "", data
        )

    def update_lineitem(self, update_data: TLineItem) -> TLineItem:
        data = dict(update_data)
        self._item(str(data["id"]))
        self._check_line_item(data)
        updated = self._gradebook.update_line_item(str(data["id"]), data)
        if updated is None:
            raise LineItemNotFoundException(data["id"])
        return updated  # type: ignore[return-value]

    def delete_lineitem(self, line_item_id: str) -> None:
        self._item(line_item_id)
        self._gradebook.delete_line_item(line_item_id)

    @staticmethod
    def _check_line_item(data: Mapping[str, Any]) -> None:
        maximum = data.get("scoreMaximum")
        if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
            raise LtiServiceException("scoreMaximum must be a number greater than 0", 400)
        if not isinstance(data.get("label"), str) or not data["label"]:
            raise LtiServiceException("label is required", 400)

    def update_score(self, line_item_id: str, score: TScore) -> UpdateScoreStatus:
        self._item(line_item_id)
        if not isinstance(score, dict):
            raise LtiServiceException("a score must be a JSON object", 400)
        user_id = score.get("userId")
        if not isinstance(user_id, str) or not user_id:
            raise LtiServiceException("userId is required", 400)
        for name in ("activityProgress", "gradingProgress", "timestamp"):
            if name not in score:
                raise LtiServiceException(f"{name} is required", 400)
        timestamp = _parse_timestamp(score["timestamp"])
        if "scoreGiven" in score:
            given, maximum = score.get("scoreGiven"), score.get("scoreMaximum")
            if not isinstance(maximum, int | float) or maximum <= 0:
                raise LtiServiceException("scoreMaximum is required with scoreGiven and > 0", 400)
            if not isinstance(given, int | float) or given < 0:
                raise LtiServiceException("scoreGiven must be a number >= 0", 400)
        if user_id in self._gradebook.ungradable_users:
            raise LtiServiceException(f"User {user_id} cannot be graded in this course", 422)
        previous = self._gradebook.scores(line_item_id, user_id)
        stale = bool(previous) and _parse_timestamp(previous[-1]["timestamp"]) > timestamp
        self._gradebook.record_score(
            ScorePost(line_item_id, user_id, dict(score), self._client_id, time.time(), not stale)
        )
        if stale:
            return UpdateScoreStatus.OLD_TIMESTAMP
        return UpdateScoreStatus.SUCCESS if previous else UpdateScoreStatus.CREATED

    def get_results(  # type: ignore[override]
        self,
        line_item_id: str,
        page: int = 1,
        limit: int | None = None,
        user_id: str | None = None,
        **_ignored: Any,
    ) -> TPage:
        self._item(line_item_id)
        results = [
            r for r in self._gradebook.results(line_item_id) if user_id in (None, r["userId"])
        ]
        return _page(results, page, limit)


class PeerNrpsService(NamesRoleProvisioningService):
    """NRPS context memberships from the roster, paged."""

    def __init__(
        self,
        req: PlatformRequest,
        platform_config: LTI1P3PlatformConfAbstract,
        *,
        roster: Roster,
        context_id: str,
        context_memberships_url: str,
    ) -> None:
        super().__init__(req, platform_config, context_memberships_url)
        self._roster = roster
        self._context_id = context_id

    def get_member_data_page(  # type: ignore[override]
        self,
        page: int = 1,
        limit: int | None = None,
        role: str | None = None,
        since: str | None = None,
        **_ignored: Any,
    ) -> TPage:
        members = self._roster.members(self._context_id)
        if role:
            wanted = expand_roles(role)[0]
            members = [m for m in members if wanted in m["roles"]]
        return _page(members, page, limit)

    def get_context_by_id(self) -> Context:
        title, label = self._roster.context(self._context_id)
        return Context(id=self._context_id, label=label, title=title)

    def is_resource_link_valid(self, context_id: str, resource_link_id: str) -> bool:
        return self._roster.has_link(context_id, resource_link_id)


def render_service_response(resp: ServiceResponse, link_style: str = "next") -> Response:
    """lti1p3platform's service result as HTTP: JSON body, paging as a `Link` header.

    `link_style`: "next" (one link), "multi" (a `rel="first"` link before the next one, as
    platforms that send several links in one header do), "none" (no header: older Open edX).
    """
    if resp.code >= 400:
        return Response(json.dumps({"error": resp.message}), resp.code, mimetype="application/json")
    if resp.result is None or resp.code == 204:
        return Response(status=resp.code)
    body, next_url = resp.result, None
    if isinstance(body, dict) and "content" in body and "has_next" in body:
        body, next_url = body["content"], body.get("next")
    elif isinstance(body, dict) and "next" in body:
        body = dict(body)
        next_url = body.pop("next")
    out = Response(json.dumps(body), resp.code, content_type=resp.media_type)
    if next_url and link_style != "none":
        links = [f'<{next_url}>; rel="next"']
        if link_style == "multi":
            first = urlsplit(next_url)
            query = [(k, v) for k, v in parse_qsl(first.query) if k != "page"] + [("page", "1")]
            links.insert(0, f'<{urlunsplit(first._replace(query=urlencode(query)))}>; rel="first"')
        out.headers["Link"] = ", ".join(links)
    return out


# --- launch parameters ------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}


def launch_query(**params: Any) -> str:
    """The query string for the peer's `GET /launch`.

    Keys: client_id, deployment_id, user, roles (shorthands or URIs, str or list), name,
    given_name, family_name, email, context_id ("" for no context), context_title,
    context_label, resource_link_id, resource_link_title, custom (a dict), ags, ags_can_create,
    lineitem (the platform makes a line item for the link), lineitem_score_maximum, nrps,
    deep_link, target_link_uri, document_target, return_url, product_family_code.
    """
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        if name == "custom":
            pairs.extend((f"custom_{k}", str(v)) for k, v in dict(value).items())
        elif name == "roles" and not isinstance(value, str):
            pairs.append(("roles", ",".join(value)))
        elif isinstance(value, bool):
            pairs.append((name, "1" if value else "0"))
        else:
            pairs.append((name, str(value)))
    return urlencode(pairs)


def _launch_from_params(
    params: Mapping[str, str], client_id: str, deployment_id: str
) -> LaunchRequest:
    def flag(name: str, default: bool) -> bool:
        return params[name].lower() in _TRUE if name in params else default

    def text(name: str, default: str | None = None) -> str | None:
        return params.get(name, default) or None

    context_id = params.get("context_id", "course-1")
    return LaunchRequest(
        client_id=client_id,
        deployment_id=deployment_id,
        user_id=params.get("user", params.get("user_id", "learner-1")),
        roles=tuple(expand_roles(params.get("roles", params.get("role", "learner")))),
        name=text("name"),
        given_name=text("given_name"),
        family_name=text("family_name"),
        email=text("email"),
        context_id=context_id or None,
        context_title=text("context_title", "Course 1"),
        context_label=text("context_label"),
        resource_link_id=params.get("resource_link_id", "link-1"),
        resource_link_title=text("resource_link_title", "Link 1"),
        custom={k[len("custom_") :]: v for k, v in params.items() if k.startswith("custom_")},
        ags=flag("ags", True),
        ags_can_create=flag("ags_can_create", True),
        nrps=flag("nrps", True),
        deep_link=flag("deep_link", False),
        target_link_uri=text("target_link_uri"),
        document_target=text("document_target", "iframe"),
        return_url=text("return_url"),
        product_family_code=params.get("product_family_code", "lti1p3platform"),
    )


# --- the peer ---------------------------------------------------------------------------


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request (they would drown test output and slow benchmarks)."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class PlatformPeer:
    """An LTI 1.3 platform on 127.0.0.1: one issuer, any number of registered tools.

    `start()` before use, `stop()` after (or use it as a context manager).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        nrps_page_size: int | None = None,
        id_token_lifetime: int = 300,
    ) -> None:
        self.host = host
        self.nrps_page_size = nrps_page_size
        # "next", "multi" (first + next links in one header) or "none" (no Link header)
        self.nrps_link_style = "next"
        self.id_token_lifetime = id_token_lifetime
        self.key = SigningKey.generate()
        self.retired_keys: list[SigningKey] = []
        self.gradebook = Gradebook()
        self.roster = Roster()
        self.deep_link_responses: list[list[dict[str, Any]]] = []
        self.tokens_issued: list[dict[str, Any]] = []
        self.stats: Counter[str] = Counter()
        self._registrations: dict[tuple[str, str], PeerRegistration] = {}
        self._launches: dict[str, LaunchRequest] = {}
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url = ""
        self.app = self._make_app()

    # lifecycle
    def start(self) -> PlatformPeer:
        if self._server is not None:
            return self
        server = make_server(
            self.host, 0, self.app, threaded=True, request_handler=_QuietRequestHandler
        )
        self._server = server
        self._base_url = f"http://{self.host}:{server.server_port}"
        self._thread = threading.Thread(
            target=server.serve_forever, name="lti-platform-peer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server.server_close()
        self._server = None
        self._thread = None

    def __enter__(self) -> PlatformPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # where it is
    @property
    def issuer(self) -> str:
        if not self._base_url:
            raise RuntimeError("PlatformPeer is not started")
        return self._base_url

    base_url = issuer

    @property
    def auth_login_url(self) -> str:
        return f"{self.issuer}/authorize"

    @property
    def auth_token_url(self) -> str:
        return f"{self.issuer}/token"

    @property
    def keyset_url(self) -> str:
        return f"{self.issuer}/jwks"

    @property
    def private_key_pem(self) -> str:
        return self.key.private_pem

    @property
    def public_key_pem(self) -> str:
        return self.key.public_pem

    @property
    def kid(self) -> str:
        return self.key.kid

    def jwks(self) -> dict[str, Any]:
        """The published key set: the signing key, then keys retired by `rotate_key`."""
        return {"keys": [dict(k.public_jwk) for k in (self.key, *self.retired_keys)]}

    def rotate_key(self, *, keep_old_published: bool = True) -> SigningKey:
        """Sign with a new key from now on (a new kid); the old key stays in the JWKS unless
        `keep_old_published` is False. Access tokens signed by the old key stop working."""
        old, self.key = self.key, SigningKey.generate()
        if keep_old_published:
            self.retired_keys.insert(0, old)
        return self.key

    # registrations
    def register_tool(
        self,
        client_id: str,
        deployment_id: str,
        login_url: str,
        launch_url: str,
        jwks_url: str,
        deep_link_url: str | None = None,
        redirect_uris: Iterable[str] = (),
    ) -> None:
        """Register (or replace) a tool deployment. Redirect URIs allowed at /authorize are
        the launch URL, the deep linking URL and `redirect_uris`."""
        registration = PeerRegistration(lambda: self.key)
        registration.set_iss(self.issuer).set_client_id(client_id).set_deployment_id(deployment_id)
        registration.set_oidc_login_url(login_url).set_launch_url(launch_url)
        registration.set_tool_key_set_url(jwks_url)
        if deep_link_url:
            registration.set_deeplink_launch_url(deep_link_url)
        registration.redirect_uris = {
            launch_url,
            *([deep_link_url] if deep_link_url else []),
            *redirect_uris,
        }
        with self._lock:
            self._registrations[(client_id, deployment_id)] = registration

    def unregister_tool(self, client_id: str, deployment_id: str | None = None) -> None:
        with self._lock:
            for key in [
                k
                for k in self._registrations
                if k[0] == client_id and deployment_id in (None, k[1])
            ]:
                del self._registrations[key]

    def registration(
        self, client_id: str, deployment_id: str | None = None
    ) -> PeerRegistration | None:
        with self._lock:
            for (cid, did), registration in self._registrations.items():
                if cid == client_id and deployment_id in (None, did):
                    return registration
        return None

    def platform_settings(self, client_id: str, deployment_id: str | None = None) -> dict[str, Any]:
        """What a tool admin copies from the platform: issuer, client_id, deployment ids, URLs."""
        with self._lock:
            deployments = [d for (c, d) in self._registrations if c == client_id]
        return {
            "issuer": self.issuer,
            "client_id": client_id,
            "deployment_ids": [deployment_id] if deployment_id else deployments,
            "auth_login_url": self.auth_login_url,
            "auth_token_url": self.auth_token_url,
            "key_set_url": self.keyset_url,
        }

    # launches
    def launch_url(self, **params: Any) -> str:
        """URL of `GET /launch` that starts a launch; see `launch_query` for the parameters."""
        return f"{self.issuer}/launch?{launch_query(**params)}"

    def learner_launch_url(self, **params: Any) -> str:
        return self.launch_url(**{"roles": "learner", **params})

    def instructor_launch_url(self, **params: Any) -> str:
        return self.launch_url(**{"roles": "instructor", "user": "instructor-1", **params})

    def default_claims(self, nonce: str | None = None, **params: Any) -> dict[str, Any]:
        """A complete, valid, unsigned claim set of a launch (same params as `launch_url`),
        built by lti1p3platform exactly as `/authorize` would, for tests to mutate and sign."""
        launch, registration = self._new_launch(
            {k: v for k, v in _query_pairs(launch_query(**params))}
        )
        message = PeerMessageLaunch(
            PeerRequest.from_values({}),
            PeerPlatformConf(registration=registration),
            launch,
            self.issuer,
        )
        message.set_id_token_expiration(self.id_token_lifetime)
        if launch.deep_link and registration.get_deeplink_launch_url():
            message.set_launch_url(
                launch.target_link_uri or registration.get_deeplink_launch_url() or ""
            )
        return message.claims(nonce or uuid.uuid4().hex)

    def sign_id_token(
        self,
        claims: Mapping[str, Any],
        headers: Mapping[str, Any] | None = None,
        key: Any = None,
        alg: str = "RS256",
    ) -> str:
        """Sign `claims` as a JWT. Defaults: the platform's key and its kid. `headers` replaces
        the default `{"kid": ...}`. `alg="none"` gives an unsigned token; HS* algorithms sign
        with `key` as the HMAC secret even when it is a PEM (the classic key-confusion attack)."""
        header = dict(headers) if headers is not None else {"kid": self.kid}
        if alg.lower() == "none" or alg.upper().startswith("HS"):
            secret = key.encode() if isinstance(key, str) else (key or b"")
            head = _b64url(json.dumps({"typ": "JWT", **header, "alg": alg}).encode())
            body = _b64url(json.dumps(dict(claims)).encode())
            if alg.lower() == "none":
                return f"{head}.{body}."
            digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[
                alg.upper()
            ]
            signature = hmac.new(secret, f"{head}.{body}".encode(), digest).digest()
            return f"{head}.{body}.{_b64url(signature)}"
        signing_key = self.key.private_key if key is None else key
        if isinstance(signing_key, SigningKey):
            signing_key = signing_key.private_key
        return jwt.encode(dict(claims), signing_key, algorithm=alg, headers=header)

    def reset(self) -> None:
        """Forget grades, rosters, deep linking answers, issued tokens and counters."""
        self.gradebook.clear()
        self.roster.clear()
        self.deep_link_responses.clear()
        self.tokens_issued.clear()
        self.stats.clear()

    def _new_launch(self, params: Mapping[str, str]) -> tuple[LaunchRequest, PeerRegistration]:
        with self._lock:
            candidates = [
                k
                for k in self._registrations
                if k[0] == params.get("client_id", k[0])
                and k[1] == params.get("deployment_id", k[1])
            ]
        if not candidates:
            raise LookupError("no tool registered for this client_id / deployment_id")
        client_id, deployment_id = candidates[0]
        registration = self._registrations[(client_id, deployment_id)]
        launch = _launch_from_params(params, client_id, deployment_id)
        if params.get("lineitem", "").lower() in _TRUE and launch.context_id is not None:
            launch = replace(launch, lineitem_url=self._coupled_line_item(launch, params))
        return launch, registration

    def _coupled_line_item(self, launch: LaunchRequest, params: Mapping[str, str]) -> str:
        assert launch.context_id is not None
        found = [
            item
            for item in self.gradebook.line_items(launch.context_id)
            if item.get("resourceLinkId") == launch.resource_link_id
        ]
        if found:
            return str(found[0]["id"])
        lineitems_url = f"{self.issuer}/ags/{context_key(launch.context_id)}/lineitems"
        item = self.gradebook.create_line_item(
            launch.context_id,
            lineitems_url,
            {
                "label": launch.resource_link_title or launch.resource_link_id,
                "scoreMaximum": float(params.get("lineitem_score_maximum", "100")),
                "resourceLinkId": launch.resource_link_id,
            },
        )
        return str(item["id"])

    def _service_conf(self) -> tuple[PeerPlatformConf | None, str | None]:
        """The configuration of the registration whose access token authorises this request."""
        parts = request.headers.get("Authorization", "").split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return None, None
        try:
            client_id = str(jwt.decode(parts[1], options={"verify_signature": False}).get("sub"))
        except jwt.PyJWTError:
            return None, None
        registration = self.registration(client_id)
        if registration is None:
            return None, None
        return PeerPlatformConf(registration=registration), client_id

    def _make_app(self) -> Flask:
        return _platform_app(self)


def _query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


# --- HTTP glue --------------------------------------------------------------------------


def _error(status: int, message: str, *, oauth_error: str | None = None) -> Response:
    body: dict[str, str] = {"error": oauth_error or "invalid_request", "error_description": message}
    return Response(json.dumps(body), status, mimetype="application/json")


def _platform_app(peer: PlatformPeer) -> Flask:
    """The platform's endpoints; each hands the protocol work to an lti1p3platform class."""
    app = Flask("lti_platform_peer")

    @app.before_request
    def count_request() -> None:
        with peer._lock:
            peer.stats[request.endpoint or "unknown"] += 1

    @app.get("/launch")
    def launch() -> Any:
        try:
            launch, registration = peer._new_launch(request.args.to_dict())
        except LookupError as exc:
            return Response(str(exc), 400, mimetype="text/plain")
        hint = uuid.uuid4().hex
        with peer._lock:
            peer._launches[hint] = launch
        peer.roster.enrol_launch(launch)
        login = PeerOIDCLogin(PeerRequest.from_flask(), PeerPlatformConf(registration=registration))
        login.set_lti_message_hint(hint=hint)
        if launch.deep_link:
            if not registration.get_deeplink_launch_url():
                return Response("the tool has no deep linking URL", 400, mimetype="text/plain")
            login.set_deeplinking_launch_url()
        if launch.target_link_uri:
            login.set_launch_url(launch.target_link_uri)
        return login.get_redirect(login.prepare_preflight_url(launch.user_id))

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        params = request.values
        expected = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
        }
        for name, value in expected.items():
            given = params.get(name, "")
            if (value not in given.split()) if name == "scope" else (given != value):
                return Response(
                    f"{name} must be {value!r}, got {given!r}", 400, mimetype="text/plain"
                )
        for name in (
            "client_id",
            "redirect_uri",
            "login_hint",
            "lti_message_hint",
            "nonce",
            "state",
        ):
            if not params.get(name):
                return Response(f"{name} is missing", 400, mimetype="text/plain")
        with peer._lock:
            launch = peer._launches.get(params["lti_message_hint"])
        if launch is None:
            return Response("unknown lti_message_hint", 400, mimetype="text/plain")
        if launch.client_id != params["client_id"]:
            return Response("client_id does not match the launch", 400, mimetype="text/plain")
        if launch.user_id != params["login_hint"]:
            return Response("login_hint does not match the launch", 400, mimetype="text/plain")
        registration = peer.registration(launch.client_id, launch.deployment_id)
        if registration is None:
            return Response("the tool is no longer registered", 400, mimetype="text/plain")
        if params["redirect_uri"] not in registration.redirect_uris:
            return Response(
                "redirect_uri is not registered for this tool", 400, mimetype="text/plain"
            )
        message = PeerMessageLaunch(
            PeerRequest.from_flask(),
            PeerPlatformConf(registration=registration),
            launch,
            peer.issuer,
        )
        message.set_id_token_expiration(peer.id_token_lifetime)
        try:
            form = message.lti_launch()
        except PreflightRequestValidationException:
            return Response("the authentication request is not valid", 400, mimetype="text/plain")
        return Response(form, 200, mimetype="text/html")

    @app.get("/jwks")
    def jwks() -> Any:
        return peer.jwks()

    @app.post("/token")
    def token() -> Any:
        form = request.form.to_dict()
        if form.get("client_assertion_type", CLIENT_ASSERTION_TYPE) != CLIENT_ASSERTION_TYPE:
            return _error(400, "unsupported client_assertion_type")
        try:
            assertion = jwt.decode(
                form.get("client_assertion", ""), options={"verify_signature": False}
            )
        except jwt.PyJWTError:
            return _error(401, "client_assertion is not a JWT", oauth_error="invalid_client")
        client_id = str(assertion.get("sub", ""))
        registration = peer.registration(client_id)
        if registration is None or assertion.get("iss") != client_id:
            return _error(401, "unknown client", oauth_error="invalid_client")
        audience = assertion.get("aud")
        if peer.auth_token_url not in (audience if isinstance(audience, list) else [audience]):
            return _error(
                401, "client_assertion aud must name the token URL", oauth_error="invalid_client"
            )
        try:
            issued = PeerPlatformConf(registration=registration).get_access_token(form)
        except MissingRequiredClaim as exc:
            return _error(400, str(exc))
        except UnsupportedGrantType:
            return _error(
                400, "grant_type must be client_credentials", oauth_error="unsupported_grant_type"
            )
        except (LtiException, jwt.PyJWTError, AssertionError) as exc:
            return _error(401, f"client_assertion rejected: {exc}", oauth_error="invalid_client")
        with peer._lock:
            peer.tokens_issued.append(
                {"client_id": client_id, "scope": issued["scope"], "at": time.time()}
            )
        return dict(issued)

    def ags_service(ctx: str, item: str | None = None) -> PeerAgsService | Response:
        conf, client_id = peer._service_conf()
        if conf is None:
            return _error(
                401, "a valid bearer access token is required", oauth_error="invalid_token"
            )
        try:
            context_id = context_id_of(ctx)
        except ValueError:
            abort(404)
        lineitems_url = f"{peer.issuer}/ags/{ctx}/lineitems"
        required = AGS_OPERATION_SCOPES.get((request.endpoint or "", request.method))
        return PeerAgsService(
            PeerRequest.from_flask(),
            conf,
            gradebook=peer.gradebook,
            context_id=context_id,
            lineitems_url=lineitems_url,
            lineitem_url=f"{lineitems_url}/{item}" if item else None,
            client_id=client_id,
            required_scopes=list(required) if required else None,
        )

    @app.route("/ags/<ctx>/lineitems", methods=["GET", "POST"])
    def line_items(ctx: str) -> Any:
        service = ags_service(ctx)
        if isinstance(service, Response):
            return service
        handler = (
            service.handle_get_lineitems
            if request.method == "GET"
            else service.handle_create_lineitem
        )
        return render_service_response(service.handle_resp(handler))

    @app.route("/ags/<ctx>/lineitems/<item>", methods=["GET", "PUT", "DELETE"])
    def line_item(ctx: str, item: str) -> Any:
        service = ags_service(ctx, item)
        if isinstance(service, Response):
            return service
        handler = {
            "GET": service.handle_get_lineitem,
            "PUT": service.handle_update_lineitem,
            "DELETE": service.handle_delete_lineitem,
        }[request.method]
        return render_service_response(
            service.handle_resp(handler, line_item_id=service.ags.lineitem_url)
        )

    @app.post("/ags/<ctx>/lineitems/<item>/scores")
    def scores(ctx: str, item: str) -> Any:
        service = ags_service(ctx, item)
        if isinstance(service, Response):
            return service
        return render_service_response(
            service.handle_resp(service.handle_update_score, line_item_id=service.ags.lineitem_url)
        )

    @app.get("/ags/<ctx>/lineitems/<item>/results")
    def results(ctx: str, item: str) -> Any:
        service = ags_service(ctx, item)
        if isinstance(service, Response):
            return service
        return render_service_response(
            service.handle_resp(service.handle_get_results, line_item_id=service.ags.lineitem_url)
        )

    @app.get("/nrps/<ctx>/memberships")
    def memberships(ctx: str) -> Any:
        conf, _client_id = peer._service_conf()
        if conf is None:
            return _error(
                401, "a valid bearer access token is required", oauth_error="invalid_token"
            )
        try:
            context_id = context_id_of(ctx)
        except ValueError:
            abort(404)
        req = PeerRequest.from_flask()
        if peer.nrps_page_size:
            asked = req.get_data.get("limit") or peer.nrps_page_size
            req.get_data["limit"] = min(asked, peer.nrps_page_size)
        service = PeerNrpsService(
            req,
            conf,
            roster=peer.roster,
            context_id=context_id,
            context_memberships_url=f"{peer.issuer}/nrps/{ctx}/memberships",
        )
        return render_service_response(
            service.handle_resp(service.handle_get_members), peer.nrps_link_style
        )

    @app.post("/deep_link_return")
    def deep_link_return() -> Any:
        token = request.form.get("JWT", "")
        try:
            client_id = str(jwt.decode(token, options={"verify_signature": False}).get("iss"))
        except jwt.PyJWTError:
            return Response("JWT is not a JWT", 400, mimetype="text/plain")
        registration = peer.registration(client_id)
        if registration is None:
            return Response("unknown tool", 400, mimetype="text/plain")
        try:
            items = PeerPlatformConf(registration=registration).validate_deeplinking_resp(
                {"JWT": token}
            )
        except Exception as exc:  # the library raises several unrelated types here
            return Response(f"deep linking response rejected: {exc}", 400, mimetype="text/plain")
        with peer._lock:
            peer.deep_link_responses.append(items)
        return Response("<!DOCTYPE html><p>Content added.</p>", 200, mimetype="text/html")

    return app
