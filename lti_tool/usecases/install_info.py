"""What an LMS admin types into their LMS to install Skillpath by hand (`/install`,
`skillpath install-info`), and Canvas's developer key JSON (`/lti/config/canvas.json`)."""

from __future__ import annotations

from typing import Any

from adapters.install import (
    CANVAS_PRIVACY_LEVELS,
    DEFAULT_CANVAS_PRIVACY,
    LMS_KEYS,
    InstallGuide,
    ToolEndpoints,
    canvas_developer_key,
    install_guide,
    install_guides,
)
from lti_tool.errors import ConfigurationError
from lti_tool.lti.tool_configuration import tool_endpoints
from lti_tool.usecases.ports import Ports


def endpoints(ports: Ports) -> ToolEndpoints:
    return tool_endpoints(ports.settings)


def guides(ports: Ports, lms: str | None = None) -> list[InstallGuide]:
    """Every LMS's guide, or one (`ConfigurationError` naming the known ones otherwise)."""
    tool = endpoints(ports)
    if lms is None:
        return install_guides(tool)
    key = lms.strip().lower()
    if key not in LMS_KEYS:
        raise ConfigurationError(f"unknown LMS {lms!r}: choose one of {', '.join(LMS_KEYS)}")
    return [install_guide(tool, key)]


def canvas_configuration(ports: Ports, privacy_level: str | None = None) -> dict[str, Any]:
    level = (privacy_level or DEFAULT_CANVAS_PRIVACY).strip()
    if level not in CANVAS_PRIVACY_LEVELS:
        raise ConfigurationError(
            f"privacy must be one of {', '.join(CANVAS_PRIVACY_LEVELS)}, got {level!r}"
        )
    return canvas_developer_key(endpoints(ports), level)
