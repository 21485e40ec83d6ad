"""Property-based fuzz of the launch endpoint (hypothesis): random form bodies, random
JWT-shaped strings, mutations of a valid id_token, and tokens signed with the platform's
real key whose claims are random JSON. Whatever arrives, `/lti/login` and `/lti/launch` never
answer 5xx, no response header grows from the request, and an accepted launch opens a page
that answers without a 5xx. Each example is a real login and launch on the app (through
Flask's test client, so a few hundred fit in seconds)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peers.tool_server import ToolServer
from tests.lti_tool.launch_forge import LTI, LaunchForge
from tests.lti_tool.usecases.test_fuzz_catalog import JSON, WEIRD_TEXT

FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
CLAIMS = [
    "iss",
    "aud",
    "azp",
    "sub",
    "exp",
    "iat",
    "nonce",
    "name",
    "given_name",
    "email",
    "lti_version",
    "lti_message_type",
    "lti_deployment_id",
    "lti_target_link_uri",
    "lti_roles",
    "lti_resource_link",
    "lti_context",
    "lti_custom",
    "lti_launch_presentation",
    "lti_tool_platform",
]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Launcher:
    """Logins and launches on one app, from one client address of the test's own."""

    def __init__(self, tool: ToolServer, forge: LaunchForge) -> None:
        self.forge = forge
        self.client = tool.app.test_client()
        self.environ = {"REMOTE_ADDR": f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}

    def login(self) -> tuple[str, str]:
        forge = self.forge
        response = self.client.get(
            "/lti/login",
            query_string={
                "iss": forge.issuer,
                "client_id": forge.client_id,
                "login_hint": "learner-1",
                "target_link_uri": forge.tool + "/lti/launch",
                "lti_deployment_id": forge.deployment_id,
            },
            environ_base=self.environ,
        )
        assert response.status_code == 302, response.text
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        return query["state"][0], query["nonce"][0]

    def post(self, form: dict[str, str]) -> Any:
        # Lone surrogates go out as the bytes of their UTF-8 form, as a hostile client sends.
        body = urlencode(form, encoding="utf-8", errors="surrogatepass")
        response = self.client.post(
            "/lti/launch",
            data=body,
            content_type="application/x-www-form-urlencoded",
            environ_base=self.environ,
        )
        check(response)
        if response.status_code == 303:
            page = self.client.get(response.headers["Location"], environ_base=self.environ)
            check(page)
        return response


def sign_any(forge: LaunchForge, claims: Any) -> str:
    """Signed with the platform's key whatever the claims are (PyJWT's encode refuses some)."""
    signed: str = jwt.api_jws.PyJWS().encode(
        json.dumps(claims).encode(), forge.private_key, "RS256", {"kid": forge.kid}
    )
    return signed


def check(response: Any) -> None:
    assert response.status_code < 500, response.text[:800]
    assert response.status_code in (200, 303, 400, 401, 404, 413), response.status_code
    for name, value in response.headers.items():
        assert len(name) + len(value) < 4096, (name, value[:200])


@pytest.fixture
def launcher(tool: ToolServer, forge: LaunchForge) -> Launcher:
    return Launcher(tool, forge)


def test_random_form_bodies(launcher: Launcher) -> None:
    @FUZZ
    @given(
        st.dictionaries(
            st.sampled_from(["id_token", "state", "lti_storage_target", "x"]) | WEIRD_TEXT,
            WEIRD_TEXT | st.text(alphabet=B64URL + ".", max_size=300),
            max_size=4,
        ),
        st.booleans(),
    )
    def run(form: dict[str, str], with_login: bool) -> None:
        if with_login:
            state, _ = launcher.login()
            form.setdefault("state", state)
        launcher.post(form)

    run()


def test_random_jwt_shaped_tokens(launcher: Launcher) -> None:
    @FUZZ
    @given(
        st.one_of(
            st.text(alphabet=B64URL + ".", max_size=500),
            st.tuples(JSON, JSON, st.binary(max_size=64)).map(
                lambda t: ".".join(
                    (b64(json.dumps(t[0]).encode()), b64(json.dumps(t[1]).encode()), b64(t[2]))
                )
            ),
        )
    )
    def run(token: str) -> None:
        state, _ = launcher.login()
        launcher.post({"id_token": token, "state": state})

    run()


def test_mutated_valid_tokens(launcher: Launcher) -> None:
    forge = launcher.forge

    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        state, nonce = launcher.login()
        token = forge.sign(forge.claims(nonce))
        how = data.draw(st.sampled_from(["flip", "cut", "swap", "payload", "header"]))
        head, body, signature = token.split(".")
        if how == "flip":
            at = data.draw(st.integers(0, len(token) - 1))
            token = token[:at] + data.draw(st.sampled_from(list(B64URL + ".="))) + token[at + 1 :]
        elif how == "cut":
            token = token[: data.draw(st.integers(0, len(token)))]
        elif how == "swap":
            token = ".".join((body, head, signature))
        elif how == "payload":
            token = ".".join((head, b64(json.dumps(data.draw(JSON)).encode()), signature))
        else:
            token = ".".join((b64(json.dumps(data.draw(JSON)).encode()), body, signature))
        launcher.post({"id_token": token, "state": state})

    run()


def test_signed_tokens_with_random_claims(launcher: Launcher) -> None:
    """Signed with the platform's real key: every check after the signature sees them."""
    forge = launcher.forge

    @FUZZ
    @given(st.dictionaries(st.sampled_from(CLAIMS), JSON, min_size=1, max_size=4))
    def run(changes: dict[str, Any]) -> None:
        state, nonce = launcher.login()
        claims = forge.claims(nonce, **changes)
        launcher.post({"id_token": sign_any(forge, claims), "state": state})

    run()


def test_signed_launches_with_random_text_are_accepted_or_refused_cleanly(
    launcher: Launcher,
) -> None:
    """Valid launches whose people, courses and links are named with any text."""
    forge = launcher.forge

    @FUZZ
    @given(
        name=WEIRD_TEXT,
        sub=WEIRD_TEXT,
        context=st.fixed_dictionaries({"id": WEIRD_TEXT}, optional={"title": WEIRD_TEXT}),
        link=st.fixed_dictionaries({"id": WEIRD_TEXT}, optional={"title": WEIRD_TEXT}),
        custom=st.dictionaries(WEIRD_TEXT, WEIRD_TEXT, max_size=3),
    )
    def run(name: str, sub: str, context: Any, link: Any, custom: Any) -> None:
        state, nonce = launcher.login()
        claims = forge.claims(nonce, name=name, sub=sub)
        claims[LTI + "context"] = context
        claims[LTI + "resource_link"] = link
        claims[LTI + "custom"] = custom
        launcher.post({"id_token": sign_any(forge, claims), "state": state})

    run()
