"""Where the LRS is: the default connection and per-registration ones, secrets encrypted."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.errors import ConfigurationError
from lti_tool.models import LrsConnection, utcnow
from lti_tool.secrets_at_rest import SecretBox


@dataclass(frozen=True)
class LrsSettings:
    id: int
    endpoint: str
    username: str
    password: str = field(repr=False)


def set_lrs(
    session: Session,
    box: SecretBox,
    endpoint: str,
    username: str,
    password: str,
    issuer: str = "",
    client_id: str = "",
) -> LrsConnection:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"endpoint must be an absolute http(s) URL, got {endpoint!r}")
    if bool(issuer) != bool(client_id):
        raise ConfigurationError("give both --issuer and --client-id, or neither (the default LRS)")
    if not username:
        raise ConfigurationError("username must not be empty")
    endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
    row = session.scalars(
        select(LrsConnection).where(
            LrsConnection.issuer == issuer, LrsConnection.client_id == client_id
        )
    ).first()
    if row is None:
        row = LrsConnection(issuer=issuer, client_id=client_id)
        session.add(row)
    elif row.endpoint != endpoint:
        row.sync_cursor = None  # another LRS: read it from the start
    row.endpoint, row.username = endpoint, username
    row.password_encrypted = box.encrypt(password.encode())
    row.updated_at = utcnow()
    session.flush()
    return row


def lrs_for(session: Session, box: SecretBox, issuer: str, client_id: str) -> LrsSettings | None:
    """The registration's LRS, else the default, else None."""
    rows = session.scalars(
        select(LrsConnection).where(
            ((LrsConnection.issuer == issuer) & (LrsConnection.client_id == client_id))
            | ((LrsConnection.issuer == "") & (LrsConnection.client_id == ""))
        )
    ).all()
    if not rows:
        return None
    row = min(rows, key=lambda r: r.issuer == "")
    return LrsSettings(
        id=row.id,
        endpoint=row.endpoint,
        username=row.username,
        password=box.decrypt(row.password_encrypted).decode(),
    )
