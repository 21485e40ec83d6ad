"""Fixtures for launch tests: a platform registered with a running tool, and the forge."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from lti_tool.registrations import RegistrationInput, add_registration
from tests.lti_tool.launch_forge import LaunchForge
from tests.peers.launch_browser import LaunchBrowser
from tests.peers.platform_launch import LaunchPlatform, ToolRegistration
from tests.tool_server import ToolServer, free_port

PLATFORM_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PLATFORM_KID = "platform-key-1"


@pytest.fixture(scope="session")
def keyset_host() -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(PLATFORM_KEY.public_key()))
    jwk.update(kid=PLATFORM_KID, alg="RS256", use="sig")
    body = json.dumps({"keys": [jwk]})

    @Request.application  # type: ignore[arg-type]
    def app(request: Request) -> Response:
        return Response(body, content_type="application/json")

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def forge(tool: ToolServer, keyset_host: str) -> Iterator[LaunchForge]:
    issuer = keyset_host
    with tool.app.extensions["skillpath"].database.session() as session:
        add_registration(
            session,
            RegistrationInput(
                issuer=issuer,
                client_id="client-1",
                auth_login_url=issuer + "/authorize",
                auth_token_url=issuer + "/token",
                keyset_url=issuer + "/jwks",
                deployments=["dep-1", "dep-2"],
            ),
        )
    forge = LaunchForge(tool.base_url, issuer, "client-1", "dep-1", PLATFORM_KEY, PLATFORM_KID)
    yield forge
    forge.browser.close()


@pytest.fixture(scope="session")
def platform() -> Iterator[LaunchPlatform]:
    """A real LTI 1.3 platform (lti1p3platform from PyPI) on 127.0.0.1."""
    peer = LaunchPlatform().start()
    yield peer
    peer.stop()


def register_with(
    tool: ToolServer, platform: LaunchPlatform, client_id: str, deployment_id: str
) -> None:
    """Register each side with the other, as an admin does."""
    with tool.app.extensions["skillpath"].database.session() as session:
        add_registration(
            session,
            RegistrationInput(
                issuer=platform.issuer,
                client_id=client_id,
                auth_login_url=platform.auth_login_url,
                auth_token_url=platform.auth_token_url,
                keyset_url=platform.keyset_url,
                deployments=[deployment_id],
            ),
        )
    platform.register_tool(
        ToolRegistration(
            client_id=client_id,
            deployment_id=deployment_id,
            login_url=tool.login_url,
            launch_url=tool.launch_url,
            jwks_url=tool.jwks_url,
        )
    )


@pytest.fixture
def client_id(tool: ToolServer, platform: LaunchPlatform) -> str:
    """A fresh registration of `tool` on the shared platform; its client id."""
    client_id = "client-" + uuid.uuid4().hex[:8]
    register_with(tool, platform, client_id, "deployment-1")
    return client_id


@pytest.fixture
def browser() -> Iterator[LaunchBrowser]:
    browser = LaunchBrowser()
    yield browser
    browser.close()
