"""Fit the learner model's parameters from an organisation's history.

Pure: imports the standard library and numpy. Expectation-maximisation for a two-state
knowledge-tracing model, vectorised across all (learner, competency) sequences at once:
sequences are sorted by length so that the sequences still running at step t are a prefix,
and each forward/backward step is one numpy operation over that prefix. A lesson's evidence
goes to the competencies its score measures (likelihood ** measure weight, as in the online
update) and its learning to those it teaches; exposures carry learning but no evidence. Beta
pseudo-counts pull competencies with little data toward the defaults, and competencies below
a minimum of evidence keep them.

A result is a success flag (the outcome) or a score alone. The score model (see `scores`)
is fitted in the same EM: the hidden outcome behind a score-only result has a posterior given
mastery, which updates how scores are spread after a pass and after a fail; the scores of
flagged results show that directly.

Entries with the same lesson competency and the same evidence class (failed, passed, a tenth
of the score range, exposure) are one *case*: they share their emissions and learning rate,
so each EM iteration computes those per case and gathers them, and sums the posteriors per
case before the M-step instead of weighting every entry.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .catalog import Catalog
from .evidence import predict_success, update
from .memory import FORGETTING_FACTOR as _FACTOR
from .observation import Observation
from .params import CompetencyParams, ModelParams
from .scores import CLASSES, EXPOSURE, FAILED, FIRST_BIN, SCORE_BINS, failed
from .state import new_learner

_F = NDArray[np.float64]
_I = NDArray[np.intp]
_PSEUDO = 2.0
_MAX_GUESS_SLIP = 0.4
# Pseudo statements behind the score model's starting shape, per outcome.
_SCORE_PSEUDO = 20.0
MIN_OBSERVATIONS = 20
# Rounds of (fit forgetting, refit with it).
_MEMORY_ROUNDS = 2
_SHARP = 4.0


@dataclass(frozen=True, slots=True)
class HeldOut:
    """How well parameters predict the held-out learners' results (pass or fail).

    `auc` and `calibration` (mean absolute gap between predicted and observed pass rates over
    ten bins of predictions) for the fitted parameters, and the same for the parameters the
    fit started from (`base_*`).
    """

    learners: int
    observations: int
    auc: float
    calibration: float
    base_auc: float
    base_calibration: float

    def to_dict(self) -> dict[str, float | int]:
        """A JSON-safe dict."""
        return {
            "learners": self.learners,
            "observations": self.observations,
            "auc": self.auc,
            "calibration": self.calibration,
            "base_auc": self.base_auc,
            "base_calibration": self.base_calibration,
        }


@dataclass(frozen=True, slots=True)
class FitReport:
    """How the fit went, in a form the product can store beside the parameters.

    `observations` counts the scored evidence per competency; `observations_used` the
    statements the fit read (known lessons, not voided); `at_priors` the competencies that had
    fewer than `min_observations` scored observations and kept the base parameters;
    `seconds` the time taken; `heldout` the held-out check when one was asked for.
    """

    iterations: int
    log_likelihood: float
    observations: dict[str, int]
    observations_used: int = 0
    seconds: float = 0.0
    min_observations: int = 0
    at_priors: tuple[str, ...] = ()
    heldout: HeldOut | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "iterations": self.iterations,
            "log_likelihood": self.log_likelihood,
            "observations": dict(sorted(self.observations.items())),
            "observations_used": self.observations_used,
            "seconds": self.seconds,
            "min_observations": self.min_observations,
            "at_priors": list(self.at_priors),
            "heldout": None if self.heldout is None else self.heldout.to_dict(),
        }


@dataclass(slots=True)
class _Layout:
    comp_of_seq: _I  # competency index of each sequence
    offsets: _I  # flat index where step t starts; len T + 1
    last_of_seq: _I  # flat index of each sequence's last step
    case: _I  # flat, time-major: the entry's case
    case_comp: _I  # per case: competency index
    case_class: _I  # per case: evidence class (see `evidence_class`)
    case_measure: _F  # per case: how much the lesson's score measures the competency
    case_share: _F  # per case: that measure over the lesson's total (sums to 1 per statement)
    case_main: NDArray[np.bool_]  # per case: the competency is what the lesson is mainly about
    case_teach: _F  # per case: learning opportunity after it (0 for assessment)
    case_count: _F  # per case: how many flat entries
    obs_of_flat: _I  # the observation each flat entry belongs to
    obs_learner: _I  # per observation, in time order
    obs_class: _I  # per observation: evidence class
    obs_difficulty: _F
    gap_days: _F  # flat: days since the previous step of the sequence
    gap_lessons: _F  # flat: lessons the learner took since the previous step of the sequence
    flagged_bins: NDArray[np.float64]  # [2, SCORE_BINS]: scores of failed / passed statements
    observations_used: int


def _compact(key: _I, size: int) -> tuple[_I, _I]:
    """`np.unique(key, return_inverse=True)` for keys in [0, size): a presence table when
    `size` is small, which avoids sorting every entry."""
    if size > 4 * len(key) + 4096:
        used_keys, inverse = np.unique(key, return_inverse=True)
        return used_keys, inverse.reshape(-1)
    used = np.zeros(size, dtype=bool)
    used[key] = True
    return np.flatnonzero(used), (np.cumsum(used) - 1)[key]


def _stable_order(values: _I, upper: int) -> _I:
    """`np.argsort(values, kind="stable")` for integers in [0, upper); 16-bit keys get
    numpy's radix sort, several times faster than sorting 64-bit ones."""
    if upper <= np.iinfo(np.uint16).max:
        values = values.astype(np.uint16)
    return np.argsort(values, kind="stable")


