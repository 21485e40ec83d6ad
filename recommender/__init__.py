"""Skillpath's adaptive engine: catalog, learner model, path policy and analytics.

Pure domain code: this package imports only the standard library and numpy (the forgetting
curve is FSRS's power law, implemented here); never Flask, SQLAlchemy, requests, redis or any HTTP client. Time (`now`)
and random generators are always parameters, and naive datetimes are rejected. Every state
object round-trips through JSON-safe `to_dict()` / `from_dict()`.

Public API
----------

Catalog
    `load_catalog(document) -> Catalog`: validate a `skillpath-catalog/1` document; raises
    `CatalogError` whose `errors` is a list of `(json_path, message)`.
    `Catalog`, `Competency`, `Lesson`, `LessonCompetency`, `Pathway`, `Milestone`,
    `GoalLevel`, `Thresholds`: the immutable catalog model.

Evidence and learner model
    `Observation`: one learner/lesson event (score, success, duration, voided).
    `LearnerState`, `CompetencyState`, `LessonRecord`: what the engine knows about a learner;
    `new_learner(learner_id)` starts one.
    `ModelParams`, `CompetencyParams`: model parameters (`ModelParams.defaults()` are the
    priors); `fit_params(history, catalog, min_observations=..., holdout=...)
    -> (ModelParams, FitReport)` fits them by vectorised EM, with a report the product can
    store (`FitReport.to_dict()`: observations used, time taken, competencies left at the
    priors, and with `holdout` a `HeldOut` comparison with the starting parameters).
    A result's `success` flag and its scaled score mean different things: see `scores`
    (`evidence_value`), whose score model `fit_params` learns from the data.
    `update(state, observation, catalog, params) -> LearnerState`: one incremental update.
    `replay(state, observations, catalog, params)`: rebuild after voided statements.
    `pre_assess(state, {competency: score}, catalog, params, now)`: set the starting point.
    `predict_success(state, lesson, params, now) -> float`: P(success) on a lesson.
    `mastery(state, catalog, params, now) -> {competency: MasteryEstimate}` and
    `mastery_of(...)`: calibrated P(mastered) after forgetting.
    `recall(elapsed_days, stability_days)`: the forgetting curve used for review.

Policy, explanations, preview
    `recommend(catalog, state, params, now, pathway_id=None, preferences=None)
    -> Recommendation` with `Reason` codes (see `REASON_CODES`) and a human `sentence`;
    `Preferences(format, minutes)` carries the learner's format and time budget.
    `preview_path(catalog, state, params, now, pathway_id=None, ...) -> PathPreview` with
    `PreviewStep` and `MilestoneForecast` items.

Human oversight
    `Override` (pin, skip, assign, mark_mastered), `apply_override(state, override)`,
    `withdraw_override(state, kind, target, by, now)`, `start_pathway(state, pathway_id, now)`.
    After `COACH_AFTER_FAILURES` consecutive failed lessons mainly about a competency (a
    failure where it is only a minor part does not count; any pass resets the count) it is
    listed in `LearnerState.coach_flags`; once the run of failures is also one the model gave
    less than a 5% chance (`CompetencyState.run_chance`: failing beyond what learning
    explains), the policy stops repeating material already failed on it.

At-risk, cohort analytics, equity
    `at_risk(catalog, state, params, now, pathway_id=None) -> [MilestoneRisk]`: for each
    milestone with a due date, the probability of missing it and the main reason.
    `cohort_analytics(catalog, history, params) -> CohortReport` with `LessonStats` (struggle
    rate, learning gain, flagged for review) and `CompetencyStats` (time to proficiency).
    `equity_audit(catalog, [(learner_id, Recommendation)], groups, milestones_reached)
    -> EquityReport` with `GroupRates` and disparity ratios per group.

Errors
    `RecommenderError` (root), `CatalogError`, `UnknownIdError`, `StateError`.
"""

from .analytics import CohortReport, CompetencyStats, LessonStats, cohort_analytics
from .catalog import (
    Catalog,
    Competency,
    GoalLevel,
    Lesson,
    LessonCompetency,
    Milestone,
    Pathway,
    Thresholds,
)
from .catalog_loader import load_catalog
from .equity import EquityReport, GroupRates, equity_audit
from .errors import CatalogError, RecommenderError, StateError, UnknownIdError
from .evidence import (
    COACH_AFTER_FAILURES,
    MasteryEstimate,
    mastery,
    mastery_of,
    pre_assess,
    predict_success,
    replay,
    update,
)
from .explanations import REASON_CODES, Reason
from .fitting import FitReport, HeldOut, fit_params
from .memory import recall
from .observation import Observation
from .overrides import apply_override, start_pathway, withdraw_override
from .params import CompetencyParams, ModelParams
from .policy import Preferences, Recommendation, recommend
from .preview import MilestoneForecast, PathPreview, PreviewStep, preview_path
from .risk import MilestoneRisk, at_risk
from .state import CompetencyState, LearnerState, LessonRecord, Override, new_learner

__all__ = [
    "COACH_AFTER_FAILURES",
    "REASON_CODES",
    "Catalog",
    "CatalogError",
    "CohortReport",
    "Competency",
    "CompetencyParams",
    "CompetencyState",
    "CompetencyStats",
    "EquityReport",
    "FitReport",
    "GoalLevel",
    "GroupRates",
    "HeldOut",
    "LearnerState",
    "Lesson",
    "LessonCompetency",
    "LessonRecord",
    "LessonStats",
    "MasteryEstimate",
    "Milestone",
    "MilestoneForecast",
    "MilestoneRisk",
    "ModelParams",
    "Observation",
    "Override",
    "PathPreview",
    "Pathway",
    "Preferences",
    "PreviewStep",
    "Reason",
    "Recommendation",
    "RecommenderError",
    "StateError",
    "Thresholds",
    "UnknownIdError",
    "apply_override",
    "at_risk",
    "cohort_analytics",
    "equity_audit",
    "fit_params",
    "load_catalog",
    "mastery",
    "mastery_of",
    "new_learner",
    "pre_assess",
    "predict_success",
    "preview_path",
    "recall",
    "recommend",
    "replay",
    "start_pathway",
    "update",
    "withdraw_override",
]
