"""Geometry of population codes: colour-plane angle, parallelism and CCGP.

``plane_cosine`` is the plane angle of Panichello & Buschman (2021, Fig. 4):
are the two memory items' colours coded in orthogonal subspaces (before
selection) or in aligned ones (after it)? ``parallelism_score`` and ``ccgp``
are the abstraction measures of Bernardi et al. (2020, Cell 183:954): is a
binary variable coded along one direction that holds whatever the values of
the other task variables?
"""

from itertools import permutations, product

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import clone

from wmattn.analysis import stats
from wmattn.analysis.colour import N_COLOR_BINS, color_bin
from wmattn.analysis.windows import window_mean
from wmattn.pseudopop import session_labels, trial_values, two_item_trials
from wmattn.task import LOCATIONS, TASKS


def _principal_axes(points):
    """Principal axes of ``points`` (..., observation, dimension) as columns (..., dimension, axis).

    Each axis is signed so that its largest-magnitude element is positive, as
    MATLAB's ``pca`` does: the sign of ``plane_cosine`` depends on it, and this
    convention makes it match the authors' demo.
    """
    _, _, vt = np.linalg.svd(points - points.mean(axis=-2, keepdims=True), full_matrices=False)
    largest = np.abs(vt).argmax(axis=-1)[..., None]
    return np.swapaxes(vt * np.sign(np.take_along_axis(vt, largest, axis=-1)), -1, -2)


def _plane_cosines(means_a, means_b, n_components=3, center_each=False):
    """:func:`plane_cosine` of every leading index of two (..., n_colour_bins, n_neurons) stacks: (...).

    NaN where either stack holds a NaN (a bootstrap draw that left a condition empty).
    """
    finite = np.isfinite(means_a).all(axis=(-2, -1)) & np.isfinite(means_b).all(axis=(-2, -1))
    if not finite.all():
        cosine = np.full(finite.shape, np.nan)
        cosine[finite] = _plane_cosines(means_a[finite], means_b[finite], n_components, center_each)
        return cosine
    if center_each:
        means_a = means_a - means_a.mean(axis=-2, keepdims=True)
        means_b = means_b - means_b.mean(axis=-2, keepdims=True)
    both = np.concatenate([means_a, means_b], axis=-2)
    scores = (both - both.mean(axis=-2, keepdims=True)) @ _principal_axes(both)[..., :n_components]
    n = means_a.shape[-2]
    plane_a = _principal_axes(scores[..., :n, :])[..., :2]
    plane_b = _principal_axes(scores[..., n:, :])[..., :2]
    # Principal axes are orthonormal, so both Gram determinants in the
    # denominator are 1.
    return np.linalg.det(np.swapaxes(plane_a, -1, -2) @ plane_b)


def plane_cosine(means_a, means_b, n_components=3, center_each=False):
    """Cosine of the angle between two items' colour planes.

    As in the demo published with Panichello & Buschman (2021, Fig. 4a): PCA
    over the conditions of both items together, keep the top
    ``n_components`` components, fit a plane to each item's conditions in that
    space (its first two principal axes) and take the cosine from the Gram
    determinants of the two planes' basis vectors, ``det(A'B) /
    sqrt(det(A'A) det(B'B))``.

    Parameters
    ----------
    means_a, means_b : array_like, shape (n_colour_bins, n_neurons)
        Condition-mean firing rates for each colour bin of one item (e.g. the
        upper) and of the other (the lower), same bins in the same order.
    n_components : int
        Dimensions kept by the joint PCA; at least 3, since in two
        dimensions both planes are the whole space.
    center_each : bool
        Subtract each item's own mean over its colour bins before the joint
        PCA. The demo does not (False, the default, reproduces it): the joint
        PCA centres on the grand mean, so the offset between the two items'
        means, e.g. the cued-location signal, can take one of the few kept
        components, leaving too few for two distinct colour planes and
        pushing them into alignment. Centring each item leaves only colour
        variance for the PCA.

    Returns
    -------
    float
        Signed cosine, in [-1, 1]. Its sign is arbitrary, set by the sign
        convention of the principal axes (MATLAB's, as in the demo), not by
        the order of the colours around either plane; ``abs`` of it is the
        cosine of the angle between the unoriented planes: 0 orthogonal,
        1 aligned.
    """
    means_a = np.asarray(means_a, dtype=float)
    means_b = np.asarray(means_b, dtype=float)
    if means_a.ndim != 2 or means_a.shape != means_b.shape:
        raise ValueError(
            "means_a and means_b must both be (n_colour_bins, n_neurons) with the same shape, "
            f"got {means_a.shape} and {means_b.shape}"
        )
    if len(means_a) < 3:
        raise ValueError(f"a plane needs at least 3 colour bins per item, got {len(means_a)}")
    if n_components < 3:
        raise ValueError(f"n_components must be at least 3, got {n_components}")
    return float(_plane_cosines(means_a, means_b, n_components, center_each))