def _layout(
    history: Iterable[Observation],
    catalog: Catalog,
    comp_index: dict[str, int],
    exposure_learning: float,
) -> _Layout | None:
    lesson_ids = list(catalog.lessons)
    lesson_index = {lid: i for i, lid in enumerate(lesson_ids)}
    learners: dict[str, int] = {}
    rows_learner: list[int] = []
    rows_lesson: list[int] = []
    rows_time: list[float] = []
    rows_score: list[float] = []
    rows_flag: list[int] = []
    # This loop is the fit's largest fixed cost: bound methods save a lookup per call.
    add_learner, add_lesson = rows_learner.append, rows_lesson.append
    add_time, add_score, add_flag = rows_time.append, rows_score.append, rows_flag.append
    lesson_of, learner_of = lesson_index.get, learners.setdefault
    flag_of = {None: -1, False: 0, True: 1}
    nan = float("nan")
    for obs in history:
        li = lesson_of(obs.lesson_id)
        if li is None or obs.voided:
            continue
        add_learner(learner_of(obs.learner_id, len(learners)))
        add_lesson(li)
        add_time(obs.timestamp.timestamp())
        add_score(nan if obs.score is None else obs.score)
        add_flag(flag_of[obs.success])
    if not rows_learner:
        return None
    seconds = np.array(rows_time)
    learner = np.array(rows_learner, dtype=np.intp)
    lesson = np.array(rows_lesson, dtype=np.intp)
    score = np.array(rows_score)
    flag = np.array(rows_flag, dtype=np.intp)
    # A history grouped by learner in time order needs no sort (lexsort is stable, so it
    # would return the identity).
    grouped = bool(np.all(learner[1:] >= learner[:-1])) and bool(
        np.all((learner[1:] != learner[:-1]) | (seconds[1:] >= seconds[:-1]))
    )
    if not grouped:
        order = np.lexsort((seconds, learner))
        seconds, learner, lesson, score, flag = (
            seconds[order],
            learner[order],
            lesson[order],
            score[order],
            flag[order],
        )
    days = seconds / 86400.0
    has_score = ~np.isnan(score)
    bins = np.minimum(
        (np.where(has_score, score, 0.0) * SCORE_BINS).astype(np.intp), SCORE_BINS - 1
    )
    obs_class = np.where(flag >= 0, FAILED + flag, np.where(has_score, FIRST_BIN + bins, EXPOSURE))
    # Scores of flagged statements: what a pass and a fail score, seen directly.
    both = (flag >= 0) & has_score
    flagged_bins = np.zeros((2, SCORE_BINS))
    np.add.at(flagged_bins, (flag[both], bins[both]), 1.0)
    # Lesson -> competencies as flat tables.
    part_lesson, part_comp, part_measure, part_teach, part_share = [], [], [], [], []
    part_main: list[bool] = []
    difficulty = np.zeros(len(lesson_ids))
    for i, lid in enumerate(lesson_ids):
        item = catalog.lessons[lid]
        difficulty[i] = item.difficulty
        for piece in item.competencies:
            part_lesson.append(i)
            part_comp.append(comp_index[piece.id])
            part_measure.append(piece.measures)
            part_teach.append(piece.teaches)
            part_share.append(piece.measures / item.measured if item.measured else 0.0)
            part_main.append(piece.id in item.mains)
    pl = np.array(part_lesson, dtype=np.intp)
    pc = np.array(part_comp, dtype=np.intp)
    starts = np.searchsorted(pl, np.arange(len(lesson_ids)))
    counts = np.bincount(pl, minlength=len(lesson_ids))
    n_parts = counts[lesson]
    n_entries = int(n_parts.sum())
    obs_of_entry = np.repeat(np.arange(len(lesson)), n_parts)
    # Entry j of observation i is part starts[lesson[i]] + j.
    part = np.repeat(starts[lesson] - (np.cumsum(n_parts) - n_parts), n_parts) + np.arange(
        n_entries
    )
    comp = pc[part]
    # Sequences are (learner, competency) in time order. Entries already follow the
    # observations' (learner, time) order, so a stable sort on the competency alone gives
    # (competency, learner, time), as a lexsort on all three would.
    seq_order = _stable_order(comp, len(comp_index))
    obs_e = obs_of_entry[seq_order]
    comp_e = comp[seq_order]
    part_e = part[seq_order]
    key = learner[obs_e] * len(comp_index) + comp_e
    new_seq = np.concatenate([[True], key[1:] != key[:-1]])
    seq_id = np.cumsum(new_seq) - 1
    seq_start = np.flatnonzero(new_seq)
    lengths = np.diff(np.concatenate([seq_start, [len(key)]]))
    position = np.arange(len(key)) - seq_start[seq_id]
    rank_order = np.argsort(-lengths, kind="stable")
    rank = np.empty_like(rank_order)
    rank[rank_order] = np.arange(len(rank_order))
    active = np.bincount(position, minlength=int(lengths.max()))
    offsets = np.concatenate([[0], np.cumsum(active)]).astype(np.intp)
    flat = offsets[position] + rank[seq_id]
    # Cases: (lesson part, evidence class).
    case_keys, case_e = _compact(part_e * CLASSES + obs_class[obs_e], len(part_lesson) * CLASSES)
    case_part = case_keys // CLASSES
    case_class = case_keys % CLASSES
    case_teach = np.array(part_teach)[case_part] * np.where(
        case_class == EXPOSURE, exposure_learning, 1.0
    )
    out_case = np.empty(n_entries, dtype=np.intp)
    out_case[flat] = case_e
    out_obs = np.empty(n_entries, dtype=np.intp)
    out_obs[flat] = obs_e
    gap = np.diff(days[obs_e], prepend=0.0)
    gap[new_seq] = 0.0
    out_gap = np.empty(n_entries)
    out_gap[flat] = np.maximum(gap, 0.0)
    first_obs = np.concatenate([[True], learner[1:] != learner[:-1]])
    obs_position = np.arange(len(learner)) - np.flatnonzero(first_obs)[np.cumsum(first_obs) - 1]
    taken_gap = np.diff(obs_position[obs_e], prepend=0).astype(np.float64)
    taken_gap[new_seq] = 0.0
    out_taken = np.empty(n_entries)
    out_taken[flat] = taken_gap
    comp_of_seq = comp_e[seq_start][rank_order]
    last_of_seq = offsets[lengths[rank_order] - 1] + np.arange(len(lengths))
    case_count = np.bincount(case_e, minlength=len(case_keys)).astype(np.float64)
    return _Layout(
        comp_of_seq,
        offsets,
        last_of_seq,
        out_case,
        pc[case_part],
        case_class,
        np.array(part_measure)[case_part],
        np.array(part_share)[case_part],
        np.array(part_main, dtype=bool)[case_part],
        case_teach,
        case_count,
        out_obs,
        learner,
        obs_class,
        difficulty[lesson],
        out_gap,
        out_taken,
        flagged_bins,
        len(lesson),
    )


