"""The platforms' public keys: JWKS fetched once, shared through the store, parsed once per
process, and refetched when a token names a `kid` we have not seen (platforms rotate)."""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from lti_tool.errors import LaunchRejected
from lti_tool.storage import SharedStore

log = logging.getLogger("skillpath.launch")

JWKS_TTL_SECONDS = 3600
# A kid the key set did not have triggers at most one refetch in this window, so a stream
# of forged tokens naming it cannot make us hammer the platform. (Each attempt also costs the
# sender a fresh login: the state is spent before the signature is checked.)
MISSING_KID_RETRY_SECONDS = 60


class PlatformKeys:
    def __init__(self, store: SharedStore, http: requests.Session, timeout: float = 5.0) -> None:
        self._store = store
        self._http = http
        self._timeout = timeout
        self._parsed: dict[tuple[str, str], RSAPublicKey] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _cache_key(url: str) -> str:
        return "jwks:" + hashlib.sha256(url.encode()).hexdigest()

    def key_for(self, keyset_url: str, kid: str) -> RSAPublicKey:
        """The platform's RSA public key named `kid`, or `LaunchRejected`."""
        parsed = self._parsed.get((keyset_url, kid))
        if parsed is not None:
            return parsed
        jwks = self._store.get(self._cache_key(keyset_url))
        if jwks is None:
            jwks = self._fetch(keyset_url, reason="not cached")
        elif not self._has_kid(jwks, kid):
            missing_key = f"{self._cache_key(keyset_url)}:missing:{hashlib.sha256(kid.encode()).hexdigest()[:16]}"
            if self._store.get(missing_key) is None:
                self._store.put(missing_key, True, MISSING_KID_RETRY_SECONDS)
                jwks = self._fetch(keyset_url, reason="unknown kid")
        for jwk in jwks.get("keys", []):
            if isinstance(jwk, dict) and jwk.get("kid") == kid:
                key = self._parse(jwk, keyset_url)
                with self._lock:
                    self._parsed[(keyset_url, kid)] = key
                return key
        raise LaunchRejected(
            f"The platform signed this launch with a key (kid {kid!r}) that its key set does not publish.",
            code="unknown_kid",
            admin_hint="Check the platform's public keyset URL in the registration.",
        )

    @staticmethod
    def _has_kid(jwks: Any, kid: str) -> bool:
        return isinstance(jwks, dict) and any(
            isinstance(k, dict) and k.get("kid") == kid for k in jwks.get("keys", [])
        )

    def _fetch(self, keyset_url: str, reason: str) -> dict[str, Any]:
        log.info("fetching platform key set %s (%s)", keyset_url, reason)
        try:
            response = self._http.get(keyset_url, timeout=self._timeout)
            response.raise_for_status()
            jwks = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise LaunchRejected(
                "Skillpath could not fetch the platform's public keys to verify this launch.",
                code="keyset_unavailable",
                status=502,
                admin_hint=f"Check that the keyset URL {keyset_url} is reachable and serves JSON ({type(exc).__name__}).",
            ) from None
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise LaunchRejected(
                "The platform's key set is not a JWKS document.",
                code="keyset_invalid",
                status=502,
                admin_hint=f'{keyset_url} must answer with {{"keys": [...]}}.',
            )
        self._store.put(self._cache_key(keyset_url), jwks, JWKS_TTL_SECONDS)
        return jwks

    @staticmethod
    def _parse(jwk: dict[str, Any], keyset_url: str) -> RSAPublicKey:
        try:
            key = jwt.algorithms.RSAAlgorithm.from_jwk(jwk)
        except (jwt.InvalidKeyError, ValueError, KeyError, TypeError):
            raise LaunchRejected(
                "The platform's public key for this launch is not a valid RSA key.",
                code="keyset_invalid",
                admin_hint=f"Check the keys served at {keyset_url}.",
            ) from None
        if not isinstance(key, RSAPublicKey):
            raise LaunchRejected(
                "The platform's key for this launch is not an RSA public key.",
                code="keyset_invalid",
            )
        return key