def _check_side(side, n_conditions):
    """``side`` as a boolean array, after checking that it halves the conditions."""
    side = np.asarray(side)
    if side.shape != (n_conditions,):
        raise ValueError(f"side must be ({n_conditions},), one entry per condition, got {side.shape}")
    if not np.isin(side, [0, 1]).all():
        raise ValueError("side must be boolean (which side of the dichotomy each condition is on)")
    side = side.astype(bool)
    if side.sum() != (~side).sum():
        raise ValueError(f"side must split the conditions in half, got {side.sum()} True and {(~side).sum()} False")
    if side.sum() < 2:
        raise ValueError("each side needs at least 2 conditions, so that there are two coding vectors to compare")
    return side


def parallelism_score(condition_means, side):
    """Parallelism score of a dichotomy (Bernardi et al., 2020).

    Each one-to-one pairing of the conditions on the True side with those on
    the False side gives one coding vector per pair (True mean minus False
    mean); the score is the mean cosine between all pairs of coding vectors,
    maximised over pairings. It is near 1 when the dichotomy is coded along
    one direction whatever the other variables are.

    Parameters
    ----------
    condition_means : array_like, shape (n_conditions, n_features[, n_times])
        Mean response of each condition, optionally per time bin.
    side : array_like of bool, shape (n_conditions,)
        Side of the dichotomy of each condition; at least two conditions and
        the same number on each side.

    Returns
    -------
    float or numpy.ndarray of shape (n_times,)
        The score, per time bin when ``condition_means`` has a time axis (the
        best pairing is chosen in each bin separately).
    """
    condition_means = np.asarray(condition_means, dtype=float)
    if condition_means.ndim not in (2, 3):
        raise ValueError(
            f"condition_means must be (n_conditions, n_features[, n_times]), got shape {condition_means.shape}"
        )
    side = _check_side(side, len(condition_means))
    true_means, false_means = condition_means[side], condition_means[~side]
    upper = np.triu_indices(len(true_means), k=1)
    best = -np.inf
    for order in permutations(range(len(false_means))):
        coding = true_means - false_means[list(order)]
        coding = coding / np.linalg.norm(coding, axis=1, keepdims=True)
        cosines = np.einsum("if...,jf...->ij...", coding, coding)
        best = np.maximum(best, cosines[upper].mean(axis=0))
    return best if np.ndim(best) else float(best)