class _Work:
    """Flat buffers reused by every EM iteration and stability candidate: fresh arrays of
    this size would cost page faults on each pass."""

    def __init__(self, lay: _Layout) -> None:
        n, n_seq = len(lay.case), len(lay.comp_of_seq)
        self.e_l, self.e_n, self.k = np.empty(n), np.empty(n), np.empty(n)
        self.filt, self.scale, self.gamma = np.empty(n), np.empty(n), np.empty(n)
        self.pred, self.beta, self.step = np.empty(n_seq), np.empty(n_seq), np.empty(n_seq)
        self.beta_n = np.empty(n_seq)
        self.events = np.zeros(n)  # expected learning events after each step (forgetting EM)

    def gather(self, lay: _Layout, e_l: _F, e_n: _F, k: _F) -> None:
        """Per-case emissions and learning rates onto the flat entries."""
        # mode="clip" lets `take` write straight into `out` ("raise" buffers it); the case
        # indices are in range by construction.
        for table, out in ((e_l, self.e_l), (e_n, self.e_n), (k, self.k)):
            np.take(table, lay.case, out=out, mode="clip")


def _sum_log(x: _F) -> float:
    """`np.log(x).sum()` for positive likelihoods, with one log per 16 values: the log of
    their product. A log costs many multiplies; after the first M-step every likelihood is
    at least 0.001 (the clipping of guess and slip), so 16 of them cannot underflow, and
    the product is checked before relying on it."""
    m = len(x) // 16
    if m == 0:
        return float(np.log(x).sum())
    acc = x[:m].copy()
    for i in range(1, 16):
        acc *= x[i * m : (i + 1) * m]
    if not acc.min() >= 1e-250:  # also true for nan: then the plain sum, nan as before
        return float(np.log(x).sum())
    return float(np.log(acc).sum() + np.log(x[16 * m :]).sum())


def fit_params(
    history: Iterable[Observation],
    catalog: Catalog,
    base: ModelParams | None = None,
    max_iterations: int = 200,
    tolerance: float = 1e-7,
    *,
    min_observations: int = MIN_OBSERVATIONS,
    holdout: float = 0.0,
) -> tuple[ModelParams, FitReport]:
    """Parameters fitted by EM from observations, with a report the product can store.

    Per competency: prior, learning, guess, slip (competencies with fewer than
    `min_observations` scored observations keep `base`'s and are listed in the report);
    for the whole catalog: the score model (what a score without a success flag says, see
    `scores`), the memory stability, the learner-ability rate and the difficulty effect.
    With `holdout` in (0, 1), that share of the learners (chosen by a stable hash of their
    id) is left out of the fit and used to compare the fitted parameters with `base`
    (`FitReport.heldout`); the parameters are then fitted on the others only.
    """
    started = time.perf_counter()
    base = base or ModelParams.defaults()
    held: list[Observation] = []
    if holdout > 0.0:
        history, held = _split_learners(history, holdout)
    comp_ids = list(catalog.competencies)
    comp_index = {c: i for i, c in enumerate(comp_ids)}
    lay = _layout(history, catalog, comp_index, base.exposure_learning)
    if lay is None:
        return base, FitReport(
            0, 0.0, {}, seconds=time.perf_counter() - started, min_observations=min_observations
        )
    n_comp = len(comp_ids)
    start = [base.for_competency(c) for c in comp_ids]
    prior = np.array([p.prior for p in start])
    learn = np.array([p.learn for p in start])
    guess = np.array([p.guess for p in start])
    slip = np.array([p.slip for p in start])
    cls = lay.case_class
    scored = cls != EXPOSURE
    w = np.where(scored, lay.case_measure, 0.0)  # evidence weight per case
    score_model = _ScoreModel(lay.flagged_bins, base.score_evidence)
    comp_c = lay.case_comp
    n_obs = np.bincount(comp_c[w > 0], lay.case_count[w > 0], n_comp).astype(np.int64)
    # Forgetting is judged on what each lesson is mainly about: a score says most about
    # that, and a catalog that credits the score to minor parts (version-1 weights) would
    # otherwise hide forgetting behind noise.
    w_main = np.where(lay.case_main, w, 0.0)
    work = _Work(lay)
    est = _Estimates(prior, learn, guess, slip)
    # Knowledge tracing first without forgetting (mastery absorbing: a cheap backward pass),
    # then how learners forget given that, then once more with that forgetting, which
    # otherwise passes for slips and relearning. Forgetting is judged on the evidence about
    # what each lesson is mainly about (a score credited to minor parts, as version-1
    # weights do, inflates their slips and hides forgetting); the final parameters use all
    # the evidence under that forgetting.
    iteration, loglik = _em(
        lay, work, est, score_model, base.default, None, max_iterations, tolerance, True
    )
    memory = _Memory(_MAX_STABILITY, 0.0, 0.0)
    keep: _F | None = None
    bound = 0.0
    for _ in range(_MEMORY_ROUNDS):
        sv = score_model.values()[cls]
        work.gather(
            lay,
            *_emissions(sv, scored, w_main, est.guess[comp_c], est.slip[comp_c]),
            est.learn[comp_c] * lay.case_teach,
        )
        passed = np.take((sv >= 0.5) & scored & (w_main > 0.0), lay.case)
        memory, _, keep, bound = _fit_memory(lay, est.prior[lay.comp_of_seq], work, passed)
        if memory.stability >= _MAX_STABILITY and not memory.per_lesson:
            keep = None  # no forgetting
            break
        more, loglik = _em(
            lay, work, est, score_model, base.default, keep, max_iterations, tolerance, True
        )
        iteration += more
    more, loglik = _em(lay, work, est, score_model, base.default, keep, max_iterations, tolerance)
    iteration += more
    # The history's learners often take a lesson before they know what it builds on, when
    # it teaches less, so the rate above is averaged over how ready they were: for a
    # competency with several prerequisites, far below its rate once they are known, which
    # is when the policy teaches it (the policy weights gains by the chance they are known
    # itself, and the update by `unready_learning`). Each step is weighted by that chance,
    # read from the fit's own posteriors of the prerequisites.
    ready = _prerequisite_readiness(
        lay, work.gamma, work.k, est.prior, catalog, comp_ids, comp_index
    )
    unready: float | None = None
    if ready is not None:
        est.learn, unready = _learn_when_ready(lay, work, est.learn, ready, keep is None)
    prior, learn, guess, slip = est.prior, est.learn, est.guess, est.slip
    sv = score_model.values()[cls]
    g, sl = guess[comp_c], slip[comp_c]
    work.gather(lay, *_emissions(sv, scored, w, g, sl), learn[comp_c] * lay.case_teach)
    passed = np.take((sv >= 0.5) & scored & (w > 0.0), lay.case)
    before = _before(lay, prior[lay.comp_of_seq], work, passed, memory)
    stability = memory.stability
    per_entry = before * (1 - sl)[lay.case] + (1 - before) * g[lay.case]
    weight = w[lay.case]
    n_all = len(lay.obs_class)
    weight_sum = np.bincount(lay.obs_of_flat, weight, n_all)
    measured = weight_sum > 0.0
    base_pred = np.bincount(lay.obs_of_flat, weight * per_entry, n_all) / np.where(
        measured, weight_sum, 1.0
    )
    value = np.where(
        measured & (lay.obs_class != EXPOSURE), score_model.values()[lay.obs_class], np.nan
    )
    ability_rate, difficulty_effect = _fit_offsets(lay, base_pred, value)
    has_bins = bool((lay.obs_class >= FIRST_BIN).any())
    params = replace(
        base,
        ability_rate=ability_rate,
        difficulty_effect=difficulty_effect,
        score_evidence=score_model.table() if has_bins else base.score_evidence,
        # The forgetting per lesson the online model uses is the most the history cannot
        # rule out, not the point estimate (`_forgetting_bound`).
        forget_per_lesson=max(bound, memory.per_lesson),
        memory_growth=memory.growth,
        unready_learning=unready,
    )
    counts: dict[str, int] = {}
    thin: list[str] = []
    for i, c in enumerate(comp_ids):
        counts[c] = int(n_obs[i])
        if n_obs[i] < max(min_observations, 1):
            thin.append(c)
            continue
        params = params.with_competency(
            c,
            CompetencyParams(
                float(prior[i]), float(learn[i]), float(guess[i]), float(slip[i]), stability
            ),
        )
    checked = _heldout(held, catalog, params, base) if held else None
    return params, FitReport(
        iteration,
        float(loglik),
        counts,
        lay.observations_used,
        time.perf_counter() - started,
        min_observations,
        tuple(thin),
        checked,
    )


