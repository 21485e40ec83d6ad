"""A real LTI 1.3 platform peer for tests and benchmarks, served over HTTP on 127.0.0.1.

The protocol is `lti1p3platform`'s (PyPI): its OIDC login builds the redirect to the tool,
its message launch builds and signs the id_token, its platform configuration issues and
checks access tokens, and its AGS and NRPS services answer the service calls. This module
is only what that library leaves to a framework adapter: the HTTP glue (Flask), the state a
platform keeps (registrations, pending launches, a gradebook, rosters) held in memory, and a
signing key parsed once (the library re-parses its PEM on every signature, tens of ms).

Here: the peer's HTTP server and its launch URLs. The protocol classes are in
`platform_protocol`, the gradebook and rosters in `platform_store`, the AGS and NRPS
services in `platform_services`.

It must not import Skillpath: it is the other side of the wire.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt
from flask import Flask, Response, abort, request
from lti1p3platform.exceptions import (
    LtiException,
    MissingRequiredClaim,
    PreflightRequestValidationException,
    UnsupportedGrantType,
)
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from peers.platform_pages import install as _install_pages
from peers.platform_protocol import (
    AGS_CLAIM,
    AGS_OPERATION_SCOPES,
    CLIENT_ASSERTION_TYPE,
    NRPS_CLAIM,
    ROLE_SHORTHANDS,
    LaunchRequest,
    PeerMessageLaunch,
    PeerOIDCLogin,
    PeerPlatformConf,
    PeerRegistration,
    PeerRequest,
    SigningKey,
    _b64url,
    context_id_of,
    context_key,
    expand_roles,
)
from peers.platform_registration import DynamicRegistrations
from peers.platform_registration import initiation_url as _registration_initiation_url
from peers.platform_registration import install as _install_registration
from peers.platform_services import (
    PeerAgsService,
    PeerNrpsService,
    render_service_response,
)
from peers.platform_store import (
    Gradebook,
    Roster,
    ScorePost,
)

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


_TRUE = {"1", "true", "yes", "on"}


def launch_query(**params: Any) -> str:
    """The query string for the peer's `GET /launch`.

    Keys: client_id, deployment_id, user, roles (shorthands or URIs, str or list), name,
    given_name, family_name, email, context_id ("" for no context), context_title,
    context_label, resource_link_id, resource_link_title, custom (a dict), ags, ags_can_create,
    lineitem (the platform makes a line item for the link), lineitem_score_maximum, nrps,
    deep_link, target_link_uri, document_target, return_url, product_family_code, locale.
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
        locale=text("locale"),
        dl_accept_multiple=flag("dl_multiple", True),
        dl_accept_lineitem=flag("dl_lineitem", True) if "dl_lineitem" in params else None,
        storage_target=text("storage_target"),
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
        public_host: str | None = None,
    ) -> None:
        self.host = host
        # The host name in the platform's URLs (e.g. "localhost", another site than the
        # tool's 127.0.0.1 for a browser, while still listening on `host`).
        self.public_host = public_host or host
        self.nrps_page_size = nrps_page_size
        # "next", "multi" (first + next links in one header) or "none" (no Link header)
        self.nrps_link_style = "next"
        self.id_token_lifetime = id_token_lifetime
        self.key = SigningKey.generate()
        self.retired_keys: list[SigningKey] = []
        self.gradebook = Gradebook()
        self.roster = Roster()
        self.deep_link_responses: list[list[dict[str, Any]]] = []
        # Resource links made from deep linking answers, by resource link id.
        self.deep_linked_links: dict[str, dict[str, Any]] = {}
        # Claim sets a launch may ask for by name (`overlay=`): an LMS's own launches.
        self.claim_overlays: dict[str, dict[str, Any]] = {}
        self.dynamic_registrations = DynamicRegistrations()
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
        self._base_url = f"http://{self.public_host}:{server.server_port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="lti-platform-peer",
            daemon=True,
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

    # LTI Dynamic Registration (the platform side: peers/platform_registration.py)
    def registration_initiation_url(self, tool_registration_url: str) -> str:
        """What an LMS admin's "register a tool by URL" opens: the tool's registration URL
        with this platform's OpenID configuration URL and a fresh registration token."""
        return _registration_initiation_url(self, tool_registration_url)

    # launches
    def launch_url(self, **params: Any) -> str:
        """URL of `GET /launch` that starts a launch; see `launch_query` for the parameters."""
        return f"{self.issuer}/launch?{launch_query(**params)}"

    def deep_linked_launch_url(self, resource_link_id: str, **params: Any) -> str:
        """A click on a link a deep linking answer created: its custom parameters, title and
        line item as the platform stored them."""
        link = self.deep_linked_links[resource_link_id]
        values: dict[str, Any] = {
            "client_id": link["client_id"],
            "deployment_id": link["deployment_id"],
            "context_id": link["context_id"],
            "resource_link_id": resource_link_id,
            "resource_link_title": link["title"],
            "custom": link["custom"],
            "lineitem": link["line_item"] is not None,
        }
        values.update(params)
        return self.launch_url(**values)

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
        self.deep_linked_links.clear()
        self.dynamic_registrations.reset()
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
        if params.get("overlay"):
            launch = replace(launch, claim_overlay=dict(self.claim_overlays[params["overlay"]]))
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


