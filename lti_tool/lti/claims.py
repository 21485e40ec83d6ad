"""Checks on the claims of an id_token that pylti1p3 does not make, and the typed view of a
validated launch. Pure functions over the decoded JSON: each failed check names the claim."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lti_tool.errors import LaunchRejected
from lti_tool.inputs import IDENTIFIER_LENGTH, TITLE_LENGTH, JsonLimits, json_problems, text_problem
from lti_tool.lti.vocabulary import (
    AGS_CLAIM,
    CONTEXT_CLAIM,
    CUSTOM_CLAIM,
    DEPLOYMENT_ID_CLAIM,
    EMAIL_CLAIM,
    LAUNCH_PRESENTATION_CLAIM,
    MESSAGE_TYPE_CLAIM,
    NRPS_CLAIM,
    RESOURCE_LINK_CLAIM,
    RESOURCE_LINK_REQUEST,
    ROLES_CLAIM,
    SUPPORTED_MESSAGES,
    TARGET_LINK_URI_CLAIM,
    TOOL_PLATFORM_CLAIM,
    VERSION_CLAIM,
    claim_label,
    role_of,
)

# A token is at most 64 KB (`launch.MAX_ID_TOKEN_BYTES`): these bound its shape, not its size.
TOKEN_JSON = JsonLimits(max_depth=16, max_string=64 * 1024)


def reject(message: str, code: str, hint: str | None = None) -> LaunchRejected:
    return LaunchRejected(message, code=code, admin_hint=hint)


def _require_str(body: dict[str, Any], claim: str, label: str | None = None) -> str:
    value = body.get(claim)
    name = label or claim
    if value is None:
        raise reject(f"The launch is missing the required claim {name}.", "missing_claim")
    if not isinstance(value, str) or not value:
        raise reject(f"The claim {name} must be a non-empty string.", "invalid_claim")
    return value


def _optional_object(body: dict[str, Any], claim: str, label: str) -> dict[str, Any] | None:
    value = body.get(claim)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise reject(f"The claim {label} must be a JSON object.", "invalid_claim")
    return value


def check_text(header: Any, body: Any) -> None:
    """Every string of the token (keys and values, header and payload) must be text Skillpath
    can keep: no NUL, no lone surrogate. Checked before anything is looked up with them."""
    for where, document in (("header", header), ("", body)):
        for path, problem in json_problems(document, TOKEN_JSON, root=where):
            label = claim_label(path) or "payload"
            raise reject(f"The claim {label} {problem}.", "invalid_claim")


def check_header(header: Any) -> str:
    """The header must name RS256 and a kid. Returns the kid."""
    if not isinstance(header, dict):
        raise reject("The id_token header is not a JSON object.", "malformed_token")
    alg = header.get("alg")
    if alg != "RS256":
        raise reject(
            f"The id_token is signed with {alg!r}; LTI 1.3 launches must use RS256.",
            "bad_algorithm",
            "Configure the platform to sign launches with RS256.",
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise reject("The id_token header names no key (kid).", "missing_kid")
    return kid


def client_id_of(body: dict[str, Any]) -> str:
    """The client the token is for: `azp` when several audiences, else the single `aud`."""
    aud = body.get("aud")
    azp = body.get("azp")
    if azp is not None and not isinstance(azp, str):
        raise reject("The claim azp must be a string.", "invalid_claim")
    if isinstance(aud, str) and aud:
        if azp is not None and azp != aud:
            raise reject("The claim azp does not name the audience of the token.", "bad_azp")
        return aud
    if isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
        if len(aud) > 1 and azp is None:
            raise reject(
                "The token has several audiences but no azp claim naming this tool.", "missing_azp"
            )
        client_id = azp if azp is not None else aud[0]
        if client_id not in aud:
            raise reject("The claim azp is not one of the token's audiences.", "bad_azp")
        return client_id
    if aud is None:
        raise reject("The launch is missing the required claim aud.", "missing_claim")
    raise reject("The claim aud must be a string or a list of strings.", "invalid_claim")


def check_message(body: dict[str, Any], base_url: str) -> None:
    """LTI claims: version, message type, deployment, roles, links, and their JSON types."""
    version = body.get(VERSION_CLAIM)
    if version != "1.3.0":
        raise reject(
            f"The launch says LTI version {version!r}; Skillpath speaks LTI 1.3.0.",
            "bad_version",
        )
    message_type = _require_str(body, MESSAGE_TYPE_CLAIM, "message_type")
    if message_type not in SUPPORTED_MESSAGES:
        raise reject(
            f"Skillpath does not handle {message_type!r} messages.",
            "unsupported_message_type",
            "Use a resource link or a deep linking placement.",
        )
    _require_str(body, DEPLOYMENT_ID_CLAIM, "deployment_id")
    roles = body.get(ROLES_CLAIM)
    if roles is None:
        raise reject("The launch is missing the required roles claim.", "missing_claim")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise reject("The roles claim must be a list of strings.", "invalid_claim")
    if message_type == RESOURCE_LINK_REQUEST:
        _require_str(body, "sub")
        link = _optional_object(body, RESOURCE_LINK_CLAIM, "resource_link")
        if link is None:
            raise reject("The launch is missing the required resource_link claim.", "missing_claim")
        _require_str(link, "id", "resource_link.id")
    elif body.get("sub") is not None and not isinstance(body.get("sub"), str):
        raise reject("The claim sub must be a string.", "invalid_claim")
    context = _optional_object(body, CONTEXT_CLAIM, "context")
    if context is not None:
        _require_str(context, "id", "context.id")
    for claim, label in (
        (CUSTOM_CLAIM, "custom"),
        (LAUNCH_PRESENTATION_CLAIM, "launch_presentation"),
        (TOOL_PLATFORM_CLAIM, "tool_platform"),
        (AGS_CLAIM, "ags endpoint"),
        (NRPS_CLAIM, "nrps"),
    ):
        _optional_object(body, claim, label)
    target = _require_str(body, TARGET_LINK_URI_CLAIM, "target_link_uri")
    if not is_our_url(target, base_url):
        raise reject(
            "The launch targets a URL that is not this Skillpath installation.",
            "foreign_target_link_uri",
            f"Set the tool's target link URI in the LMS to an address under {base_url}.",
        )


def check_fits(claims: LaunchClaims, body: dict[str, Any]) -> None:
    """What the launch record and the learner's record keep must fit their columns; each
    value that does not is refused, naming its claim."""
    context = body.get(CONTEXT_CLAIM) or {}
    title_label = "context.title" if _text(context.get("title")) else "context.label"
    name_label = "name" if _text(body.get("name")) else "given_name and family_name"
    email = body.get(EMAIL_CLAIM)
    for label, value, limit in (
        ("iss", claims.issuer, IDENTIFIER_LENGTH),
        ("aud", claims.client_id, IDENTIFIER_LENGTH),
        ("deployment_id", claims.deployment_id, IDENTIFIER_LENGTH),
        ("sub", claims.subject, IDENTIFIER_LENGTH),
        ("context.id", claims.context_id, IDENTIFIER_LENGTH),
        ("resource_link.id", claims.resource_link_id, IDENTIFIER_LENGTH),
        (name_label, claims.name, IDENTIFIER_LENGTH),
        (title_label, claims.context_title, TITLE_LENGTH),
        ("resource_link.title", claims.resource_link_title, TITLE_LENGTH),
        ("email", email if isinstance(email, str) else None, IDENTIFIER_LENGTH),
    ):
        problem = text_problem(value, limit) if value is not None else None
        if problem:
            raise reject(f"The claim {label} {problem}.", "invalid_claim")


def is_our_path(url: str, base_url: str, path: str) -> bool:
    """Whether `url` is exactly our `path` (e.g. "/admin") under `base_url`."""
    if not is_our_url(url, base_url):
        return False
    expected = (urlsplit(base_url).path.rstrip("/") + path).rstrip("/")
    return urlsplit(url).path.rstrip("/") == expected


def is_our_url(url: str, base_url: str) -> bool:
    ours, theirs = urlsplit(base_url), urlsplit(url)
    return (theirs.scheme, theirs.netloc.lower()) == (ours.scheme, ours.netloc.lower()) and (
        theirs.path or "/"
    ).startswith(ours.path or "/")


@dataclass(frozen=True)
class LaunchClaims:
    """The parts of a validated launch that Skillpath's pages and services use."""

    issuer: str
    client_id: str
    deployment_id: str
    message_type: str
    subject: str | None
    roles: tuple[str, ...]
    name: str | None
    context_id: str | None
    context_title: str | None
    resource_link_id: str | None
    resource_link_title: str | None
    custom: dict[str, Any]
    # The role the LMS's adapter read (None: the standard reading of the LIS role URIs).
    lms_role: str | None = None

    @property
    def role(self) -> str:
        """`instructor`, `learner` or `other`, from the LIS role URIs (as the LMS's adapter
        reads them)."""
        return self.lms_role or role_of(self.roles)

    @classmethod
    def from_body(
        cls, body: dict[str, Any], client_id: str, lms_role: str | None = None
    ) -> LaunchClaims:
        context = body.get(CONTEXT_CLAIM) or {}
        link = body.get(RESOURCE_LINK_CLAIM) or {}
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            given, family = body.get("given_name"), body.get("family_name")
            parts = [p for p in (given, family) if isinstance(p, str) and p.strip()]
            name = " ".join(parts) or None
        return cls(
            issuer=body["iss"],
            client_id=client_id,
            deployment_id=body[DEPLOYMENT_ID_CLAIM],
            message_type=body[MESSAGE_TYPE_CLAIM],
            subject=body.get("sub"),
            roles=tuple(body.get(ROLES_CLAIM) or ()),
            name=name,
            context_id=context.get("id"),
            context_title=_text(context.get("title")) or _text(context.get("label")),
            resource_link_id=link.get("id"),
            resource_link_title=_text(link.get("title")),
            custom=dict(body.get(CUSTOM_CLAIM) or {}),
            lms_role=lms_role,
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
