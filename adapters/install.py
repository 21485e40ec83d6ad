"""How to install Skillpath into each LMS by hand: the LMS's own field names and what to type in
them, what to turn on, and where the LMS shows the values to give back to Skillpath; and
Canvas's developer key JSON. Built from each LMS's public documentation.

Pure: the caller passes Skillpath's URLs and scopes (`ToolEndpoints`); nothing here reads
settings or imports the app. `/install`, `/lti/config/canvas.json` and `skillpath
install-info` show what these functions return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CANVAS_PRIVACY_LEVELS",
    "DEFAULT_CANVAS_PRIVACY",
    "InstallField",
    "InstallGuide",
    "InstallStep",
    "LMS_KEYS",
    "ToolEndpoints",
    "canvas_developer_key",
    "install_guide",
    "install_guides",
]

# Canvas's privacy levels, least shared first. Skillpath works with any; names help
# instructors, emails only matter for the xAPI `mbox` identity.
CANVAS_PRIVACY_LEVELS = ("anonymous", "name_only", "email_only", "public")
DEFAULT_CANVAS_PRIVACY = "name_only"


@dataclass(frozen=True)
class ToolEndpoints:
    """Skillpath's side of an installation, as the LMS must be told it."""

    base_url: str
    login_url: str
    launch_url: str
    jwks_url: str
    registration_url: str
    admin_url: str
    canvas_json_url: str
    domain: str
    scopes: tuple[str, ...]
    title: str = "Skillpath"
    description: str = ""


@dataclass(frozen=True)
class InstallField:
    """One field of the LMS's form (`label` as the LMS names it) and what goes in it."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class InstallStep:
    """One screen of the LMS: where it is, the fields to fill, what to turn on."""

    title: str
    where: str
    fields: tuple[InstallField, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstallGuide:
    """Everything an admin of one LMS needs. `paste_back` maps the values the LMS shows
    (their labels) to Skillpath's registration fields."""

    key: str
    name: str
    dynamic_registration: str | None
    steps: tuple[InstallStep, ...]
    paste_back: tuple[InstallField, ...] = field(default_factory=tuple)


def _paste(label: str, skillpath_field: str, note: str = "") -> InstallField:
    return InstallField(label, skillpath_field, note)


def _moodle(t: ToolEndpoints) -> InstallGuide:
    return InstallGuide(
        key="moodle",
        name="Moodle 4.x",
        dynamic_registration=(
            "Site administration › Plugins › Activity modules › External tool › Manage tools: "
            f"paste {t.registration_url} into “Tool URL…”, press “Add LTI Advantage”, then "
            "“Activate” the tool when it shows as pending."
        ),
        steps=(
            InstallStep(
                "Configure a tool manually",
                "Site administration › Plugins › Activity modules › External tool › Manage tools › "
                "configure a tool manually",
                (
                    InstallField("Tool name", t.title),
                    InstallField("Tool URL", t.launch_url),
                    InstallField("LTI version", "LTI 1.3"),
                    InstallField("Public key type", "Keyset URL"),
                    InstallField("Public keyset", t.jwks_url),
                    InstallField("Initiate login URL", t.login_url),
                    InstallField("Redirection URI(s)", t.launch_url),
                    InstallField(
                        "Tool configuration usage",
                        "Show in activity chooser and as a preconfigured tool",
                    ),
                    InstallField("Default launch container", "Embed, without blocks"),
                    InstallField("Supports Deep Linking (Content-Item Message)", "ticked"),
                    InstallField("Content Selection URL", t.launch_url),
                ),
            ),
            InstallStep(
                "Services and privacy",
                "the same form, sections “Services” and “Privacy”",
                (
                    InstallField(
                        "IMS LTI Assignment and Grade Services",
                        "Use this service for grade sync and column management",
                    ),
                    InstallField(
                        "IMS LTI Names and Role Provisioning",
                        "Use this service to retrieve members' information as per privacy settings",
                    ),
                    InstallField("Tool Settings", "Do not use this service"),
                    InstallField(
                        "Share launcher's name with tool",
                        "Always",
                        "optional: pages show roles without it",
                    ),
                    InstallField(
                        "Share launcher's email with tool",
                        "Never",
                        "Always only for the xAPI mbox identity",
                    ),
                    InstallField("Accept grades from the tool", "Always"),
                ),
            ),
        ),
        paste_back=(
            _paste("Platform ID", "issuer"),
            _paste("Client ID", "client id"),
            _paste("Deployment ID", "deployment id"),
            _paste("Public keyset URL", "keyset URL"),
            _paste("Access token URL", "token URL"),
            _paste("Authentication request URL", "authorization (login) URL"),
        ),
    )


def _canvas(t: ToolEndpoints) -> InstallGuide:
    return InstallGuide(
        key="canvas",
        name="Canvas",
        dynamic_registration=(
            "Admin › Developer Keys › + Developer Key › + LTI Registration: paste "
            f"{t.registration_url} as the registration URL, review, then turn the key on."
        ),
        steps=(
            InstallStep(
                "Create the developer key from Skillpath's JSON",
                "Admin › Developer Keys › + Developer Key › + LTI Key",
                (
                    InstallField("Key Name", t.title),
                    InstallField("Redirect URIs", t.launch_url),
                    InstallField("Method", "Enter URL"),
                    InstallField(
                        "JSON URL",
                        t.canvas_json_url,
                        "add ?privacy=anonymous|name_only|email_only|public to choose the privacy level",
                    ),
                ),
                (
                    "The JSON names the OIDC initiation URL, the target link URI, the public JWK "
                    "URL, the grade and roster scopes, the privacy level and the placements "
                    "(link and assignment selection for the pathway picker, account navigation "
                    "for the admin console).",
                ),
            ),
            InstallStep(
                "Turn the key on and install the app",
                "Admin › Developer Keys: set the key's state to ON; then Admin › Settings › Apps › "
                "View App Configurations › + App",
                (
                    InstallField("Configuration Type", "By Client ID"),
                    InstallField("Client ID", "the number in the key's Details column"),
                ),
                ("The deployment id is in the app's gear menu › Deployment Id.",),
            ),
        ),
        paste_back=(
            _paste(
                "Issuer",
                "issuer",
                "https://canvas.instructure.com on Canvas Cloud; your Canvas URL when self-hosted",
            ),
            _paste("Client ID (Details column)", "client id"),
            _paste("Deployment Id (app menu)", "deployment id"),
            _paste(
                "https://sso.canvaslms.com/api/lti/authorize_redirect",
                "authorization (login) URL",
                "Canvas Cloud; beta and test use sso.beta / sso.test",
            ),
            _paste("https://sso.canvaslms.com/login/oauth2/token", "token URL"),
            _paste("https://sso.canvaslms.com/api/lti/security/jwks", "keyset URL"),
        ),
    )


def _brightspace(t: ToolEndpoints) -> InstallGuide:
    return InstallGuide(
        key="brightspace",
        name="D2L Brightspace",
        dynamic_registration=(
            "Admin Tools › Manage Extensibility › LTI Advantage › Register Tool › Dynamic: paste "
            f"{t.registration_url} as the tool initiation registration endpoint. Brightspace "
            "leaves the registration disabled: enable it, then create a deployment."
        ),
        steps=(
            InstallStep(
                "Register the tool",
                "Admin Tools › Manage Extensibility › LTI Advantage › Register Tool › Standard",
                (
                    InstallField("Name", t.title),
                    InstallField("Domain", t.base_url),
                    InstallField("Redirect URLs", t.launch_url),
                    InstallField("OpenID Connect Login URL", t.login_url),
                    InstallField("Target Link URI", t.launch_url),
                    InstallField("Keyset URL", t.jwks_url),
                    InstallField(
                        "Extensions",
                        "Assignment and Grade Services, Deep Linking, Names and Role Provisioning Services",
                    ),
                    InstallField(
                        "Roles",
                        "Send Institution Role",
                        "lets Brightspace administrators open the admin console",
                    ),
                ),
            ),
            InstallStep(
                "Create a deployment and links",
                "the registration › View Deployments › New Deployment",
                (
                    InstallField("Extensions", "the same three as the registration"),
                    InstallField(
                        "Security Settings",
                        "Org Unit Information; Name optional; Email only for the xAPI mbox identity",
                    ),
                    InstallField("Org Units", "the courses or departments that may use Skillpath"),
                ),
                (
                    "Then View Links › New Link: a Deep Linking Quicklink to "
                    f"{t.launch_url} gives instructors the pathway picker.",
                ),
            ),
        ),
        paste_back=(
            _paste("Issuer", "issuer"),
            _paste("Client Id", "client id"),
            _paste("Deployment Id", "deployment id"),
            _paste("OpenID Connect Authentication Endpoint", "authorization (login) URL"),
            _paste("Brightspace OAuth2 Access Token URL", "token URL"),
            _paste("Brightspace Keyset URL", "keyset URL"),
            _paste("Brightspace OAuth2 Audience", "token audience"),
        ),
    )


def _blackboard(t: ToolEndpoints) -> InstallGuide:
    return InstallGuide(
        key="blackboard",
        name="Blackboard Learn",
        dynamic_registration=None,
        steps=(
            InstallStep(
                "Register the application once",
                "Anthology Developer Portal (developer.anthology.com) › My Applications › Register "
                "a REST or LTI application",
                (
                    InstallField("Application Name", t.title),
                    InstallField("Domain(s)", t.domain),
                    InstallField("My Integration supports LTI 1.3", "on"),
                    InstallField("Login Initiation URL", t.login_url),
                    InstallField("Tool Redirect URL(s)", t.launch_url),
                    InstallField("Tool JWKS URL", t.jwks_url),
                    InstallField("Signing Algorithm", "RS256"),
                ),
            ),
            InstallStep(
                "Deploy it in Learn",
                "Administrator Panel › Integrations › LTI Tool Providers › Register LTI 1.3/Advantage Tool",
                (
                    InstallField("Client ID", "the Application ID from the portal"),
                    InstallField("Tool Status", "Approved"),
                    InstallField(
                        "User Fields to Send",
                        "Role in Course; Name optional; Email Address only for the xAPI mbox identity",
                    ),
                    InstallField("Allow grade service access", "Yes"),
                    InstallField("Allow Membership Service Access", "Yes"),
                ),
                (
                    f"Manage Placements › Create Placement: a Deep Linking content tool at {t.launch_url} "
                    f"for the pathway picker; an Administrator Tool at {t.admin_url} for the console.",
                ),
            ),
        ),
        paste_back=(
            _paste("Issuer", "issuer", "https://blackboard.com"),
            _paste("Application ID", "client id"),
            _paste("Deployment ID", "deployment id", "shown once the tool is registered in Learn"),
            _paste("OIDC auth request endpoint", "authorization (login) URL"),
            _paste("Auth token endpoint", "token URL"),
            _paste("Public keyset URL", "keyset URL"),
        ),
    )


