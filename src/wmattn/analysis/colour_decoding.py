"""Is an item's colour held by a population? Decoded from its rates in a window, against a colour-shuffle null.

A population-level complement to the per-neuron colour information of
:mod:`~wmattn.analysis.colour`: the circuit's tests ask with it whether a
ring holds a colour through the delay.
"""

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from wmattn.analysis.colour import color_bin
from wmattn.analysis.windows import window_mean


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
