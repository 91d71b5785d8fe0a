"""Time-resolved decoding of the cued location, within and across tasks.

``location_decoding`` runs it on one region's pseudo-populations with its
permutation null and cluster-mass statistics, and the selection onset latency
(the first significant bin from the cue on) with a bootstrap interval over the
test trials; ``cross_task_decoding`` is one population's decoding.

As in MNE-Python's ``SlidingEstimator``, one z-scored L2 logistic regression is
fitted per time bin. Within a task the scores are stratified k-fold
cross-validated (the same folds for every bin); across tasks a decoder fitted on
every trial of one task is tested on every trial of the other, which asks
whether one selection axis serves both tasks. Cross-temporal generalisation
tests every bin's decoder at every bin.

Every neuron is scaled by its standard deviation over the trials of both
tasks, without their labels, not over the training task (or fold) alone: a
population silent in one task has a tiny spread there, and scaled by it the
other task's activity becomes huge, so the transfer is decided by the sign of
weights fitted to noise (seen in the circuit with separate control). It is
centred on the training task's mean, which leaves the weights unchanged (the
intercept is not penalised) and keeps the Newton system well conditioned. Panichello & Buschman's
``logregTFdir.m`` fits ``fitclinear`` to the rates it is given, with no
scaling of its own.

Speed comes from fitting everything that shares trials at once
(``wmattn.logistic.fit_logistic``): all time bins, all folds plus the fit on
every trial, and the observed labels together with their permutations.
"""

import warnings
import numpy as np
import xarray as xr
from scipy.stats import beta, rankdata
from sklearn.model_selection import StratifiedKFold

from wmattn.analysis.geometry import ccgp
from wmattn.analysis.stats import cluster_mass_test, cluster_rule, cluster_significant, permutation_p_values
from wmattn.logistic import SlidingLogisticRegression, fit_logistic, standardization
from wmattn.pseudopop import condition_codes, resample, trial_values
from wmattn.task import TASKS

TOL = 1e-4
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


def fit_task(X, labels, test, C, scale=None):
    """Fit every fold and the whole set of one task's trials, for every labelling.

    Parameters
    ----------
    X : array (trials, neurons, times)
    labels : array (trials, labellings)
        0/1 labels.
    test : array (trials, folds)
        Each fold's held-out trials (``stratified_folds``).
    C : float
    scale : array (times, neurons), optional
        The spread every neuron is divided by before the fit; by default its
        standard deviation over the trials of ``X``. The rates are centred on
        the mean of ``X`` whatever the scale: with an unpenalised intercept
        the centre does not change the fitted weights, but a neuron constant
        in this task and centred elsewhere is a copy of the intercept, which
        leaves the solver an ill-conditioned Newton system.

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
    mean, own_scale = standardization(X)
    scale = own_scale if scale is None else scale
    coef, intercept = fit_logistic((X - mean[:, None]) / scale[:, None], labels, C, sample_weight=train, tol=TOL)
    weights = coef / scale[:, None, None]
    return {
        "weights": weights,
        "offset": intercept - (weights * mean[:, None, None]).sum(axis=-1),
        "test": test,
        "standardized": coef[:, -1],
    }


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
        every trial of the task (rates scaled over both tasks), and ``weight_cosine`` (time) between the two
        tasks' weight vectors; ``correct`` (train_task, test_task, trial,
        time), bool over the trials of ``X``: whether each course's decoder
        classified the trial right, a within-task trial by the decoder of
        the fold that held it out, a transfer trial by the decoder fitted on
        every trial of the other task. Only the test task's trials are
        scored (False elsewhere): a course's accuracy is the mean of
        ``correct`` over them, within a task the mean over folds of each
        fold's mean (the two differ only where the folds differ in size);
        ``null`` (permutation, train_task, test_task,
        time) if ``n_permutations``. Dimensions carry no coordinates.
    """
    rng = np.random.default_rng(random_state)
    task, y = np.asarray(task), np.asarray(y)
    classes = np.unique(y)
    if len(classes) != 2:
        raise ValueError(f"decoding needs two classes, got {list(classes)}")
    data, fits, members = {}, {}, {}
    _, both_tasks = standardization(np.asarray(X, np.float32)[np.isin(task, TASKS)].transpose(2, 0, 1))
    for name in TASKS:
        trials = members[name] = task == name
        positive = y[trials] == classes[1]
        if len(np.unique(positive)) < 2:
            raise ValueError(f"{name} trials hold only one class; nothing to decode")
        test = stratified_folds(positive, n_folds, random_state)
        data[name] = (np.asarray(X)[trials], permuted_within_folds(positive, test, n_permutations, rng))
        fits[name] = fit_task(*data[name], test, C, both_tasks)
    n_times = np.shape(X)[2]
    accuracy = np.empty((len(TASKS), len(TASKS), n_times, 1 + n_permutations))
    auc = np.empty((len(TASKS), len(TASKS), n_times))
    generalization = np.empty((len(TASKS), len(TASKS), n_times, n_times))
    scored = np.zeros((len(TASKS), len(TASKS), len(task), n_times), bool)  # per-trial correctness (trial, time)
    for i, train in enumerate(TASKS):
        fit, test = fits[train], fits[train]["test"]
        for j, other in enumerate(TASKS):
            X_test, labels = data[other]
            if train == other:
                within = decision(fit, X_test, slice(-1))
                accuracy[i, j] = fold_mean(((within > 0) == labels[:, None]).transpose(0, 3, 1, 2), test)
                held_out = within[:, np.arange(len(test)), test.argmax(axis=1), 0]  # each trial by its own fold
                scored[i, j][members[other]] = ((held_out > 0) == labels[:, 0]).T
                auc[i, j] = np.mean([roc_auc(within[:, fold, g, 0], labels[fold, 0]) for g, fold in enumerate(test.T)], axis=0)
                correct = (generalization_decision(fit, X_test, slice(-1)) > 0) == labels[:, 0, None, None, None]
                generalization[i, j] = fold_mean(correct.transpose(2, 3, 0, 1), test)
            else:
                transfer = decision(fit, X_test, [-1])[:, :, 0]
                accuracy[i, j] = ((transfer > 0) == labels).mean(axis=1)
                scored[i, j][members[other]] = ((transfer[:, :, 0] > 0) == labels[:, 0]).T
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
        "correct": (("train_task", "test_task", "trial", "time"), scored),
    }
    if n_permutations:
        variables["null"] = (("permutation",) + dims, accuracy[..., 1:].transpose(3, 0, 1, 2))
    return xr.Dataset(variables, coords={"train_task": list(TASKS), "test_task": list(TASKS)})


