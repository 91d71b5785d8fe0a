"""Time-resolved decoding of the cued location, within and across tasks.

As in MNE-Python's ``SlidingEstimator``, one decoder is fitted per time bin on
the population vector of that bin. Within a task the accuracy is
cross-validated (stratified k-fold, the same folds for every bin); across tasks
a decoder fitted on every trial of one task is tested on every trial of the
other, which asks whether one selection axis serves both tasks.
"""

import numpy as np
import xarray as xr
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from wmattn.task import TASKS


def make_decoder(C=1.0):
    """z-scored features into L2-regularised logistic regression."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))


def _fit_score(decoder, X_train, y_train, X_test, y_test):
    """Accuracy per time bin of a decoder fitted per bin; X is (trial, neuron, time)."""
    return np.array([
        clone(decoder).fit(X_train[:, :, t], y_train).score(X_test[:, :, t], y_test)
        for t in range(X_train.shape[2])
    ])


def cross_validated_accuracy(X, y, decoder, n_folds, random_state):
    """Mean stratified k-fold accuracy per time bin of ``X`` (trial, neuron, time)."""
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=random_state)
    return np.mean(
        [_fit_score(decoder, X[train], y[train], X[test], y[test]) for train, test in folds.split(X[:, :, 0], y)],
        axis=0,
    )


def transfer_accuracy(X_train, y_train, X_test, y_test, decoder):
    """Accuracy per time bin of decoders fitted on one set of trials, tested on another."""
    return _fit_score(decoder, X_train, y_train, X_test, y_test)


def decode_cued_location(rates, n_folds=5, C=1.0, random_state=0):
    """Cued-location accuracy for every train task x test task x time bin.

    Parameters
    ----------
    rates : xarray.Dataset
        Needs ``rate`` (trial, neuron, time) and the per-trial coordinates
        ``task`` (retro|pro) and ``cued`` (upper|lower); every neuron must have
        a rate on every trial (one session).
    n_folds : int
        Folds of the within-task cross-validation.
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    random_state : int
        Seeds the fold assignment.

    Returns
    -------
    xarray.Dataset
        ``accuracy`` (train_task, test_task, time): cross-validated on the
        diagonal, transfer off it; ``n_trials`` per task.
    """
    rate = rates["rate"]
    if rate.isnull().any():
        raise ValueError(
            "rate has missing values (neurons from several sessions); "
            "decoding needs every neuron on every trial"
        )
    decoder = make_decoder(C)
    data = {}
    for task in TASKS:
        trials = (rates["task"] == task).to_numpy()
        data[task] = (rate.to_numpy()[trials], rates["cued"].to_numpy()[trials])
        if len(np.unique(data[task][1])) < 2:
            raise ValueError(f"{task} trials hold only one cued location; nothing to decode")
    accuracy = np.empty((len(TASKS), len(TASKS), rates.sizes["time"]))
    for i, train in enumerate(TASKS):
        for j, test in enumerate(TASKS):
            accuracy[i, j] = (
                cross_validated_accuracy(*data[train], decoder, n_folds, random_state)
                if train == test
                else transfer_accuracy(*data[train], *data[test], decoder)
            )
    return xr.Dataset(
        {
            "accuracy": (("train_task", "test_task", "time"), accuracy),
            "n_trials": ("task", [len(data[task][1]) for task in TASKS]),
        },
        coords={
            "train_task": list(TASKS),
            "test_task": list(TASKS),
            "task": list(TASKS),
            "time": rates["time"],
        },
    )
