"""The demo LMS's side of LTI Dynamic Registration, for `skillpath demo`: its OpenID
configuration, a registration endpoint that gives a tool a client id and a deployment, and
the admin page that registers a tool by URL (the tool's page in a frame, closed by the tool's
`org.imsglobal.lti.close` message). A teaching aid; the tests use the platform peer."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request

from lti_tool.demo.services import SCOPES

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOKEN_SECONDS = 600


@dataclass(frozen=True)
class DemoTool:
    """A tool the demo LMS launches: registered at start-up, or by URL."""

    client_id: str
    deployment_id: str
    name: str
    login_url: str
    launch_url: str
    jwks_url: str
    redirect_uris: frozenset[str]
    by_url: bool = False

    @property
    def admin_url(self) -> str:
        return self.launch_url.rsplit("/lti/launch", 1)[0] + "/admin"


@dataclass
class DemoTools:
    """The demo LMS's registered tools and its pending registration tokens."""

    tools: dict[str, DemoTool] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, tool: DemoTool) -> None:
        with self.lock:
            self.tools[tool.client_id] = tool

    def get(self, client_id: str) -> DemoTool | None:
        with self.lock:
            return self.tools.get(client_id)

    def client_ids(self) -> set[str]:
        with self.lock:
            return set(self.tools)

    def registered_by_url(self) -> list[DemoTool]:
        with self.lock:
            return [t for t in self.tools.values() if t.by_url]


def registration_blueprint(issuer: str, tools: DemoTools) -> Blueprint:
    bp = Blueprint("demo_registration", __name__)

    @bp.get("/.well-known/openid-configuration")
    def openid_configuration() -> Response:
        return jsonify(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/lms/authorize",
                "registration_endpoint": f"{issuer}/lms/register",
                "jwks_uri": f"{issuer}/lms/jwks",
                "token_endpoint": f"{issuer}/lms/token",
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", *SCOPES],
                "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "iss", "name", "email"],
                "subject_types_supported": ["public"],
                PLATFORM_CONFIGURATION: {
                    "product_family_code": "skillpath-demo",
                    "version": "1",
                    "messages_supported": [{"type": "LtiResourceLinkRequest"}],
                },
            }
        )

    @bp.post("/lms/register")
    def register() -> Response:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        with tools.lock:
            known = token in tools.tokens
            tools.tokens.discard(token)
        if not known:
            return _error(401, "unknown or used registration token")
        body = request.get_json(silent=True)
        tool_config = body.get(TOOL_CONFIGURATION) if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(tool_config, dict):
            return _error(400, "a client registration with the LTI tool configuration is needed")
        client_id = "demo-dr-" + secrets.token_hex(4)
        deployment_id = "demo-dr-deployment-" + secrets.token_hex(3)
        launch_url = str(tool_config.get("target_link_uri", ""))
        tools.add(
            DemoTool(
                client_id=client_id,
                deployment_id=deployment_id,
                name=str(body.get("client_name") or "A tool"),
                login_url=str(body.get("initiate_login_uri", "")),
                launch_url=launch_url,
                jwks_url=str(body.get("jwks_uri", "")),
                redirect_uris=frozenset(str(u) for u in body.get("redirect_uris") or []),
                by_url=True,
            )
        )
        answer: dict[str, Any] = {**body, "client_id": client_id}
        answer[TOOL_CONFIGURATION] = {**tool_config, "deployment_id": deployment_id}
        return jsonify(answer)

    @bp.get("/lms/register-tool")
    def register_tool() -> str:
        tool_url = request.args.get("url", "")
        token = secrets.token_urlsafe(16)
        with tools.lock:
            tools.tokens.add(token)
        query = urlencode(
            {
                "openid_configuration": f"{issuer}/.well-known/openid-configuration",
                "registration_token": token,
            }
        )
        separator = "&" if "?" in tool_url else "?"
        return render_template(
            "register_tool.html", tool_url=tool_url, frame_url=tool_url + separator + query
        )

    return bp


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": "invalid_request", "error_description": message})
    response.status_code = status
    return response
