"""Time-resolved decoding of the cued location, within and across tasks.

As in MNE-Python's ``SlidingEstimator``, one z-scored L2 logistic regression is
fitted per time bin. Within a task the scores are stratified k-fold
cross-validated (the same folds for every bin); across tasks a decoder fitted on
every trial of one task is tested on every trial of the other, which asks
whether one selection axis serves both tasks. Cross-temporal generalisation
tests every bin's decoder at every bin.

Speed comes from fitting everything that shares trials at once
(``wmattn.logistic.fit_logistic``): all time bins, all folds plus the fit on
every trial, and the observed labels together with their permutations.
Each fold's z-scoring is applied through the penalty (``feature_scale``), which
gives the same optimum as a ``StandardScaler`` fitted per fold.

``decode_region`` runs every analysis of one region's rates (its neurons of every session): the above on
pseudo-populations with a permutation null and cluster-mass statistics
(``stats``), colour decoding of cued and uncued items, and the geometry of
``geometry`` (plane angle, CCGP, parallelism).
"""

import numpy as np
import xarray as xr
from scipy.stats import rankdata
from sklearn.model_selection import StratifiedKFold

from wmattn import geometry, stats
from wmattn.logistic import SlidingLogisticRegression, fit_logistic, standardization
from wmattn.pseudopop import condition_codes, resample, trial_values
from wmattn.task import LOCATIONS, TASKS

TOL = 1e-4
N_COLOR_BINS = 4  # as Panichello & Buschman: quarters of the colour wheel
CI = (0.025, 0.975)


def stratified_folds(strata, n_folds, random_state):
    """Held-out trials (trials, folds) of ``StratifiedKFold(n_folds, shuffle=True, random_state)``."""
    test = np.zeros((len(strata), n_folds), bool)
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=random_state)
    for fold, (_, held_out) in enumerate(folds.split(np.zeros(len(strata)), strata)):
        test[held_out, fold] = True
    return test


def permuted_within_folds(labels, test, n_permutations, rng):
    """``labels`` followed by ``n_permutations`` shuffles of them, each within every fold.

    Shuffling within folds keeps every fold's class balance, as the stratified
    folds keep it for the real labels. A shuffle across the whole task would
    unbalance the folds, and unbalanced folds score below chance (the
    held-out trials are short of the class the training set has more of), so
    the null would sit below chance and the test would be too liberal.
    """
    columns = [labels]
    for _ in range(n_permutations):
        shuffled = labels.copy()
        for fold in test.T:
            trials = np.flatnonzero(fold)
            shuffled[trials] = labels[rng.permutation(trials)]
        columns.append(shuffled)
    return np.column_stack(columns)


def fit_task(X, labels, test, C):
    """Fit every fold and the whole set of one task's trials, for every labelling.

    Parameters
    ----------
    X : array (trials, neurons, times)
    labels : array (trials, labellings)
        0/1 labels.
    test : array (trials, folds)
        Each fold's held-out trials (``stratified_folds``).
    C : float

    Returns
    -------
    dict
        ``weights`` (times, groups, labellings, neurons) and ``offset``
        (times, groups, labellings) that apply to raw rates; groups are the
        folds and, last, all trials; ``test`` as given; ``standardized``
        (times, labellings, neurons) are the weights of the all-trials fit on
        z-scored rates.
    """
    X = np.asarray(X, np.float32).transpose(2, 0, 1)
    train = np.column_stack([~test, np.ones(len(test), bool)])
    mean, scale = standardization(X)
    X = (X - mean[:, None]) / scale[:, None]
    group_scale = _group_std(X, train)
    coef, intercept = fit_logistic(X, labels, C, sample_weight=train, feature_scale=group_scale, tol=TOL)
    weights = coef / scale[:, None, None]
    return {
        "weights": weights,
        "offset": intercept - (weights * mean[:, None, None]).sum(axis=-1),
        "test": test,
        "standardized": coef[:, -1] * group_scale[:, -1, None],
    }


def _group_std(X, member):
    """Standard deviation of every feature of ``X`` (z-scored over all trials) over each group's trials.

    A feature that hardly varies within a group (under 1e-3 of its spread over
    all trials, e.g. active only on the held-out trials) counts as constant
    and gets 1, like ``StandardScaler``'s constant features: z-scoring it by
    its tiny spread would leave it almost unpenalised, and the fit would
    chase it towards separation.
    """
    weight = member / member.sum(axis=0)
    mean = np.einsum("tnf,ng->tgf", X, weight)
    std = np.sqrt(np.maximum(np.einsum("tnf,ng->tgf", X**2, weight) - mean**2, 0))
    return np.where(std > 1e-3, std, 1)


