"""Grade passback as use cases: can this launch send grades; record a learner's progress
(pathway or competency) into the outbox in one transaction; the state of grade sync for a
course (waiting, delivered, failed with the platform's answer); the results the LMS holds."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.lms import LmsAdapter, adapter_named
from lti_tool.errors import (
    GradeSyncUnavailable,
    InvalidScore,
    NotFound,
    PeerError,
)
from lti_tool.lti.services.ags import LineItemSpec
from lti_tool.lti.services.ags_claim import AgsEndpoint, ags_endpoint
from lti_tool.lti.services.score_delivery import KIND
from lti_tool.lti.vocabulary import (
    SCOPE_RESULT_READONLY,
    product_family,
)
from lti_tool.storage import LaunchRecord, Transaction
from lti_tool.usecases.ports import Ports

PROGRESS_TAG = "skillpath-progress"
ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")


@dataclass(frozen=True)
class GradeSync:
    """Whether a launch's link can receive grades, and why not when it cannot."""

    available: bool
    reason: str
    endpoint: AgsEndpoint | None = None


def lms_adapter(claims: Mapping[str, Any]) -> LmsAdapter:
    """The LMS's quirks, by the launch's product family code."""
    return adapter_named(product_family(claims))


def grade_sync_for(claims: Mapping[str, Any], adapter: LmsAdapter | None = None) -> GradeSync:
    """Tell the caller (the instructor page) whether grades can go back from this link."""
    adapter = adapter or lms_adapter(claims)
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
    launch: LaunchRecord,
    endpoint: AgsEndpoint,
    adapter: LmsAdapter,
    score_maximum: float,
    competency_id: str | None,
    pathway_id: str | None,
    label: str | None,
) -> tuple[str | None, LineItemSpec | None]:
    """(platform's line item URL, or the spec of the line item we own). `competency_id` is
    the tag of a line item of our own (a competency, or `milestone:<id>`)."""
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


def _supersede_key(launch: LaunchRecord, target: str, user_id: str) -> str:
    raw = "\n".join([launch.issuer, launch.client_id, target, user_id])
    return "ags:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()


def enqueue_progress(
    tx: Transaction,
    launch: LaunchRecord,
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
    line_item_tag: str | None = None,
) -> ProgressRecorded:
    """Queue a score for the launch's user in the caller's transaction (`session`).
    `competency_id` or `line_item_tag` (a milestone's) sends it to a line item of our own
    with that tag, which the platform must let the tool create."""
    competency_id = competency_id or line_item_tag
    _validate(score_given, score_maximum, activity_progress, grading_progress)
    adapter = lms_adapter(launch.claims)
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
    may, why_not = adapter.may_receive_score(launch.role)
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
    item_id = tx.outbox.enqueue(
        KIND,
        payload,
        now=now,
        supersede_key=_supersede_key(launch, f"{endpoint.lineitems}|{target}", launch.subject),
    )
    return ProgressRecorded(True, item_id=item_id)


def record_progress(
    ports: Ports,
    launch: LaunchRecord | str,
    score_given: float,
    score_maximum: float,
    *,
    now: datetime | None = None,
    **options: Any,
) -> ProgressRecorded:
    """Queue a learner's progress for the LMS gradebook, in its own transaction.
    `launch` is a launch record or a launch id. Options as `enqueue_progress`."""
    now = now or ports.now()
    with ports.storage.transaction() as tx:
        row = tx.launches.get(launch) if isinstance(launch, str) else launch
        if row is None:
            raise NotFound("That launch is unknown or has expired.")
        return enqueue_progress(tx, row, score_given, score_maximum, now=now, **options)


# -- the course's grade sync, as the instructor page shows it -----------------------------

# The newest items looked at: enough for a course page, bounded for a big installation.
RECENT_ITEMS = 2000


@dataclass(frozen=True)
class GradeSyncStatus:
    available: bool
    reason: str
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)


