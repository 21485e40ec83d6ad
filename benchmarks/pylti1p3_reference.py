"""The reference tool of the launch benchmark: a minimal pylti1p3 Flask tool written the way
pylti1p3's own examples are (ToolConfDict, FlaskOIDCLogin, FlaskMessageLaunch, a cache-backed
launch data storage). It is what Skillpath's launch path is compared with."""

from __future__ import annotations

import threading
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, request
from pylti1p3.contrib.flask import (
    FlaskCacheDataStorage,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
)
from pylti1p3.tool_config import ToolConfDict


class DictCache:
    """The in-process cache the examples get from Flask-Caching."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            return self._data.get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        with self._lock:
            self._data[key] = value
        return True


def make_reference_app(
    issuer: str,
    client_id: str,
    deployment_id: str,
    auth_login_url: str,
    auth_token_url: str,
    keyset_url: str,
) -> Flask:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    settings = {
        issuer: [
            {
                "default": True,
                "client_id": client_id,
                "auth_login_url": auth_login_url,
                "auth_token_url": auth_token_url,
                "key_set_url": keyset_url,
                "key_set": None,
                "deployment_ids": [deployment_id],
            }
        ]
    }
    tool_conf = ToolConfDict(settings)
    tool_conf.set_private_key(issuer, private_pem, client_id=client_id)
    tool_conf.set_public_key(issuer, public_pem, client_id=client_id)
    cache = DictCache()

    app = Flask("reference_tool")
    app.config["SECRET_KEY"] = "reference-tool"

    def storage() -> FlaskCacheDataStorage:
        return FlaskCacheDataStorage(cache)

    @app.route("/login/", methods=["GET", "POST"])
    def login() -> Any:
        flask_request = FlaskRequest()
        target_link_uri = flask_request.get_param("target_link_uri")
        oidc_login = FlaskOIDCLogin(flask_request, tool_conf, launch_data_storage=storage())
        return oidc_login.redirect(target_link_uri)

    @app.route("/launch/", methods=["POST"])
    def launch() -> Any:
        flask_request = FlaskRequest()
        message_launch = FlaskMessageLaunch(flask_request, tool_conf, launch_data_storage=storage())
        data = message_launch.get_launch_data()
        name = data.get("name") or "learner"
        return f"<html><body><h1>Hello {name}</h1><p>{request.path}</p></body></html>"

    @app.get("/jwks/")
    def jwks() -> Any:
        return tool_conf.get_jwks()

    return app