def decision(fit, X, groups):
    """Log-odds (times, trials, groups, labellings) of each bin's decoders on the same bin of ``X`` (trials, neurons, times)."""
    return np.einsum("nft,tglf->tngl", np.asarray(X, np.float32), fit["weights"][:, groups]) + fit["offset"][:, None, groups]


def generalization_decision(fit, X, groups):
    """Log-odds (trials, groups, train time, test time) of the observed-label decoders at every bin of ``X``."""
    offset = fit["offset"][:, groups, 0].T
    return np.einsum("nfs,tgf->ngts", np.asarray(X, np.float32), fit["weights"][:, groups, 0]) + offset[None, :, :, None]


def fold_mean(score, test):
    """Mean over folds of a per-trial score (..., trials, folds, ...) averaged over each fold's test trials."""
    return np.einsum("...ng,ng->...g", score, test / test.sum(axis=0)).mean(axis=-1)


def roc_auc(decision_values, positive):
    """Area under the ROC curve of ``decision_values`` (..., trials) for 0/1 ``positive`` (trials,); ties count half."""
    ranks = rankdata(decision_values, axis=-1)
    n_positive = positive.sum()
    n_negative = positive.size - n_positive
    return ((ranks * positive).sum(axis=-1) - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)


def cross_task_decoding(X, y, task, n_folds=5, C=1.0, n_permutations=0, random_state=0):
    """Decode a binary label in every time bin, within each task and across tasks.

    Parameters
    ----------
    X : array (trials, neurons, times)
        Firing rates.
    y : array (trials,)
        Two classes (e.g. the cued location).
    task : array (trials,)
        Task of every trial, from ``wmattn.task.TASKS``.
    n_folds : int
        Folds of the within-task cross-validation.
    C : float
        Inverse L2 regularisation strength.
    n_permutations : int
        Label permutations for the null: labels shuffled within each task
        (within each fold, ``permuted_within_folds``), one shuffle for every
        time bin, every fold and the transfer.
    random_state : int
        Seeds the folds (``StratifiedKFold(n_folds, shuffle=True,
        random_state=random_state)`` in each task) and the permutations.

    Returns
    -------
    xarray.Dataset
        ``accuracy`` and ``auc`` (train_task, test_task, time): the diagonal
        cross-validated (mean over folds), off it the transfer;
        ``generalization`` (train_task, test_task, train_time, test_time);
        ``weights`` (train_task, time, neuron) on z-scored rates, fitted on
        every trial of the task, and ``weight_cosine`` (time) between the two
        tasks' weight vectors; ``null`` (permutation, train_task, test_task,
        time) if ``n_permutations``. Dimensions carry no coordinates.
    """
    rng = np.random.default_rng(random_state)
    task, y = np.asarray(task), np.asarray(y)
    classes = np.unique(y)
    if len(classes) != 2:
        raise ValueError(f"decoding needs two classes, got {list(classes)}")
    data, fits = {}, {}
    for name in TASKS:
        trials = task == name
        positive = y[trials] == classes[1]
        if len(np.unique(positive)) < 2:
            raise ValueError(f"{name} trials hold only one class; nothing to decode")
        test = stratified_folds(positive, n_folds, random_state)
        data[name] = (np.asarray(X)[trials], permuted_within_folds(positive, test, n_permutations, rng))
        fits[name] = fit_task(*data[name], test, C)
    n_times = np.shape(X)[2]
    accuracy = np.empty((len(TASKS), len(TASKS), n_times, 1 + n_permutations))
    auc = np.empty((len(TASKS), len(TASKS), n_times))
    generalization = np.empty((len(TASKS), len(TASKS), n_times, n_times))
    for i, train in enumerate(TASKS):
        fit, test = fits[train], fits[train]["test"]
        for j, other in enumerate(TASKS):
            X_test, labels = data[other]
            if train == other:
                within = decision(fit, X_test, slice(-1))
                accuracy[i, j] = fold_mean(((within > 0) == labels[:, None]).transpose(0, 3, 1, 2), test)
                auc[i, j] = np.mean([roc_auc(within[:, fold, g, 0], labels[fold, 0]) for g, fold in enumerate(test.T)], axis=0)
                correct = (generalization_decision(fit, X_test, slice(-1)) > 0) == labels[:, 0, None, None, None]
                generalization[i, j] = fold_mean(correct.transpose(2, 3, 0, 1), test)
            else:
                transfer = decision(fit, X_test, [-1])[:, :, 0]
                accuracy[i, j] = ((transfer > 0) == labels).mean(axis=1)
                auc[i, j] = roc_auc(transfer[:, :, 0], labels[:, 0])
                correct = (generalization_decision(fit, X_test, [-1])[:, 0] > 0) == labels[:, 0, None, None]
                generalization[i, j] = correct.mean(axis=0)
    dims = ("train_task", "test_task", "time")
    weights = np.stack([fits[name]["standardized"][:, 0] for name in TASKS])
    variables = {
        "accuracy": (dims, accuracy[..., 0]),
        "auc": (dims, auc),
        "generalization": (("train_task", "test_task", "train_time", "test_time"), generalization),
        "weights": (("train_task", "time", "neuron"), weights),
        "weight_cosine": ("time", _cosine(*weights)),
    }
    if n_permutations:
        variables["null"] = (("permutation",) + dims, accuracy[..., 1:].transpose(3, 0, 1, 2))
    return xr.Dataset(variables, coords={"train_task": list(TASKS), "test_task": list(TASKS)})


