"""Epoch-window analyses of one region in one session, each with its interval or null.

Each function takes a rates dataset of one region and one session (``rate``
(trial, neuron, time); per-trial ``task``, ``cued``, ``color_upper``,
``color_lower``) and a window in ms from the cue onset, and works on the
rates averaged over the window. They are what the circuit's claims are
tested with: the generalisation index of the cued location across tasks
(Panichello & Buschman 2021, Fig. 2), whether a colour is held (decodable
above a colour-shuffle null), and whether two items' colour planes are
aligned (above a colour-shuffle null, Fig. 4).
"""

import numpy as np
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from wmattn.analysis.colour import N_COLOR_BINS, color_bin
from wmattn.analysis.geometry import plane_cosine
from wmattn.task import TASKS

CI = (2.5, 97.5)


def window_mean(rates, window):
    """Rates averaged over the bins whose centres lie in ``window`` (ms): (trial, neuron)."""
    time = rates["time"].to_numpy()
    inside = (time >= window[0]) & (time <= window[1])
    if not inside.any():
        raise ValueError(f"no time bin in the window {window} ms")
    return rates["rate"].to_numpy()[:, :, inside].mean(axis=2)


def _classifier(C):
    return LogisticRegression(C=C, max_iter=1000)


def _zscored(X):
    """Each neuron z-scored over every trial of both tasks (no labels used).

    Not over the training task alone: a population silent in one task has a
    tiny spread there, and its activity in the other task would be scaled
    into huge values that decide the transfer by the sign of a weight fitted
    to noise.
    """
    return (X - X.mean(axis=0)) / X.std(axis=0).clip(min=1e-9)


def location_generalization(rates, window, n_folds=5, C=1.0, n_bootstrap=1000, rng=None):
    """Within-task and cross-task decoding of the cued location, and GI = (transfer - 0.5) / (within - 0.5).

    Within: each trial predicted by a decoder (L2 logistic regression on
    rates z-scored over all trials) cross-validated on its own task
    (stratified folds). Transfer: each trial predicted by a decoder
    trained on every trial of the other task. Both are averaged over the two
    tasks. The interval is a percentile bootstrap over trials, resampled
    within each task x cued location; the decoders are not refitted, so it
    is the interval of the test trials' sampling.

    Returns a dict with ``within``, ``transfer``, ``gi`` and their 95 %
    intervals ``*_interval``.
    """
    rng = np.random.default_rng(rng)
    X = _zscored(window_mean(rates, window))
    task, cued = rates["task"].to_numpy(), rates["cued"].to_numpy()
    within, transfer = np.zeros(len(task)), np.zeros(len(task))
    for name in TASKS:
        own, other = task == name, task != name
        folds = StratifiedKFold(n_folds, shuffle=True, random_state=int(rng.integers(2**31)))
        within[own] = cross_val_predict(_classifier(C), X[own], cued[own], cv=folds) == cued[own]
        transfer[other] = _classifier(C).fit(X[own], cued[own]).predict(X[other]) == cued[other]
    strata = [np.flatnonzero((task == t) & (cued == c)) for t in TASKS for c in np.unique(cued)]

    def summary(rows):
        w = np.mean([within[rows][task[rows] == t].mean() for t in TASKS])
        x = np.mean([transfer[rows][task[rows] == t].mean() for t in TASKS])
        return w, x, (x - 0.5) / (w - 0.5)

    estimate = summary(np.arange(len(task)))
    draws = np.array([summary(np.concatenate([rng.choice(rows, len(rows)) for rows in strata]))
                      for _ in range(n_bootstrap)])
    result = dict(zip(("within", "transfer", "gi"), estimate))
    for k, name in enumerate(("within", "transfer", "gi")):
        result[f"{name}_interval"] = tuple(np.nanpercentile(draws[:, k], CI))
    return result


def colour_score(X, color, n_folds, rng):
    """Cross-validated circular decoding of ``color`` (radians) from ``X``: the mean cosine of the error.

    A ridge regression predicts the colour's cosine and sine; 0 is chance, 1 perfect.
    """
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=int(rng.integers(2**31)))
    target = np.column_stack([np.cos(color), np.sin(color)])
    predicted = cross_val_predict(make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-1, 4, 11))),
                                  X, target, cv=folds.split(X, color_bin(color)))
    return float(np.mean(np.cos(np.arctan2(predicted[:, 1], predicted[:, 0]) - color)))


def colour_decoding(rates, window, item, trials=None, n_folds=5, n_shuffles=100, rng=None):
    """How well ``item``'s colour (``upper`` or ``lower``) is decoded in ``window``, against a shuffle null.

    ``trials`` is a boolean mask of the trials to use (default all). Returns
    the score (:func:`colour_score`), its null from ``n_shuffles`` colour
    permutations and the permutation p-value.
    """
    rng = np.random.default_rng(rng)
    trials = np.ones(rates.sizes["trial"], bool) if trials is None else np.asarray(trials)
    X, color = window_mean(rates, window)[trials], rates[f"color_{item}"].to_numpy()[trials]
    score = colour_score(X, color, n_folds, rng)
    null = np.array([colour_score(X, rng.permutation(color), n_folds, rng) for _ in range(n_shuffles)])
    return {"score": score, "null": null, "p_value": (1 + np.sum(null >= score)) / (1 + n_shuffles)}


def _bin_means(X, bins):
    return np.stack([X[bins == b].mean(axis=0) for b in range(N_COLOR_BINS)])


def plane_alignment(rates, window, first, second, n_shuffles=100, rng=None):
    """|cos| of the angle between two colour planes in ``window``, with a colour-shuffle null.

    ``first`` and ``second`` are ``(item, trials)``: the item whose colour
    spans the plane (``upper`` or ``lower``) and a boolean mask of the
    trials that give its condition means (4 colour bins, as Panichello &
    Buschman). Each plane is centred on its own mean before the joint PCA
    (:func:`wmattn.analysis.geometry.plane_cosine`). The null shuffles the colours
    within each set of trials; the p-value is one-sided (aligned above
    chance).
    """
    rng = np.random.default_rng(rng)
    X = window_mean(rates, window)
    parts = [(X[np.asarray(trials)], color_bin(rates[f"color_{item}"].to_numpy()[np.asarray(trials)]))
             for item, trials in (first, second)]

    def cosine(shuffle):
        means = [_bin_means(x, rng.permutation(bins) if shuffle else bins) for x, bins in parts]
        return abs(plane_cosine(means[0], means[1], center_each=True))

    value = cosine(False)
    null = np.array([cosine(True) for _ in range(n_shuffles)])
    return {"cosine": value, "null": null, "p_value": (1 + np.sum(null >= value)) / (1 + n_shuffles)}
