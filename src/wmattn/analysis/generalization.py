"""Cross-task generalisation of the cued location in epoch windows: GI with bootstrap intervals, and a region contrast.

Panichello & Buschman (2021, Fig. 2) train a decoder of the cued location on
retro-cue trials and test it on pro-cue trials (and the reverse), and summarise
each epoch by the generalisation index GI = (transfer - 0.5) / (within - 0.5):
1 when one axis serves both tasks, 0 when the tasks' axes are unrelated.

Each epoch window's feature is every neuron's rate averaged over the time bins
whose centres lie in it. Neurons of different sessions are decoded as one
pseudo-population (:mod:`wmattn.pseudopop`) built on cross-validation folds:
every session's trials of each task x cued location are split into folds
first, and pseudo-trials are built within a fold, so that a trial drawn twice
by a bootstrap is never in both a training and a test fold. Every resample,
window, bootstrap draw, neuron subset and permutation that shares the trial
layout is fitted at once by :func:`wmattn.logistic.fit_logistic`, with one
group of training trials per fold and per task.

Only two-item trials are used where the rates carry ``n_items``.
"""

from itertools import combinations

import numpy as np
import xarray as xr

from wmattn.logistic import fit_logistic, standardization
from wmattn.analysis.windows import window_mean
from wmattn.pseudopop import (condition_codes, first_trials, gather, pseudo_trial_index, session_labels, trial_values,
                              two_item_trials)
from wmattn.task import LOCATIONS, TASKS

CI = (0.025, 0.975)
DIRECTIONS = ("retro_to_pro", "pro_to_retro", "both")
TOL = 1e-4
# Largest float32 design (batch x trials x neurons) fitted at once, in elements (about 200 MB).
MAX_BATCH_ELEMENTS = 5 * 10**7


def window_features(sessions, windows):
    """Each session's two-item trials as window means, in the form :mod:`wmattn.pseudopop` takes.

    Parameters
    ----------
    sessions : list of xarray.Dataset
        One region's rates, one per session: ``rate`` (trial, neuron, time)
        with ``time`` the bin centres in ms from the cue onset; per-trial
        ``task``, ``cued`` and ``session``; optionally ``n_items`` (then only
        trials with two items are kept).
    windows : dict
        ``{name: [start_ms, end_ms]}``.

    Returns
    -------
    list of xarray.Dataset
        ``rate`` (trial, neuron, time), its ``time`` axis holding one entry per
        window (the mean over the window's bins), with per-trial ``task``,
        ``cued`` and ``session``.

    Raises ``ValueError`` naming a window that holds no bin centre.
    """
    features = []
    for rates in sessions:
        [rates] = two_item_trials([rates])
        means = np.stack([window_mean(rates, window, f"window {name!r}") for name, window in windows.items()], axis=2)
        features.append(xr.Dataset(
            {"rate": (("trial", "neuron", "time"), means.astype(np.float32))},
            coords={name: ("trial", rates[name].to_numpy()) for name in ("task", "cued", "session")},
        ))
    return features


def _check_conditions(features, n_folds):
    """Refuse a session with fewer than ``n_folds`` trials of some task x cued location (naming both)."""
    for rates in features:
        for task in TASKS:
            for cued in LOCATIONS:
                n = int(((rates["task"] == task) & (rates["cued"] == cued)).sum())
                if n < n_folds:
                    raise ValueError(f"session {rates['session'].to_numpy()[0]} has {n} {task} trials cued {cued}; "
                                     f"{n_folds} folds need at least {n_folds}")


def _folds(session, condition, n_folds, rng):
    """A fold for every trial: each session's trials of each condition split into near-equal folds at random."""
    fold = np.empty(len(session), int)
    for s in np.unique(session):
        for c in np.unique(condition):
            trials = rng.permutation(np.flatnonzero((session == s) & (condition == c)))
            fold[trials] = np.arange(len(trials)) % n_folds
    return fold