def _cosine(a, b):
    """Cosine between the rows of ``a`` and ``b``; NaN where either is all zero."""
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return np.divide((a * b).sum(axis=-1), norms, out=np.full(norms.shape, np.nan), where=norms > 0)


def color_bin(color):
    """Quarter of the colour wheel (0..3) of colours in radians."""
    return (np.mod(color, 2 * np.pi) // (2 * np.pi / N_COLOR_BINS)).astype(int)


def color_accuracy(X, color, n_folds, C, random_state):
    """Cross-validated accuracy (times,) of a one-vs-rest decoder of the colour bin."""
    labels = np.arange(N_COLOR_BINS) == np.asarray(color)[:, None]
    fit = fit_task(X, labels, stratified_folds(color, n_folds, random_state), C)
    predicted = decision(fit, X, slice(-1)).argmax(axis=-1)
    return fold_mean(predicted == np.asarray(color)[:, None], fit["test"])


def color_decoding(sessions, n_folds, C, rng):
    """Colour of each item decoded on trials where it is cued and where it is not.

    ``sessions``: one region's rates per session (``rate``, per-trial
    ``task``, ``cued``, ``color_upper``, ``color_lower``). Pseudo-trials are
    balanced over task x cued location x the item's colour bin. Returns
    (task, item, cue_status, time), NaN where some session has fewer trials
    of a condition than there are folds.
    """
    accuracy = np.full((len(TASKS), len(LOCATIONS), 2, sessions[0].sizes["time"]), np.nan)
    for k, item in enumerate(LOCATIONS):
        binned = [rates.assign_coords(item_bin=("trial", color_bin(rates[f"color_{item}"].to_numpy()))) for rates in sessions]
        try:
            X, source = resample(binned, condition_codes(binned, ["task", "cued", "item_bin"]), rng)
        except ValueError:
            print(f"colour decoding of the {item} item skipped: a session lacks a task x cued x colour-bin condition", flush=True)
            continue
        task, cued, colors = (trial_values(binned, name)[source] for name in ("task", "cued", "item_bin"))
        for i, name in enumerate(TASKS):
            for cue_status, trials in enumerate([(task == name) & (cued == item), (task == name) & (cued != item)]):
                if np.bincount(colors[trials], minlength=N_COLOR_BINS).min() < n_folds:
                    print(f"colour decoding of the {item} item on {name} trials skipped: fewer trials per colour bin than folds",
                          flush=True)
                    continue
                accuracy[i, k, cue_status] = color_accuracy(X[trials], colors[trials], n_folds, C, int(rng.integers(2**31)))
    return accuracy


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
                abs(geometry.plane_cosine(means[:N_COLOR_BINS, :, t], means[N_COLOR_BINS:, :, t], center_each=True))
                for t in range(means.shape[2])
            ]
    return cosines


def parallelism(sessions):
    """Parallelism score (time,) of the cued location across the task x cued conditions."""
    conditions = [(name, location) for name in TASKS for location in LOCATIONS]
    task, cued = trial_values(sessions, "task"), trial_values(sessions, "cued")
    means = condition_means(sessions, [(task == name) & (cued == location) for name, location in conditions])
    means = means[:, np.isfinite(means).all(axis=(0, 2))]
    return geometry.parallelism_score(means, np.array([location == LOCATIONS[0] for _, location in conditions]))