def _cosine(a, b):
    """Cosine between the rows of ``a`` and ``b``; NaN where either is all zero."""
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return np.divide((a * b).sum(axis=-1), norms, out=np.full(norms.shape, np.nan), where=norms > 0)


def binomial_interval(accuracy, n_trials):
    """Jeffreys 95 % interval (ci_bound, ...) of an accuracy on ``n_trials`` test trials (Brown, Cai & DasGupta 2001)."""
    correct = accuracy * n_trials
    bounds = [xr.apply_ufunc(beta.ppf, q, correct + 0.5, n_trials - correct + 0.5) for q in CI]
    return xr.concat(bounds, "ci_bound").assign_coords(ci_bound=list(CI)).transpose("ci_bound", *accuracy.dims)


def onset_time(significant, time):
    """Time of the first ``significant`` bin (..., time) at or after 0 of ``time``; +inf where there is none."""
    significant, time = np.asarray(significant, bool), np.asarray(time)
    after = time >= 0
    if not after.any():
        return np.full(significant.shape[:-1], np.inf)
    significant = significant[..., after]
    return np.where(significant.any(axis=-1), time[after][significant.argmax(axis=-1)], np.inf)


def stratified_bootstrap_counts(strata, n_draws, rng):
    """How often each trial is drawn (draws, trials) when every stratum's trials are resampled with replacement."""
    strata = np.asarray(strata)
    counts = np.zeros(n_draws * len(strata), np.int64)
    offsets = len(strata) * np.arange(n_draws)[:, None]
    for stratum in np.unique(strata):
        members = np.flatnonzero(strata == stratum)
        drawn = members[rng.integers(len(members), size=(n_draws, len(members)))]
        counts += np.bincount((offsets + drawn).ravel(), minlength=counts.size)
    return counts.reshape(n_draws, len(strata))


def bootstrap_accuracy(correct, task, strata, n_draws, rng):
    """Accuracy courses (draws, train_task, test_task, time) of test trials resampled within each stratum.

    ``correct`` (train_task, test_task, trial, time) is
    :func:`cross_task_decoding`'s; each draw resamples every test task's
    trials (``task``) within the strata (e.g. the cued location), the
    same draw for both courses tested on that task; the decoders are not
    refitted.
    """
    accuracy = np.empty((n_draws, len(TASKS), len(TASKS), correct.shape[-1]))
    for j, name in enumerate(TASKS):
        trials = np.flatnonzero(np.asarray(task) == name)
        counts = stratified_bootstrap_counts(np.asarray(strata)[trials], n_draws, rng).astype(float)
        scores = correct[:, j][:, trials].transpose(1, 0, 2).reshape(len(trials), -1)  # (trial, train x time)
        accuracy[:, :, j] = (counts @ scores).reshape(n_draws, len(TASKS), -1) / len(trials)
    return accuracy


