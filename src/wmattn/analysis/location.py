"""Time-resolved decoding of the cued location, within and across tasks.

As in MNE-Python's ``SlidingEstimator``, one z-scored L2 logistic regression is
fitted per time bin. Within a task the scores are stratified k-fold
cross-validated (the same folds for every bin); across tasks a decoder fitted on
every trial of one task is tested on every trial of the other, which asks
whether one selection axis serves both tasks. Cross-temporal generalisation
tests every bin's decoder at every bin.

Every neuron is z-scored over the trials of both tasks, without their labels,
not over the training task (or fold) alone: a population silent in one task
has a tiny spread there, and scaled by it the other task's activity becomes
huge, so the transfer is decided by the sign of weights fitted to noise (seen
in the circuit with separate control). Panichello & Buschman's
``logregTFdir.m`` fits ``fitclinear`` to the rates it is given, with no
scaling of its own.

Speed comes from fitting everything that shares trials at once
(``wmattn.logistic.fit_logistic``): all time bins, all folds plus the fit on
every trial, and the observed labels together with their permutations.
"""

import numpy as np
import xarray as xr
from scipy.stats import rankdata
from sklearn.model_selection import StratifiedKFold

from wmattn.logistic import fit_logistic, standardization
from wmattn.task import TASKS

TOL = 1e-4


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


def fit_task(X, labels, test, C, standardize=None):
    """Fit every fold and the whole set of one task's trials, for every labelling.

    Parameters
    ----------
    X : array (trials, neurons, times)
    labels : array (trials, labellings)
        0/1 labels.
    test : array (trials, folds)
        Each fold's held-out trials (``stratified_folds``).
    C : float
    standardize : (mean, scale), optional
        Arrays (times, neurons) that z-score the rates before the fit; by
        default the mean and standard deviation over the trials of ``X``.

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
    mean, scale = standardization(X) if standardize is None else standardize
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
        every trial of the task (rates z-scored over both tasks), and ``weight_cosine`` (time) between the two
        tasks' weight vectors; ``null`` (permutation, train_task, test_task,
        time) if ``n_permutations``. Dimensions carry no coordinates.
    """
    rng = np.random.default_rng(random_state)
    task, y = np.asarray(task), np.asarray(y)
    classes = np.unique(y)
    if len(classes) != 2:
        raise ValueError(f"decoding needs two classes, got {list(classes)}")
    data, fits = {}, {}
    both_tasks = standardization(np.asarray(X, np.float32)[np.isin(task, TASKS)].transpose(2, 0, 1))
    for name in TASKS:
        trials = task == name
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
