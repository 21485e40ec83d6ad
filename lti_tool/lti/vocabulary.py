"""The words of LTI 1.3 and LTI Advantage that Skillpath reads and writes: claim URIs,
message types, service scopes and media types, and what a set of roles makes of a user.

The one home of these strings: every other module imports them from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
VERSION_CLAIM = LTI + "version"
MESSAGE_TYPE_CLAIM = LTI + "message_type"
DEPLOYMENT_ID_CLAIM = LTI + "deployment_id"
ROLES_CLAIM = LTI + "roles"
RESOURCE_LINK_CLAIM = LTI + "resource_link"
CONTEXT_CLAIM = LTI + "context"
CUSTOM_CLAIM = LTI + "custom"
LAUNCH_PRESENTATION_CLAIM = LTI + "launch_presentation"
TOOL_PLATFORM_CLAIM = LTI + "tool_platform"
TARGET_LINK_URI_CLAIM = LTI + "target_link_uri"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DEEP_LINKING_SETTINGS_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CONTENT_ITEMS_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DEEP_LINKING_DATA_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
DEEP_LINKING_MESSAGE_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
EMAIL_CLAIM = "email"
# Prefixes shortened when a claim is named to a person: "context.title", not the whole URI.
_CLAIM_PREFIXES = (
    LTI,
    "https://purl.imsglobal.org/spec/lti-ags/claim/",
    "https://purl.imsglobal.org/spec/lti-nrps/claim/",
    "https://purl.imsglobal.org/spec/lti-dl/claim/",
)

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
# Deep Linking 2.0 content item types Skillpath returns.
LTI_RESOURCE_LINK_ITEM = "ltiResourceLink"

# LTI Dynamic Registration 1.0: the blocks of the platform's OpenID configuration and of the
# tool's client registration, and the postMessage that closes the registration window.
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
REGISTRATION_CLOSE_MESSAGE = "org.imsglobal.lti.close"
# Deep Linking's content-selection placement in the Dynamic Registration vocabulary.
CONTENT_AREA_PLACEMENT = "ContentArea"

# LTI Client Side postMessages and postMessage Storage (third-party cookies blocked): the
# login and launch parameter naming the platform's storage frame, and the message subjects.
STORAGE_TARGET_PARAM = "lti_storage_target"
STORAGE_DEFAULT_TARGET = "_parent"
PUT_DATA_MESSAGE = "lti.put_data"
GET_DATA_MESSAGE = "lti.get_data"
CAPABILITIES_MESSAGE = "lti.capabilities"
SUPPORTED_MESSAGES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)

AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM = AGS_SCOPE + "lineitem"
SCOPE_LINEITEM_READONLY = AGS_SCOPE + "lineitem.readonly"
SCOPE_RESULT_READONLY = AGS_SCOPE + "result.readonly"
SCOPE_SCORE = AGS_SCOPE + "score"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
# What Skillpath asks a platform for: grades (line items, scores, results) and the class list.
TOOL_SCOPES = (*AGS_SCOPES, NRPS_SCOPE)

LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

_LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
INSTRUCTOR_ROLES = frozenset(
    {
        _LIS + "membership#Instructor",
        _LIS + "membership#ContentDeveloper",
        _LIS + "membership/Instructor#TeachingAssistant",
        _LIS + "institution/person#Administrator",
        _LIS + "system/person#Administrator",
        _LIS + "membership#Administrator",
        # The short forms LTI 1.1-era platforms still send in 1.3 launches.
        "Instructor",
        "TeachingAssistant",
        "ContentDeveloper",
        "Administrator",
    }
)
LEARNER_ROLES = frozenset(
    {
        _LIS + "membership#Learner",
        # Not a LIS membership role, but sent by some platforms for students.
        _LIS + "membership#Student",
        _LIS + "institution/person#Student",
        _LIS + "institution/person#Learner",
        "Learner",
        "Student",
    }
)
ADMINISTRATOR_ROLES = frozenset(
    {
        _LIS + "system/person#Administrator",
        _LIS + "system/person#SysAdmin",
        _LIS + "institution/person#Administrator",
    }
)

_MEMBERSHIP = _LIS + "membership"
_SHORT_ROLES = frozenset(
    {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator", "Learner", "Student"}
)
_TEACHING_SUBROLES = tuple(
    _LIS + f"membership/{role}#" for role in ("Instructor", "ContentDeveloper", "Administrator")
)
_LEARNING_SUBROLES = (_LIS + "membership/Learner#",)

Role = Literal["instructor", "learner", "other"]
ROLE_NAMES: tuple[Role, ...] = ("instructor", "learner", "other")


def is_administrator(roles: Iterable[str]) -> bool:
    """An institution or system administrator of the platform: the role that may manage the
    platform's Skillpath registration (a course's own administrator may not)."""
    return bool(set(roles) & ADMINISTRATOR_ROLES)


def _is_context_role(role: str) -> bool:
    """A role in the course (LIS membership, or a short LTI 1.1 form), as opposed to a role
    in the institution or the system."""
    return role.startswith(_MEMBERSHIP) or role in _SHORT_ROLES


def role_of(roles: Iterable[str]) -> Role:
    """`instructor` when a role teaches or administers, else `learner` when a role learns,
    else `other`. The roles in the course decide when the launch has any: a teacher of the
    institution enrolled as a student in this course is a learner here. Sub-roles count as
    their role (`membership/Instructor#Grader` teaches)."""
    given = [r for r in roles if isinstance(r, str)]
    chosen = [r for r in given if _is_context_role(r)] or given
    if set(chosen) & INSTRUCTOR_ROLES or any(r.startswith(_TEACHING_SUBROLES) for r in chosen):
        return "instructor"
    if set(chosen) & LEARNER_ROLES or any(r.startswith(_LEARNING_SUBROLES) for r in chosen):
        return "learner"
    return "other"


def roles_of(claims: Mapping[str, Any]) -> list[str]:
    """The launch's roles, strings only."""
    roles = claims.get(ROLES_CLAIM)
    return [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []


def claim_label(path: str) -> str:
    """A claim's JSON path as people read it: the LTI URI prefixes left out."""
    for prefix in _CLAIM_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


def custom_parameter(claims: Mapping[str, Any], name: str) -> str | None:
    """A custom parameter of the launch, when it is a non-empty string."""
    custom = claims.get(CUSTOM_CLAIM) or {}
    value = custom.get(name) if isinstance(custom, Mapping) else None
    return value if isinstance(value, str) and value else None


def launch_email(claims: Mapping[str, Any]) -> str | None:
    """The launch's email claim, when it looks like an address."""
    value = claims.get(EMAIL_CLAIM)
    return value.strip() if isinstance(value, str) and "@" in value else None


def product_family(claims: Mapping[str, Any]) -> str:
    """The launch's `tool_platform.product_family_code`, lower-cased ("" if absent)."""
    platform = claims.get(TOOL_PLATFORM_CLAIM)
    if not isinstance(platform, Mapping):
        return ""
    code = platform.get("product_family_code")
    return code.strip().lower() if isinstance(code, str) else ""


def launch_presentation(claims: Mapping[str, Any]) -> Mapping[str, Any]:
    """The launch's `launch_presentation` claim (empty when absent or malformed)."""
    found = claims.get(LAUNCH_PRESENTATION_CLAIM)
    return found if isinstance(found, Mapping) else {}


def launch_locale(claims: Mapping[str, Any]) -> str | None:
    """The learner's locale from `launch_presentation.locale` (e.g. "fr-CA"), if any."""
    value = launch_presentation(claims).get("locale")
    return value.strip() if isinstance(value, str) and value.strip() else None


def in_iframe(claims: Mapping[str, Any]) -> bool:
    """The platform shows the tool inside its own page (`document_target` "iframe" or
    "frame"): the tool's headings then start below the platform's page heading."""
    return launch_presentation(claims).get("document_target") in ("iframe", "frame")
