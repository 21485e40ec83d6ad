"""A learner's state, kept up to date incrementally as evidence arrives.

New evidence (stored by the launch's LRS read, a return from a lesson or the background sync)
is applied to the stored state one observation at a time with the engine's `update`; the
record's `evidence_cursor` says which evidence rows are in. Only three things rebuild the
state from all of the learner's evidence (`replay`): a statement voided, evidence arriving
older than what the state already holds, and a new parameter version. They are flagged on
the record and done by the background catch-up (`catch_up`, after each `skillpath sync`) or,
for the learner's own record, at their next launch. Reading a path never reads evidence.

Along the way the last change of each competency (which lesson raised or lowered it, when,
by how much) is kept for the pages.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from lti_tool.storage import LearnerPageRecord, LearnerRecord, Transaction
from lti_tool.usecases.model import params_version
from recommender import (
    Catalog,
    LearnerState,
    ModelParams,
    Observation,
    mastery_of,
    new_learner,
    pre_assess,
    replay,
    update,
)

log = logging.getLogger("skillpath.learning")

# A change smaller than this is not worth naming as "what raised or lowered it".
NOTABLE_CHANGE = 0.005


def _note_change(
    changes: dict[str, Any],
    competency_id: str,
    before: float,
    after: float,
    at: datetime,
    **source: Any,
) -> None:
    if abs(after - before) < NOTABLE_CHANGE:
        return
    changes[competency_id] = {
        "at": at.isoformat(),
        "delta": round(after - before, 4),
        **source,
    }


def apply_observation(
    state: LearnerState,
    observation: Observation,
    catalog: Catalog,
    params: ModelParams,
    changes: dict[str, Any],
) -> LearnerState:
    """One incremental update (`recommender.update`), noting what it changed."""
    lesson = catalog.lessons.get(observation.lesson_id)
    if lesson is None:
        return state
    at = observation.timestamp
    before = {
        part.id: mastery_of(state, part.id, catalog, params, at).probability
        for part in lesson.competencies
    }
    state = update(state, observation, catalog, params)
    for part in lesson.competencies:
        after = mastery_of(state, part.id, catalog, params, at).probability
        _note_change(
            changes,
            part.id,
            before[part.id],
            after,
            at,
            source="lesson",
            lesson_id=lesson.id,
            score=observation.score,
            success=observation.success,
        )
    return state


def apply_pre_assessment(
    state: LearnerState,
    scores: dict[str, float],
    at: datetime,
    catalog: Catalog,
    params: ModelParams,
    changes: dict[str, Any],
) -> LearnerState:
    """The pre-assessment's scores per competency set the starting point (`pre_assess`)."""
    known = {c: s for c, s in scores.items() if c in catalog.competencies}
    before = {c: mastery_of(state, c, catalog, params, at).probability for c in known}
    state = pre_assess(state, known, catalog, params, at)
    for comp in known:
        after = mastery_of(state, comp, catalog, params, at).probability
        _note_change(changes, comp, before[comp], after, at, source="pre_assessment")
    return state


def _pre_assessment_of(page: LearnerPageRecord) -> tuple[dict[str, float], datetime] | None:
    found = page.pre_assessment or {}
    if found.get("status") != "done" or not found.get("at"):
        return None
    scores = {str(k): float(v) for k, v in (found.get("scores") or {}).items()}
    return scores, datetime.fromisoformat(str(found["at"]))


def replay_learner(
    tx: Transaction,
    record: LearnerRecord,
    page: LearnerPageRecord,
    catalog: Catalog,
    params: ModelParams,
) -> LearnerState:
    """Rebuild the state from all of the learner's evidence that still counts, keeping the
    instructor's overrides, the pathway's start, the pace and the pre-assessment."""
    tenant = record.course.tenant
    previous = LearnerState.from_dict(record.state)
    base = new_learner(record.subject)
    state = LearnerState(
        base.learner_id,
        overrides=previous.overrides,
        started={**previous.started, record.pathway_id: record.first_launch_at},
        minutes_per_day=previous.minutes_per_day,
    )
    observations = sorted(
        (o for _, o in tx.evidence.since(tenant, record.subject, 0)),
        key=lambda o: o.timestamp,
    )
    assessed = _pre_assessment_of(page)
    changes: dict[str, Any] = {}
    for observation in observations:
        if assessed is not None and observation.timestamp >= assessed[1]:
            state = apply_pre_assessment(state, *assessed, catalog, params, changes)
            assessed = None
        state = apply_observation(state, observation, catalog, params, changes)
    if assessed is not None:
        state = apply_pre_assessment(state, *assessed, catalog, params, changes)
    state = replay(state, (), catalog, params)  # the effect of mark_mastered overrides
    page.changes = changes
    page.evidence_cursor = tx.evidence.latest_id(tenant, record.subject)
    page.evidence_at = observations[-1].timestamp if observations else None
    page.replay_needed = False
    page.params_version = params_version(params)
    return state


def bring_up_to_date(
    tx: Transaction,
    record: LearnerRecord,
    page: LearnerPageRecord,
    catalog: Catalog,
    params: ModelParams,
    *,
    allow_replay: bool = True,
) -> tuple[LearnerState, bool]:
    """The stored state with the evidence it has not seen applied; (state, changed).

    Incremental when it can be; a replay when the record is flagged, the parameters changed,
    or new evidence is older than what the state holds (then flagged instead when
    `allow_replay` is false, and applied incrementally meanwhile)."""
    state, changed = update_if_new(tx, record, page, catalog, params, allow_replay=allow_replay)
    return (state if state is not None else stored_state(record)), changed


def update_if_new(
    tx: Transaction,
    record: LearnerRecord,
    page: LearnerPageRecord,
    catalog: Catalog,
    params: ModelParams,
    *,
    allow_replay: bool = True,
) -> tuple[LearnerState | None, bool]:
    """`bring_up_to_date`, but (None, False) when nothing changed: the stored state is not
    parsed (about a millisecond for a learner with a hundred statements) when a returning
    learner's launch finds nothing new and the stored view stands."""
    version = params_version(params)
    if not page.params_version and page.evidence_cursor == 0:
        page.params_version = version  # a new record: nothing was built with other params
    if page.params_version != version:
        page.replay_needed = True
    if page.replay_needed and allow_replay:
        return replay_learner(tx, record, page, catalog, params), True
    new = tx.evidence.since(record.course.tenant, record.subject, page.evidence_cursor)
    if not new:
        return None, False
    state = stored_state(record)
    ordered = sorted(new, key=lambda item: (item[1].timestamp, item[0]))
    if page.evidence_at is not None and ordered[0][1].timestamp < page.evidence_at:
        page.replay_needed = True
        if allow_replay:
            return replay_learner(tx, record, page, catalog, params), True
    changes = dict(page.changes)
    for _, observation in ordered:
        state = apply_observation(state, observation, catalog, params, changes)
    page.changes = changes
    page.evidence_cursor = max(row_id for row_id, _ in new)
    latest = ordered[-1][1].timestamp
    page.evidence_at = max(latest, page.evidence_at) if page.evidence_at else latest
    return state, True


def stored_state(record: LearnerRecord) -> LearnerState:
    """The learner's stored state, started in the record's pathway."""
    state = LearnerState.from_dict(record.state)
    if record.pathway_id not in state.started:
        started = {**state.started, record.pathway_id: record.first_launch_at}
        state = replace(state, started=started)
    return state