def decode_region(sessions, n_folds=5, C=1.0, n_resamples=1, n_permutations=100, alpha=0.05, cluster_alpha=0.05, seed=0):
    """Every analysis of one region's rates, as the decoding contract (DESIGN.md).

    Parameters
    ----------
    sessions : list of xarray.Dataset
        One region's rates, one dataset per session
        (:func:`wmattn.io.region_sessions`), each with ``rate`` (trial,
        neuron, time), the per-trial coordinates ``task``, ``cued``,
        ``color_upper`` and ``color_lower``, and the same ``time``.
    n_folds, C :
        Cross-validation folds and inverse L2 strength.
    n_resamples : int
        Pseudo-populations drawn (trials balanced over task x cued location
        per session) for the cued-location analyses; scores are their mean,
        ``*_ci`` their 2.5 and 97.5 percentiles. Colour decoding, the most
        expensive analysis (four classes, balanced over 16 conditions), uses
        one draw; plane angles and parallelism use every trial through
        condition means.
    n_permutations : int
        Size of the label-permutation null, spread over the resamples. Each
        permutation is one resample's score, compared with the mean over
        resamples, whose spread under the null is no larger: with several
        resamples the p-values are conservative.
    alpha, cluster_alpha : float
        Per-bin threshold and corrected level of the cluster-mass test.
    seed : int or numpy.random.SeedSequence

    Returns
    -------
    xarray.Dataset
    """
    if n_permutations < 1:
        raise ValueError("decoding.n_permutations must be at least 1 for the statistics")
    rng = np.random.default_rng(seed)
    condition = condition_codes(sessions, ["task", "cued"])
    task_all, cued_all = trial_values(sessions, "task"), trial_values(sessions, "cued")
    runs, ccgps = [], []
    for r in range(n_resamples):
        X, source = resample(sessions, condition, rng)
        task, cued = task_all[source], cued_all[source]
        runs.append(cross_task_decoding(X, cued, task, n_folds, C, len(range(r, n_permutations, n_resamples)), int(rng.integers(2**31))))
        ccgps.append(geometry.ccgp(X, cued, condition[source], SlidingLogisticRegression(C), context=task))
        print(f"decoding: resample {r + 1}/{n_resamples} done", flush=True)
    null = xr.concat([run["null"] for run in runs if "null" in run], "permutation")
    runs = xr.concat([run.drop_vars("null", errors="ignore") for run in runs], "resample")
    runs["ccgp"] = (("resample", "time"), np.array(ccgps))
    decoding = runs.mean("resample")
    for name in ("accuracy", "auc"):
        decoding[f"{name}_ci"] = runs[name].quantile(CI, "resample").rename(quantile="ci_bound")
    decoding["null"] = null
    decoding["p_value"] = (null.dims[1:], stats.permutation_p_values(decoding["accuracy"].to_numpy(), null.to_numpy()))
    decoding["significant"] = (null.dims[1:], stats.cluster_mass_test(decoding["accuracy"].to_numpy(), null.to_numpy(), alpha, cluster_alpha).significant)
    decoding["color_accuracy"] = (("task", "item", "cue_status", "time"), color_decoding(sessions, n_folds, C, rng))
    decoding["plane_cosine"] = (("task", "pair", "time"), plane_cosines(sessions))
    decoding["parallelism"] = ("time", parallelism(sessions))
    decoding["n_trials"] = ("task", [np.sum(task == name) for name in TASKS])
    time = sessions[0]["time"].to_numpy()
    return decoding.assign_coords(
        time=time, train_time=time, test_time=time, neuron=np.arange(decoding.sizes["neuron"]),
        # where each decoded neuron is: its session, and its index in that session's rates file
        neuron_session=("neuron", np.concatenate([np.full(rates.sizes["neuron"], rates["session"].to_numpy()[0]) for rates in sessions])),
        session_neuron=("neuron", np.concatenate([rates["neuron"].to_numpy() for rates in sessions])),
        task=list(TASKS), item=list(LOCATIONS), cue_status=["cued", "uncued"], pair=list(PLANE_PAIRS),
        ci_bound=list(CI),
    ).assign_attrs(n_resamples=n_resamples, n_permutations=n_permutations, alpha=alpha, cluster_alpha=cluster_alpha)