def ccgp(X, side, condition, estimator, context=None):
    """Cross-condition generalisation performance of a dichotomy (Bernardi et al., 2020).

    For every choice of one held-out condition on each side, a clone of
    ``estimator`` is fitted to decode ``side`` from the trials of the other
    conditions and tested on the held-out conditions' trials. High accuracy
    means the decoder's axis carries over to conditions it never saw, i.e.
    the variable is coded in an abstract format.

    With only two conditions per side (a 2 x 2 design), half of the
    combinations train on a pair that also differs in the other variable, so
    even a perfectly abstract variable scores only about 0.75 when both
    variables are coded equally strongly; Bernardi et al. used 4 conditions
    per side.

    Parameters
    ----------
    X : array_like, shape (n_trials, n_features[, n_times])
        Single-trial responses.
    side : array_like, shape (n_trials,)
        The dichotomy's label of each trial; exactly two distinct values.
    condition : array_like, shape (n_trials,)
        Condition of each trial; every condition lies on one side only, and
        each side has at least two conditions.
    estimator : sklearn estimator
        Classifier to clone and fit; its ``predict`` returns (n_trials,) for
        2-D ``X`` or (n_trials, n_times) for a time-resolved estimator on 3-D
        ``X``.
    context : array_like, shape (n_trials,), optional
        Hold out only conditions that share a context (e.g. the task), so the
        decoder is always tested in a context it was not trained in; in a
        2 x 2 design this is the cross-context transfer, free of the
        combinations described above.

    Returns
    -------
    float or numpy.ndarray of shape (n_times,)
        Accuracy averaged over the held-out combinations, per time bin when
        ``predict`` returns one prediction per time bin.
    """
    X = np.asarray(X)
    side = np.asarray(side)
    condition = np.asarray(condition)
    if X.ndim not in (2, 3):
        raise ValueError(f"X must be (n_trials, n_features[, n_times]), got shape {X.shape}")
    if side.shape != (len(X),) or condition.shape != (len(X),):
        raise ValueError(
            f"side and condition must be ({len(X)},), one entry per trial of X, "
            f"got {side.shape} and {condition.shape}"
        )
    labels = np.unique(side)
    if len(labels) != 2:
        raise ValueError(f"side must take exactly two values, got {len(labels)}: {labels}")
    conditions_by_side = []
    for label in labels:
        conditions_by_side.append(np.unique(condition[side == label]))
        if len(conditions_by_side[-1]) < 2:
            raise ValueError(
                f"side {label!r} has {len(conditions_by_side[-1])} condition(s); "
                "CCGP needs at least 2 per side, one to hold out and one to train on"
            )
    on_both = np.intersect1d(*conditions_by_side)
    if len(on_both):
        raise ValueError(f"conditions {on_both} have trials on both sides of the dichotomy; each must lie on one")

    accuracies = []
    for held_out in product(*conditions_by_side):
        test = np.isin(condition, list(held_out))
        if context is not None and len(np.unique(np.asarray(context)[test])) > 1:
            continue
        fitted = clone(estimator).fit(X[~test], side[~test])
        predicted = fitted.predict(X[test])
        # Trials on the first axis; a time-resolved predict adds trailing axes.
        truth = side[test].reshape((-1,) + (1,) * (predicted.ndim - 1))
        accuracies.append((predicted == truth).mean(axis=0))
    mean = np.mean(accuracies, axis=0)
    return mean if np.ndim(mean) else float(mean)


# Which item's colour plane is compared with which: (item, on trials cuing that location or None for all).
PLANE_PAIRS = {
    "upper_lower": (("upper", None), ("lower", None)),
    "cued": (("upper", "upper"), ("lower", "lower")),
    "uncued": (("lower", "upper"), ("upper", "lower")),
}


