"""LTI Dynamic Registration 1.0, the tool's side: read and check the platform's OpenID
configuration, build Skillpath's client registration, post it, and read the answer.

The platform opens `/lti/register?openid_configuration=...&registration_token=...`. Every
failure is a `RegistrationFailed` whose message names the problem and quotes what the platform
answered (status and the start of its body), so an admin can act on it. Nothing here stores
anything: the use case stores the registration once the platform has accepted it.

Calls leave through the one HTTP session the container gives (timeouts on every call). The
initiation URL is open to anyone, so each answer is read up to `MAX_ANSWER_BYTES` and
redirects are not followed: a platform's configuration is where it says it is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from adapters.lms import adapter_named
from config import Settings
from lti_tool.errors import RegistrationFailed
from lti_tool.lti.vocabulary import (
    CONTENT_AREA_PLACEMENT,
    DEEP_LINKING_REQUEST,
    PLATFORM_CONFIGURATION,
    RESOURCE_LINK_REQUEST,
    TOOL_CONFIGURATION,
    TOOL_SCOPES,
)

log = logging.getLogger("skillpath.registration")

MAX_ANSWER_BYTES = 256 * 1024
TIMEOUT_SECONDS = 10.0
# What a platform's configuration must name (LTI Dynamic Registration 1.0, section 3.4).
REQUIRED_ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
)
# The claims Skillpath asks for: who launched and the names to greet them with. Not the
# email: Skillpath works without it (the xAPI `mbox` identity needs it; the LMS can add it).
REQUESTED_CLAIMS = ("iss", "sub", "name", "given_name", "family_name")
TOOL_NAME = "Skillpath"
TOOL_DESCRIPTION = (
    "An adaptive learning path for every learner: the next micro-lesson, why, and the path ahead."
)


@dataclass(frozen=True)
class PlatformConfiguration:
    """The parts of a platform's OpenID configuration a registration uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    scopes_supported: tuple[str, ...]
    product_family_code: str
    version: str = ""
    authorization_server: str | None = None
    messages_supported: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def supports_deep_linking(self) -> bool:
        return DEEP_LINKING_REQUEST in self.messages_supported

    @property
    def display_name(self) -> str:
        host = urlsplit(self.issuer).netloc or self.issuer
        family = self.product_family_code or "LMS"
        return f"{family} at {host}"


@dataclass(frozen=True)
class RegistrationAnswer:
    """What the platform gave back: the tool's client id and, usually, its deployment."""

    client_id: str
    deployment_id: str | None


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _answer_of(response: requests.Response) -> str:
    return f"HTTP {response.status_code}: {_excerpt(_read_text(response)) or '(empty body)'}"


