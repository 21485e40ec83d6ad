"""How a statement's result becomes evidence about mastery.

Pure: imports only the standard library. A statement may carry `success` (pass or fail), a
scaled score, both, or neither. They mean different things: `success` is the outcome (a pass
at 0.8 is a pass), while a score alone is a noisy measurement of that outcome whose meaning
depends on how the organisation's content scores. The learner model works with an *evidence
value* s in [0, 1]: P(result | pass) / (P(result | pass) + P(result | fail)), so that a result
is s : (1 - s) for pass against fail.

- With a success flag, s is 1 or 0 (the score, if any, adds nothing about mastery once the
  outcome is known).
- With a score only (partial credit without a flag), s comes from the fitted score model:
  one value per tenth of the score range, learned by `fit_params` from the data (from the
  scores of flagged statements and, through the model, from the score-only ones). Before any
  fit (`ModelParams.score_evidence` empty) the score itself is taken as s.
- With neither, the statement is exposure: no evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

SCORE_BINS = 10
# Evidence classes as the fitting groups statements (one per score bin after the first three).
EXPOSURE, FAILED, PASSED, FIRST_BIN = 0, 1, 2, 3
CLASSES = FIRST_BIN + SCORE_BINS
# A result without a success flag counts as a failed attempt (coach flags, direct evidence)
# below this scaled score.
FAILED_BELOW = 0.6


def score_bin(score: float) -> int:
    """The tenth of [0, 1] a scaled score falls in (1.0 in the last one)."""
    b = int(score * SCORE_BINS)
    return SCORE_BINS - 1 if b >= SCORE_BINS else 0 if b < 0 else b


def evidence_class(score: float | None, success: bool | None) -> int:
    """EXPOSURE, FAILED, PASSED, or FIRST_BIN + the score's bin for a score without a flag."""
    if success is not None:
        return PASSED if success else FAILED
    if score is None:
        return EXPOSURE
    return FIRST_BIN + score_bin(score)


def evidence_value(
    score: float | None, success: bool | None, table: Sequence[float]
) -> float | None:
    """The evidence value s of a result (None for exposure); `table` is the fitted score
    model (`ModelParams.score_evidence`), empty before any fit."""
    if success is not None:
        return 1.0 if success else 0.0
    if score is None:
        return None
    if not table:
        return score
    return table[score_bin(score)]


def failed(score: float | None, success: bool | None, table: Sequence[float] = ()) -> bool:
    """Does the result count as a failed attempt? The success flag when there is one; for a
    score alone, what the fitted score model says it more likely is (a score below
    `FAILED_BELOW` before any fit); exposure is not an attempt."""
    if success is not None:
        return not success
    if score is None:
        return False
    if table:
        return table[score_bin(score)] < 0.5
    return score < FAILED_BELOW
