"""Crafting launches for the rejected-launch tests: a real login through our /lti/login, then
an id_token of the test's making, signed with the platform peer's real key (or another)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: Any, payload: Any, signature: bytes = b"sig") -> str:
    """A token put together by hand: for what no JWT library will sign."""
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(payload).encode())
    return f"{head}.{body}.{b64(signature)}"


def hs256_with_public_key(payload: dict[str, Any], kid: str, public_pem: bytes) -> str:
    """The classic key-confusion forgery: HMAC keyed with the platform's public key."""
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}.{b64(json.dumps(payload).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


@dataclass
class Login:
    state: str
    nonce: str
    response: requests.Response


class LaunchForge:
    """Drives login + launch against one tool for one registered platform."""

    def __init__(
        self,
        tool_base_url: str,
        issuer: str,
        client_id: str,
        deployment_id: str,
        private_key: rsa.RSAPrivateKey,
        kid: str,
    ) -> None:
        self.tool = tool_base_url
        self.issuer = issuer
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.private_key = private_key
        self.kid = kid
        self.browser = requests.Session()

    @property
    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def login(self, browser: requests.Session | None = None, **overrides: str) -> Login:
        params = {
            "iss": self.issuer,
            "client_id": self.client_id,
            "login_hint": "learner-1",
            "lti_message_hint": "link-1",
            "target_link_uri": self.tool + "/lti/launch",
            "lti_deployment_id": self.deployment_id,
        }
        params.update(overrides)
        response = (browser or self.browser).get(
            self.tool + "/lti/login", params=params, allow_redirects=False, timeout=10
        )
        assert response.status_code == 302, response.text
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        return Login(state=query["state"][0], nonce=query["nonce"][0], response=response)

    def claims(self, nonce: str, /, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "azp": self.client_id,
            "sub": "learner-1",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": "Ada Learner",
            LTI + "version": "1.3.0",
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": self.tool + "/lti/launch",
            LTI + "roles": [LEARNER],
            LTI + "resource_link": {"id": "link-1", "title": "Week 1 path"},
            LTI + "context": {"id": "course-1", "title": "Support 101"},
        }
        for key, value in changes.items():
            claim = key if key in claims or not key.startswith("lti_") else LTI + key[4:]
            if value is DROP:
                claims.pop(claim, None)
            else:
                claims[claim] = value
        return claims

    def sign(
        self,
        claims: Any,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        return jwt.encode(
            claims,
            key or self.private_key,
            algorithm="RS256",
            headers={"kid": kid or self.kid, **(headers or {})},
        )

    def post(
        self, id_token: str | None, state: str | None, browser: requests.Session | None = None
    ) -> requests.Response:
        data = {k: v for k, v in (("id_token", id_token), ("state", state)) if v is not None}
        return (browser or self.browser).post(
            self.tool + "/lti/launch", data=data, allow_redirects=False, timeout=10
        )

    def launch(self, **changes: Any) -> requests.Response:
        login = self.login()
        return self.post(self.sign(self.claims(login.nonce, **changes)), login.state)


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP: Any = _Drop()
