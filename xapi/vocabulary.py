"""The IRIs Skillpath's statements use: ADL vocabulary where it exists, ours where it does not.

Skillpath's own terms live under `SKILLPATH_IRI`; the profile (`profile.jsonld`) defines every
one of them, and the category activity `PROFILE_VERSION_ID` marks a statement as written under
this version of the profile.

Must not import anything outside the standard library.
"""

from __future__ import annotations

from typing import Final

SKILLPATH_IRI: Final = "https://w3id.org/xapi/skillpath"
PROFILE_ID: Final = SKILLPATH_IRI
PROFILE_VERSION: Final = "1.0.0"
PROFILE_VERSION_ID: Final = f"{SKILLPATH_IRI}/v1.0.0"
PROFILE_CATEGORY_TYPE: Final = "http://adlnet.gov/expapi/activities/profile"


class Verbs:
    """Verb IRIs of the statements Skillpath writes."""

    RECOMMENDED: Final = f"{SKILLPATH_IRI}/verbs/recommended"
    LAUNCHED: Final = "http://adlnet.gov/expapi/verbs/launched"
    SATISFIED: Final = "https://w3id.org/xapi/adl/verbs/satisfied"  # milestone reached
    SCORED: Final = "http://adlnet.gov/expapi/verbs/scored"  # competency result
    OVERRODE: Final = f"{SKILLPATH_IRI}/verbs/overrode"
    FLAGGED: Final = f"{SKILLPATH_IRI}/verbs/flagged-for-coach"
    VOIDED: Final = "http://adlnet.gov/expapi/verbs/voided"


VERB_DISPLAY: Final = {
    Verbs.RECOMMENDED: "recommended",
    Verbs.LAUNCHED: "launched",
    Verbs.SATISFIED: "satisfied",
    Verbs.SCORED: "scored",
    Verbs.OVERRODE: "overrode",
    Verbs.FLAGGED: "flagged for a coach",
}


class ActivityTypes:
    """Activity type IRIs."""

    LESSON: Final = "http://adlnet.gov/expapi/activities/lesson"
    COMPETENCY: Final = "http://adlnet.gov/expapi/activities/objective"
    COURSE: Final = "http://adlnet.gov/expapi/activities/course"  # the LTI context
    LINK: Final = "http://adlnet.gov/expapi/activities/link"  # the LTI resource link
    MILESTONE: Final = f"{SKILLPATH_IRI}/activity-types/milestone"
    PATHWAY: Final = f"{SKILLPATH_IRI}/activity-types/pathway"


class Extensions:
    """Extension IRIs (result and context)."""

    REASONS: Final = f"{SKILLPATH_IRI}/extensions/reasons"  # result: why, as a list
    PATHWAY: Final = f"{SKILLPATH_IRI}/extensions/pathway"  # context: pathway id
    OVERRIDE: Final = f"{SKILLPATH_IRI}/extensions/override"  # result: what was overridden
    LEARNER: Final = f"{SKILLPATH_IRI}/extensions/learner"  # context: the learner overridden
