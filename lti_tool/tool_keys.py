"""The tool's own RSA keys: creation, rotation, the published JWKS and the signing key.

Private keys are stored encrypted (`SecretBox`); parsed keys are cached per process because
parsing a PEM costs milliseconds and the key of a `kid` never changes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import ToolKey
from lti_tool.secrets_at_rest import SecretBox


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key_pem: str

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        return _parse_private_key(self.private_key_pem)


@lru_cache(maxsize=16)
def _parse_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _public_jwk(private_key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return jwk


def create_key(session: Session, box: SecretBox, now: datetime) -> ToolKey:
    """Generate a new 2048-bit RSA key and store it (encrypted) as the newest key."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    kid = uuid.uuid4().hex
    key = ToolKey(
        kid=kid,
        private_key_encrypted=box.encrypt(pem),
        public_jwk=_public_jwk(private_key, kid),
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key


def ensure_key(session: Session, box: SecretBox, now: datetime) -> bool:
    """Create the first key when there is none. Returns True when one was created."""
    if session.scalar(select(ToolKey.kid).where(ToolKey.retired_at.is_(None)).limit(1)):
        return False
    create_key(session, box, now)
    return True


def rotate(session: Session, box: SecretBox, now: datetime, retention: timedelta) -> ToolKey:
    """Start signing with a new key; keep the retired ones published for `retention`."""
    for old in session.scalars(select(ToolKey).where(ToolKey.retired_at.is_(None))):
        old.retired_at = now
        old.publish_until = now + retention
    return create_key(session, box, now)


def published_jwks(session: Session, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Current key first, then retired keys still inside their retention window."""
    keys = session.scalars(select(ToolKey).order_by(ToolKey.created_at.desc())).all()
    return {
        "keys": [k.public_jwk for k in keys if k.publish_until is None or k.publish_until > now]
    }


def signing_key(session: Session, box: SecretBox) -> SigningKey:
    """The newest unretired key, decrypted."""
    key = session.scalars(
        select(ToolKey).where(ToolKey.retired_at.is_(None)).order_by(ToolKey.created_at.desc())
    ).first()
    if key is None:
        raise LookupError("the tool has no signing key: run `skillpath init`")
    return SigningKey(kid=key.kid, private_key_pem=box.decrypt(key.private_key_encrypted).decode())
