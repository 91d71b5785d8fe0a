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
from sklearn.base import clone

from wmattn.analysis.colour import N_COLOR_BINS, color_bin
from wmattn.pseudopop import trial_values
from wmattn.task import LOCATIONS, TASKS


def _principal_axes(points):
    """Principal axes of ``points`` (observation, dimension) as columns.

    Each axis is signed so that its largest-magnitude element is positive, as
    MATLAB's ``pca`` does: the sign of ``plane_cosine`` depends on it, and this
    convention makes it match the authors' demo.
    """
    _, _, vt = np.linalg.svd(points - points.mean(axis=0), full_matrices=False)
    largest = np.abs(vt).argmax(axis=1)
    return (vt * np.sign(vt[np.arange(len(vt)), largest])[:, None]).T


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
    if center_each:
        means_a = means_a - means_a.mean(axis=0)
        means_b = means_b - means_b.mean(axis=0)
    both = np.concatenate([means_a, means_b])
    scores = (both - both.mean(axis=0)) @ _principal_axes(both)[:, :n_components]
    plane_a = _principal_axes(scores[: len(means_a)])[:, :2]
    plane_b = _principal_axes(scores[len(means_a) :])[:, :2]
    # Principal axes are orthonormal, so both Gram determinants in the
    # denominator are 1.
    return float(np.linalg.det(plane_a.T @ plane_b))


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


def condition_means(sessions, masks):
    """Mean rate (condition, neuron, time) over each mask's trials, every neuron on its own session's trials.

    ``masks`` select trials of the sessions one after another; a neuron whose
    session lacks a condition gets NaN there.
    """
    first = np.cumsum([0] + [rates.sizes["trial"] for rates in sessions])
    means = []
    for k, rates in enumerate(sessions):
        rate = rates["rate"].transpose("trial", "neuron", "time").to_numpy()
        own = [np.asarray(mask)[first[k]:first[k + 1]] for mask in masks]
        means.append(np.stack([rate[mask].sum(axis=0) / mask.sum() if mask.any() else np.full(rate.shape[1:], np.nan)
                               for mask in own]))
    return np.concatenate(means, axis=1)


def plane_cosines(sessions):
    """|cos| between colour planes (task, pair, time), pairs as in PLANE_PAIRS.

    Uses every trial of one region's ``sessions`` through condition means (no
    resampling); neurons lacking a condition in their session are left out,
    and a pair without three neurons is NaN. Each item is centred before the
    joint PCA (``center_each``): otherwise the cued-location offset takes a
    component.
    """
    task, cued = trial_values(sessions, "task"), trial_values(sessions, "cued")
    bins = {item: color_bin(trial_values(sessions, f"color_{item}")) for item in LOCATIONS}
    cosines = np.full((len(TASKS), len(PLANE_PAIRS), sessions[0].sizes["time"]), np.nan)
    for i, name in enumerate(TASKS):
        for j, (pair, ((item_a, cued_a), (item_b, cued_b))) in enumerate(PLANE_PAIRS.items()):
            means = condition_means(sessions, [
                (task == name) & (bins[item] == b) & ((cued == on) if on else True)
                for item, on in ((item_a, cued_a), (item_b, cued_b)) for b in range(N_COLOR_BINS)
            ])
            means = means[:, np.isfinite(means).all(axis=(0, 2))]
            if means.shape[1] < 3:
                print(f"{name} colour planes ({pair}) skipped: no neurons recorded with every colour bin", flush=True)
                continue
            cosines[i, j] = [
                abs(plane_cosine(means[:N_COLOR_BINS, :, t], means[N_COLOR_BINS:, :, t], center_each=True))
                for t in range(means.shape[2])
            ]
    return cosines


def parallelism(sessions):
    """Parallelism score (time,) of the cued location across the task x cued conditions."""
    conditions = [(name, location) for name in TASKS for location in LOCATIONS]
    task, cued = trial_values(sessions, "task"), trial_values(sessions, "cued")
    means = condition_means(sessions, [(task == name) & (cued == location) for name, location in conditions])
    means = means[:, np.isfinite(means).all(axis=(0, 2))]
    return parallelism_score(means, np.array([location == LOCATIONS[0] for _, location in conditions]))