def _draw(features, condition, n_folds, rng, replace):
    """One pseudo-population on fresh folds: rates (window, pseudo-trial, neuron), z-scored, and its trial layout.

    Pseudo-trials are balanced over condition x fold (every combination
    fills the same number of consecutive rows, in the same order whatever the
    draw), so every draw of these sessions shares one layout: the ``task``,
    ``cued`` label (1 for the first of ``LOCATIONS``) and ``fold`` of each row.
    Each neuron is z-scored over every pseudo-trial of both tasks (no labels
    used; see :func:`window_generalization`).
    """
    session = session_labels(features)
    fold = _folds(session, condition, n_folds, rng)
    index = pseudo_trial_index(session, condition * n_folds + fold, rng, replace=replace)
    X = gather(features, index - first_trials(features)).transpose(2, 0, 1)
    mean, scale = standardization(X)
    source = index[:, 0]
    layout = (trial_values(features, "task")[source], (trial_values(features, "cued")[source] == LOCATIONS[0]).astype(float),
              fold[source])
    return (X - mean[:, None]) / scale[:, None], layout


def decoding_accuracy(X, layout, n_folds, C):
    """Within-task and transfer accuracy of the cued location for every element of a batch on one trial layout.

    Parameters
    ----------
    X : array (batch, trials, neurons)
        z-scored rates.
    layout : tuple of arrays (trials,)
        ``task``, 0/1 ``label`` and ``fold`` of every trial.
    n_folds : int
    C : float
        Inverse L2 strength, as scikit-learn's ``LogisticRegression``.

    Returns
    -------
    array (batch, train_task, test_task)
        The diagonal is the mean over folds of the held-out accuracy of a
        decoder trained on the task's other folds; off it, a decoder trained
        on every trial of one task tested on every trial of the other.
    """
    task, label, fold = layout
    train = np.column_stack([
        (task == name) & (fold != f) if f < n_folds else task == name for name in TASKS for f in range(n_folds + 1)
    ])
    coef, intercept = fit_logistic(X, label[:, None], C, sample_weight=train, tol=TOL)
    decision = np.einsum("btf,bgf->btg", X, coef[:, :, 0]) + intercept[:, None, :, 0]
    correct = (decision > 0) == label[None, :, None].astype(bool)
    accuracy = np.empty((len(X), len(TASKS), len(TASKS)))
    for i, name in enumerate(TASKS):
        first = i * (n_folds + 1)
        accuracy[:, i, i] = np.mean([correct[:, (task == name) & (fold == f), first + f].mean(axis=1) for f in range(n_folds)], axis=0)
        for j, other in enumerate(TASKS):
            if j != i:
                accuracy[:, i, j] = correct[:, task == other, first + n_folds].mean(axis=1)
    return accuracy


def generalization_index(accuracy):
    """GI (..., direction) from accuracies (..., train_task, test_task); NaN where the within-task accuracy is 0.5.

    ``retro_to_pro`` divides the retro decoder's transfer by retro's
    within-task accuracy (both less 0.5), ``pro_to_retro`` likewise for pro,
    and ``both`` divides the mean of the two transfers by the mean of the two
    within-task accuracies.
    """
    retro, pro = TASKS.index("retro"), TASKS.index("pro")
    within = np.stack([accuracy[..., retro, retro], accuracy[..., pro, pro]], axis=-1)
    transfer = np.stack([accuracy[..., retro, pro], accuracy[..., pro, retro]], axis=-1)
    within = np.concatenate([within, within.mean(axis=-1, keepdims=True)], axis=-1) - 0.5
    transfer = np.concatenate([transfer, transfer.mean(axis=-1, keepdims=True)], axis=-1) - 0.5
    # Accuracies are means of means: a within-task accuracy of exactly 0.5 can differ from it by rounding.
    return np.divide(transfer, within, out=np.full(within.shape, np.nan), where=np.abs(within) > 1e-9)


def _batched_accuracy(populations, layout, n_folds, C):
    """``decoding_accuracy`` of every (windows, trials, neurons) array of ``populations``: (population, window, train, test).

    The populations share ``layout`` and their neuron count; they are fitted
    in batches of at most ``MAX_BATCH_ELEMENTS``.
    """
    n_windows, n_trials, n_neurons = populations[0].shape
    per_batch = max(1, MAX_BATCH_ELEMENTS // (n_windows * n_trials * n_neurons))
    accuracy = [
        decoding_accuracy(np.concatenate(populations[start:start + per_batch]), layout, n_folds, C)
        for start in range(0, len(populations), per_batch)
    ]
    return np.concatenate(accuracy).reshape(len(populations), n_windows, len(TASKS), len(TASKS))


def window_generalization(sessions, windows, n_folds=5, C=1.0, n_bootstrap=200, rng=None, n_resamples=10):
    """Within-task and cross-task decoding of the cued location in epoch windows, GI, and bootstrap intervals.

    Parameters
    ----------
    sessions : list of xarray.Dataset
        One region's rates, one per session (:func:`window_features` says
        which variables they need).
    windows : dict
        ``{name: [start_ms, end_ms]}`` from the cue onset.
    n_folds : int
        Folds of the within-task cross-validation (stratified: every session's
        trials of each task x cued location are split into folds).
    C : float
        Inverse L2 strength of the logistic regression, as scikit-learn's.
    n_bootstrap : int
        Bootstrap draws of the interval; 0 for none (the intervals are NaN).
    rng : numpy.random.Generator or seed
    n_resamples : int
        Pseudo-population resamples (trials drawn without replacement, fresh
        folds) whose mean accuracy is the point estimate. With one session a
        resample is the balanced trials themselves, so the resamples differ
        only in their folds (and, if a condition has more trials than the
        smallest, in which trials are left out).

    Returns
    -------
    xarray.Dataset
        ``window_accuracy`` (window, train_task, test_task): the point
        estimate, within-task on the diagonal and transfer off it;
        ``window_accuracy_ci`` (ci_bound, window, train_task, test_task);
        ``gi`` (window, direction) from the point estimate's accuracies
        (:func:`generalization_index`), ``gi_ci`` (ci_bound, window,
        direction); coordinates ``window`` (names), ``window_start`` and
        ``window_end`` (ms) on window, ``train_task``, ``test_task``,
        ``direction``, ``ci_bound``; attrs ``n_bootstrap``, ``n_resamples``,
        ``n_folds``, ``C``.

    Notes
    -----
    Each neuron is z-scored over every pseudo-trial of both tasks (no labels
    used), not over the training task: a population silent in one task has a
    tiny spread there, and scaling the other task's activity by it decides
    the transfer by the sign of weights fitted to noise. Panichello &
    Buschman's ``logregTFdir.m`` trains MATLAB's ``fitclinear`` (logistic
    learner, default ridge strength and solver) on one set of trials and
    scores its predicted class on another, as the transfer here does; it
    passes no normalisation option and normalises nothing itself, so it fits
    the rates as given (any normalisation before it is not in their
    published code). ``fitclinear``'s documented default ridge strength,
    ``Lambda = 1/n``, minimises the same objective as scikit-learn's
    ``C = 1``; ours is the exact optimum rather than their solver's (SGD or
    BFGS) approximation.

    The interval is a bootstrap of the whole estimate, capturing the
    sampling of neurons and of trials: every draw resamples the neurons with
    replacement and, within every fold of every session's task x cued
    location, the trials with replacement; then it builds the pseudo-trials
    within each fold and refits everything. A draw keeps about 63 % of the
    neurons distinct, and where the within-task accuracy saturates, the
    transfer, and with it GI, falls with the number of distinct neurons, so
    the draws sit below the estimate: on planted codes with cosine 0.5 the
    draws' median GI was 0.11 below the estimate with 64 neurons, and 0.09
    below at the paper's size (574 neurons, 23 sessions), where the plain
    percentile interval excluded the estimate. The interval is therefore the
    draws' 2.5-97.5 percentiles shifted by the estimate minus the draws'
    median (:func:`shifted_interval`), which gave 93-100 % coverage in both
    regimes. A draw is one pseudo-population while the point estimate is a
    mean over ``n_resamples``, so the interval also holds the
    pseudo-pairing's variability that the mean reduces (conservative).
    Draws whose GI is undefined (a within-task accuracy of exactly 0.5) are
    left out of ``gi_ci``.
    """
    rng = np.random.default_rng(rng)
    features = window_features(sessions, windows)
    _check_conditions(features, n_folds)
    condition = condition_codes(features, ["task", "cued"])
    n_neurons = sum(rates.sizes["neuron"] for rates in features)

    def populations(n_draws, bootstrap):
        draws, layout = [], None
        for _ in range(n_draws):
            X, layout = _draw(features, condition, n_folds, rng, replace=bootstrap)
            draws.append(X[:, :, rng.integers(0, n_neurons, n_neurons)] if bootstrap else X)
        return draws, layout

    point = _batched_accuracy(*populations(n_resamples, False), n_folds, C).mean(axis=0)
    gi = generalization_index(point)
    if n_bootstrap:
        draws = _batched_accuracy(*populations(n_bootstrap, True), n_folds, C)
        accuracy_ci, gi_ci = shifted_interval(point, draws), shifted_interval(gi, generalization_index(draws))
    else:  # the inference's summaries need only the estimate
        accuracy_ci, gi_ci = np.full((len(CI), *point.shape), np.nan), np.full((len(CI), *gi.shape), np.nan)
    names = list(windows)
    dims = ("window", "train_task", "test_task")
    return xr.Dataset(
        {
            "window_accuracy": (dims, point),
            "window_accuracy_ci": (("ci_bound",) + dims, accuracy_ci),
            "gi": (("window", "direction"), gi),
            "gi_ci": (("ci_bound", "window", "direction"), gi_ci),
        },
        coords={
            "window": names,
            "window_start": ("window", [float(windows[name][0]) for name in names]),
            "window_end": ("window", [float(windows[name][1]) for name in names]),
            "train_task": list(TASKS), "test_task": list(TASKS), "direction": list(DIRECTIONS), "ci_bound": list(CI),
        },
        attrs={"n_bootstrap": n_bootstrap, "n_resamples": n_resamples, "n_folds": n_folds, "C": C},
    )


def shifted_interval(estimate, draws):
    """The draws' 2.5-97.5 percentiles (ci_bound first) moved so that their median falls on ``estimate``.

    A bootstrap over neurons biases the draws of a saturating score (see
    :func:`window_generalization`); the shift removes that bias of the
    draws' centre and keeps their spread. NaN draws are left out.
    """
    return np.nanquantile(draws, CI, axis=0) + (estimate - np.nanmedian(draws, axis=0))


def _joint_features(first, second, names):
    """Two regions' window features as one set of sessions, and the region (0 or 1) of every pooled neuron.

    Regions recorded together share their sessions' trials; a session that
    only one region has contributes that region's neurons alone. Raises
    ``ValueError`` naming a session whose trials differ between the regions.
    """
    by_session = [{rates["session"].to_numpy()[0].item(): rates for rates in region} for region in (first, second)]
    joint, region = [], []
    for session in sorted(by_session[0].keys() | by_session[1].keys()):
        present = [(r, parts[session]) for r, parts in enumerate(by_session) if session in parts]
        if len(present) == 2:
            a, b = present[0][1], present[1][1]
            if a.sizes["trial"] != b.sizes["trial"] or any(
                not np.array_equal(a[name].to_numpy(), b[name].to_numpy()) for name in ("task", "cued")
            ):
                raise ValueError(f"session {session}: the trials of {names[0]} and {names[1]} differ; "
                                 "a contrast needs regions recorded on the same trials")
        joint.append(xr.concat([rates for _, rates in present], "neuron"))
        region.extend(np.full(rates.sizes["neuron"], r) for r, rates in present)
    return joint, np.concatenate(region)


def _nanmean(x):
    """Mean over the first axis, leaving out NaN; NaN (without a warning) where every value is NaN."""
    finite = np.isfinite(x)
    return np.divide(np.where(finite, x, 0).sum(axis=0), finite.sum(axis=0), out=np.full(x.shape[1:], np.nan),
                     where=finite.any(axis=0))


def holm(p_values, axis=0):
    """Holm's step-down adjustment of ``p_values`` over ``axis`` (family-wise error control)."""
    p = np.moveaxis(np.asarray(p_values, float), axis, -1)
    n = p.shape[-1]
    order = np.argsort(p, axis=-1)
    ranked = np.take_along_axis(p, order, axis=-1) * (n - np.arange(n))
    adjusted = np.minimum(np.maximum.accumulate(ranked, axis=-1), 1)
    out = np.empty_like(adjusted)
    np.put_along_axis(out, order, adjusted, axis=-1)
    return np.moveaxis(out, -1, axis)


def region_contrast(sessions_by_region, windows, n_folds=5, C=1.0, n_permutations=1000, n_subsamples=20, rng=None):
    """Permutation test of the GI difference between every two regions, with their neuron counts matched.

    Parameters
    ----------
    sessions_by_region : dict
        ``{region: list of rates datasets}`` as :func:`window_generalization`
        takes; regions are recorded together, so a session's trials are the
        same in every region that has it (a region may lack a session).
    windows : dict
        ``{name: [start_ms, end_ms]}`` from the cue onset.
    n_folds, C :
        As :func:`window_generalization`.
    n_permutations : int
        Relabellings in the null.
    n_subsamples : int
        Matched subsamples whose mean GI difference is the observed one.
    rng : numpy.random.Generator or seed

    Returns
    -------
    xarray.Dataset
        ``gi_difference``, ``p_value`` and ``p_holm`` (contrast, window,
        direction); ``contrast`` named ``"{a}-{b}"`` with coords
        ``region_a``, ``region_b`` and ``n_neurons`` (the matched count);
        ``window`` with ``window_start`` and ``window_end`` (ms);
        ``direction``; attrs ``n_permutations``, ``n_subsamples``.

    Notes
    -----
    For a pair (a, b), each subsample draws a pseudo-population of both
    regions on the same pseudo-trials and fresh folds (trials without
    replacement), and both regions' neurons without replacement down to the
    smaller region's count. The observed difference is the mean over the
    subsamples of GI(a) - GI(b). The null pools the two matched subsamples'
    neurons and splits them at random into two sets of the matched count,
    computing their GI difference on the same pseudo-trials; the
    permutations are spread evenly over the subsamples. A null value is the
    difference of one subsample while the observed one is a mean over
    subsamples, whose spread under the null is no larger, so the test is
    conservative. (Averaging every permutation over the subsamples instead,
    each relabelled independently, would be anti-conservative: the observed
    subsamples share their neurons' labels, so their differences are
    correlated, and independent relabellings average that correlation away.
    Relabelling every neuron of both regions consistently across the
    subsamples would be exact, at ``n_subsamples`` times the cost.)
    The p-value is two-sided,
    (1 + #{|null| >= |observed|}) / (1 + #null); ``p_holm`` is
    Holm's correction over the contrasts of each window and direction.
    Subsamples and permutations where either GI is undefined (within-task
    accuracy exactly 0.5, as where nothing is decoded) are left out of the
    mean and of the null's count; the difference and p-value are NaN where
    every subsample is undefined.
    """
    rng = np.random.default_rng(rng)
    features = {region: window_features(sessions, windows) for region, sessions in sessions_by_region.items()}
    for region_features in features.values():
        _check_conditions(region_features, n_folds)
    pairs = list(combinations(features, 2))
    difference = np.empty((len(pairs), len(windows), len(DIRECTIONS)))
    p_value = np.empty_like(difference)
    n_matched = []
    for k, (a, b) in enumerate(pairs):
        joint, region = _joint_features(features[a], features[b], (a, b))
        condition = condition_codes(joint, ["task", "cued"])
        members = [np.flatnonzero(region == r) for r in (0, 1)]
        n = min(len(m) for m in members)
        n_matched.append(n)
        observed, null = [], []
        for s in range(n_subsamples):
            X, layout = _draw(joint, condition, n_folds, rng, replace=False)
            matched = [rng.choice(m, n, replace=False) for m in members]
            pooled = np.concatenate(matched)
            relabelled = [rng.permutation(pooled) for _ in range(s, n_permutations, n_subsamples)]
            sets = matched + [half for order in relabelled for half in (order[:n], order[n:])]
            gi = generalization_index(_batched_accuracy([X[:, :, neurons] for neurons in sets], layout, n_folds, C))
            gi_difference = gi[0::2] - gi[1::2]
            observed.append(gi_difference[0])
            null.append(gi_difference[1:])
            print(f"region contrast {a}-{b}: subsample {s + 1}/{n_subsamples} ({n} neurons each, "
                  f"{len(relabelled)} permutations) done", flush=True)
        difference[k], null = _nanmean(np.array(observed)), np.concatenate(null)
        exceeding = (np.abs(null) >= np.abs(difference[k])).sum(axis=0)
        p_value[k] = np.where(np.isnan(difference[k]), np.nan, (1 + exceeding) / (1 + np.isfinite(null).sum(axis=0)))
    names = list(windows)
    return xr.Dataset(
        {
            "gi_difference": (("contrast", "window", "direction"), difference),
            "p_value": (("contrast", "window", "direction"), p_value),
            "p_holm": (("contrast", "window", "direction"), holm(p_value, axis=0)),
        },
        coords={
            "contrast": [f"{a}-{b}" for a, b in pairs],
            "region_a": ("contrast", [a for a, _ in pairs]),
            "region_b": ("contrast", [b for _, b in pairs]),
            "n_neurons": ("contrast", n_matched),
            "window": names,
            "window_start": ("window", [float(windows[name][0]) for name in names]),
            "window_end": ("window", [float(windows[name][1]) for name in names]),
            "direction": list(DIRECTIONS),
        },
        attrs={"n_permutations": n_permutations, "n_subsamples": n_subsamples},
    )
