"""The platform side of LTI Dynamic Registration 1.0, for the platform peer, written from the
specification (no installable platform implements it): the platform's OpenID configuration,
its registration endpoint, registration tokens, and what a registered tool becomes (a tool
registration the peer launches).

- `GET /.well-known/openid-configuration` answers the configuration (spec 3.4); with
  `require_token` it wants the registration token as a bearer token, as Canvas does.
- `POST /connect/register` takes the tool's registration (spec 3.5), checks it, issues a
  client id and a deployment id, registers the tool with the peer and answers the
  registration with both (spec 3.6). Each registration token serves once.
- `initiation_url(tool_url)` is what the LMS opens: the tool's registration URL with
  `openid_configuration` and a fresh `registration_token`.

Faults for tests: `configuration_override` replaces or removes fields of the configuration
(None removes), `configuration_body` replaces the whole answer (bytes, e.g. not JSON),
`configuration_status` answers another status, `registration_status` makes the registration
endpoint refuse with that status. It must not import Skillpath.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, request

if TYPE_CHECKING:
    from peers.lti_platform import PlatformPeer

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPES = [
    "openid",
    AGS + "lineitem",
    AGS + "lineitem.readonly",
    AGS + "result.readonly",
    AGS + "score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]
REMOVE = object()


@dataclass
class DynamicRegistrations:
    """What the peer's registration endpoint issued and received."""

    require_token: bool = True
    product_family_code: str = "lti1p3platform"
    configuration_override: dict[str, Any] = field(default_factory=dict)
    configuration_body: bytes | None = None
    configuration_status: int = 200
    registration_status: int | None = None
    deployment_in_answer: bool = True
    tokens: set[str] = field(default_factory=set)
    received: list[dict[str, Any]] = field(default_factory=list)
    answered: list[dict[str, Any]] = field(default_factory=list)
    configuration_requests: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def new_token(self) -> str:
        token = "regtoken-" + secrets.token_urlsafe(16)
        with self._lock:
            self.tokens.add(token)
        return token

    def take_token(self, token: str) -> bool:
        with self._lock:
            if token in self.tokens:
                self.tokens.discard(token)
                return True
        return False

    def reset(self) -> None:
        with self._lock:
            self.configuration_override.clear()
            self.configuration_body = None
            self.configuration_status = 200
            self.registration_status = None
            self.deployment_in_answer = True
            self.require_token = True
            self.received.clear()
            self.answered.clear()
            self.configuration_requests.clear()


def configuration(peer: PlatformPeer, registrations: DynamicRegistrations) -> dict[str, Any]:
    base = peer.issuer
    document: dict[str, Any] = {
        "issuer": base,
        "authorization_endpoint": peer.auth_login_url,
        "registration_endpoint": f"{base}/connect/register",
        "jwks_uri": peer.keyset_url,
        "token_endpoint": peer.auth_token_url,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
        "subject_types_supported": ["public", "pairwise"],
        PLATFORM_CONFIGURATION: {
            "product_family_code": registrations.product_family_code,
            "version": "0.1.8",
            "messages_supported": [
                {"type": "LtiResourceLinkRequest"},
                {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]},
            ],
        },
    }
    for name, value in registrations.configuration_override.items():
        if value is None or value is REMOVE:
            document.pop(name, None)
        else:
            document[name] = value
    return document


def _problems(body: Any) -> list[str]:
    """What a registration request breaks of the specification (3.5.1)."""
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    problems = []
    expected = {"application_type": "web", "token_endpoint_auth_method": "private_key_jwt"}
    for name, value in expected.items():
        if body.get(name) != value:
            problems.append(f"{name} must be {value!r}")
    if "id_token" not in (body.get("response_types") or []):
        problems.append("response_types must include id_token")
    grants = body.get("grant_types") or []
    if "implicit" not in grants or "client_credentials" not in grants:
        problems.append("grant_types must include implicit and client_credentials")
    for name in ("initiate_login_uri", "jwks_uri", "client_name"):
        if not isinstance(body.get(name), str) or not body.get(name):
            problems.append(f"{name} is required")
    uris = body.get("redirect_uris")
    if not isinstance(uris, list) or not uris:
        problems.append("redirect_uris is required")
    tool = body.get(TOOL_CONFIGURATION)
    if not isinstance(tool, dict):
        problems.append(f"{TOOL_CONFIGURATION} is required")
        return problems
    for name in ("domain", "target_link_uri"):
        if not isinstance(tool.get(name), str) or not tool.get(name):
            problems.append(f"{TOOL_CONFIGURATION}.{name} is required")
    if isinstance(tool.get("target_link_uri"), str):
        host = urlsplit(tool["target_link_uri"]).netloc
        if tool.get("domain") and host != tool["domain"]:
            problems.append("target_link_uri is not on the tool's domain")
    for message in tool.get("messages") or []:
        if not isinstance(message, dict) or not message.get("type"):
            problems.append("every message needs a type")
    return problems


