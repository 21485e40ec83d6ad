"""OAuth2 access tokens for LTI Advantage services, through pylti1p3's `ServiceConnector`.

One token per (registration, scope set), kept in the shared store until shortly before it
expires, so every instance and worker uses the same one. The client assertion is signed with
the tool key parsed once per process (no PEM parse per token). Also the HTTP session every
service call goes through: a default timeout, a pool sized for concurrent deliveries.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from requests.adapters import HTTPAdapter

from lti_tool.shared_store import SharedStore
from lti_tool.tool_keys import SigningKey
from xapi.http import quiet_session

# A token is dropped this long before the platform says it expires, so a request never
# carries a token that dies in flight.
EXPIRY_MARGIN_SECONDS = 60
DEFAULT_EXPIRES_IN = 3600
# How long one process may hold the right to ask for a token (longer than the token request's
# own timeouts would be wasteful; shorter would let a slow platform see two requests).
LEASE_SECONDS = 10
LEASE_POLL_SECONDS = 0.05
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0


class TokenRequestFailed(Exception):
    """The platform's token endpoint refused or could not be reached."""

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.headers: dict[str, str] = {}


class TimeoutSession(requests.Session):
    """A requests session whose calls time out unless told otherwise."""

    def __init__(
        self,
        pool_size: int = 10,
        user_agent: str = "",
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
    ) -> None:
        super().__init__()
        self.timeout = timeout
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        if user_agent:
            self.headers["User-Agent"] = user_agent
        quiet_session(self)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


@dataclass
class TokenStats:
    """How many tokens this process asked platforms for (benchmarks read it)."""

    requested: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def count(self) -> None:
        with self._lock:
            self.requested += 1


token_stats = TokenStats()


def token_cache_key(issuer: str, client_id: str, scopes: Sequence[str]) -> str:
    digest = hashlib.sha256(
        "\n".join([issuer, client_id, *sorted(set(scopes))]).encode("utf-8")
    ).hexdigest()
    return f"ags-token:{digest[:40]}"


# In-process copies and per-key locks: the store is the truth, these save a round trip and
# keep the threads of one process from asking the platform for the same token at once.
_local_tokens: dict[str, tuple[str, float]] = {}
_key_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _key_locks.setdefault(key, threading.Lock())


class SharedTokenConnector(ServiceConnector):
    """pylti1p3's connector with tokens cached in the shared store and a pre-parsed key."""

    def __init__(
        self,
        registration: Registration,
        store: SharedStore,
        signing_key: Callable[[], SigningKey],
        session: requests.Session,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(registration, session)
        self._store = store
        self._signing_key = signing_key
        self._clock = clock

    def _cache_key(self, scopes: Sequence[str]) -> str:
        return token_cache_key(
            self._registration.get_issuer() or "",
            self._registration.get_client_id() or "",
            scopes,
        )

    def get_access_token(self, scopes: Sequence[str]) -> str:
        key = self._cache_key(scopes)
        now = self._clock()
        local = _local_tokens.get(key)
        if local and local[1] > now:
            return local[0]
        with _lock_for(key):
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
                _local_tokens[key] = (token, expires_at)
                return token
            finally:
                if self._store.get(lease) == holder:
                    self._store.delete(lease)

    def _cached(self, key: str, now: float) -> str | None:
        cached = self._store.get(key)
        if isinstance(cached, dict) and float(cached.get("expires_at", 0)) > now:
            _local_tokens[key] = (str(cached["access_token"]), float(cached["expires_at"]))
            return str(cached["access_token"])
        return None

    def forget_token(self, scopes: Sequence[str]) -> None:
        """Drop a token the platform no longer accepts (a 401 before it should expire)."""
        key = self._cache_key(scopes)
        _local_tokens.pop(key, None)
        self._store.delete(key)

    def _request_token(self, scopes: Sequence[str]) -> tuple[str, int]:
        client_id = self._registration.get_client_id()
        auth_url = self._registration.get_auth_token_url()
        if not client_id or not auth_url:
            raise TokenRequestFailed("the registration has no client id or token URL")
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
        token_stats.count()
        try:
            response = self._requests_session.post(auth_url, data=form)
        except requests.RequestException as exc:
            raise TokenRequestFailed(f"token endpoint unreachable: {exc}") from exc
        if not response.ok:
            error = TokenRequestFailed(
                f"token endpoint answered HTTP {response.status_code}",
                status=response.status_code,
                body=response.text,
            )
            error.headers = dict(response.headers)
            raise error
        try:
            body = response.json()
            token = str(body["access_token"])
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenRequestFailed(
                "token endpoint sent no access_token", response.status_code, response.text
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
                method, url, data=data, headers=headers, params=params
            )
            if response.status_code == 401 and attempt == 1:
                self.forget_token(scopes)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover
