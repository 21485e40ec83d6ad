"""Which LMS a launch comes from, and what its adapter makes of the launch.

The launch's `tool_platform.product_family_code` names the LMS; a launch that names none
(Open edX's does not) takes the family its registration was given (by Dynamic Registration
or an admin), which is then written into the kept claims so that every later reader (grades,
rosters, pages) meets the same LMS. An unknown LMS gets the standard behaviour and one log
line (`adapters.lms.adapter_named`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.lms import LmsAdapter, adapter_named
from lti_tool.lti.vocabulary import (
    CUSTOM_CLAIM,
    TOOL_PLATFORM_CLAIM,
    product_family,
    role_of,
    roles_of,
)


@dataclass(frozen=True)
class LaunchReading:
    claims: dict[str, Any]
    adapter: LmsAdapter
    role: str
    family_from_registration: bool


def read_launch(body: dict[str, Any], registration_family: str | None) -> LaunchReading:
    """The claims to keep (custom parameters as the adapter reads them, the LMS family filled
    in from the registration when the launch names none), the adapter and the role."""
    claims = dict(body)
    family = product_family(claims)
    from_registration = False
    if not family and registration_family:
        platform = claims.get(TOOL_PLATFORM_CLAIM)
        claims[TOOL_PLATFORM_CLAIM] = {
            **(platform if isinstance(platform, dict) else {}),
            "product_family_code": registration_family,
        }
        family, from_registration = registration_family.strip().lower(), True
    adapter = adapter_named(family)
    custom = claims.get(CUSTOM_CLAIM)
    if isinstance(custom, dict):
        claims[CUSTOM_CLAIM] = adapter.custom_parameters(custom)
    roles = roles_of(claims)
    return LaunchReading(
        claims, adapter, adapter.role_for(roles, role_of(roles)), from_registration
    )