def grade_sync_status(tx: Transaction, launch: LaunchRecord) -> GradeSyncStatus:
    """Whether the link takes grades (and why not), how many scores wait, went through or
    failed, and each failure with the platform's answer. Only this tenant's and this
    course's items (those of the link's line item container) are counted."""
    sync = grade_sync_for(launch.claims)
    endpoint = ags_endpoint(launch.claims)
    counts = {"pending": 0, "delivered": 0, "failed": 0, "superseded": 0}
    failures: list[dict[str, Any]] = []
    if endpoint is None or not endpoint.lineitems:
        return GradeSyncStatus(sync.available, sync.reason, counts, failures)
    for item in tx.outbox.recent(KIND, RECENT_ITEMS):
        payload = item.payload or {}
        if (payload.get("issuer"), payload.get("client_id"), payload.get("lineitems")) != (
            launch.issuer,
            launch.client_id,
            endpoint.lineitems,
        ):
            continue  # another tenant's or another course's score
        counts[item.status] = counts.get(item.status, 0) + 1
        if item.status == "failed":
            failures.append(
                {
                    "item_id": item.id,
                    "user_id": (payload.get("score") or {}).get("userId"),
                    "reason": item.last_error or "",
                    "attempts": item.attempts,
                    "queued_at": item.created_at,
                }
            )
    if failures:  # who each failed score is for, as the class view names them
        names = {m.subject: m.display_name for m in tx.learner_pages.class_members(launch.course)}
        numbers = tx.learner_pages.learner_numbers(launch.course)
        for failure in failures:
            failure["name"] = names.get(failure["user_id"])
            failure["number"] = numbers.get(failure["user_id"])
            failure["role"] = "learner"
    return GradeSyncStatus(sync.available, sync.reason, counts, failures)


# -- results the LMS holds (read synchronously: an instructor is waiting) -----------------


@dataclass(frozen=True)
class LmsResult:
    """One learner's result as the LMS holds it."""

    user_id: str
    score: float | None
    maximum: float | None
    comment: str | None


def read_results(
    ports: Ports,
    launch: LaunchRecord,
    *,
    competency_id: str | None = None,
    pathway_id: str | None = None,
) -> list[LmsResult]:
    """The results on the link's progress line item (or a competency's)."""
    sync = grade_sync_for(launch.claims)
    endpoint = sync.endpoint
    if endpoint is None or not endpoint.granted(SCOPE_RESULT_READONLY):
        raise GradeSyncUnavailable("The LMS did not allow the tool to read results.")
    try:
        client = ports.lti_services.ags(launch.tenant, endpoint.token_scopes())
        if competency_id is None and endpoint.lineitem:
            lineitem = endpoint.lineitem
        elif endpoint.lineitems and endpoint.can_read_line_items:
            spec = LineItemSpec(
                label="",
                score_maximum=1.0,
                tag=competency_id or PROGRESS_TAG,
                resource_id=pathway_id,
                resource_link_id=launch.resource_link_id,
                extras=dict(lms_adapter(launch.claims).line_item_extras),
            )
            found = [
                i
                for i in client.line_items(endpoint.lineitems, {})
                if spec.matches(i) and isinstance(i.get("id"), str)
            ]
            if not found:
                return []
            lineitem = str(found[0]["id"])
        else:
            raise GradeSyncUnavailable("This link has no line item the tool can read.")
        rows = client.results(lineitem)
    except GradeSyncUnavailable:
        raise
    except (PeerError, OSError) as exc:
        raise GradeSyncUnavailable(details={"cause": str(exc)[:300]}) from exc
    return [
        LmsResult(
            user_id=str(r.get("userId", "")),
            score=_number(r.get("resultScore")),
            maximum=_number(r.get("resultMaximum")),
            comment=r.get("comment") if isinstance(r.get("comment"), str) else None,
        )
        for r in rows
    ]


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