def _read_text(response: requests.Response) -> str:
    cached = getattr(response, "_skillpath_text", None)
    if isinstance(cached, str):
        return cached
    body = b""
    for chunk in response.iter_content(16384):
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            body = body[:MAX_ANSWER_BYTES]
            break
    text = body.decode(response.encoding or "utf-8", errors="replace")
    response._skillpath_text = text  # type: ignore[attr-defined]
    return text


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _string_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def parse_configuration(document: Any, configuration_url: str) -> PlatformConfiguration:
    """Check a platform's OpenID configuration (already decoded JSON) against the Dynamic
    Registration rules; `RegistrationFailed` names the first problem found."""
    if not isinstance(document, dict):
        raise RegistrationFailed(
            "The platform's OpenID configuration is not a JSON object.",
            code="configuration_malformed",
        )
    issuer = document.get("issuer")
    if not _is_http_url(issuer):
        raise RegistrationFailed(
            "The platform's OpenID configuration names no issuer (an http(s) URL).",
            code="configuration_malformed",
        )
    assert isinstance(issuer, str)
    platform = document.get(PLATFORM_CONFIGURATION)
    family = platform.get("product_family_code") if isinstance(platform, dict) else None
    adapter = adapter_named(family if isinstance(family, str) else "")
    if _origin(issuer) != _origin(configuration_url) and not adapter.issuer_may_differ(
        issuer.rstrip("/"), urlsplit(configuration_url).hostname or ""
    ):
        raise RegistrationFailed(
            f"The configuration at {configuration_url} is for another platform: its issuer is "
            f"{issuer}, whose origin differs from the configuration's.",
            code="foreign_issuer",
            admin_hint="Start the registration from the LMS whose issuer this is.",
        )
    missing = [name for name in REQUIRED_ENDPOINTS if not _is_http_url(document.get(name))]
    if missing:
        raise RegistrationFailed(
            "The platform's OpenID configuration lacks " + ", ".join(missing) + ".",
            code="configuration_incomplete",
        )
    if not isinstance(platform, dict):
        raise RegistrationFailed(
            f"The platform's OpenID configuration has no LTI platform configuration "
            f"({PLATFORM_CONFIGURATION}).",
            code="configuration_incomplete",
        )
    scopes = _string_list(document.get("scopes_supported"))
    lacking = [scope for scope in TOOL_SCOPES if scope not in scopes]
    if lacking:
        raise RegistrationFailed(
            "The platform does not offer the services Skillpath needs; its configuration lacks "
            "the scopes " + ", ".join(lacking) + ".",
            code="missing_scopes",
            admin_hint="Turn on Assignment and Grade Services and Names and Role Provisioning "
            "for LTI tools in the LMS, then register again.",
        )
    if "id_token" not in _string_list(document.get("response_types_supported")) and (
        "response_types_supported" in document
    ):
        raise RegistrationFailed(
            "The platform does not issue id_tokens (response_types_supported).",
            code="configuration_malformed",
        )
    algorithms = _string_list(document.get("id_token_signing_alg_values_supported"))
    if algorithms and "RS256" not in algorithms:
        raise RegistrationFailed(
            "The platform does not sign with RS256, which LTI 1.3 requires.",
            code="configuration_malformed",
        )
    messages: dict[str, tuple[str, ...]] = {}
    for message in platform.get("messages_supported") or []:
        if isinstance(message, dict) and isinstance(message.get("type"), str):
            messages[message["type"]] = _string_list(message.get("placements"))
    if messages and RESOURCE_LINK_REQUEST not in messages:
        raise RegistrationFailed(
            "The platform does not launch resource links (messages_supported).",
            code="configuration_malformed",
        )
    server = document.get("authorization_server")
    return PlatformConfiguration(
        issuer=issuer,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        registration_endpoint=document["registration_endpoint"],
        scopes_supported=scopes,
        product_family_code=family.strip() if isinstance(family, str) else "",
        version=str(platform.get("version") or ""),
        authorization_server=server if isinstance(server, str) and server else None,
        messages_supported=messages,
    )


def tool_registration(settings: Settings, platform: PlatformConfiguration) -> dict[str, Any]:
    """Skillpath's client registration for this platform (Dynamic Registration 3.5.2)."""
    launch_url = settings.url_for_path("/lti/launch")
    adapter = adapter_named(platform.product_family_code)
    messages: list[dict[str, Any]] = [
        {"type": RESOURCE_LINK_REQUEST, "target_link_uri": launch_url, "label": TOOL_NAME}
    ]
    if platform.supports_deep_linking:
        offered = platform.messages_supported.get(DEEP_LINKING_REQUEST, ())
        wanted = (CONTENT_AREA_PLACEMENT, *adapter.content_selection_placements)
        deep_linking: dict[str, Any] = {
            "type": DEEP_LINKING_REQUEST,
            "target_link_uri": launch_url,
            "label": f"{TOOL_NAME} pathway",
        }
        placements = [p for p in offered if p in wanted] if offered else []
        if placements:
            deep_linking["placements"] = placements
        messages.append(deep_linking)
    for placement in adapter.admin_placements:
        messages.append(
            {
                "type": RESOURCE_LINK_REQUEST,
                "target_link_uri": settings.url_for_path("/admin"),
                "label": f"{TOOL_NAME} admin",
                "placements": [placement],
            }
        )
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": settings.url_for_path("/lti/login"),
        "redirect_uris": [launch_url],
        "client_name": TOOL_NAME,
        "jwks_uri": settings.url_for_path("/.well-known/jwks.json"),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(TOOL_SCOPES),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(settings.base_url).netloc,
            "description": TOOL_DESCRIPTION,
            "target_link_uri": launch_url,
            "claims": list(REQUESTED_CLAIMS),
            "messages": messages,
        },
    }