@dataclass(slots=True)
class _Estimates:
    """Per-competency parameters being fitted."""

    prior: _F
    learn: _F
    guess: _F
    slip: _F


def _em(
    lay: _Layout,
    work: _Work,
    est: _Estimates,
    score_model: _ScoreModel,
    default: CompetencyParams,
    keep: _F | None,
    max_iterations: int,
    tolerance: float,
    main_only: bool = False,
) -> tuple[int, float]:
    """EM on `est` and `score_model` in place; `keep` is the share of mastery kept from each
    step to the next (None: no forgetting); with `main_only` a lesson's score is evidence
    only about what the lesson is mainly about. Returns iterations and the log-likelihood."""
    n_comp = len(est.prior)
    cls = lay.case_class
    scored = cls != EXPOSURE
    w = np.where(scored & (lay.case_main | (not main_only)), lay.case_measure, 0.0)
    is_bin = cls >= FIRST_BIN
    case_bin = np.where(is_bin, cls - FIRST_BIN, 0)
    share = np.where(is_bin, lay.case_share, 0.0) * lay.case_count
    comp_c = lay.case_comp
    cnt0 = np.bincount(lay.comp_of_seq, minlength=n_comp)
    n_seq = len(lay.comp_of_seq)
    # A sequence's last step is followed by no response, so the learning it may bring is
    # never observed: it is not an opportunity in the M-step (counting it biased `learn`
    # down by about a fifth on five-step sequences).
    teach_last = lay.case_teach[lay.case[lay.last_of_seq]]
    d = default
    loglik = -np.inf
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported afterwards
        sv = score_model.values()[cls]
        g, sl = est.guess[comp_c], est.slip[comp_c]
        work.gather(lay, *_emissions(sv, scored, w, g, sl), est.learn[comp_c] * lay.case_teach)
        prior_seq = est.prior[lay.comp_of_seq]
        if keep is None:
            ll = _forward_backward(lay, prior_seq, work)
        else:
            ll = _forward_backward_forgetting(lay, prior_seq, work, keep)
        gamma = work.gamma
        gamma_first = gamma[:n_seq]  # every sequence has a step 0, in rank order
        prior = (np.bincount(lay.comp_of_seq, gamma_first, n_comp) + _PSEUDO * d.prior) / (
            cnt0 + _PSEUDO
        )
        gamma_l = np.bincount(lay.case, gamma, len(comp_c))  # summed per case
        gamma_n = lay.case_count - gamma_l
        # P(the hidden result was a pass | this evidence, mastered / not): 1 or 0 with a
        # success flag, in between for a score alone.
        pass_l = (1.0 - sl) * sv / np.maximum((1.0 - sl) * sv + sl * (1.0 - sv), 1e-12)
        pass_n = g * sv / np.maximum(g * sv + (1.0 - g) * (1.0 - sv), 1e-12)
        wn = gamma_n * w
        wl = gamma_l * w
        if keep is None:
            # Mastery is absorbing within a sequence, so its expected N -> L transitions add
            # up to P(L at its last step) - P(L at its first step).
            gain = np.bincount(lay.comp_of_seq, gamma[lay.last_of_seq] - gamma_first, n_comp)
        else:
            gain = np.bincount(comp_c, np.bincount(lay.case, work.events, len(comp_c)), n_comp)
        opp, wn_pass, wn_sum, wl_fail, wl_sum = (
            np.bincount(comp_c, column, n_comp)
            for column in (gamma_n * lay.case_teach, wn * pass_n, wn, wl * (1.0 - pass_l), wl)
        )
        opp -= np.bincount(lay.comp_of_seq, (1.0 - gamma[lay.last_of_seq]) * teach_last, n_comp)
        if is_bin.any():
            passes = (gamma_l * pass_l + gamma_n * pass_n) / np.maximum(lay.case_count, 1.0)
            score_model.update(case_bin[is_bin], (share * passes)[is_bin], share[is_bin])
        est.learn = np.clip(
            (gain + _PSEUDO * d.learn) / (np.maximum(opp, 0.0) + _PSEUDO), 0.001, 0.999
        )
        est.guess = np.clip(
            (wn_pass + _PSEUDO * d.guess) / (wn_sum + _PSEUDO), 0.001, _MAX_GUESS_SLIP
        )
        est.slip = np.clip(
            (wl_fail + _PSEUDO * d.slip) / (wl_sum + _PSEUDO), 0.001, _MAX_GUESS_SLIP
        )
        est.prior = np.clip(prior, 0.001, 0.999)
        if abs(ll - loglik) < tolerance * max(1.0, abs(ll)):
            return iteration, ll
        loglik = ll
    return iteration, loglik


