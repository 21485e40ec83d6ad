"""Per-LMS quirks of grade passback and rosters, chosen by the launch's
`tool_platform.product_family_code`. An unknown or missing code gets the standard behaviour
and a log line saying so.

Imports only the standard library (adapters may not import lti_tool): the AGS and NRPS code
asks an adapter questions and turns its neutral answers into deliveries.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("skillpath.adapters")

TOOL_PLATFORM_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/tool_platform"
LEARNER_ROLES = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Student",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Learner",
    "Learner",
    "Student",
)


class Verdict(enum.Enum):
    """An adapter's reading of a platform answer, when it differs from the standard one."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FAIL = "fail"


@dataclass(frozen=True)
class Reading:
    verdict: Verdict
    message: str
    retry_after: float | None = None


class LmsAdapter:
    """The standard LTI Advantage behaviour. Subclasses override what their LMS does
    differently; each override names the quirk it answers."""

    name = "standard"
    # At most this many score posts at once per registration (None: no limit of ours).
    max_parallel_posts: int | None = None
    # Extra properties for line items we create.
    line_item_extras: Mapping[str, Any] = {}
    # Follow a `next` URL in the membership body when the Link header is missing.
    roster_next_in_body = False

    def may_receive_score(self, roles: Iterable[str]) -> tuple[bool, str]:
        """Whether a user with these roles can be graded here; the reason when not."""
        return True, ""

    def read_response(self, status: int, body: str, headers: Mapping[str, str]) -> Reading | None:
        """An LMS-specific reading of an AGS answer; None means the standard rules apply."""
        return None

    def missing_line_item_message(self) -> str:
        return (
            "The LMS sent no line item for this link and did not grant the tool the right "
            "to create one, so no grades are sent."
        )


def _is_learner(roles: Iterable[str]) -> bool:
    return any(role in LEARNER_ROLES for role in roles)


class CanvasAdapter(LmsAdapter):
    """Canvas rejects scores for anyone not enrolled as a student, and throttles busy
    tools, answering 403 "Rate Limit Exceeded" (not 429): posts go one at a time."""

    name = "canvas"
    max_parallel_posts = 1

    def may_receive_score(self, roles: Iterable[str]) -> tuple[bool, str]:
        if _is_learner(roles):
            return True, ""
        return False, "Canvas accepts scores only for students; this user is not one."

    def read_response(self, status: int, body: str, headers: Mapping[str, str]) -> Reading | None:
        if status == 403 and "rate limit exceeded" in body.lower():
            return Reading(Verdict.RETRY, "Canvas rate limit exceeded", retry_after=None)
        if status == 422 and "not a student" in body.lower():
            return Reading(Verdict.FAIL, "Canvas: the user is not a student in this course")
        return None


class MoodleAdapter(LmsAdapter):
    """Moodle answers 4xx for users it cannot grade (not enrolled, no gradable role, a
    suspended enrolment): such a score fails at once with Moodle's message, never retried."""

    name = "moodle"

    def read_response(self, status: int, body: str, headers: Mapping[str, str]) -> Reading | None:
        if 400 <= status < 500 and status != 429:
            text = body.strip()[:300] or f"HTTP {status}"
            return Reading(Verdict.FAIL, f"Moodle cannot grade this user: {text}")
        return None


class BrightspaceAdapter(LmsAdapter):
    """Brightspace does not create a grade item for an LTI 1.3 link: the tool must create
    the line item itself, which needs the line item scope."""

    name = "brightspace"

    def missing_line_item_message(self) -> str:
        return (
            "Brightspace does not create a grade item for this link: allow the tool to "
            "create and manage grade items (the line item scope) in its Brightspace "
            "registration, then launch again."
        )


class BlackboardAdapter(LmsAdapter):
    """Blackboard Ultra hides grades of line items that do not say they are released."""

    name = "blackboard"
    line_item_extras = {"gradesReleased": True}


class OpenEdxAdapter(LmsAdapter):
    """Open edX's LTI consumer sent no Link header on paged memberships before
    xblock-lti-consumer#669/#670: follow the `next` in the body instead."""

    name = "openedx"
    roster_next_in_body = True


STANDARD = LmsAdapter()
_BY_FAMILY: dict[str, LmsAdapter] = {
    "canvas": CanvasAdapter(),
    "moodle": MoodleAdapter(),
    "desire2learn": BrightspaceAdapter(),
    "brightspace": BrightspaceAdapter(),
    "d2l": BrightspaceAdapter(),
    "blackboard": BlackboardAdapter(),
    "openedx": OpenEdxAdapter(),
    "open_edx": OpenEdxAdapter(),
}
_reported_unknown: set[str] = set()


def product_family(claims: Mapping[str, Any]) -> str:
    """The launch's `tool_platform.product_family_code`, lower-cased ("" if absent)."""
    platform = claims.get(TOOL_PLATFORM_CLAIM)
    if not isinstance(platform, Mapping):
        return ""
    code = platform.get("product_family_code")
    return code.strip().lower() if isinstance(code, str) else ""


def adapter_named(code: str) -> LmsAdapter:
    """The adapter for a product family code; the standard one (and a log line) otherwise."""
    found = _BY_FAMILY.get(code.strip().lower())
    if found is None:
        if code not in _reported_unknown:
            # Once per code and process: this is asked for every score.
            _reported_unknown.add(code)
            log.info("no LMS adapter for product family %r: using standard LTI behaviour", code)
        return STANDARD
    return found


def adapter_for_launch(claims: Mapping[str, Any]) -> LmsAdapter:
    return adapter_named(product_family(claims))


def register_adapter(code: str, adapter: LmsAdapter) -> None:
    """Add or replace the adapter of a product family code."""
    _BY_FAMILY[code.strip().lower()] = adapter
