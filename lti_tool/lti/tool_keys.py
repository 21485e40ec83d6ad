"""The tool's own RSA keys: creation, rotation, the published JWKS and the signing key.

Private keys are stored encrypted (`SecretBox`). A `SigningKey` parses its PEM once (parsing
costs milliseconds); the container keeps the current one (`ToolKeys`) and re-reads it now
and then, so a rotation reaches every process.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lti_tool.errors import ToolKeyMissing
from lti_tool.storage import SecretBox, Storage, ToolKeyRecord, Transaction


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key_pem: str = field(repr=False)

    @cached_property
    def private_key(self) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(self.private_key_pem.encode("ascii"), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key


def _public_jwk(private_key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return jwk


def create_key(tx: Transaction, box: SecretBox, now: datetime) -> ToolKeyRecord:
    """Generate a new 2048-bit RSA key and store it (encrypted) as the newest key."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    kid = uuid.uuid4().hex
    return tx.tool_keys.add(kid, box.encrypt(pem), _public_jwk(private_key, kid), now)


def ensure_key(tx: Transaction, box: SecretBox, now: datetime) -> bool:
    """Create the first key when there is none. Returns True when one was created."""
    if tx.tool_keys.current() is not None:
        return False
    create_key(tx, box, now)
    return True


def rotate(tx: Transaction, box: SecretBox, now: datetime, retention: timedelta) -> ToolKeyRecord:
    """Start signing with a new key; keep the retired ones published for `retention`."""
    tx.tool_keys.retire_current(now, now + retention)
    return create_key(tx, box, now)


def published_jwks(tx: Transaction, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Current key first, then retired keys still inside their retention window."""
    return {
        "keys": [
            dict(k.public_jwk)
            for k in tx.tool_keys.all()
            if k.publish_until is None or k.publish_until > now
        ]
    }


def signing_key(tx: Transaction, box: SecretBox) -> SigningKey:
    """The newest unretired key, decrypted."""
    key = tx.tool_keys.current()
    if key is None:
        raise ToolKeyMissing()
    return SigningKey(kid=key.kid, private_key_pem=box.decrypt(key.private_key_encrypted).decode())


# The signing key is re-read this often, so a rotation reaches running processes.
KEY_REFRESH_SECONDS = 300.0


class CurrentKey:
    """The current signing key of this process, re-read from storage every
    KEY_REFRESH_SECONDS (and at once after `forget`, as a rotation here does)."""

    def __init__(
        self,
        storage: Storage,
        box: SecretBox,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self._box = box
        self._monotonic = monotonic
        self._key: SigningKey | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> SigningKey:
        with self._lock:
            stale = self._monotonic() - self._loaded_at > KEY_REFRESH_SECONDS
            if self._key is None or stale:
                with self._storage.transaction() as tx:
                    self._key = signing_key(tx, self._box)
                self._loaded_at = self._monotonic()
            return self._key

    def forget(self) -> None:
        with self._lock:
            self._key = None