def _learn_when_ready(
    lay: _Layout, work: _Work, learn: _F, ready: _F, absorbing: bool
) -> tuple[_F, float]:
    """Each competency's learning rate once its prerequisites are mastered: the expected
    learning events per opportunity, each step weighted by the chance its prerequisites were
    mastered then (`ready`), with `_PSEUDO` opportunities at the rate fitted over all steps;
    competencies without prerequisites (every step ready) keep that rate."""
    comp_e = lay.case_comp[lay.case]
    opp = lay.case_teach[lay.case] * (1.0 - work.gamma)
    opp[lay.last_of_seq] = 0.0  # the last step's learning is never observed
    events = _absorbing_events(lay, work.gamma) if absorbing else work.events
    n = len(learn)
    gated = np.bincount(comp_e, ready < 1.0, n) > 0
    num = np.bincount(comp_e, ready * events, n)
    den = np.bincount(comp_e, ready * opp, n)
    ready_rate = np.clip((num + _PSEUDO * learn) / (den + _PSEUDO), 0.001, 0.999)
    rate = np.where(gated, ready_rate, learn)
    # The share of that rate taught while not ready, pooled over the competencies.
    g = gated[comp_e]
    unready_events = float(np.sum(((1.0 - ready) * events)[g]))
    unready_opp = float(np.sum(((1.0 - ready) * opp * rate[comp_e])[g]))
    share = (unready_events + _PSEUDO) / (unready_opp + _PSEUDO)
    return rate, float(np.clip(share, 0.001, 1.0))


def _absorbing_events(lay: _Layout, gamma: _F) -> _F:
    """Expected learning events after each entry when mastery is absorbing: the rise of
    P(mastered | all) to the sequence's next step (0 after its last)."""
    off = lay.offsets
    events = np.zeros(len(gamma))
    for t in range(len(off) - 2):
        a, b = off[t], off[t + 1]
        n2 = off[t + 2] - b
        events[a : a + n2] = gamma[b : b + n2] - gamma[a : a + n2]
    return np.maximum(events, 0.0)


def _prerequisite_readiness(
    lay: _Layout,
    gamma: _F,
    rate: _F,
    prior: _F,
    catalog: Catalog,
    comp_ids: list[str],
    comp_index: dict[str, int],
) -> _F | None:
    """Per flat entry, P(every prerequisite of its competency mastered) at that step, taken
    as independent: each prerequisite at the learner's latest step on it so far (P(mastered
    | all) after it), or at its prior before any; `rate` the learning rate of each entry;
    None when no competency has prerequisites."""
    pairs = [
        (comp_index[c], comp_index[p])
        for c in comp_ids
        for p in catalog.prerequisites(c)
        if p in comp_index
    ]
    if not pairs:
        return None
    comp_e = lay.case_comp[lay.case]
    obs_e = lay.obs_of_flat
    # Entries of each competency in observation order (observations are in (learner, time)
    # order, so a learner's steps are a contiguous, time-ordered run).
    order = np.lexsort((obs_e, comp_e))
    starts = np.searchsorted(comp_e[order], np.arange(len(comp_ids) + 1))
    learner = lay.obs_learner
    ready = np.ones(len(gamma))
    for c, p in pairs:
        mine = order[starts[c] : starts[c + 1]]
        theirs = order[starts[p] : starts[p + 1]]
        if not len(mine):
            continue
        value = np.full(len(mine), prior[p])
        if len(theirs):
            at = np.searchsorted(obs_e[theirs], obs_e[mine], side="right") - 1
            found = at >= 0
            same = np.zeros(len(mine), dtype=bool)
            same[found] = learner[obs_e[theirs[at[found]]]] == learner[obs_e[mine[found]]]
            j = theirs[at[same]]
            # After the learner's latest step on the prerequisite: P(mastered) at their next
            # step on it, or after its learning when it was their last; at the same step
            # (a lesson on both), before it.
            after = gamma[j] + (1.0 - gamma[j]) * rate[j]
            nxt = np.minimum(at[same] + 1, len(theirs) - 1)
            has_next = (at[same] + 1 < len(theirs)) & (
                learner[obs_e[theirs[nxt]]] == learner[obs_e[mine[same]]]
            )
            after = np.where(has_next, gamma[theirs[nxt]], after)
            value[same] = np.where(obs_e[j] == obs_e[mine[same]], gamma[j], after)
        ready[mine] *= value
    return ready


def _emissions(sv: _F, scored: NDArray[np.bool_], w: _F, guess: _F, slip: _F) -> tuple[_F, _F]:
    """Per-case likelihoods of the evidence if mastered and if not, tempered by the measure
    weight: s(1 - slip) + (1 - s) slip and s guess + (1 - s)(1 - guess), 1 for exposure."""
    a = np.where(scored, 1.0 - 2.0 * sv, 0.0)
    known = np.where(scored, sv, 1.0) + slip * a
    unknown = np.where(scored, 1.0 - sv, 1.0) - guess * a
    return np.power(known, w), np.power(unknown, w)


