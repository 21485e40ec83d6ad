"""OAuth2 access tokens for LTI Advantage services, through pylti1p3's `ServiceConnector`.

One token per (registration, scope set), kept in the shared store until shortly before it
expires, so every instance and worker uses the same one; a `TokenCache` (one per container)
keeps a copy per process and the locks that keep its threads from asking twice. The client
assertion is signed with the tool key parsed once per process (no PEM parse per token).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import jwt
import requests
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector

from lti_tool.errors import TokenRequestFailed
from lti_tool.lti.tool_keys import SigningKey
from lti_tool.storage import SharedStore

# A token is dropped this long before the platform says it expires, so a request never
# carries a token that dies in flight.
EXPIRY_MARGIN_SECONDS = 60
DEFAULT_EXPIRES_IN = 3600
# How long one process may hold the right to ask for a token (longer than the token request's
# own timeouts would be wasteful; shorter would let a slow platform see two requests).
LEASE_SECONDS = 10
LEASE_POLL_SECONDS = 0.05


class TokenCache:
    """This process's copies of tokens and the per-key locks around asking for one (the
    shared store is the truth; this saves a round trip). Counts the tokens requested."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.requested = 0

    def lock_for(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: str, now: float) -> str | None:
        found = self._tokens.get(key)
        return found[0] if found and found[1] > now else None

    def put(self, key: str, token: str, expires_at: float) -> None:
        self._tokens[key] = (token, expires_at)

    def forget(self, key: str) -> None:
        self._tokens.pop(key, None)

    def count_request(self) -> None:
        with self._guard:
            self.requested += 1


def token_cache_key(issuer: str, client_id: str, scopes: Sequence[str]) -> str:
    digest = hashlib.sha256(
        "\n".join([issuer, client_id, *sorted(set(scopes))]).encode("utf-8")
    ).hexdigest()
    return f"ags-token:{digest[:40]}"


class SharedTokenConnector(ServiceConnector):
    """pylti1p3's connector with tokens cached in the shared store and a pre-parsed key.

    The token request is ours, not pylti1p3's `get_access_token`: that one drops the token's
    `expires_in` (so a cached token could outlive its validity), keeps tokens per connector
    object only, and raises without the platform's status and headers, which the outbox needs
    to tell a retry from a failure. pylti1p3's `encode_jwt` hook is kept for its own callers."""

    def __init__(
        self,
        registration: Registration,
        store: SharedStore,
        signing_key: Callable[[], SigningKey],
        session: requests.Session,
        cache: TokenCache,
        clock: Callable[[], float] = time.time,
        timeout: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(registration, session)
        self._cache = cache
        self._store = store
        self._signing_key = signing_key
        self._clock = clock
        # Per call (token request included): a page waiting on the LMS bounds it; None keeps
        # the session's own (the worker's deliveries).
        self._timeout = timeout

    def _cache_key(self, scopes: Sequence[str]) -> str:
        return token_cache_key(
            self._registration.get_issuer() or "",
            self._registration.get_client_id() or "",
            scopes,
        )

    def _call_timeout(self) -> Any:
        """This connector's timeout, else the session's own default."""
        if self._timeout is not None:
            return self._timeout
        return getattr(self._requests_session, "timeout", None)

    def get_access_token(self, scopes: Sequence[str]) -> str:
        key = self._cache_key(scopes)
        now = self._clock()
        local = self._cache.get(key, now)
        if local is not None:
            return local
        with self._cache.lock_for(key):
            cached = self._cached(key, now)
            if cached is not None:
                return cached
            # Across processes: one holds the lease and asks the platform; the others wait for
            # the token it stores (or, if the holder dies, ask themselves once the lease lapses).
            lease = key + ":lease"
            holder = f"{os.getpid()}:{uuid.uuid4().hex}"
            waited_until = self._clock() + LEASE_SECONDS
            while not self._store.add(lease, holder, LEASE_SECONDS):
                if self._clock() > waited_until:
                    break
                time.sleep(LEASE_POLL_SECONDS)
                cached = self._cached(key, self._clock())
                if cached is not None:
                    return cached
            try:
                # Another process may have stored the token between our read and the lease.
                cached = self._cached(key, self._clock())
                if cached is not None:
                    return cached
                token, expires_in = self._request_token(scopes)
                usable_for = max(expires_in - EXPIRY_MARGIN_SECONDS, 1)
                expires_at = now + usable_for
                self._store.put(
                    key, {"access_token": token, "expires_at": expires_at}, int(usable_for)
                )
                self._cache.put(key, token, expires_at)
                return token
            finally:
                if self._store.get(lease) == holder:
                    self._store.delete(lease)

    def _cached(self, key: str, now: float) -> str | None:
        cached = self._store.get(key)
        if isinstance(cached, dict) and float(cached.get("expires_at", 0)) > now:
            self._cache.put(key, str(cached["access_token"]), float(cached["expires_at"]))
            return str(cached["access_token"])
        return None

    def forget_token(self, scopes: Sequence[str]) -> None:
        """Drop a token the platform no longer accepts (a 401 before it should expire)."""
        key = self._cache_key(scopes)
        self._cache.forget(key)
        self._store.delete(key)

    def _request_token(self, scopes: Sequence[str]) -> tuple[str, int]:
        client_id = self._registration.get_client_id()
        auth_url = self._registration.get_auth_token_url()
        if not client_id or not auth_url:
            raise TokenRequestFailed("The registration has no client id or token URL.")
        audience = self._registration.get_auth_audience() or auth_url
        issued = int(self._clock())
        claims: dict[str, str | int] = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": issued - 5,
            "exp": issued + 60,
            "jti": "skillpath-" + uuid.uuid4().hex,
        }
        signing_key = self._signing_key()
        assertion = jwt.encode(
            claims, signing_key.private_key, algorithm="RS256", headers={"kid": signing_key.kid}
        )
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": " ".join(sorted(set(scopes))),
        }
        self._cache.count_request()
        try:
            response = self._requests_session.post(
                auth_url, data=form, timeout=self._call_timeout()
            )
        except requests.RequestException as exc:
            raise TokenRequestFailed(f"token endpoint unreachable: {exc}") from exc
        if not response.ok:
            raise TokenRequestFailed(
                f"token endpoint answered HTTP {response.status_code}",
                peer_status=response.status_code,
                peer_body=response.text,
                headers=dict(response.headers),
            )
        try:
            body = response.json()
            token = str(body["access_token"])
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenRequestFailed(
                "token endpoint sent no access_token",
                peer_status=response.status_code,
                peer_body=response.text,
            ) from exc
        expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN)
        return token, int(expires_in) if isinstance(expires_in, int | float) else DEFAULT_EXPIRES_IN

    def encode_jwt(self, message: dict[str, Any], private_key: str, headers: dict[str, str]) -> str:
        # pylti1p3 passes the PEM; sign with the key parsed once instead.
        return jwt.encode(message, self._signing_key().private_key, "RS256", headers=headers)

    def send(
        self,
        method: str,
        url: str,
        scopes: Sequence[str],
        *,
        json_body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        """One authorised service call; the raw response (the caller reads its status).
        A 401 with a cached token gets one retry with a fresh token."""
        for attempt in (1, 2):
            headers = {
                "Authorization": "Bearer " + self.get_access_token(scopes),
                "Accept": accept,
            }
            data = None
            if json_body is not None:
                headers["Content-Type"] = content_type
                data = json.dumps(json_body)
            response = self._requests_session.request(
                method, url, data=data, headers=headers, params=params, timeout=self._call_timeout()
            )
            if response.status_code == 401 and attempt == 1:
                self.forget_token(scopes)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover
