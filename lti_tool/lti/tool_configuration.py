"""Skillpath's own side of an installation, as every LMS must be told it: its URLs (all under
`SKILLPATH_BASE_URL`) and the LTI Advantage scopes it asks for."""

from __future__ import annotations

from urllib.parse import urlsplit

from adapters.install import ToolEndpoints
from config import Settings
from lti_tool.lti.dynamic_registration import TOOL_DESCRIPTION, TOOL_NAME
from lti_tool.lti.vocabulary import TOOL_SCOPES

REGISTRATION_PATH = "/lti/register"
CANVAS_JSON_PATH = "/lti/config/canvas.json"


def tool_endpoints(settings: Settings) -> ToolEndpoints:
    return ToolEndpoints(
        base_url=settings.base_url,
        login_url=settings.url_for_path("/lti/login"),
        launch_url=settings.url_for_path("/lti/launch"),
        jwks_url=settings.url_for_path("/.well-known/jwks.json"),
        registration_url=settings.url_for_path(REGISTRATION_PATH),
        admin_url=settings.url_for_path("/admin"),
        canvas_json_url=settings.url_for_path(CANVAS_JSON_PATH),
        domain=urlsplit(settings.base_url).netloc,
        scopes=TOOL_SCOPES,
        title=TOOL_NAME,
        description=TOOL_DESCRIPTION,
    )