# --- deep linking answers ---------------------------------------------------------------

_LTI = "https://purl.imsglobal.org/spec/lti/claim/"
_DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"


def _deep_linking_problems(
    peer: PlatformPeer,
    claims: Mapping[str, Any],
    launch: LaunchRequest | None,
    items: list[dict[str, Any]],
) -> list[str]:
    """What an LtiDeepLinkingResponse breaks of Deep Linking 2.0 for the request it answers
    (the signature and message type are the library's checks)."""
    problems = []
    audience = claims.get("aud")
    if peer.issuer not in (audience if isinstance(audience, list) else [audience]):
        problems.append("aud must name the platform")
    if claims.get(_LTI + "version") != "1.3.0":
        problems.append("version must be 1.3.0")
    for name in ("nonce", "iat", "exp"):
        if name not in claims:
            problems.append(f"{name} is missing")
    if launch is None:
        return problems
    if claims.get(_LTI + "deployment_id") != launch.deployment_id:
        problems.append("deployment_id is not the request's")
    if launch.message_hint and claims.get(_DL_DATA) != {"session": launch.message_hint}:
        problems.append("data does not echo the request's")
    if not launch.dl_accept_multiple and len(items) > 1:
        problems.append("several items where one was asked for")
    return problems


def _link_items(peer: PlatformPeer, launch: LaunchRequest, items: list[dict[str, Any]]) -> None:
    """What a platform does with the items: a resource link each, with its custom
    parameters, and a line item coupled to it when the item brings one."""
    for item in items:
        if item.get("type") != "ltiResourceLink":
            continue
        link_id = "dl-" + uuid.uuid4().hex[:10]
        line_item = None
        wanted = item.get("lineItem")
        if isinstance(wanted, dict) and launch.context_id is not None:
            lineitems_url = f"{peer.issuer}/ags/{context_key(launch.context_id)}/lineitems"
            line_item = peer.gradebook.create_line_item(
                launch.context_id,
                lineitems_url,
                {**wanted, "resourceLinkId": link_id},
            )
        with peer._lock:
            peer.deep_linked_links[link_id] = {
                "client_id": launch.client_id,
                "deployment_id": launch.deployment_id,
                "context_id": launch.context_id or "",
                "title": item.get("title") or "",
                "text": item.get("text") or "",
                "url": item.get("url"),
                "custom": dict(item.get("custom") or {}),
                "line_item": line_item,
            }


# --- HTTP glue --------------------------------------------------------------------------


def _error(status: int, message: str, *, oauth_error: str | None = None) -> Response:
    body: dict[str, str] = {"error": oauth_error or "invalid_request", "error_description": message}
    return Response(json.dumps(body), status, mimetype="application/json")


def _platform_app(peer: PlatformPeer) -> Flask:
    """The platform's endpoints; each hands the protocol work to an lti1p3platform class."""
    app = Flask("lti_platform_peer")
    _install_registration(app, peer, peer.dynamic_registrations)
    _install_pages(app, peer)

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
        launch = replace(launch, message_hint=hint)
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
        url = login.prepare_preflight_url(launch.user_id)
        if launch.storage_target:
            # LTI Client Side postMessage Storage: the frame the tool may keep its state in.
            url += "&" + urlencode({"lti_storage_target": launch.storage_target})
        return login.get_redirect(url)

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
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return Response("JWT is not a JWT", 400, mimetype="text/plain")
        client_id = str(unverified.get("iss"))
        with peer._lock:
            launch = peer._launches.get(request.args.get("launch", ""))
        if launch is not None and launch.client_id != client_id:
            return Response("the answer is not from the tool asked", 400, mimetype="text/plain")
        registration = peer.registration(client_id, launch.deployment_id if launch else None)
        if registration is None:
            return Response("unknown tool", 400, mimetype="text/plain")
        try:
            items = PeerPlatformConf(registration=registration).validate_deeplinking_resp(
                {"JWT": token}
            )
        except Exception as exc:  # the library raises several unrelated types here
            return Response(f"deep linking response rejected: {exc}", 400, mimetype="text/plain")
        problems = _deep_linking_problems(peer, unverified, launch, items)
        if problems:
            return Response(
                "deep linking response rejected: " + "; ".join(problems), 400, mimetype="text/plain"
            )
        with peer._lock:
            peer.deep_link_responses.append(items)
        if launch is not None:
            _link_items(peer, launch, items)
        return Response("<!DOCTYPE html><p>Content added.</p>", 200, mimetype="text/html")

    return app
