from datetime import UTC, datetime, timedelta

import jwt
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.lti import tool_keys
from lti_tool.storage.models import ToolKeyRow
from tests.lti_tool.db import db


def test_init_creates_one_key_published_with_its_kid(client: FlaskClient) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json["keys"]
    assert len(keys) == 1
    assert keys[0]["kid"] and keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig"
    assert "d" not in keys[0]  # never the private part


def test_private_key_is_encrypted_at_rest(app: Flask) -> None:
    services = app.extensions["skillpath"]
    with db(services) as session:
        stored = session.scalars(select(ToolKeyRow)).one()
    assert "PRIVATE KEY" not in stored.private_key_encrypted
    key = services.signing_key()
    assert key.kid == stored.kid
    token = jwt.encode({"x": 1}, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    public = jwt.algorithms.RSAAlgorithm.from_jwk(stored.public_jwk)
    assert jwt.decode(token, public, algorithms=["RS256"]) == {"x": 1}


def test_rotation_signs_with_the_new_key_and_keeps_the_old_one_published(
    app: Flask, client: FlaskClient
) -> None:
    services = app.extensions["skillpath"]
    old = services.signing_key().kid
    new = services.rotate_keys().kid
    assert services.signing_key().kid == new
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]]
    assert kids == [new, old]  # current first

    later = datetime.now(UTC) + timedelta(hours=services.settings.key_retention_hours, minutes=1)
    with services.storage.transaction() as tx:
        published = [k["kid"] for k in tool_keys.published_jwks(tx, later)["keys"]]
    assert published == [new]


def test_init_twice_keeps_the_key(app: Flask) -> None:
    services = app.extensions["skillpath"]
    kid = services.signing_key().kid
    assert services.initialise() is False
    assert services.signing_key().kid == kid
