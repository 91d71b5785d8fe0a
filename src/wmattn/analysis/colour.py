"""Colour of the cued and the uncued item decoded from a region's population."""

import numpy as np

from wmattn.analysis.location import decision, fit_task, fold_mean, stratified_folds
from wmattn.pseudopop import condition_codes, resample, trial_values
from wmattn.task import LOCATIONS, TASKS

N_COLOR_BINS = 4  # as Panichello & Buschman: quarters of the colour wheel


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