def _weighted_means(rates, weights):
    """Weighted mean over trials (..., neuron[, time]), every session's neurons over its own trials.

    ``rates`` are the sessions' arrays (trial, neuron[, time]); ``weights``
    (..., trial) weigh the trials of all sessions one after another (0/1 for
    a set of trials, the times a trial was drawn for a bootstrap). A neuron
    whose session has no weight in a row gets NaN there.
    """
    weights = np.asarray(weights, dtype=float)
    first = np.cumsum([0] + [len(rate) for rate in rates])
    means = []
    for k, rate in enumerate(rates):
        own = weights[..., first[k]:first[k + 1]]
        total = own.sum(axis=-1).reshape(own.shape[:-1] + (1,) * (rate.ndim - 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            means.append(np.tensordot(own, rate, axes=(-1, 0)) / total)
    return np.concatenate(means, axis=weights.ndim - 1)


def condition_means(sessions, masks):
    """Mean rate (condition, neuron, time) over each mask's trials, every neuron on its own session's trials.

    ``masks`` select trials of the sessions one after another; a neuron whose
    session lacks a condition gets NaN there.
    """
    return _weighted_means([rates["rate"].transpose("trial", "neuron", "time").to_numpy() for rates in sessions], masks)


def parallelism(sessions):
    """Parallelism score (time,) of the cued location across the task x cued conditions."""
    conditions = [(name, location) for name in TASKS for location in LOCATIONS]
    task, cued = trial_values(sessions, "task"), trial_values(sessions, "cued")
    means = condition_means(sessions, [(task == name) & (cued == location) for name, location in conditions])
    means = means[:, np.isfinite(means).all(axis=(0, 2))]
    return parallelism_score(means, np.array([location == LOCATIONS[0] for _, location in conditions]))


# Across the tasks, in a window of the same name: pairs of planes (item, trials cued at) of
# TASKS[0] and TASKS[1], their |cos| averaged. The cued item at the other location is aligned
# only if both tasks move the selected item into one location-independent subspace; at the
# same location a stable memory code of the item already aligns the planes.
CROSS_TASK_PAIRS = {
    "cross_task_cued_other_location": ((("upper", "upper"), ("lower", "lower")), (("lower", "lower"), ("upper", "upper"))),
    "cross_task_cued_same_location": ((("upper", "upper"), ("upper", "upper")), (("lower", "lower"), ("lower", "lower"))),
}
CI = (0.025, 0.975)


def _plane_text(item, cued):
    return f"{item} item, {'all trials' if cued is None else f'cued {cued}'}"


def plane_comparisons(windows):
    """The comparisons of colour planes that ``windows`` allow, in order.

    The rule: in every configured window of a task, the three comparisons of
    :data:`PLANE_PAIRS` (upper vs lower item on all trials, the cued items,
    the uncued items); and for every window name configured for both tasks
    (the same epoch of the trial, e.g. after selection, whatever its ms in
    each task), the comparisons of :data:`CROSS_TASK_PAIRS` between the
    tasks. A task without a window simply has no comparison there.

    ``windows`` is ``{task: {window_name: [start_ms, end_ms]}}``. Returns a
    list of dicts with ``name`` (``task/window/comparison``, the tasks joined
    by ``-`` across tasks), ``comparison``, ``task_a``, ``window_a``,
    ``task_b``, ``window_b``, ``pairs`` (each ``((task, window, item, cued),
    (task, window, item, cued))``, ``cued`` None for every trial),
    ``plane_a``, ``plane_b`` and ``label``.
    """
    unknown = sorted(set(windows) - set(TASKS))
    if unknown:
        raise ValueError(f"windows: unknown task(s) {', '.join(map(repr, unknown))}; the tasks are {', '.join(TASKS)}")
    table = []

    def add(name, comparison, task_a, task_b, window, pairs):
        pairs = [((task_a, window, *a), (task_b, window, *b)) for a, b in pairs]
        table.append({
            "name": name, "comparison": comparison, "task_a": task_a, "window_a": window, "task_b": task_b,
            "window_b": window, "pairs": pairs,
            "plane_a": "; ".join(_plane_text(*a[2:]) for a, _ in pairs),
            "plane_b": "; ".join(_plane_text(*b[2:]) for _, b in pairs),
            "label": ("mean |cos| of " if len(pairs) > 1 else "") + "; ".join(
                f"{task_a} {window}: {_plane_text(*a[2:])} vs {task_b} {window}: {_plane_text(*b[2:])}" for a, b in pairs),
        })

    for task in TASKS:
        for window in windows.get(task, {}):
            for comparison, pair in PLANE_PAIRS.items():
                add(f"{task}/{window}/{comparison}", comparison, task, task, window, [pair])
    first, second = TASKS
    for window in windows.get(first, {}):
        if window in windows.get(second, {}):
            for comparison, pairs in CROSS_TASK_PAIRS.items():
                add(f"{first}-{second}/{window}/{comparison}", comparison, first, second, window, pairs)
    return table


def _window_rates(sessions, windows):
    """{(task, window): every session's rates (trial, neuron) averaged over the window's bins}."""
    return {(task, name): [window_mean(session, window, f"window {task}/{name}") for session in sessions]
            for task, named in windows.items() for name, window in named.items()}


def _codes(*labels):
    """One integer (0, 1, ...) per distinct combination of the per-trial ``labels``."""
    return np.unique(np.column_stack([pd.factorize(label)[0] for label in labels]), axis=0, return_inverse=True)[1].ravel()


def _counts(index, size):
    """How often each of ``size`` values occurs in every row of ``index``: (row, value)."""
    offsets = size * np.arange(len(index))[:, None]
    return np.bincount((index + offsets).ravel(), minlength=len(index) * size).reshape(len(index), size)


def _bootstrap_counts(stratum, conditions, n_draws, rng, max_rounds=1000):
    """Times each trial is drawn (draw, trial) when every stratum's trials are resampled with replacement.

    A draw that leaves empty a condition (each row of ``conditions`` codes
    every trial's condition) that has trials in the data is drawn again, up
    to ``max_rounds`` times; draws still leaving one empty are kept (their
    planes are NaN, and :func:`plane_alignment` says how many there are).
    """
    order = np.argsort(stratum, kind="stable")
    sizes = np.bincount(stratum)
    starts = (np.cumsum(sizes) - sizes)[stratum[order]]
    present = [np.bincount(codes) > 0 for codes in conditions]
    counts = np.zeros((n_draws, len(stratum)), int)
    todo = np.arange(n_draws)
    for _ in range(max_rounds):
        drawn = order[starts + rng.integers(sizes[stratum[order]], size=(len(todo), len(stratum)))]
        counts[todo] = _counts(drawn, len(stratum))
        empty = np.zeros(len(todo), bool)
        for codes, kept in zip(conditions, present):
            empty |= (_counts(codes[drawn], len(kept))[:, kept] == 0).any(axis=1)
        todo = todo[empty]
        if not len(todo):
            return counts
    print(f"colour planes: {len(todo)} of {n_draws} bootstrap draws leave a condition empty after {max_rounds} rounds "
          "(too few trials of some colour bin); their planes are left out of the interval", flush=True)
    return counts


def _within_groups(group, n_draws, rng):
    """Random orders (draw, member) of members that keep every group in place (``group`` sorted)."""
    return np.argsort(group + rng.random((n_draws, len(group))), axis=1)


def _plane_means(rates, trials, bins, session, n_shuffles, n_splits, multiplicity, rng):
    """One plane's condition means (..., colour bin, neuron): observed, bootstrap, shuffled and split halves.

    ``trials`` is the mask of the plane's trials, ``bins`` every trial's
    colour bin of the plane's item. Shuffles permute the bins within each
    session's share of the trials; a split puts half of every session x
    colour bin's trials (rounded down) in the first half, the rest in the
    second.
    """
    conditions = np.arange(N_COLOR_BINS)[:, None]
    one_hot = trials & (bins == conditions)
    members = np.flatnonzero(trials)
    shuffled = np.full((n_shuffles, len(bins)), -1)
    shuffled[:, members] = bins[members][_within_groups(session[members], n_shuffles, rng)]
    group = session[members] * N_COLOR_BINS + bins[members]
    order = np.argsort(group, kind="stable")
    members, group = members[order], group[order]
    rank = np.arange(len(group)) - np.searchsorted(group, group)
    first_half = np.zeros((n_splits, len(bins)), bool)
    split = _within_groups(group, n_splits, rng)
    first_half[np.arange(n_splits)[:, None], members[split]] = rank < np.bincount(group)[group] // 2
    return {
        "observed": _weighted_means(rates, one_hot),
        "bootstrap": _weighted_means(rates, multiplicity[:, None, :] * one_hot),
        "null": _weighted_means(rates, shuffled[:, None, :] == conditions),
        "halves": np.stack([_weighted_means(rates, one_hot & half[:, None, :]) for half in (first_half, ~first_half)]),
    }


def _mean_abs_cosine(means, pairs, keep, kind):
    return np.mean([np.abs(_plane_cosines(means[a][kind][..., keep], means[b][kind][..., keep], center_each=True))
                    for a, b in pairs], axis=0)


def plane_alignment(sessions, windows, n_bootstrap=200, n_shuffles=200, n_splits=50, rng=None):
    """|cos| between colour planes in epoch windows, with bootstrap intervals, shuffle nulls and a ceiling.

    The plane angle of Panichello & Buschman (2021, Fig. 4): a colour plane is
    the condition means of one item's colour (4 bins, :func:`color_bin`) over
    a set of trials, every neuron's means on its own session's trials
    (:func:`condition_means`), on the rates averaged over the bins whose
    centres lie in a window (ms from the cue onset); two planes are compared
    by :func:`plane_cosine` with each plane centred (``center_each``, so that
    the offset between them does not take a component). The comparisons are
    those of :func:`plane_comparisons`: within each task and window the upper
    vs the lower item, the cued and the uncued items; across the tasks, in
    windows of the same name, the cued items at the other location (are the
    retro-selected and the pro-attended item in one location-independent
    subspace?) and at the same location (the reference a stable memory code
    gives). A comparison of two pairs of planes is the mean of their |cos|.

    With 4 colour bins and PCA to 3 dimensions, planes of noise are far from
    orthogonal: two random planes in 3-D have |cos| 0.5 on average, and
    shuffled condition means vary along the directions of largest
    trial-to-trial variance, the same for both planes (both items' colour
    codes, a few high-rate neurons). Independent noise of equal size in 50
    neurons gives a mean null |cos| of 0.1, noise confined to 4 shared
    dimensions 0.39 (95th percentile 0.85); in the default circuit's LPFC
    the null means are 0.24-0.49 with 95th percentiles up to 0.82 (around
    0.6 was measured in this project). So a value means nothing without its
    null beside it. And noise keeps two measurements of one plane below 1:
    the ceiling says what "the same subspace" looks like at this noise
    level, which is what a cross-task |cos| must approach before the planes
    can be called the same (above the null only says "more aligned than
    colourless planes").

    - interval: 95 % basic (reverse-percentile) bootstrap interval,
      ``2 * observed - (97.5th, 2.5th percentile of the draws)`` clipped to
      [0, 1]. Trials are resampled with replacement within session x task
      x cued location (the design's cells; colours are drawn at random, so
      the trials per colour bin vary from draw to draw as they would in a
      new session), every plane from the same draw, so planes sharing
      trials stay dependent as in the data; a draw leaving a condition
      empty is drawn again. Stratifying by colour bins too would freeze how
      the other item's colours mix into each condition mean, a large part
      of its sampling variance when both items are coded, and the interval
      would be too narrow. Not the percentile interval: noise biases |cos|
      towards the middle (down for aligned planes, up for orthogonal ones),
      a draw adds that bias again, so percentile intervals sit about twice
      the bias off the truth and can never hold |cos| = 1; reflecting the
      draws about the estimate removes the bias to first order (coverage
      measured in tests/test_geometry.py).
    - null: the plane's colour bins permuted within its trials in each
      session, each plane independently; one-sided p-value
      ``(1 + #{null >= observed}) / (1 + n_shuffles)`` (aligned above
      chance).
    - split half and ceiling: each plane's trials split at random into two
      halves within session x colour bin; ``plane_cosine_split_half`` is
      the |cos| between the two halves' planes, averaged over ``n_splits``
      splits and over the comparison's planes: one plane measured twice
      with half its trials. It sits at the null's level where the item's
      colour has no measurable plane. To first order in the noise,
      1 - |cos| of one plane measured twice grows with the noise variance,
      which halves with twice the trials, so ``plane_cosine_ceiling = 1 -
      (1 - split_half) / 2`` is what the comparison would give if its two
      planes were one (within 0.04 in tests/test_geometry.py), where the
      split half is well above the null; a comparison near it is as
      aligned as the data can show, one well below it is not one subspace
      whatever its p-value.

    Deliberate differences from the authors: their demo computes one cosine
    from a pseudo-population's condition means with no interval, no null and
    no centring of each item; this adds the three statistics, centres each
    plane, and uses every trial of each session rather than a balanced
    pseudo-population (the condition means need no balance).

    Parameters
    ----------
    sessions : list of xarray.Dataset
        One region's rates, one dataset per session: ``rate`` (trial,
        neuron, time; time in ms from the cue onset), per-trial ``task``,
        ``cued``, ``color_upper``, ``color_lower`` (radians) and, optionally,
        ``n_items`` (only trials with two items are used when present).
    windows : dict
        ``{task: {window_name: [start_ms, end_ms]}}``; a task need not have
        every window.
    n_bootstrap, n_shuffles, n_splits : int
        Bootstrap draws, colour shuffles and split halves.
    rng : numpy.random.Generator or seed

    Returns
    -------
    xarray.Dataset
        Over ``plane_pair`` (coordinates ``comparison``, ``task_a``,
        ``window_a``, ``plane_a``, ``task_b``, ``window_b``, ``plane_b``,
        ``label``): ``plane_cosine``, ``plane_cosine_ci`` (ci_bound,
        plane_pair), ``plane_cosine_null`` (shuffle, plane_pair),
        ``plane_p_value``, ``plane_cosine_split_half``,
        ``plane_cosine_ceiling`` and ``plane_n_neurons``
        (neurons whose session has every condition of the comparison's
        planes). NaN where fewer than 3 neurons have every condition.
    """
    rng = np.random.default_rng(rng)
    sessions = two_item_trials(sessions)
    table = plane_comparisons(windows)
    rates = _window_rates(sessions, windows)
    task, cued = trial_values(sessions, "task"), trial_values(sessions, "cued")
    session = session_labels(sessions)
    bins = {item: color_bin(trial_values(sessions, f"color_{item}")) for item in LOCATIONS}
    multiplicity = _bootstrap_counts(_codes(session, task, cued), [_codes(session, task, cued, bins[item]) for item in LOCATIONS],
                                     n_bootstrap, rng)
    means = {}
    for plane in dict.fromkeys(plane for row in table for pair in row["pairs"] for plane in pair):
        name, window, item, on = plane
        trials = (task == name) & ((cued == on) if on else True)
        means[plane] = _plane_means(rates[name, window], trials, bins[item], session, n_shuffles, n_splits, multiplicity, rng)

    n = len(table)
    cosine, split_half, n_neurons = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, int)
    interval, null = np.full((len(CI), n), np.nan), np.full((n_shuffles, n), np.nan)
    for j, row in enumerate(table):
        planes = list(dict.fromkeys(plane for pair in row["pairs"] for plane in pair))
        keep = np.all([np.isfinite(means[plane]["observed"]).all(axis=0) for plane in planes], axis=0)
        n_neurons[j] = keep.sum()
        if n_neurons[j] < 3:
            print(f"colour planes {row['name']}: NaN, {n_neurons[j]} neuron(s) have every condition", flush=True)
            continue
        cosine[j] = _mean_abs_cosine(means, row["pairs"], keep, "observed")
        draws = _mean_abs_cosine(means, row["pairs"], keep, "bootstrap")
        if np.isnan(draws).mean() > 1 - CI[1] + CI[0]:  # more draws lost than the interval leaves out
            print(f"colour planes {row['name']}: no interval, {np.isnan(draws).sum()} of {len(draws)} bootstrap draws "
                  "left a condition empty", flush=True)
        else:
            interval[:, j] = np.clip(2 * cosine[j] - np.nanquantile(draws, CI[::-1]), 0, 1)
        null[:, j] = _mean_abs_cosine(means, row["pairs"], keep, "null")
        halves = [means[plane]["halves"] for plane in planes]
        both_halves = keep & np.all([np.isfinite(h).all(axis=(0, 1, 2)) for h in halves], axis=0)
        if both_halves.sum() < 3:
            print(f"colour planes {row['name']}: no ceiling, {both_halves.sum()} neuron(s) have 2 trials of every condition",
                  flush=True)
            continue
        split_half[j] = np.mean([np.abs(_plane_cosines(h[0][..., both_halves], h[1][..., both_halves], center_each=True)).mean()
                                 for h in halves])
    tested = np.isfinite(cosine)
    p_value = np.full(n, np.nan)
    p_value[tested] = stats.permutation_p_values(cosine[tested], null[:, tested])
    pair_dims = ("plane_pair",)
    return xr.Dataset(
        {
            "plane_cosine": (pair_dims, cosine),
            "plane_cosine_ci": (("ci_bound",) + pair_dims, interval),
            "plane_cosine_null": (("shuffle",) + pair_dims, null),
            "plane_p_value": (pair_dims, p_value),
            "plane_cosine_split_half": (pair_dims, split_half),
            # 1 - |cos| of one plane measured twice grows with the noise variance, halved at full size
            "plane_cosine_ceiling": (pair_dims, 1 - (1 - split_half) / 2),
            "plane_n_neurons": (pair_dims, n_neurons),
        },
        coords={
            "plane_pair": [row["name"] for row in table],
            **{key: ("plane_pair", [row[key] for row in table])
               for key in ("comparison", "task_a", "window_a", "plane_a", "task_b", "window_b", "plane_b", "label")},
            "ci_bound": list(CI),
            "shuffle": np.arange(n_shuffles),
        },
        attrs={"n_bootstrap": n_bootstrap, "n_shuffles": n_shuffles, "n_splits": n_splits},
    )
