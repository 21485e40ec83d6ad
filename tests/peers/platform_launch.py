"""A real LTI 1.3 platform for launch tests: `lti1p3platform` (PyPI) builds and signs the
launch messages; this module is only its HTTP glue (OIDC authorization endpoint, JWKS) and
the platform's state (users, links) kept in memory.

The library re-parses its PEM private key on every signature (tens of ms); the registration
here signs with a key parsed once, so tests and benchmarks measure the tool, not the peer.
"""

from __future__ import annotations

import html
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request as PlatformRequest
from lti1p3platform.request import TRequest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.tool_server import free_port

ROLES = {
    "learner": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
    "instructor": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
}


class CachedKeyRegistration(Registration):
    """lti1p3platform's registration, signing with a key parsed once."""

    def __init__(self, private_key: rsa.RSAPrivateKey, kid: str) -> None:
        self._parsed_key = private_key
        self._fixed_kid = kid

    def get_kid(self) -> str:
        return self._fixed_kid

    def platform_encode_and_sign(
        self, payload: dict[str, Any], expiration: int | None = None
    ) -> str:
        return Registration.encode_and_sign(
            payload,
            self._parsed_key,
            {"kid": self._fixed_kid},
            expiration=expiration,  # type: ignore[arg-type]
        )


class PeerConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration  # type: ignore[return-value]


class WerkzeugPlatformRequest(PlatformRequest):
    def build_metadata(self, request: Request) -> TRequest:
        return {
            "method": request.method,
            "form_data": request.form.to_dict(),
            "get_data": request.args.to_dict(),
            "headers": request.headers,
            "content_type": request.content_type,
            "path": request.path,
            "json": None,
        }


class PeerMessageLaunch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> Response:
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(str(launch_data[name]))}">'
            for name in ("id_token", "state")
        )
        page = (
            '<!doctype html><html><body onload="document.forms[0].submit()">'
            f'<form method="post" action="{html.escape(str(launch_data["launch_url"]))}">'
            f"{fields}</form></body></html>"
        )
        return Response(page, content_type="text/html")


@dataclass
class ToolRegistration:
    client_id: str
    deployment_id: str
    login_url: str
    launch_url: str
    jwks_url: str


@dataclass
class LaunchSpec:
    """What the platform puts in one launch: who, where, and which link."""

    client_id: str
    user: str = "learner-1"
    role: str = "learner"
    name: str | None = "Ada Learner"
    email: str | None = None
    context_id: str = "course-1"
    context_title: str = "Support 101"
    resource_link_id: str = "link-1"
    resource_link_title: str = "Week 1 path"
    custom: dict[str, str] = field(default_factory=dict)


class LaunchPlatform:
    """The platform over HTTP on 127.0.0.1: `/launch/<id>` starts a launch (302 to the tool's
    login), `/authorize` is the OIDC authorization endpoint, `/jwks` its key set."""

    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "peer-" + uuid.uuid4().hex[:8]
        self.tools: dict[str, ToolRegistration] = {}
        self.pending: dict[str, LaunchSpec] = {}
        self.extra_keys: list[tuple[rsa.RSAPrivateKey, str]] = []
        self._server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> LaunchPlatform:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- what tests configure --------------------------------------------------------------
    @property
    def auth_login_url(self) -> str:
        return self.issuer + "/authorize"

    @property
    def auth_token_url(self) -> str:
        return self.issuer + "/token"

    @property
    def keyset_url(self) -> str:
        return self.issuer + "/jwks"

    def register_tool(self, tool: ToolRegistration) -> None:
        self.tools[tool.client_id] = tool

    def launch_url(self, spec: LaunchSpec) -> str:
        """The URL a learner's click on the link opens."""
        hint = uuid.uuid4().hex
        self.pending[hint] = spec
        return f"{self.issuer}/launch/{hint}"

    def rotate_key(self) -> None:
        """Sign with a new key from now on; publish both."""
        self.extra_keys.append((self.private_key, self.kid))
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "peer-" + uuid.uuid4().hex[:8]

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    # -- HTTP --------------------------------------------------------------------------------
    @Request.application  # type: ignore[arg-type]
    def _wsgi(self, request: Request) -> Response:
        if request.path.startswith("/launch/"):
            return self._start(request.path.rsplit("/", 1)[1])
        if request.path == "/authorize":
            return self._authorize(request)
        if request.path == "/jwks":
            keys = [(self.private_key, self.kid), *self.extra_keys]
            body = {"keys": [self._jwk(key, kid) for key, kid in keys]}
            return Response(json.dumps(body), content_type="application/json")
        return Response("not found", status=404)

    @staticmethod
    def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
        jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        jwk.update(kid=kid, alg="RS256", use="sig")
        return jwk

    def _start(self, hint: str) -> Response:
        spec = self.pending.get(hint)
        if spec is None:
            return Response("unknown launch", status=404)
        tool = self.tools[spec.client_id]
        params = {
            "iss": self.issuer,
            "login_hint": spec.user,
            "lti_message_hint": hint,
            "target_link_uri": tool.launch_url,
            "client_id": tool.client_id,
            "lti_deployment_id": tool.deployment_id,
        }
        return Response(status=302, headers={"Location": tool.login_url + "?" + urlencode(params)})

    def _authorize(self, request: Request) -> Response:
        spec = self.pending.pop(request.args.get("lti_message_hint", ""), None)
        tool = self.tools.get(request.args.get("client_id", ""))
        if spec is None or tool is None or request.args.get("login_hint") != spec.user:
            return Response("unknown login", status=400)
        if request.args.get("redirect_uri") != tool.launch_url:
            return Response("redirect_uri is not registered for this tool", status=400)
        registration = CachedKeyRegistration(self.private_key, self.kid)
        registration.set_iss(self.issuer).set_client_id(tool.client_id)
        registration.set_deployment_id(tool.deployment_id).set_launch_url(tool.launch_url)
        registration.set_oidc_login_url(tool.login_url).set_tool_key_set_url(tool.jwks_url)
        launch = PeerMessageLaunch(
            WerkzeugPlatformRequest(request), PeerConf(registration=registration)
        )
        launch.set_user_data(spec.user, ROLES.get(spec.role, [spec.role]), spec.name, spec.email)
        launch.set_resource_link_claim(spec.resource_link_id, title=spec.resource_link_title)
        launch.set_launch_context_claim(spec.context_id, context_title=spec.context_title)
        if spec.custom:
            launch.set_custom_parameters_claim(spec.custom)
        response: Response = launch.lti_launch()
        return response