def onset_interval(onsets):
    """The ``CI`` percentiles (ci_bound, ...) of bootstrap onsets (draws, ...), where +inf marks a draw without one.

    A missing onset counts as later than any: a percentile that reaches
    such a draw (with a non-zero interpolation weight) is undefined, NaN.
    """
    onsets = np.asarray(onsets, float)
    missing = np.isinf(onsets)
    if len(onsets) == 0:
        return np.full((len(CI), *onsets.shape[1:]), np.nan)
    latest = np.max(onsets, where=~missing, initial=0.0)
    bounds = np.quantile(np.where(missing, latest + 1, onsets), CI, axis=0)  # sorted after every onset found
    return np.where(np.quantile(missing.astype(float), CI, axis=0) > 0, np.nan, bounds)


def found_onset_interval(onsets):
    """The ``CI`` percentiles (ci_bound, ...) of bootstrap onsets (draws, ...) among the draws that found one
    (+inf marks a draw without); NaN where none did. Whether there is an onset is the found fraction's to say."""
    found = np.where(np.isinf(onsets), np.nan, np.asarray(onsets, float))
    if not np.isfinite(found).any(axis=0).any():
        return np.full((len(CI), *found.shape[1:]), np.nan)
    with warnings.catch_warnings():  # all-NaN slices: courses that no draw found an onset in
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(found, CI, axis=0)


