"""Human oversight: instructor overrides that win over the policy, always recorded.

Pure: imports only the standard library. Every override is appended to the learner's state
(never dropped) so the class view can show who decided what, when and why.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from .errors import require_aware
from .state import CompetencyState, LearnerState, Override


def apply_override(state: LearnerState, override: Override) -> LearnerState:
    """A new state with the override recorded (and, for `mark_mastered`, applied)."""
    comps = dict(state.competencies)
    flags = state.coach_flags
    if override.kind == "mark_mastered" and override.competency_id is not None:
        cs = comps.get(override.competency_id) or CompetencyState(p=0.0)
        comps[override.competency_id] = replace(cs, mastered_by_override=True)
        flags = tuple(f for f in flags if f != override.competency_id)
    return replace(
        state, competencies=comps, overrides=state.overrides + (override,), coach_flags=flags
    )


def with_overrides_applied(state: LearnerState) -> LearnerState:
    """The state with the effect of its active `mark_mastered` overrides (competency treated
    as mastered, no coach flag on it), as after `apply_override`; for a state rebuilt from
    evidence, which keeps the overrides but not their effect."""
    marked = {o.competency_id for o in active_overrides(state, "mark_mastered") if o.competency_id}
    if not marked:
        return state
    comps = dict(state.competencies)
    for comp_id in marked:
        comps[comp_id] = replace(
            comps.get(comp_id) or CompetencyState(p=0.0), mastered_by_override=True
        )
    return replace(
        state,
        competencies=comps,
        coach_flags=tuple(f for f in state.coach_flags if f not in marked),
    )


def withdraw_override(
    state: LearnerState, kind: str, target: str, by: str, now: datetime, note: str = ""
) -> LearnerState:
    """Deactivate the active overrides of `kind` on `target` (lesson or competency id).

    The withdrawn overrides stay in the record (inactive) and the withdrawal itself is not
    silent: the note is kept on the deactivated entries.
    """
    require_aware(now)
    changed: list[Override] = []
    comps = dict(state.competencies)
    for o in state.overrides:
        hit = o.active and o.kind == kind and target in (o.lesson_id, o.competency_id)
        if hit:
            o = replace(
                o,
                active=False,
                note=f"{o.note} | withdrawn by {by} at {now.isoformat()}: {note}".strip(),
            )
            if kind == "mark_mastered" and target in comps:
                comps[target] = replace(comps[target], mastered_by_override=False)
        changed.append(o)
    return replace(state, competencies=comps, overrides=tuple(changed))


def active_overrides(state: LearnerState, kind: str) -> list[Override]:
    """Active overrides of one kind, oldest first."""
    return [o for o in state.overrides if o.active and o.kind == kind]


def start_pathway(state: LearnerState, pathway_id: str, now: datetime) -> LearnerState:
    """Record the learner's first launch in a pathway (milestone due dates count from it)."""
    require_aware(now)
    if pathway_id in state.started:
        return state
    started = dict(state.started)
    started[pathway_id] = now
    return replace(state, started=started)