class _ScoreModel:
    """What a score without a success flag says: the distribution of scores (per tenth of
    the range) after a pass and after a fail. Starts from the scores of flagged statements
    plus a weak prior shape (a higher score is likelier after a pass), then learns from the
    score-only statements through the knowledge-tracing model."""

    def __init__(self, flagged: _F, start: tuple[float, ...]) -> None:
        centres = (np.arange(SCORE_BINS) + 0.5) / SCORE_BINS
        shape = np.stack([(1.0 - centres) ** _SHARP, centres**_SHARP])
        self.prior = _SCORE_PSEUDO * shape / shape.sum(1, keepdims=True) + flagged
        if start and not flagged.any():
            table = np.clip(np.array(start), 1e-3, 1 - 1e-3)
            self.dist = np.stack([1.0 - table, table])
            self.dist /= self.dist.sum(1, keepdims=True)
        else:
            self.dist = self.prior / self.prior.sum(1, keepdims=True)

    def table(self) -> tuple[float, ...]:
        fail, passed = self.dist
        return tuple(float(v) for v in passed / (passed + fail))

    def values(self) -> _F:
        """Evidence value per class: (exposure, failed, passed, then one per bin)."""
        return np.concatenate([[0.5, 0.0, 1.0], np.array(self.table())])

    def update(self, bins: _I, passes: _F, totals: _F) -> None:
        passed = np.bincount(bins, passes, SCORE_BINS)
        fail = np.bincount(bins, totals - passes, SCORE_BINS)
        counts = self.prior + np.stack([fail, passed])
        self.dist = counts / counts.sum(1, keepdims=True)


def _forward_backward(lay: _Layout, prior: _F, work: _Work) -> float:
    """Scaled forward-backward over the time-major layout, from `work.e_l`, `work.e_n` and
    `work.k`: leaves P(L | all) per entry in `work.gamma`, returns the log-likelihood.

    Without forgetting, mastery is absorbing: P(L at t | all) = filter(L at t) * beta_L(t)
    and beta_L(t) = e_l(t+1) beta_L(t+1) / scale(t+1) needs no beta_N, so the backward pass
    is three operations per step.
    """
    off = lay.offsets
    steps = len(off) - 1
    e_l, e_n, k = work.e_l, work.e_n, work.k
    filt, scale, pred = work.filt, work.scale, work.pred
    pred[: len(prior)] = prior
    for t in range(steps):
        a, b = off[t], off[t + 1]
        p = pred[: b - a]
        al = np.multiply(p, e_l[a:b], out=filt[a:b])
        c = np.subtract(1.0, p, out=scale[a:b])
        c *= e_n[a:b]
        c += al
        f = np.divide(al, c, out=filt[a:b])
        n2 = off[t + 2] - b if t + 1 < steps else 0
        # P(L) before the next step of the sequences that continue: f + (1 - f) k.
        nxt = np.subtract(1.0, f[:n2], out=pred[:n2])
        nxt *= k[a : a + n2]
        nxt += f[:n2]
    beta, gamma = work.beta, work.gamma
    beta.fill(1.0)
    for t in range(steps - 1, -1, -1):
        a, b = off[t], off[t + 1]
        if t + 1 < steps:
            n2 = off[t + 2] - b
            bl = beta[:n2]
            bl *= e_l[b : b + n2]
            bl /= scale[b : b + n2]
        np.multiply(filt[a:b], beta[: b - a], out=gamma[a:b])
    return _sum_log(scale)


def _forward_backward_forgetting(lay: _Layout, prior: _F, work: _Work, keep: _F) -> float:
    """Scaled forward-backward when mastery can be lost between steps: `keep[i]` is the
    share kept from the step before entry i to entry i. Leaves P(L | all) per entry in
    `work.gamma` and the expected learning events after each entry in `work.events`;
    returns the log-likelihood."""
    off = lay.offsets
    steps = len(off) - 1
    e_l, e_n, k = work.e_l, work.e_n, work.k
    filt, scale, pred = work.filt, work.scale, work.pred
    pred[: len(prior)] = prior
    for t in range(steps):
        a, b = off[t], off[t + 1]
        p = pred[: b - a]
        if t:
            p *= keep[a:b]
        al = np.multiply(p, e_l[a:b], out=filt[a:b])
        c = np.subtract(1.0, p, out=scale[a:b])
        c *= e_n[a:b]
        c += al
        f = np.divide(al, c, out=filt[a:b])
        n2 = off[t + 2] - b if t + 1 < steps else 0
        nxt = np.subtract(1.0, f[:n2], out=pred[:n2])
        nxt *= k[a : a + n2]
        nxt += f[:n2]
    bl, bn, gamma, events = work.beta, work.beta_n, work.gamma, work.events
    bl.fill(1.0)
    bn.fill(1.0)
    for t in range(steps - 1, -1, -1):
        a, b = off[t], off[t + 1]
        f = filt[a:b]
        n2 = off[t + 2] - b if t + 1 < steps else 0
        if n2:
            # Messages from step t+1 back to t, for the sequences that continue.
            sc = scale[b : b + n2]
            al = e_l[b : b + n2] * bl[:n2] / sc
            an = e_n[b : b + n2] * bn[:n2] / sc
            kp = keep[b : b + n2]
            kk = k[a : a + n2]
            learned = kp * al + (1.0 - kp) * an  # after a learning event
            stay = an  # not mastered, not learned
            events[a : a + n2] = (1.0 - f[:n2]) * kk * learned
            bl[:n2] = learned
            bn[:n2] = kk * learned + (1.0 - kk) * stay
        events[a + n2 : b] = 0.0
        bl[n2 : b - a] = 1.0
        bn[n2 : b - a] = 1.0
        num = f * bl[: b - a]
        np.divide(num, num + (1.0 - f) * bn[: b - a], out=gamma[a:b])
        events[a : a + n2] /= num[:n2] + (1.0 - f[:n2]) * bn[:n2]
    return _sum_log(scale)


_RATES = (0.0, 0.05, 0.1, 0.2, 0.3)
_DIFFICULTY_EFFECTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


