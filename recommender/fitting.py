"""Fit the learner model's per-competency parameters from an organisation's history.

Pure: imports the standard library and numpy. Expectation-maximisation for a two-state
knowledge-tracing model, vectorised across all (learner, competency) sequences at once:
sequences are sorted by length so that the sequences still running at step t are a prefix,
and each forward/backward step is one numpy operation over that prefix. Partial credit is a
soft emission; a lesson's competency weight tempers its evidence (likelihood ** weight), as
in the online update; exposures carry learning but no evidence. Beta pseudo-counts pull
competencies with little data toward the defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from .catalog import Catalog
from .memory import FORGETTING_FACTOR as _FACTOR
from .observation import Observation
from .params import CompetencyParams, ModelParams

_F = NDArray[np.float64]
_PSEUDO = 2.0
_MAX_GUESS_SLIP = 0.4


@dataclass(frozen=True, slots=True)
class FitReport:
    """How the fit went: iterations, final log-likelihood, observations per competency."""

    iterations: int
    log_likelihood: float
    observations: dict[str, int]


@dataclass(slots=True)
class _Layout:
    comp_of_seq: NDArray[np.int64]   # competency index of each sequence
    offsets: NDArray[np.int64]       # flat index where step t starts; len T + 1
    score: _F                        # flat, time-major; nan for exposure
    weight: _F
    teach: _F                        # learning opportunity after this step (0 for assessment)
    obs_of_flat: NDArray[np.int64]   # the observation each flat entry belongs to
    obs_learner: NDArray[np.int64]   # per observation, in time order
    obs_score: _F                    # per observation; nan for exposure
    obs_difficulty: _F
    gap_days: _F                     # flat: days since the previous step of the sequence


def _layout(history: Iterable[Observation], catalog: Catalog,
            comp_index: dict[str, int], exposure_learning: float) -> _Layout | None:
    lesson_ids = list(catalog.lessons)
    lesson_index = {lid: i for i, lid in enumerate(lesson_ids)}
    learners: dict[str, int] = {}
    rows_learner: list[int] = []
    rows_lesson: list[int] = []
    rows_time: list[float] = []
    rows_score: list[float] = []
    nan = float("nan")
    for obs in history:
        li = lesson_index.get(obs.lesson_id)
        if li is None or obs.voided:
            continue
        rows_learner.append(learners.setdefault(obs.learner_id, len(learners)))
        rows_lesson.append(li)
        rows_time.append(obs.timestamp.timestamp())
        rows_score.append(obs.score if obs.score is not None else (
            nan if obs.success is None else float(obs.success)))
    if not rows_learner:
        return None
    order = np.lexsort((np.array(rows_time), np.array(rows_learner)))
    days = np.array(rows_time)[order] / 86400.0
    learner = np.array(rows_learner, dtype=np.int64)[order]
    lesson = np.array(rows_lesson, dtype=np.int64)[order]
    score = np.array(rows_score)[order]
    # Lesson -> competencies as flat tables.
    part_lesson, part_comp, part_weight = [], [], []
    kind_teach = np.zeros(len(lesson_ids))
    difficulty = np.zeros(len(lesson_ids))
    for i, lid in enumerate(lesson_ids):
        item = catalog.lessons[lid]
        kind_teach[i] = 0.0 if item.kind == "assessment" else 1.0
        difficulty[i] = item.difficulty
        for piece in item.competencies:
            part_lesson.append(i)
            part_comp.append(comp_index[piece.id])
            part_weight.append(piece.weight)
    pl = np.array(part_lesson, dtype=np.int64)
    starts = np.searchsorted(pl, np.arange(len(lesson_ids)))
    counts = np.bincount(pl, minlength=len(lesson_ids))
    n_parts = counts[lesson]
    obs_of_entry = np.repeat(np.arange(len(lesson)), n_parts)
    within = np.arange(len(obs_of_entry)) - np.repeat(np.cumsum(n_parts) - n_parts, n_parts)
    part = starts[lesson][obs_of_entry] + within
    comp = np.array(part_comp, dtype=np.int64)[part]
    # Sequences are (learner, competency) in time order: a stable sort keeps time order.
    seq_order = np.lexsort((obs_of_entry, learner[obs_of_entry], comp))
    obs_e = obs_of_entry[seq_order]
    comp_e = comp[seq_order]
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
    offsets = np.concatenate([[0], np.cumsum(active)]).astype(np.int64)
    flat = offsets[position] + rank[seq_id]
    out_score = np.empty(len(key))
    out_weight = np.empty(len(key))
    out_teach = np.empty(len(key))
    out_obs = np.empty(len(key), dtype=np.int64)
    scored = ~np.isnan(score[obs_e])
    w = np.array(part_weight)[part[seq_order]]
    out_score[flat] = score[obs_e]
    out_weight[flat] = w
    out_teach[flat] = kind_teach[lesson[obs_e]] * w * np.where(scored, 1.0, exposure_learning)
    out_obs[flat] = obs_e
    gap = np.diff(days[obs_e], prepend=0.0)
    gap[new_seq] = 0.0
    out_gap = np.empty(len(key))
    out_gap[flat] = np.maximum(gap, 0.0)
    comp_of_seq = np.empty(len(lengths), dtype=np.int64)
    comp_of_seq[rank[seq_id]] = comp_e
    return _Layout(comp_of_seq, offsets, out_score, out_weight, out_teach, out_obs, learner,
                   score, difficulty[lesson], out_gap)


def fit_params(history: Iterable[Observation], catalog: Catalog,
               base: ModelParams | None = None, max_iterations: int = 200,
               tolerance: float = 1e-7) -> tuple[ModelParams, FitReport]:
    """Per-competency parameters fitted by EM from observations; defaults where data is thin."""
    base = base or ModelParams.defaults()
    comp_ids = list(catalog.competencies)
    comp_index = {c: i for i, c in enumerate(comp_ids)}
    lay = _layout(history, catalog, comp_index, base.exposure_learning)
    if lay is None:
        return base, FitReport(0, 0.0, {})
    n_comp = len(comp_ids)
    start = [base.for_competency(c) for c in comp_ids]
    prior = np.array([p.prior for p in start])
    learn = np.array([p.learn for p in start])
    guess = np.array([p.guess for p in start])
    slip = np.array([p.slip for p in start])
    d = base.default
    scored = ~np.isnan(lay.score)
    s = np.where(scored, lay.score, 0.0)
    seq_of_flat = np.concatenate([np.arange(lay.offsets[t + 1] - lay.offsets[t])
                                  for t in range(len(lay.offsets) - 1)])
    comp_flat = lay.comp_of_seq[seq_of_flat]
    n_obs = np.bincount(comp_flat[scored], minlength=n_comp)
    # Invariants of the EM loop. With a = 1 - 2s, the emissions are s(1-slip) + (1-s)slip =
    # s + slip*a and s*guess + (1-s)(1-guess) = (1-s) - guess*a; an exposure (not scored)
    # gets s = 1, a = 0 for the first and 1 - s = 1 for the second, so both are 1.0 there
    # without a `where` per iteration.
    a = np.where(scored, 1.0 - 2.0 * s, 0.0)
    s_known = np.where(scored, s, 1.0)
    s_unknown = np.where(scored, 1.0 - s, 1.0)
    w_scored = np.where(scored, lay.weight, 0.0)
    failed_part = 1.0 - s
    cnt0 = np.bincount(lay.comp_of_seq, minlength=n_comp)
    first = slice(lay.offsets[0], lay.offsets[1])
    loglik = -np.inf
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported afterwards
        e_l = np.power(s_known + slip[comp_flat] * a, lay.weight)
        e_n = np.power(s_unknown - guess[comp_flat] * a, lay.weight)
        k = learn[comp_flat] * lay.teach
        gamma_l, xi, ll, before = _forward_backward(lay, prior[lay.comp_of_seq], e_l, e_n, k)
        gamma_n = 1.0 - gamma_l
        prior = (np.bincount(lay.comp_of_seq, gamma_l[first], n_comp) + _PSEUDO * d.prior) / (
            cnt0 + _PSEUDO)
        wn = gamma_n * w_scored
        wl = gamma_l * w_scored
        opp, gain, wn_s, wn_sum, wl_f, wl_sum = _by_competency(
            lay, n_comp, gamma_n * lay.teach, xi, wn * s, wn, wl * failed_part, wl)
        learn = (gain + _PSEUDO * d.learn) / (opp + _PSEUDO)
        guess = (wn_s + _PSEUDO * d.guess) / (wn_sum + _PSEUDO)
        slip = (wl_f + _PSEUDO * d.slip) / (wl_sum + _PSEUDO)
        prior = np.clip(prior, 0.001, 0.999)
        learn = np.clip(learn, 0.001, 0.999)
        guess = np.clip(guess, 0.001, _MAX_GUESS_SLIP)
        slip = np.clip(slip, 0.001, _MAX_GUESS_SLIP)
        if abs(ll - loglik) < tolerance * max(1.0, abs(ll)):
            loglik = ll
            break
        loglik = ll
    g, sl = guess[comp_flat], slip[comp_flat]
    e_l = np.power(s_known + sl * a, lay.weight)
    e_n = np.power(s_unknown - g * a, lay.weight)
    stability, before = _fit_stability(lay, prior[lay.comp_of_seq], e_l, e_n,
                                       learn[comp_flat] * lay.teach)
    per_entry = before * (1 - sl) + (1 - before) * g
    weight_sum = np.bincount(lay.obs_of_flat, lay.weight, len(lay.obs_score))
    base_pred = np.bincount(lay.obs_of_flat, lay.weight * per_entry,
                            len(lay.obs_score)) / weight_sum
    ability_rate, difficulty_effect = _fit_offsets(lay, base_pred)
    params = replace(base, ability_rate=ability_rate, difficulty_effect=difficulty_effect)
    counts: dict[str, int] = {}
    for i, c in enumerate(comp_ids):
        counts[c] = int(n_obs[i])
        if n_obs[i] == 0:
            continue
        params = params.with_competency(c, CompetencyParams(
            float(prior[i]), float(learn[i]), float(guess[i]), float(slip[i]), stability))
    return params, FitReport(iteration, float(loglik), counts)


def _by_competency(lay: _Layout, n_comp: int, *columns: _F) -> list[_F]:
    """Each flat column summed per competency: first per sequence, walking the time-major
    steps (each step's entries are the first sequences, so these are contiguous adds), then
    per competency over the far fewer sequences. Several times faster than a weighted
    `bincount` over every entry, which dominated the EM iterations."""
    n_seq = len(lay.comp_of_seq)
    out = []
    for column in columns:
        per_seq = np.zeros(n_seq)
        for t in range(len(lay.offsets) - 1):
            a, b = lay.offsets[t], lay.offsets[t + 1]
            per_seq[: b - a] += column[a:b]
        out.append(np.asarray(np.bincount(lay.comp_of_seq, per_seq, n_comp), dtype=np.float64))
    return out


def _forward_backward(lay: _Layout, prior: _F, e_l: _F, e_n: _F,
                      k: _F) -> tuple[_F, _F, float, _F]:
    """Scaled forward-backward over the time-major layout.

    Returns gamma_L, xi(N->L), the log-likelihood and P(L) before each step (the filter).
    """
    off = lay.offsets
    steps = len(off) - 1
    filt = np.empty_like(e_l)
    scale = np.empty_like(e_l)
    before = np.empty_like(e_l)
    pred = prior.copy()
    for t in range(steps):
        a, b = off[t], off[t + 1]
        n = b - a
        p = pred[:n]
        before[a:b] = p
        al = p * e_l[a:b]
        c = al + (1 - p) * e_n[a:b]
        scale[a:b] = c
        f = al / c
        filt[a:b] = f
        pred = f + (1 - f) * k[a:b]
    gamma_l = np.empty_like(e_l)
    xi = np.zeros_like(e_l)
    beta_l = np.ones(off[1] - off[0])
    beta_n = np.ones(off[1] - off[0])
    last_t = steps - 1
    a, b = off[last_t], off[last_t + 1]
    gamma_l[a:b] = filt[a:b]
    beta_l = np.ones(b - a)
    beta_n = np.ones(b - a)
    for t in range(last_t - 1, -1, -1):
        a, b = off[t], off[t + 1]
        a2, b2 = off[t + 1], off[t + 2]
        n2 = b2 - a2
        kk = k[a:a + n2]
        inv = 1.0 / scale[a2:b2]
        nl = e_l[a2:b2] * beta_l * inv
        nn = e_n[a2:b2] * beta_n * inv
        new_l = np.ones(b - a)
        new_n = np.ones(b - a)
        new_l[:n2] = nl
        new_n[:n2] = nn + kk * (nl - nn)
        f = filt[a:b]
        not_f = 1.0 - f
        g = f * new_l
        h = not_f * new_n
        total = g + h
        gamma_l[a:b] = g / total
        # xi(N->L) = P(N at t, L at t+1 | all) for sequences that continue.
        xi[a:a + n2] = not_f[:n2] * kk * nl / total[:n2]
        beta_l, beta_n = new_l, new_n
    return gamma_l, xi, float(np.log(scale).sum()), before


_RATES = (0.0, 0.05, 0.1, 0.2, 0.3)
_DIFFICULTY_EFFECTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


def _fit_offsets(lay: _Layout, base_pred: _F) -> tuple[float, float]:
    """Grid-search the learner-ability rate and the difficulty effect by log-likelihood.

    Replays the online rule (ability += rate * residual) for all learners at once, one
    position in each learner's history per numpy step.
    """
    learner = lay.obs_learner
    n = len(learner)
    first = np.concatenate([[True], learner[1:] != learner[:-1]])
    starts = np.flatnonzero(first)
    position = np.arange(n) - starts[np.cumsum(first) - 1]
    by_position = np.argsort(position, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(position))])
    scored = ~np.isnan(lay.obs_score)
    y = np.where(scored, lay.obs_score, 0.0)
    base_logit = np.log(np.clip(base_pred, 1e-6, 1 - 1e-6) / np.clip(1 - base_pred, 1e-6, 1))
    n_learners = int(learner.max()) + 1

    centred = 0.5 - lay.obs_difficulty
    # Each position's slice of the history, gathered once for every replay.
    steps = []
    for t in range(len(bounds) - 1):
        idx = by_position[bounds[t]:bounds[t + 1]]
        steps.append((learner[idx], base_logit[idx], centred[idx], scored[idx], y[idx]))

    def loglik(rate: float, effect: float) -> float:
        if not rate:  # no ability updates: one vectorised pass, no replay in order
            p = 1.0 / (1.0 + np.exp(-(base_logit + effect * centred)))
            return float(np.sum(scored * (y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9))))
        ability = np.zeros(n_learners)
        total = 0.0
        for who, base, diff, ok, yy in steps:
            p = 1.0 / (1.0 + np.exp(-(base + effect * diff + ability[who])))
            total += float(np.sum(ok * (yy * np.log(p + 1e-9) + (1 - yy) * np.log(1 - p + 1e-9))))
            ability[who] = np.clip(ability[who] + rate * ok * (yy - p), -3.0, 3.0)
        return total

    # Coordinate search: the difficulty effect without ability first, then the ability rate,
    # then the difficulty effect again at that rate (11-17 replays instead of 30).
    effect = max(_DIFFICULTY_EFFECTS, key=lambda e: loglik(0.0, e))
    rate = max(_RATES, key=lambda r: loglik(r, effect))
    if rate:
        effect = max(_DIFFICULTY_EFFECTS, key=lambda e: loglik(rate, e))
    best = (0.0, rate, effect)
    return best[1], best[2]


_STABILITIES = (7.0, 30.0, 60.0, 180.0, 720.0, 36500.0)


def _fit_stability(lay: _Layout, prior: _F, e_l: _F, e_n: _F, k: _F) -> tuple[float, _F]:
    """The memory stability (days) whose forgetting best explains the data, by filtering
    likelihood; returns it and P(mastered) before each step under it."""
    best: tuple[float, float, _F] = (-np.inf, 60.0, prior)
    off = lay.offsets
    for stability in _STABILITIES:
        keep = (1.0 + _FACTOR * lay.gap_days / stability) ** -0.5
        before = np.empty_like(e_l)
        pred = prior.copy()
        total = 0.0
        for t in range(len(off) - 1):
            a, b = off[t], off[t + 1]
            p = pred[:b - a] * keep[a:b]
            before[a:b] = p
            al = p * e_l[a:b]
            c = al + (1 - p) * e_n[a:b]
            total += float(np.log(c).sum())
            f = al / c
            pred = f + (1 - f) * k[a:b]
        if total > best[0]:
            best = (total, stability, before)
    return best[1], best[2]
