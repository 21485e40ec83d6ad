"""A minimal LTI 1.3 tool written the way pylti1p3's own Flask examples are: `ToolConfDict`
with the platform's settings, `FlaskOIDCLogin`, `FlaskMessageLaunch`, `FlaskCacheDataStorage`
over a simple in-process cache, and a launch view that renders a small page.

The launch benchmark runs it beside Skillpath against the same platform peer, so that both
figures come from the same run. It adds nothing pylti1p3 does not do itself (no extra
validation, no key-set caching of its own): it is the baseline, not a second product.
It must not import Skillpath.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify
from pylti1p3.contrib.flask import (
    FlaskCacheDataStorage,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
)
from pylti1p3.exception import LtiException
from pylti1p3.tool_config import ToolConfDict
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

LTI = "https://purl.imsglobal.org/spec/lti/claim/"


class SimpleCache:
    """The small get/set-with-expiry cache pylti1p3's cache storage expects (the examples
    use Flask-Caching's SimpleCache; this is the same idea in a few lines)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float | None, Any]] = {}

    def get(self, key: str) -> Any:
        with self._lock:
            expires, value = self._values.get(key, (None, None))
            if expires is not None and expires < time.monotonic():
                del self._values[key]
                return None
            return value

    def set(self, key: str, value: Any, exp: int | None = None) -> bool:
        with self._lock:
            self._values[key] = (time.monotonic() + exp if exp else None, value)
        return True


def _rsa_pems() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def make_reference_app(
    platform_settings: Mapping[str, Any], requests_session: requests.Session | None = None
) -> Flask:
    """The reference tool for one platform registration.

    `platform_settings` holds what a tool admin copies from the platform: `issuer`,
    `client_id`, `deployment_ids`, `auth_login_url`, `auth_token_url`, `key_set_url`
    (`PlatformPeer.platform_settings()` returns exactly that). Routes: `/login` (GET, POST),
    `/launch` (POST), `/jwks`.
    """
    private_pem, public_pem = _rsa_pems()
    issuer = str(platform_settings["issuer"])
    tool_conf = ToolConfDict(
        {
            issuer: [
                {
                    "default": True,
                    "client_id": platform_settings["client_id"],
                    "auth_login_url": platform_settings["auth_login_url"],
                    "auth_token_url": platform_settings["auth_token_url"],
                    "auth_audience": None,
                    "key_set_url": platform_settings["key_set_url"],
                    "key_set": None,
                    "deployment_ids": list(platform_settings["deployment_ids"]),
                }
            ]
        }
    )
    tool_conf.set_private_key(issuer, private_pem, client_id=platform_settings["client_id"])
    tool_conf.set_public_key(issuer, public_pem, client_id=platform_settings["client_id"])

    app = Flask("reference_tool")
    app.secret_key = "reference-tool-" + str(id(app))
    cache = SimpleCache()

    def launch_data_storage() -> FlaskCacheDataStorage:
        return FlaskCacheDataStorage(cache)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        flask_request = FlaskRequest()
        target_link_uri = flask_request.get_param("target_link_uri")
        if not target_link_uri:
            return "Missing target_link_uri", 400
        oidc_login = FlaskOIDCLogin(
            flask_request, tool_conf, launch_data_storage=launch_data_storage()
        )
        return oidc_login.redirect(target_link_uri)

    @app.post("/launch")
    def launch() -> Any:
        message_launch = FlaskMessageLaunch(
            FlaskRequest(),
            tool_conf,
            launch_data_storage=launch_data_storage(),
            requests_session=requests_session,
        )
        data = cast(dict[str, Any], message_launch.get_launch_data())
        who = data.get("name") or ", ".join(
            r.rsplit("#", 1)[-1] for r in data.get(LTI + "roles", [])
        )
        context = data.get(LTI + "context", {}).get("title", "")
        link = data.get(LTI + "resource_link", {}).get("title", "")
        role = "instructor" if message_launch.check_teacher_access() else "learner"
        return (
            "<!DOCTYPE html><html><head><title>Reference tool</title></head><body>"
            f"<h1>Welcome, {html.escape(who)}</h1>"
            f'<p class="role">{role}</p><p class="context">{html.escape(context)}</p>'
            f'<p class="link">{html.escape(link)}</p>'
            f'<p class="launch-id">{message_launch.get_launch_id()}</p></body></html>'
        )

    @app.errorhandler(LtiException)
    def rejected(error: LtiException) -> Any:
        # pylti1p3's examples let this become a 500; a 400 keeps test logs readable.
        return f"Launch rejected: {html.escape(str(error))}", 400

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(tool_conf.get_jwks())

    return app


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class ReferenceToolServer:
    """The reference tool listening on 127.0.0.1 in a background thread."""

    base_url: str
    app: Flask
    _server: BaseWSGIServer
    _thread: threading.Thread
    _session: requests.Session

    @property
    def login_url(self) -> str:
        return f"{self.base_url}/login"

    @property
    def launch_url(self) -> str:
        return f"{self.base_url}/launch"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/jwks"

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()
        self._session.close()

    def __enter__(self) -> ReferenceToolServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_reference_tool(
    platform_settings: Mapping[str, Any], host: str = "127.0.0.1"
) -> ReferenceToolServer:
    """Start the reference tool on a free port; register its URLs with the platform after."""
    session = requests.Session()
    app = make_reference_app(platform_settings, requests_session=session)
    server = make_server(host, 0, app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="reference-tool", daemon=True)
    thread.start()
    return ReferenceToolServer(f"http://{host}:{server.server_port}", app, server, thread, session)
