"""Per-LMS quirks of grade passback and rosters, chosen by the launch's
`tool_platform.product_family_code`. An unknown or missing code gets the standard behaviour
and a log line saying so.

Imports only the standard library (adapters may not import lti_tool): the AGS and NRPS code
reads the launch (`lti_tool.lti.vocabulary.product_family`, `role_of`), asks an adapter
questions and turns its neutral answers into deliveries.
"""

from __future__ import annotations

import enum
import functools
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

log = logging.getLogger("skillpath.adapters")


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
    # LTI Dynamic Registration: the LMS's names for the content-selection placements where
    # the Deep Linking picker may show, and for the placement of the admin console's link
    # (none: the standard registration asks for neither).
    content_selection_placements: tuple[str, ...] = ()
    admin_placements: tuple[str, ...] = ()

    def may_receive_score(self, role: str) -> tuple[bool, str]:
        """Whether a user of this role (`learner`, `instructor` or `other`) can be graded
        here; the reason when not."""
        return True, ""

    def read_response(self, status: int, body: str, headers: Mapping[str, str]) -> Reading | None:
        """An LMS-specific reading of an AGS answer; None means the standard rules apply."""
        return None

    def issuer_may_differ(self, issuer: str, configuration_host: str) -> bool:
        """Dynamic Registration: whether this LMS may name an issuer on another host than its
        OpenID configuration's (the standard answer: never)."""
        return False

    def grants_console(
        self, roles: Sequence[str], is_administrator: Callable[[Sequence[str]], bool]
    ) -> bool:
        """Whether a launch with these roles may open Skillpath's admin console for its
        registration: the LMS's institution or system administrators."""
        return is_administrator(roles)

    def role_for(self, roles: Sequence[str], standard: str) -> str:
        """The Skillpath role (`instructor`, `learner`, `other`) of a launch's roles, given
        the standard reading; an LMS that says less than the standard expects overrides."""
        return standard

    def custom_parameters(self, custom: Mapping[str, Any]) -> dict[str, Any]:
        """The custom parameters as Skillpath reads them: a value that is still a
        substitution variable (`$Canvas.user.id`) was not substituted by the LMS and means
        nothing, so it is left out (and said once in the log)."""
        kept: dict[str, Any] = {}
        for name, value in custom.items():
            if isinstance(value, str) and UNSUBSTITUTED.match(value):
                _say_unsubstituted(self.name, str(name), value)
                continue
            kept[name] = value
        return kept

    def console_hint(self) -> str:
        return (
            "Open the admin link as an institution or system administrator of the LMS, or "
            "sign in with a local admin account (`skillpath admin create`)."
        )

    def missing_line_item_message(self) -> str:
        return (
            "The LMS sent no line item for this link and did not grant the tool the right "
            "to create one, so no grades are sent."
        )


CANVAS_PLACEMENT = "https://canvas.instructure.com/lti/"
CANVAS_CLOUD_ISSUERS = frozenset(
    {
        "https://canvas.instructure.com",
        "https://canvas.beta.instructure.com",
        "https://canvas.test.instructure.com",
    }
)
CANVAS_SSO_HOSTS = frozenset(
    {"sso.canvaslms.com", "sso.beta.canvaslms.com", "sso.test.canvaslms.com"}
)


class CanvasAdapter(LmsAdapter):
    """Canvas rejects scores for anyone not enrolled as a student, and throttles busy
    tools, answering 403 "Rate Limit Exceeded" (not 429): posts go one at a time."""

    name = "canvas"
    max_parallel_posts = 1
    # Canvas names its placements by URI in Dynamic Registration.
    content_selection_placements = (
        CANVAS_PLACEMENT + "link_selection",
        CANVAS_PLACEMENT + "assignment_selection",
    )
    admin_placements = (CANVAS_PLACEMENT + "account_navigation",)

    def issuer_may_differ(self, issuer: str, configuration_host: str) -> bool:
        """Canvas Cloud: every school's configuration is on its own Instructure host (or
        Canvas's SSO host) while the issuer is Canvas's shared one."""
        host = configuration_host.lower()
        return issuer in CANVAS_CLOUD_ISSUERS and (
            host.endswith(".instructure.com") or host in CANVAS_SSO_HOSTS
        )

    def may_receive_score(self, role: str) -> tuple[bool, str]:
        if role == "learner":
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
    the line item itself, which needs the line item scope. A deployment whose security
    setting is Anonymous sends no course role at all: such a launch is a learner's (the
    least a launch can be)."""

    name = "brightspace"

    def role_for(self, roles: Sequence[str], standard: str) -> str:
        return "learner" if not roles else standard

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

    def grants_console(
        self, roles: Sequence[str], is_administrator: Callable[[Sequence[str]], bool]
    ) -> bool:
        """Open edX sends the system Administrator role to every course's staff, so no
        launch role tells a platform administrator apart."""
        return False

    def console_hint(self) -> str:
        return (
            "Open edX gives its administrator role to every course's staff: sign in with a "
            "local admin account instead (`skillpath admin create`)."
        )


STANDARD = LmsAdapter()
_BY_FAMILY: Mapping[str, LmsAdapter] = MappingProxyType(
    {
        "canvas": CanvasAdapter(),
        "moodle": MoodleAdapter(),
        "desire2learn": BrightspaceAdapter(),
        "brightspace": BrightspaceAdapter(),
        "d2l": BrightspaceAdapter(),
        "blackboard": BlackboardAdapter(),
        # Blackboard Learn names itself so in tool_platform.product_family_code.
        "blackboardlearn": BlackboardAdapter(),
        "openedx": OpenEdxAdapter(),
        "open_edx": OpenEdxAdapter(),
    }
)


# A custom parameter value the LMS left as its substitution variable.
UNSUBSTITUTED = re.compile(r"^\$[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_<>]+)+$")


@functools.lru_cache(maxsize=256)
def _say_unsubstituted(lms: str, name: str, value: str) -> None:
    log.info("%s left custom parameter %s as %s (not substituted): ignored", lms, name, value)


@functools.lru_cache(maxsize=256)
def _say_unknown(code: str) -> None:
    # Once per code and process: this is asked for every score.
    log.info("no LMS adapter for product family %r: using standard LTI behaviour", code)


def adapter_named(code: str) -> LmsAdapter:
    """The adapter for a product family code; the standard one (and a log line) otherwise."""
    found = _BY_FAMILY.get(code.strip().lower())
    if found is None:
        _say_unknown(code)
        return STANDARD
    return found