def _fit_offsets(lay: _Layout, base_pred: _F, value: _F) -> tuple[float, float]:
    """Grid-search the learner-ability rate and the difficulty effect by log-likelihood.

    Replays the online rule (ability += rate * residual) for all learners at once, one
    position in each learner's history per numpy step.
    """
    learner = lay.obs_learner
    n = len(learner)
    first = np.concatenate([[True], learner[1:] != learner[:-1]])
    starts = np.flatnonzero(first)
    position = np.arange(n) - starts[np.cumsum(first) - 1]
    by_position = _stable_order(position, int(position.max()) + 1)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(position))])
    scored = ~np.isnan(value)
    y = np.where(scored, value, 0.0)
    base_logit = np.log(np.clip(base_pred, 1e-6, 1 - 1e-6) / np.clip(1 - base_pred, 1e-6, 1))
    n_learners = int(learner.max()) + 1
    # With 0/1 scores, y log(p + e) + (1 - y) log(1 - p + e) is the log of the one chosen
    # term, bit for bit: one log per observation instead of two.
    binary = bool(np.all((y == 0.0) | (y == 1.0)))

    def score_loglik(ok: _F, yy: _F, one: NDArray[np.bool_], p: _F) -> float:
        if binary:
            return float(np.sum(ok * np.log(np.where(one, p, 1 - p) + 1e-9)))
        # The likelihood of an evidence value s: P(pass) s + P(fail) (1 - s).
        return float(np.sum(ok * np.log(p * yy + (1 - p) * (1 - yy) + 1e-9)))

    centred = 0.5 - lay.obs_difficulty
    ok_all = scored.astype(np.float64)
    one_all = y == 1.0
    # Each position's slice of the history, gathered once for every replay.
    steps = []
    for t in range(len(bounds) - 1):
        idx = by_position[bounds[t] : bounds[t + 1]]
        steps.append(
            (learner[idx], base_logit[idx], centred[idx], ok_all[idx], y[idx], one_all[idx])
        )
    known: dict[tuple[float, float], float] = {}

    def loglik(rate: float, effect: float) -> float:
        if (rate, effect) in known:  # the searches below meet the same point twice
            return known[rate, effect]
        if not rate:  # no ability updates: one vectorised pass, no replay in order
            p = 1.0 / (1.0 + np.exp(-(base_logit + effect * centred)))
            total = score_loglik(ok_all, y, one_all, p)
        else:
            ability = np.zeros(n_learners)
            total = 0.0
            for who, base, diff, ok, yy, one in steps:
                p = 1.0 / (1.0 + np.exp(-(base + effect * diff + ability[who])))
                total += score_loglik(ok, yy, one, p)
                ability[who] = np.clip(ability[who] + rate * ok * (yy - p), -3.0, 3.0)
        known[rate, effect] = total
        return total

    # Coordinate search: the difficulty effect without ability first, then the ability rate,
    # then the difficulty effect again at that rate (10-15 replays instead of 30).
    effect = max(_DIFFICULTY_EFFECTS, key=lambda e: loglik(0.0, e))
    rate = max(_RATES, key=lambda r: loglik(r, effect))
    if rate:
        effect = max(_DIFFICULTY_EFFECTS, key=lambda e: loglik(rate, e))
    return rate, effect


_STABILITIES = (7.0, 15.0, 30.0, 60.0, 120.0, 365.0, 36500.0)
_PER_LESSON = (0.0, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032)
_GROWTH = (0.0, 1.0)
_MAX_STABILITY = 36500.0


@dataclass(frozen=True, slots=True)
class _Memory:
    stability: float  # days: the forgetting curve's starting stability
    per_lesson: float  # P(losing mastery) with each lesson taken
    growth: float  # 1: stability grows with successful retrievals (as online), 0: it does not


def _fit_memory(
    lay: _Layout, prior: _F, work: _Work, passed: NDArray[np.bool_]
) -> tuple[_Memory, _F, _F, float]:
    """How the learners forget, by filtering likelihood (from `work.e_l`, `work.e_n`,
    `work.k`): the starting stability of the forgetting curve over time, the forgetting per
    lesson taken, and whether stability grows with each pass (as the online update does when
    it is on). A coordinate search over the three (about 20 filtering passes instead of 98).
    Returns the best, P(mastered) before each step under it, the share of mastery it
    keeps from each step to the next, and the most forgetting per lesson the history cannot
    rule out (`_forgetting_bound`)."""
    known: dict[_Memory, float] = {}
    best: list[Any] = [-np.inf, None, None, None]

    def score(memory: _Memory) -> float:
        if memory not in known:
            before, keep = np.empty(len(lay.case)), np.empty(len(lay.case))
            total = _filter(lay, prior, work, passed, memory, before, keep)
            known[memory] = total
            if total > best[0]:
                best[:] = [total, memory, before, keep]
        return known[memory]

    memory = _Memory(60.0, 0.0, 0.0)
    for _ in range(2):
        memory = max((replace(memory, stability=x) for x in _STABILITIES), key=score)
        memory = max((replace(memory, per_lesson=x) for x in _PER_LESSON), key=score)
        memory = max((replace(memory, growth=x) for x in _GROWTH), key=score)
    # The profile of forgetting per lesson at the best stability and growth, for its bound.
    for x in _PER_LESSON:
        score(replace(best[1], per_lesson=x))
    return best[1], best[2], best[3], _forgetting_bound(best[1], known)


# Half the 95% quantile of chi-square with one degree of freedom: a likelihood-ratio bound.
_BOUND_DROP = 1.92


def _forgetting_bound(memory: _Memory, known: dict[_Memory, float]) -> float:
    """The most forgetting per lesson the history cannot rule out: where the profile
    likelihood (`known`, at `memory`'s stability and growth) falls 1.92 below its top
    (a 95% likelihood-ratio bound), interpolated between the grid's points. A small history
    cannot tell little forgetting from none, and a model that assumes none trusts an old
    pass on a competency the learner has since lost: a lucky success on it then confirms it,
    and the goal is declared too early. The online model forgets at this bound; a long
    history brings it down to what the learners really forget."""
    top = known[memory]
    floor = top - _BOUND_DROP
    last, last_ll = memory.per_lesson, top
    for x in _PER_LESSON:
        if x <= memory.per_lesson:
            continue
        ll = known[replace(memory, per_lesson=x)]
        if ll < floor:
            return last + (x - last) * (last_ll - floor) / (last_ll - ll)
        last, last_ll = x, ll
    return last