def install(app: Flask, peer: PlatformPeer, registrations: DynamicRegistrations) -> None:
    """Add the Dynamic Registration endpoints to the peer's app."""

    def bearer() -> str:
        header = request.headers.get("Authorization", "")
        return header[7:].strip() if header.lower().startswith("bearer ") else ""

    @app.get("/.well-known/openid-configuration")
    def openid_configuration() -> Response:
        registrations.configuration_requests.append(
            {"authorization": request.headers.get("Authorization", "")}
        )
        token = bearer()
        if registrations.require_token and token not in registrations.tokens:
            return Response(
                json.dumps({"error": "invalid_token", "error_description": "registration token"}),
                401,
                mimetype="application/json",
            )
        if registrations.configuration_body is not None:
            return Response(
                registrations.configuration_body,
                registrations.configuration_status,
                mimetype="application/json",
            )
        return Response(
            json.dumps(configuration(peer, registrations)),
            registrations.configuration_status,
            mimetype="application/json",
        )

    @app.post("/connect/register")
    def register() -> Response:
        token = bearer()
        if not registrations.take_token(token):
            return Response(
                json.dumps(
                    {"error": "invalid_token", "error_description": "unknown or used token"}
                ),
                401,
                mimetype="application/json",
            )
        body = request.get_json(silent=True)
        registrations.received.append(body if isinstance(body, dict) else {"raw": body})
        if registrations.registration_status is not None:
            return Response(
                json.dumps(
                    {"error": "invalid_client_metadata", "error_description": "refused by test"}
                ),
                registrations.registration_status,
                mimetype="application/json",
            )
        problems = _problems(body)
        if problems:
            return Response(
                json.dumps(
                    {"error": "invalid_client_metadata", "error_description": "; ".join(problems)}
                ),
                400,
                mimetype="application/json",
            )
        client_id = "dr-" + uuid.uuid4().hex[:10]
        deployment_id = "dep-" + uuid.uuid4().hex[:6]
        tool = body[TOOL_CONFIGURATION]
        deep_link = next(
            (
                m.get("target_link_uri") or tool["target_link_uri"]
                for m in tool.get("messages") or []
                if m.get("type") == "LtiDeepLinkingRequest"
            ),
            None,
        )
        peer.register_tool(
            client_id,
            deployment_id,
            body["initiate_login_uri"],
            tool["target_link_uri"],
            body["jwks_uri"],
            deep_link_url=deep_link,
            redirect_uris=body["redirect_uris"],
        )
        answer = dict(body)
        answer["client_id"] = client_id
        answer[TOOL_CONFIGURATION] = dict(tool)
        if registrations.deployment_in_answer:
            answer[TOOL_CONFIGURATION]["deployment_id"] = deployment_id
        registrations.answered.append(answer)
        return Response(json.dumps(answer), 200, mimetype="application/json")


def initiation_url(peer: PlatformPeer, tool_registration_url: str, token: str | None = None) -> str:
    """What the LMS opens to start a registration: the tool's URL with the platform's
    configuration URL and a fresh, single-use registration token."""
    params = {
        "openid_configuration": f"{peer.issuer}/.well-known/openid-configuration",
        "registration_token": token or peer.dynamic_registrations.new_token(),
    }
    separator = "&" if "?" in tool_registration_url else "?"
    return tool_registration_url + separator + urlencode(params)