def location_decoding(sessions, n_folds=5, C=1.0, n_resamples=1, n_permutations=100, alpha=0.05, cluster_alpha=0.05,
                      n_bootstrap=200, rng=None):
    """The cued location decoded in every time bin of one region's pseudo-populations, with its statistics.

    Parameters
    ----------
    sessions : list of xarray.Dataset
        One region's rates, one dataset per session (``rate`` (trial,
        neuron, time); per-trial ``task``, ``cued``, ``session``).
    n_folds, C :
        Cross-validation folds and inverse L2 strength.
    n_resamples : int
        Pseudo-populations drawn (trials balanced over task x cued location
        per session); scores are their mean, ``*_ci`` their 2.5 and 97.5
        percentiles (with one resample, the accuracy's binomial interval over
        the test task's trials).
    n_permutations : int
        Size of the label-permutation null, spread over the resamples. Each
        permutation is one resample's score, compared with the mean over
        resamples, whose spread under the null is no larger: with several
        resamples the p-values are conservative.
    alpha, cluster_alpha : float
        Per-bin threshold and family-wise level of the cluster-mass test,
        corrected over the four accuracy courses (train x test task)
        together: permutation k of every course comes from one shuffle.
    n_bootstrap : int
        Bootstrap draws of the onset latency's interval. Each draw resamples
        the test task's trials with replacement within each cued location
        and recomputes the accuracy courses from the per-trial correctness
        (the decoders are not refitted: the interval is over the test
        trials, not over the training sets). It then applies the observed
        test's rule (:func:`~wmattn.analysis.stats.cluster_rule`: the
        per-bin threshold, z-scoring and critical cluster mass that the
        permutation null gave the observed courses, family-wise over the
        four) and takes the draw's first bin at or after 0 in a significant
        cluster. With several resamples draw b resamples the trials of
        resample ``b % n_resamples``: the interval is then over single
        resamples' courses (noisier than their mean, as the permutations
        are), while ``onset_latency`` is that of the mean course.
    rng : numpy.random.Generator or seed
        Draws the resamples, seeds their folds and permutations, and then
        draws the bootstrap.

    Returns
    -------
    xarray.Dataset
        ``accuracy``, ``auc`` and their ``*_ci``, ``generalization``,
        ``weights``, ``weight_cosine`` and ``null`` as
        :func:`cross_task_decoding` (not its per-trial ``correct``);
        ``p_value`` and ``significant`` (train_task, test_task, time);
        ``onset_latency`` (train_task, test_task), the time (ms from the cue
        onset) of each course's first bin at or after 0 in a significant
        cluster, NaN if there is none; ``onset_latency_ci`` (ci_bound,
        train_task, test_task), the 2.5 and 97.5 percentiles of the
        bootstrap draws' onsets, where a draw without an onset counts as
        later than any: a bound is NaN (undefined) when the draws without
        one reach it (:func:`onset_interval`), i.e. the upper bound once
        about 2.5 % of them find none (5 or more of 200 draws), the lower
        once about 97.5 % do, and both with no draws;
        ``onset_latency_found_ci``, the same percentiles over the draws that
        found an onset (:func:`found_onset_interval`: the latency's
        uncertainty where there is one); ``onset_found_fraction`` (train_task,
        test_task), the fraction of draws that found an onset; ``ccgp``
        (time); ``n_trials`` (task) of a resample; the neurons'
        ``neuron_session`` and ``session_neuron``.
    """
    if n_permutations < 1:
        raise ValueError("decoding.n_permutations must be at least 1 for the statistics")
    rng = np.random.default_rng(rng)
    condition = condition_codes(sessions, ["task", "cued"])
    task_all, cued_all = trial_values(sessions, "task"), trial_values(sessions, "cued")
    runs, ccgps, scored = [], [], []
    for r in range(n_resamples):
        X, source = resample(sessions, condition, rng)
        task, cued = task_all[source], cued_all[source]
        run = cross_task_decoding(X, cued, task, n_folds, C, len(range(r, n_permutations, n_resamples)),
                                  int(rng.integers(2**31)))
        scored.append((run["correct"].to_numpy(), task, cued))  # bool (train, test, trial, time), for the bootstrap
        runs.append(run.drop_vars("correct"))
        ccgps.append(ccgp(X, cued, condition[source], SlidingLogisticRegression(C), context=task))
        print(f"decoding: resample {r + 1}/{n_resamples} done", flush=True)
    null = xr.concat([run["null"] for run in runs if "null" in run], "permutation")
    runs = xr.concat([run.drop_vars("null", errors="ignore") for run in runs], "resample")
    runs["ccgp"] = (("resample", "time"), np.array(ccgps))
    decoding = runs.mean("resample")
    for name in ("accuracy", "auc"):
        decoding[f"{name}_ci"] = runs[name].quantile(CI, "resample").rename(quantile="ci_bound")
    n_trials = [np.sum(task == name) for name in TASKS]
    if n_resamples == 1:  # the trials themselves: the interval of the test trials' sampling instead
        decoding["accuracy_ci"] = binomial_interval(decoding["accuracy"], xr.DataArray(n_trials, dims="test_task"))
    observed = decoding["accuracy"].to_numpy()
    decoding["null"] = null
    decoding["p_value"] = (null.dims[1:], permutation_p_values(observed, null.to_numpy()))
    # the four courses (train x test task) corrected together
    decoding["significant"] = (null.dims[1:], cluster_mass_test(observed, null.to_numpy(), alpha, cluster_alpha,
                                                                family_axes=(0, 1)).significant)
    decoding["n_trials"] = ("task", n_trials)
    time = sessions[0]["time"].to_numpy()
    # the selection onset and its bootstrap over the test trials, by the observed courses' rule
    latency = onset_time(decoding["significant"].to_numpy(), time)
    rule = cluster_rule(observed, null.to_numpy(), alpha, cluster_alpha, family_axes=(0, 1))
    onsets = np.empty((n_bootstrap, len(TASKS), len(TASKS)))
    for r, (correct, task, cued) in enumerate(scored):
        draws = slice(r, n_bootstrap, n_resamples)  # draw b from resample b % n_resamples
        accuracy = bootstrap_accuracy(correct, task, cued, len(range(n_bootstrap)[draws]), rng)
        onsets[draws] = onset_time(cluster_significant(accuracy, rule), time)
    pair = ("train_task", "test_task")
    onset_attrs = {"units": "ms", "reference": "cue onset"}
    decoding["onset_latency"] = (pair, np.where(np.isinf(latency), np.nan, latency), onset_attrs)
    decoding["onset_latency_ci"] = (("ci_bound", *pair), onset_interval(onsets), onset_attrs)
    decoding["onset_latency_found_ci"] = (("ci_bound", *pair), found_onset_interval(onsets), onset_attrs)
    decoding["onset_found_fraction"] = (pair, np.isfinite(onsets).mean(axis=0) if n_bootstrap else
                                        np.full(latency.shape, np.nan))
    return decoding.assign_coords(
        time=time, train_time=time, test_time=time, task=list(TASKS), ci_bound=list(CI),
        neuron=np.arange(decoding.sizes["neuron"]),
        # where each decoded neuron is: its session, and its index in that session's rates file
        neuron_session=("neuron", np.concatenate([np.full(rates.sizes["neuron"], rates["session"].to_numpy()[0])
                                                  for rates in sessions])),
        session_neuron=("neuron", np.concatenate([rates["neuron"].to_numpy() for rates in sessions])),
    ).assign_attrs(family="the four accuracy courses (train x test task) are corrected together")