def _before(lay: _Layout, prior: _F, work: _Work, passed: NDArray[np.bool_], memory: _Memory) -> _F:
    """P(mastered) before each step under one forgetting model (with `work`'s emissions)."""
    before, keep = np.empty(len(lay.case)), np.empty(len(lay.case))
    _filter(lay, prior, work, passed, memory, before, keep)
    return before


def _filter(
    lay: _Layout,
    prior: _F,
    work: _Work,
    passed: NDArray[np.bool_],
    memory: _Memory,
    before: _F,
    keep: _F,
) -> float:
    """Forward filtering under one forgetting model; fills `before` with P(mastered) before
    each step and `keep` with the share kept from the step before, and returns the
    log-likelihood."""
    off = lay.offsets
    steps = len(off) - 1
    e_l, e_n, k, scale, pred, tmp = work.e_l, work.e_n, work.k, work.scale, work.pred, work.step
    # Kept over time: (1 + factor * gap / stability) ** -0.5 (a square root: pow is slower).
    np.multiply(lay.gap_days, _FACTOR / memory.stability, out=keep)
    keep += 1.0
    np.sqrt(keep, out=keep)
    np.divide(1.0, keep, out=keep)
    lesson_keep = (1.0 - memory.per_lesson) ** lay.gap_lessons if memory.per_lesson else None
    stability = np.full(len(prior), memory.stability) if memory.growth > 0.0 else None
    pred[: len(prior)] = prior
    for t in range(steps):
        a, b = off[t], off[t + 1]
        n = b - a
        kt = keep[a:b]
        if stability is not None:
            # Each sequence's stability so far: this step's time keep under it.
            np.multiply(lay.gap_days[a:b], _FACTOR, out=kt)
            kt /= stability[:n]
            kt += 1.0
            np.sqrt(kt, out=kt)
            np.divide(1.0, kt, out=kt)
        n2 = off[t + 2] - b if t + 1 < steps else 0
        if stability is not None and n2:
            # As online, from the recall at this step: a pass believed mastered after it
            # grows the stability, more so when recall was low (applied below).
            factor = 1.2 + 3.0 * (1.0 - kt[:n2])
        if lesson_keep is not None:
            kt *= lesson_keep[a:b]
        p = np.multiply(pred[:n], kt, out=before[a:b])
        al = np.multiply(p, e_l[a:b], out=tmp[:n])
        c = np.subtract(1.0, p, out=scale[a:b])
        c *= e_n[a:b]
        c += al
        f = np.divide(al, c, out=tmp[:n])
        nxt = np.subtract(1.0, f[:n2], out=pred[:n2])
        nxt *= k[a : a + n2]
        nxt += f[:n2]
        if stability is not None and n2:
            grow = passed[a : a + n2] & (nxt >= 0.5)
            stability[:n2] = np.where(
                grow, np.minimum(stability[:n2] * factor, _MAX_STABILITY), stability[:n2]
            )
    return _sum_log(scale)


def _split_learners(
    history: Iterable[Observation], share: float
) -> tuple[list[Observation], list[Observation]]:
    """(kept, held out): a learner is held out when a stable hash of the id falls in `share`."""
    kept: list[Observation] = []
    held: list[Observation] = []
    cut = int(share * 10_000)
    verdict: dict[str, bool] = {}
    for obs in history:
        out = verdict.get(obs.learner_id)
        if out is None:
            out = verdict[obs.learner_id] = zlib.crc32(obs.learner_id.encode()) % 10_000 < cut
        (held if out else kept).append(obs)
    return kept, held


def _heldout(
    held: list[Observation], catalog: Catalog, params: ModelParams, base: ModelParams
) -> HeldOut:
    """Replay the held-out learners through the online model with both parameter sets."""
    by_learner: dict[str, list[Observation]] = {}
    for obs in held:
        by_learner.setdefault(obs.learner_id, []).append(obs)
    outcome: list[float] = []
    predicted: dict[int, list[float]] = {0: [], 1: []}
    for j, chosen in enumerate((params, base)):
        for learner_id, items in by_learner.items():
            state = new_learner(learner_id)
            for obs in sorted(items, key=lambda o: o.timestamp):
                lesson = catalog.lessons.get(obs.lesson_id)
                if lesson is None or obs.voided:
                    continue
                if not obs.is_exposure and lesson.measured:
                    predicted[j].append(predict_success(state, lesson, chosen, obs.timestamp))
                    if j == 0:
                        outcome.append(0.0 if failed(obs.score, obs.success) else 1.0)
                state = update(state, obs, catalog, chosen)
    y = np.array(outcome)
    return HeldOut(
        len(by_learner),
        len(outcome),
        _auc(y, np.array(predicted[0])),
        _calibration(y, np.array(predicted[0])),
        _auc(y, np.array(predicted[1])),
        _calibration(y, np.array(predicted[1])),
    )


def _auc(y: _F, p: _F) -> float:
    """Area under the ROC curve with average ranks for ties (nan without both outcomes)."""
    positives = int(y.sum())
    negatives = len(y) - positives
    if not positives or not negatives:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    _, first, counts = np.unique(p[order], return_index=True, return_counts=True)
    ranks = np.empty(len(p))
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    return float(
        (ranks[y == 1.0].sum() - positives * (positives + 1) / 2.0) / (positives * negatives)
    )


def _calibration(y: _F, p: _F) -> float:
    """Mean absolute gap between predicted and observed pass rates over ten bins of
    predictions, weighted by how many predictions each bin holds."""
    if not len(y):
        return float("nan")
    bins = np.minimum((p * 10).astype(np.intp), 9)
    n = np.bincount(bins, minlength=10)
    gap = np.abs(np.bincount(bins, p, 10) - np.bincount(bins, y, 10))
    return float(gap.sum() / n.sum())