def parse_answer(response: requests.Response) -> RegistrationAnswer:
    """The platform's answer to the registration: a client id, and a deployment id when it
    names one (platforms that create deployments later send none)."""
    if not 200 <= response.status_code < 300:
        raise RegistrationFailed(
            "The platform refused Skillpath's registration.",
            code="registration_refused",
            status=502,
            platform_answer=_answer_of(response),
        )
    try:
        body = json.loads(_read_text(response))
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise RegistrationFailed(
            "The platform's answer to the registration is not a JSON object.",
            code="registration_answer_malformed",
            status=502,
            platform_answer=_answer_of(response),
        )
    client_id = body.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip():
        raise RegistrationFailed(
            "The platform accepted the registration but gave no client_id.",
            code="registration_answer_malformed",
            status=502,
            platform_answer=_answer_of(response),
        )
    # The specification puts the deployment in the tool configuration; Canvas puts it at the
    # top of the answer.
    configuration = body.get(TOOL_CONFIGURATION)
    deployment = configuration.get("deployment_id") if isinstance(configuration, dict) else None
    if not isinstance(deployment, str) or not deployment.strip():
        deployment = body.get("deployment_id")
    return RegistrationAnswer(
        client_id=client_id.strip(),
        deployment_id=deployment.strip()
        if isinstance(deployment, str) and deployment.strip()
        else None,
    )


class PlatformRegistrar:
    """The HTTP side of a Dynamic Registration (built once by the container)."""

    def __init__(self, settings: Settings, http: requests.Session) -> None:
        self._settings = settings
        self._http = http

    @staticmethod
    def _headers(token: str | None, content_type: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def _send(self, method: str, url: str, **options: Any) -> requests.Response:
        what = (
            "fetch the platform's OpenID configuration"
            if method == "GET"
            else ("send the registration to the platform")
        )
        try:
            response = self._http.request(
                method, url, timeout=TIMEOUT_SECONDS, allow_redirects=False, stream=True, **options
            )
        except requests.RequestException as exc:
            raise RegistrationFailed(
                f"Skillpath could not {what} at {url}: the platform did not answer "
                f"({type(exc).__name__}).",
                code="platform_unreachable",
                status=502,
                platform_answer="no answer",
            ) from None
        if 300 <= response.status_code < 400:
            location = response.headers.get("Location", "")
            raise RegistrationFailed(
                f"Skillpath could not {what}: {url} answered with a redirect"
                + (f" to {location}" if location else "")
                + "; give the final address.",
                code="platform_redirected",
                status=502,
                platform_answer=f"HTTP {response.status_code}",
            )
        return response

    def close(self) -> None:
        self._http.close()

    def fetch_configuration(self, url: str, token: str | None) -> PlatformConfiguration:
        if not _is_http_url(url):
            raise RegistrationFailed(
                "openid_configuration must be the absolute http(s) URL of the platform's "
                "OpenID configuration.",
                code="bad_configuration_url",
            )
        response = self._send("GET", url, headers=self._headers(token))
        try:
            if response.status_code != 200:
                raise RegistrationFailed(
                    f"The platform's OpenID configuration at {url} could not be read.",
                    code="configuration_unavailable",
                    status=502,
                    platform_answer=_answer_of(response),
                )
            try:
                document = json.loads(_read_text(response))
            except ValueError:
                raise RegistrationFailed(
                    f"The platform's OpenID configuration at {url} is not JSON.",
                    code="configuration_malformed",
                    platform_answer=_answer_of(response),
                ) from None
            try:
                return parse_configuration(document, url)
            except RegistrationFailed as exc:
                exc.platform_answer = exc.platform_answer or _answer_of(response)
                raise
        finally:
            response.close()

    def register(
        self, platform: PlatformConfiguration, token: str | None
    ) -> tuple[RegistrationAnswer, dict[str, Any]]:
        """Post Skillpath's registration; the platform's answer and what was sent."""
        body = tool_registration(self._settings, platform)
        response = self._send(
            "POST",
            platform.registration_endpoint,
            data=json.dumps(body),
            headers=self._headers(token, "application/json"),
        )
        try:
            answer = parse_answer(response)
        finally:
            response.close()
        log.info(
            "platform %s accepted the registration: client_id=%s deployment=%s",
            platform.issuer,
            answer.client_id,
            answer.deployment_id or "-",
        )
        return answer, body
