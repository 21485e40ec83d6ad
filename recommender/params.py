"""Parameters of the learner model, per competency, with JSON-safe round trips.

Pure: imports only the standard library. `fit_params` (in `fitting`) estimates them from an
organisation's history; `ModelParams.defaults()` gives the priors used when data is thin.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import StateError
from .scores import SCORE_BINS

_COMPETENCY_FIELDS = ("prior", "learn", "guess", "slip", "stability_days")


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


@dataclass(frozen=True, slots=True)
class CompetencyParams:
    """Knowledge-tracing parameters of one competency.

    `prior`: P(mastered) before any evidence; `learn`: P(not mastered -> mastered) per taught
    lesson at full weight; `guess`/`slip`: P(success | not mastered) and P(failure | mastered);
    `stability_days`: the initial memory stability of the forgetting curve.
    """

    prior: float = 0.2
    learn: float = 0.15
    guess: float = 0.2
    slip: float = 0.1
    stability_days: float = 60.0
    # logit(1 - slip) and logit(guess), for the emissions of every update: computed once.
    logit_known: float = field(init=False, repr=False, compare=False, default=0.0)
    logit_guess: float = field(init=False, repr=False, compare=False, default=0.0)

    def __post_init__(self) -> None:
        for name in ("prior", "learn", "guess", "slip"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        if not (self.stability_days > 0 and math.isfinite(self.stability_days)):
            raise ValueError("stability_days must be a positive number")
        object.__setattr__(self, "logit_known", _logit(1.0 - self.slip))
        object.__setattr__(self, "logit_guess", _logit(self.guess))

    def to_dict(self) -> dict[str, float]:
        """A JSON-safe dict."""
        return {name: getattr(self, name) for name in _COMPETENCY_FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompetencyParams:
        """Rebuild from `to_dict` output."""
        try:
            return cls(**{k: float(data[k]) for k in _COMPETENCY_FIELDS if k in data})
        except (TypeError, ValueError) as exc:
            raise StateError(f"invalid competency parameters: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ModelParams:
    """All parameters of the learner model.

    `ability_rate`: how fast the per-learner ability offset follows prediction residuals;
    `difficulty_effect`: logit shift of P(success) per unit of lesson difficulty below 0.5;
    `exposure_learning`: share of `learn` an unscored exposure produces;
    `score_evidence`: the fitted score model, the evidence value of a score without a success
    flag per tenth of the score range (`scores.SCORE_BINS` values; empty: the score itself);
    `forget_per_lesson`: P(losing a mastered competency) with every lesson taken (interference,
    beside forgetting over time); `memory_growth`: 1 when memory stability grows with each
    successful retrieval (FSRS-like), 0 when it stays as fitted; `unready_learning`: None
    for parameters whose `learn` is the rate averaged over however ready the history's
    learners were (the update then ignores prerequisites), else `learn` is the rate once
    every prerequisite is mastered and this the share of it a lesson teaches while one is
    not: the update uses learn x (r + (1 - r) x unready_learning), r = P(every prerequisite
    mastered), taken as independent.
    """

    competencies: Mapping[str, CompetencyParams] = field(default_factory=dict)
    default: CompetencyParams = CompetencyParams()
    ability_rate: float = 0.0
    difficulty_effect: float = 0.0
    exposure_learning: float = 0.5
    review_recall: float = 0.85
    score_evidence: tuple[float, ...] = ()
    forget_per_lesson: float = 0.0
    memory_growth: float = 1.0
    unready_learning: float | None = None

    def __post_init__(self) -> None:
        table = self.score_evidence
        if table and (len(table) != SCORE_BINS or not all(0.0 <= v <= 1.0 for v in table)):
            raise ValueError(f"score_evidence must be {SCORE_BINS} values in [0, 1] or empty")
        if not 0.0 <= self.forget_per_lesson < 1.0:
            raise ValueError("forget_per_lesson must be in [0, 1)")
        if self.unready_learning is not None and not 0.0 <= self.unready_learning <= 1.0:
            raise ValueError("unready_learning must be in [0, 1] or None")

    def for_competency(self, competency_id: str) -> CompetencyParams:
        """Fitted parameters of a competency, or the defaults."""
        return self.competencies.get(competency_id, self.default)

    @classmethod
    def defaults(cls) -> ModelParams:
        """Sensible priors for a new organisation without history."""
        return cls()

    def with_competency(self, competency_id: str, params: CompetencyParams) -> ModelParams:
        """A copy with one competency's parameters replaced."""
        comps = dict(self.competencies)
        comps[competency_id] = params
        return replace(self, competencies=comps)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "competencies": {k: v.to_dict() for k, v in sorted(self.competencies.items())},
            "default": self.default.to_dict(),
            "ability_rate": self.ability_rate,
            "difficulty_effect": self.difficulty_effect,
            "exposure_learning": self.exposure_learning,
            "review_recall": self.review_recall,
            "score_evidence": list(self.score_evidence),
            "forget_per_lesson": self.forget_per_lesson,
            "memory_growth": self.memory_growth,
        } | (  # absent when None: parameters fitted before it keep their version
            {"unready_learning": self.unready_learning} if self.unready_learning is not None else {}
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelParams:
        """Rebuild from `to_dict` output."""
        try:
            return cls(
                competencies={
                    str(k): CompetencyParams.from_dict(v)
                    for k, v in data.get("competencies", {}).items()
                },
                default=CompetencyParams.from_dict(data.get("default", {})),
                ability_rate=float(data.get("ability_rate", 0.0)),
                difficulty_effect=float(data.get("difficulty_effect", 0.0)),
                exposure_learning=float(data.get("exposure_learning", 0.5)),
                review_recall=float(data.get("review_recall", 0.85)),
                score_evidence=tuple(float(v) for v in data.get("score_evidence", ())),
                forget_per_lesson=float(data.get("forget_per_lesson", 0.0)),
                memory_growth=float(data.get("memory_growth", 1.0)),
                unready_learning=(
                    None
                    if data.get("unready_learning") is None
                    else float(data["unready_learning"])
                ),
            )
        except (AttributeError, TypeError, ValueError) as exc:
            raise StateError(f"invalid model parameters: {exc}") from exc
