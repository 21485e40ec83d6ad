"""The public use cases of grade passback: can this launch send grades, and record a
learner's progress (pathway or competency) into the outbox in one transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from adapters.lms import LmsAdapter, adapter_for_launch, product_family
from lti_tool.ags.claims import AgsEndpoint, ags_endpoint, roles_of
from lti_tool.ags.client import LineItemSpec
from lti_tool.errors import NotFound, SkillpathError
from lti_tool.models import Launch
from lti_tool.outbox.queue import enqueue

if TYPE_CHECKING:
    from lti_tool.services import Services

KIND = "ags_score"
PROGRESS_TAG = "skillpath-progress"
ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")


class InvalidScore(SkillpathError):
    status = 400
    code = "invalid_score"
    default_message = "The score is not valid."


@dataclass(frozen=True)
class GradeSync:
    """Whether a launch's link can receive grades, and why not when it cannot."""

    available: bool
    reason: str
    endpoint: AgsEndpoint | None = None


def grade_sync_for(claims: dict[str, Any], adapter: LmsAdapter | None = None) -> GradeSync:
    """Tell the caller (the instructor page) whether grades can go back from this link."""
    adapter = adapter or adapter_for_launch(claims)
    endpoint = ags_endpoint(claims)
    if endpoint is None:
        return GradeSync(False, "The LMS did not enable grade passback for this link.")
    if not endpoint.can_score:
        return GradeSync(False, "The LMS did not allow the tool to send scores.", endpoint)
    if not endpoint.lineitem and not endpoint.can_create_line_items:
        return GradeSync(False, adapter.missing_line_item_message(), endpoint)
    return GradeSync(True, "", endpoint)


@dataclass(frozen=True)
class ProgressRecorded:
    """What `record_progress` did: the outbox item id, or why nothing was queued."""

    queued: bool
    item_id: int | None = None
    reason: str = ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _validate(score_given: float, score_maximum: float, activity: str, grading: str) -> None:
    if not score_maximum > 0:
        raise InvalidScore("scoreMaximum must be greater than 0")
    if score_given < 0:
        raise InvalidScore("scoreGiven must not be negative")
    if activity not in ACTIVITY_PROGRESS:
        raise InvalidScore(f"activityProgress must be one of {', '.join(ACTIVITY_PROGRESS)}")
    if grading not in GRADING_PROGRESS:
        raise InvalidScore(f"gradingProgress must be one of {', '.join(GRADING_PROGRESS)}")


def _line_item_target(
    launch: Launch,
    endpoint: AgsEndpoint,
    adapter: LmsAdapter,
    score_maximum: float,
    competency_id: str | None,
    pathway_id: str | None,
    label: str | None,
) -> tuple[str | None, LineItemSpec | None]:
    """(platform's line item URL, or the spec of the line item we own)."""
    if competency_id is None and endpoint.lineitem:
        # The platform made the line item for this link: honour it.
        return endpoint.lineitem, None
    if competency_id is not None:
        spec = LineItemSpec(
            label=label or f"Mastery: {competency_id}",
            score_maximum=score_maximum,
            tag=competency_id,
            resource_id=pathway_id,
            resource_link_id=launch.resource_link_id,
            extras=dict(adapter.line_item_extras),
        )
    else:
        spec = LineItemSpec(
            label=label or f"Skillpath progress: {launch.resource_link_title or 'pathway'}",
            score_maximum=score_maximum,
            tag=PROGRESS_TAG,
            resource_id=pathway_id,
            resource_link_id=launch.resource_link_id,
            extras=dict(adapter.line_item_extras),
        )
    return None, spec


def _supersede_key(launch: Launch, target: str, user_id: str) -> str:
    raw = "\n".join([launch.issuer, launch.client_id, target, user_id])
    return "ags:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()


def enqueue_progress(
    session: Session,
    launch: Launch,
    score_given: float,
    score_maximum: float,
    *,
    now: datetime,
    activity_progress: str = "InProgress",
    grading_progress: str = "FullyGraded",
    competency_id: str | None = None,
    pathway_id: str | None = None,
    label: str | None = None,
    comment: str | None = None,
) -> ProgressRecorded:
    """Queue a score for the launch's user in the caller's transaction (`session`)."""
    _validate(score_given, score_maximum, activity_progress, grading_progress)
    adapter = adapter_for_launch(launch.claims)
    sync = grade_sync_for(launch.claims, adapter)
    if competency_id is not None and sync.endpoint is not None and sync.endpoint.can_score:
        if not sync.endpoint.can_create_line_items:
            return ProgressRecorded(False, reason=adapter.missing_line_item_message())
    elif not sync.available:
        return ProgressRecorded(False, reason=sync.reason)
    endpoint = sync.endpoint
    assert endpoint is not None
    if not launch.subject:
        return ProgressRecorded(False, reason="The launch has no user id to grade.")
    may, why_not = adapter.may_receive_score(roles_of(launch.claims))
    if not may:
        return ProgressRecorded(False, reason=why_not)
    lineitem, spec = _line_item_target(
        launch, endpoint, adapter, score_maximum, competency_id, pathway_id, label
    )
    score: dict[str, Any] = {
        "userId": launch.subject,
        "scoreGiven": score_given,
        "scoreMaximum": score_maximum,
        "activityProgress": activity_progress,
        "gradingProgress": grading_progress,
        "timestamp": _iso(now),
    }
    if comment:
        score["comment"] = comment
    payload = {
        "issuer": launch.issuer,
        "client_id": launch.client_id,
        "deployment_id": launch.deployment_id,
        "lms": product_family(launch.claims),
        "scopes": list(endpoint.token_scopes()),
        "lineitem": lineitem,
        "lineitems": endpoint.lineitems,
        "line_item": spec.to_json() if spec else None,
        "score": score,
    }
    target = lineitem or (f"{spec.resource_link_id}|{spec.tag}|{spec.resource_id}" if spec else "")
    item_id = enqueue(
        session,
        KIND,
        payload,
        now=now,
        supersede_key=_supersede_key(launch, f"{endpoint.lineitems}|{target}", launch.subject),
    )
    return ProgressRecorded(True, item_id=item_id)


def record_progress(
    services: Services,
    launch: Launch | str,
    score_given: float,
    score_maximum: float,
    *,
    now: datetime | None = None,
    **options: Any,
) -> ProgressRecorded:
    """Queue a learner's progress for the LMS gradebook, in its own transaction.
    `launch` is a launch row or a launch id. Options as `enqueue_progress`."""
    now = now or datetime.now(UTC)
    with services.database.session() as session:
        row = session.get(Launch, launch) if isinstance(launch, str) else launch
        if row is None:
            raise NotFound("That launch is unknown or has expired.")
        return enqueue_progress(session, row, score_given, score_maximum, now=now, **options)
