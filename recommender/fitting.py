"""Fit the learner model's per-competency parameters from an organisation's history.

Pure: imports the standard library and numpy. Expectation-maximisation for a two-state
knowledge-tracing model, vectorised across all (learner, competency) sequences at once:
sequences are sorted by length so that the sequences still running at step t are a prefix,
and each forward/backward step is one numpy operation over that prefix. Partial credit is a
soft emission; a lesson's competency weight tempers its evidence (likelihood ** weight), as
in the online update; exposures carry learning but no evidence. Beta pseudo-counts pull
competencies with little data toward the defaults.

Entries with the same lesson competency and the same score are one *case*: they share their
emissions and learning rate, so each EM iteration computes those per case (a few hundred
values with 0/1 scores) and gathers them, and sums the posteriors per case before the
M-step instead of weighting every entry.
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
_I = NDArray[np.intp]
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
    comp_of_seq: _I  # competency index of each sequence
    offsets: _I  # flat index where step t starts; len T + 1
    last_of_seq: _I  # flat index of each sequence's last step
    case: _I  # flat, time-major: the entry's case
    case_comp: _I  # per case: competency index
    case_score: _F  # per case: nan for exposure
    case_weight: _F  # per case: the competency's weight in the lesson
    case_teach: _F  # learning opportunity after it (0 for assessment)
    case_count: _F  # per case: how many flat entries
    obs_of_flat: _I  # the observation each flat entry belongs to
    obs_learner: _I  # per observation, in time order
    obs_score: _F  # per observation; nan for exposure
    obs_difficulty: _F
    gap_days: _F  # flat: days since the previous step of the sequence


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
    # This loop is the fit's largest fixed cost: bound methods save a lookup per call.
    add_learner, add_lesson = rows_learner.append, rows_lesson.append
    add_time, add_score = rows_time.append, rows_score.append
    lesson_of, learner_of = lesson_index.get, learners.setdefault
    nan = float("nan")
    for obs in history:
        li = lesson_of(obs.lesson_id)
        if li is None or obs.voided:
            continue
        add_learner(learner_of(obs.learner_id, len(learners)))
        add_lesson(li)
        add_time(obs.timestamp.timestamp())
        add_score(
            obs.score
            if obs.score is not None
            else (nan if obs.success is None else float(obs.success))
        )
    if not rows_learner:
        return None
    seconds = np.array(rows_time)
    learner = np.array(rows_learner, dtype=np.intp)
    lesson = np.array(rows_lesson, dtype=np.intp)
    score = np.array(rows_score)
    # A history grouped by learner in time order needs no sort (lexsort is stable, so it
    # would return the identity).
    grouped = bool(np.all(learner[1:] >= learner[:-1])) and bool(
        np.all((learner[1:] != learner[:-1]) | (seconds[1:] >= seconds[:-1]))
    )
    if not grouped:
        order = np.lexsort((seconds, learner))
        seconds, learner, lesson, score = (
            seconds[order],
            learner[order],
            lesson[order],
            score[order],
        )
    days = seconds / 86400.0
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
    # Cases: (lesson part, score); nan (exposure) is one score value for np.unique.
    score_values, score_class = np.unique(score, return_inverse=True)
    n_values = len(score_values)
    case_keys, case_e = _compact(
        part_e * n_values + score_class.reshape(-1)[obs_e], len(part_lesson) * n_values
    )
    case_part = case_keys // n_values
    case_score = score_values[case_keys % n_values]
    case_weight = np.array(part_weight)[case_part]
    case_teach = (
        kind_teach[pl[case_part]]
        * case_weight
        * np.where(np.isnan(case_score), exposure_learning, 1.0)
    )
    out_case = np.empty(n_entries, dtype=np.intp)
    out_case[flat] = case_e
    out_obs = np.empty(n_entries, dtype=np.intp)
    out_obs[flat] = obs_e
    gap = np.diff(days[obs_e], prepend=0.0)
    gap[new_seq] = 0.0
    out_gap = np.empty(n_entries)
    out_gap[flat] = np.maximum(gap, 0.0)
    comp_of_seq = comp_e[seq_start][rank_order]
    last_of_seq = offsets[lengths[rank_order] - 1] + np.arange(len(lengths))
    case_count = np.bincount(case_e, minlength=len(case_keys)).astype(np.float64)
    return _Layout(
        comp_of_seq,
        offsets,
        last_of_seq,
        out_case,
        pc[case_part],
        case_score,
        case_weight,
        case_teach,
        case_count,
        out_obs,
        learner,
        score,
        difficulty[lesson],
        out_gap,
    )


class _Work:
    """Flat buffers reused by every EM iteration and stability candidate: fresh arrays of
    this size would cost page faults on each pass."""

    def __init__(self, lay: _Layout) -> None:
        n, n_seq = len(lay.case), len(lay.comp_of_seq)
        self.e_l, self.e_n, self.k = np.empty(n), np.empty(n), np.empty(n)
        self.filt, self.scale, self.gamma = np.empty(n), np.empty(n), np.empty(n)
        self.pred, self.beta, self.step = np.empty(n_seq), np.empty(n_seq), np.empty(n_seq)

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
) -> tuple[ModelParams, FitReport]:
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
    # Invariants of the EM loop, per case. With a = 1 - 2s, the emissions are
    # s(1-slip) + (1-s)slip = s + slip*a and s*guess + (1-s)(1-guess) = (1-s) - guess*a; an
    # exposure (not scored) gets s = 1, a = 0 for the first and 1 - s = 1 for the second, so
    # both are 1.0 there without a `where` per iteration.
    scored = ~np.isnan(lay.case_score)
    s = np.where(scored, lay.case_score, 0.0)
    a = np.where(scored, 1.0 - 2.0 * s, 0.0)
    s_known = np.where(scored, s, 1.0)
    s_unknown = np.where(scored, 1.0 - s, 1.0)
    w_scored = np.where(scored, lay.case_weight, 0.0)
    failed_part = 1.0 - s
    comp_c = lay.case_comp
    n_obs = np.bincount(comp_c[scored], lay.case_count[scored], n_comp).astype(np.int64)
    cnt0 = np.bincount(lay.comp_of_seq, minlength=n_comp)
    n_seq = len(lay.comp_of_seq)
    # A sequence's last step is followed by no response, so the learning it may bring is
    # never observed: it is not an opportunity in the M-step (counting it biased `learn`
    # down by about a fifth on five-step sequences).
    teach_last = lay.case_teach[lay.case[lay.last_of_seq]]
    work = _Work(lay)
    loglik = -np.inf
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported afterwards
        work.gather(
            lay,
            np.power(s_known + slip[comp_c] * a, lay.case_weight),
            np.power(s_unknown - guess[comp_c] * a, lay.case_weight),
            learn[comp_c] * lay.case_teach,
        )
        ll = _forward_backward(lay, prior[lay.comp_of_seq], work)
        gamma = work.gamma
        gamma_first = gamma[:n_seq]  # every sequence has a step 0, in rank order
        prior = (np.bincount(lay.comp_of_seq, gamma_first, n_comp) + _PSEUDO * d.prior) / (
            cnt0 + _PSEUDO
        )
        gamma_l = np.bincount(lay.case, gamma, len(comp_c))  # summed per case
        gamma_n = lay.case_count - gamma_l
        wn = gamma_n * w_scored
        wl = gamma_l * w_scored
        # Mastery is absorbing within a sequence, so its expected N -> L transitions add
        # up to P(L at its last step) - P(L at its first step).
        gain = np.bincount(lay.comp_of_seq, gamma[lay.last_of_seq] - gamma_first, n_comp)
        opp, wn_s, wn_sum, wl_f, wl_sum = (
            np.bincount(comp_c, column, n_comp)
            for column in (gamma_n * lay.case_teach, wn * s, wn, wl * failed_part, wl)
        )
        opp -= np.bincount(lay.comp_of_seq, (1.0 - gamma[lay.last_of_seq]) * teach_last, n_comp)
        learn = (gain + _PSEUDO * d.learn) / (np.maximum(opp, 0.0) + _PSEUDO)
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
    g, sl = guess[comp_c], slip[comp_c]
    work.gather(
        lay,
        np.power(s_known + sl * a, lay.case_weight),
        np.power(s_unknown - g * a, lay.case_weight),
        learn[comp_c] * lay.case_teach,
    )
    stability, before = _fit_stability(lay, prior[lay.comp_of_seq], work)
    per_entry = before * (1 - sl)[lay.case] + (1 - before) * g[lay.case]
    weight = lay.case_weight[lay.case]
    weight_sum = np.bincount(lay.obs_of_flat, weight, len(lay.obs_score))
    base_pred = np.bincount(lay.obs_of_flat, weight * per_entry, len(lay.obs_score)) / weight_sum
    ability_rate, difficulty_effect = _fit_offsets(lay, base_pred)
    params = replace(base, ability_rate=ability_rate, difficulty_effect=difficulty_effect)
    counts: dict[str, int] = {}
    for i, c in enumerate(comp_ids):
        counts[c] = int(n_obs[i])
        if n_obs[i] == 0:
            continue
        params = params.with_competency(
            c,
            CompetencyParams(
                float(prior[i]), float(learn[i]), float(guess[i]), float(slip[i]), stability
            ),
        )
    return params, FitReport(iteration, float(loglik), counts)


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
    by_position = _stable_order(position, int(position.max()) + 1)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(position))])
    scored = ~np.isnan(lay.obs_score)
    y = np.where(scored, lay.obs_score, 0.0)
    base_logit = np.log(np.clip(base_pred, 1e-6, 1 - 1e-6) / np.clip(1 - base_pred, 1e-6, 1))
    n_learners = int(learner.max()) + 1
    # With 0/1 scores, y log(p + e) + (1 - y) log(1 - p + e) is the log of the one chosen
    # term, bit for bit: one log per observation instead of two.
    binary = bool(np.all((y == 0.0) | (y == 1.0)))

    def score_loglik(ok: _F, yy: _F, one: NDArray[np.bool_], p: _F) -> float:
        if binary:
            return float(np.sum(ok * np.log(np.where(one, p, 1 - p) + 1e-9)))
        return float(np.sum(ok * (yy * np.log(p + 1e-9) + (1 - yy) * np.log(1 - p + 1e-9))))

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


_STABILITIES = (7.0, 30.0, 60.0, 180.0, 720.0, 36500.0)


def _fit_stability(lay: _Layout, prior: _F, work: _Work) -> tuple[float, _F]:
    """The memory stability (days) whose forgetting best explains the data, by filtering
    likelihood (from `work.e_l`, `work.e_n`, `work.k`); returns it and P(mastered) before
    each step under it."""
    best: tuple[float, float, _F] = (-np.inf, 60.0, prior)
    off = lay.offsets
    steps = len(off) - 1
    e_l, e_n, k, scale, pred, tmp = work.e_l, work.e_n, work.k, work.scale, work.pred, work.step
    keep = work.gamma  # free after EM
    spare = work.filt
    for stability in _STABILITIES:
        # (1 + factor * gap / stability) ** -0.5, with a square root: pow is far slower.
        np.multiply(lay.gap_days, _FACTOR, out=keep)
        keep /= stability
        keep += 1.0
        np.sqrt(keep, out=keep)
        np.divide(1.0, keep, out=keep)
        before = spare
        pred[: len(prior)] = prior
        for t in range(steps):
            a, b = off[t], off[t + 1]
            n = b - a
            p = np.multiply(pred[:n], keep[a:b], out=before[a:b])
            al = np.multiply(p, e_l[a:b], out=tmp[:n])
            c = np.subtract(1.0, p, out=scale[a:b])
            c *= e_n[a:b]
            c += al
            f = np.divide(al, c, out=tmp[:n])
            n2 = off[t + 2] - b if t + 1 < steps else 0
            nxt = np.subtract(1.0, f[:n2], out=pred[:n2])
            nxt *= k[a : a + n2]
            nxt += f[:n2]
        total = _sum_log(scale)
        if total > best[0]:
            # The best candidate's buffer is kept; the next candidate writes to another.
            spare = best[2] if best[2] is not prior else np.empty_like(before)
            best = (total, stability, before)
    return best[1], best[2]