def _openedx(t: ToolEndpoints) -> InstallGuide:
    return InstallGuide(
        key="openedx",
        name="Open edX",
        dynamic_registration=None,
        steps=(
            InstallStep(
                "Allow LTI components in the course",
                "Studio › Settings › Advanced Settings",
                (InstallField("Advanced Module List", '["lti_consumer"]'),),
            ),
            InstallStep(
                "Add an LTI Consumer component",
                "Studio › a unit › Add New Component › Advanced › LTI Consumer › Edit",
                (
                    InstallField("LTI Version", "LTI 1.3"),
                    InstallField("Tool Launch URL", t.launch_url),
                    InstallField("Registered Redirect URIs", f'["{t.launch_url}"]'),
                    InstallField("Tool Initiate Login URL", t.login_url),
                    InstallField("Tool Public Key Mode", "Keyset URL"),
                    InstallField("Tool Keyset URL", t.jwks_url),
                    InstallField("LTI Assignment and Grades Service", "Programmatic"),
                    InstallField("Enable LTI NRPS", "True"),
                    InstallField("Deep linking", "True"),
                    InstallField("Deep Linking Launch URL", t.launch_url),
                    InstallField(
                        "Request user's username", "False", "pages show roles without names"
                    ),
                    InstallField(
                        "Request user's email", "False", "True only for the xAPI mbox identity"
                    ),
                    InstallField(
                        "Custom Parameters",
                        '["pathway=<pathway id>"]',
                        "or pick the pathway with Deep Linking",
                    ),
                ),
                ("Each LTI component is its own client: register each one in Skillpath.",),
            ),
        ),
        paste_back=(
            _paste("Issuer", "issuer", "the LMS's address, e.g. https://courses.example.edu"),
            _paste("Client ID", "client id"),
            _paste("Deployment ID", "deployment id"),
            _paste("Login URL", "authorization (login) URL"),
            _paste("Access Token URL", "token URL"),
            _paste("Keyset URL", "keyset URL"),
        ),
    )


_GUIDES = {
    "moodle": _moodle,
    "canvas": _canvas,
    "brightspace": _brightspace,
    "blackboard": _blackboard,
    "openedx": _openedx,
}
LMS_KEYS: Sequence[str] = tuple(_GUIDES)


def install_guides(endpoints: ToolEndpoints) -> list[InstallGuide]:
    """One guide per LMS, in a fixed order."""
    return [build(endpoints) for build in _GUIDES.values()]


def install_guide(endpoints: ToolEndpoints, key: str) -> InstallGuide:
    """The guide of one LMS (`KeyError` for an LMS Skillpath has no guide for)."""
    return _GUIDES[key](endpoints)


def canvas_developer_key(
    endpoints: ToolEndpoints, privacy_level: str = DEFAULT_CANVAS_PRIVACY
) -> dict[str, Any]:
    """Canvas's LTI 1.3 developer key configuration ("Enter URL" or "Paste JSON")."""
    if privacy_level not in CANVAS_PRIVACY_LEVELS:
        raise ValueError(f"privacy level must be one of {', '.join(CANVAS_PRIVACY_LEVELS)}")
    picker = f"{endpoints.title} pathway"
    placements = [
        {
            "placement": placement,
            "message_type": "LtiDeepLinkingRequest",
            "target_link_uri": endpoints.launch_url,
            "text": picker,
        }
        for placement in ("link_selection", "assignment_selection")
    ]
    placements.append(
        {
            "placement": "account_navigation",
            "message_type": "LtiResourceLinkRequest",
            "target_link_uri": endpoints.admin_url,
            "text": f"{endpoints.title} admin",
        }
    )
    return {
        "title": endpoints.title,
        "description": endpoints.description,
        "oidc_initiation_url": endpoints.login_url,
        "target_link_uri": endpoints.launch_url,
        "public_jwk_url": endpoints.jwks_url,
        "scopes": list(endpoints.scopes),
        "extensions": [
            {
                "domain": endpoints.domain,
                "tool_id": "skillpath",
                "platform": "canvas.instructure.com",
                "privacy_level": privacy_level,
                "settings": {"text": endpoints.title, "placements": placements},
            }
        ],
        "custom_fields": {},
    }
