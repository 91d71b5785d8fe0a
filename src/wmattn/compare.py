"""The comparison: every region's decoding beside the attention models.

One row per region, plus the task-trained attention network decoded as one
more region: within-task and cross-task accuracy, how well the network's
selection signal (its attention on the cued minus the uncued item) follows
each of the region's accuracy time courses (``agreement_within_*``,
``agreement_transfer_*``), and the region-attention readout's weight on the
region beside the region's transfer.
"""

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import spearmanr

from wmattn.pseudopop import two_item_trials
from wmattn.task import TASKS

DIRECTIONS = {"retro_to_pro": ("retro", "pro"), "pro_to_retro": ("pro", "retro")}
# Every (train, test) task pair and its name in the tables.
PAIRS = [(train, test, f"within_{train}" if train == test else f"transfer_{train}_to_{test}") for train in TASKS for test in TASKS]


def selection_signal(attention):
    """Attention on the cued minus the uncued item, per trial (trial, time).

    ``attention`` needs ``attention`` (trial, time, item) with items named
    as the ``cued`` coordinate's values (upper, lower).
    """
    weights = attention["attention"]
    cued = weights.sel(item=attention["cued"])
    return 2 * cued - weights.sum("item")


def memory_span(attention, task):
    """The times (ms from the cue) when every trial of ``task`` holds both items and has not yet responded.

    From the latest sample onset to the earliest response onset among the
    trials of ``attention`` (needs ``task``, ``onset_samples`` and
    ``onset_response``). Outside it some trials have no items to select from
    or are over, and a time course compared there would mix in when trials
    start and end.
    """
    trials = attention["task"] == task
    return float(attention["onset_samples"].where(trials).max()), float(attention["onset_response"].where(trials).min())


def bootstrap_correlation(signal, target, n_boot, rng):
    """Pearson r between the trial mean of ``signal`` (trial, time) and ``target`` (time), with a bootstrap over trials.

    Only time bins where both are finite count. Returns (r, 2.5 %, 97.5 %);
    NaN where either course is flat (e.g. decoding at ceiling throughout),
    since a correlation with a constant is undefined.
    """
    signal, target = np.asarray(signal), np.asarray(target)
    both = np.isfinite(target) & np.isfinite(signal).all(axis=0)
    signal, target = signal[:, both], target[both]
    resampled = signal[rng.integers(0, len(signal), (n_boot, len(signal)))].mean(axis=1)
    r = _pearson(np.vstack([signal.mean(axis=0), resampled]), target)
    return r[0], *np.percentile(r[1:], [2.5, 97.5])


def _pearson(rows, target):
    rows = rows - rows.mean(axis=1, keepdims=True)
    target = target - target.mean()
    norms = np.linalg.norm(rows, axis=1) * np.linalg.norm(target)
    # Below float32 resolution of the courses (accuracy, attention in [0, 1]) a course counts as flat.
    return np.divide(rows @ target, norms, out=np.full(len(rows), np.nan), where=norms > 1e-6)


def window_scores(decoding, region_attention, name, window):
    """One region's accuracies and readout weight, averaged over ``window`` (ms after the cue onset).

    ``decoding`` needs ``accuracy`` and ``accuracy_ci`` (over train_task,
    test_task, time); ``region_attention`` the readout's ``weight``
    (direction, time, region). Returns ``within_{task}`` and
    ``transfer_{train}_to_{test}`` with their ``*_ci`` (2.5 and 97.5 %
    bounds), and ``readout_weight_{direction}`` (NaN if the readout did not
    read ``name``, e.g. the network).
    """
    in_window = decoding.sel(time=slice(*window))
    scores = {}
    for train, test, label in PAIRS:
        pair = {"train_task": train, "test_task": test}
        scores[label] = float(in_window["accuracy"].sel(pair).mean())
        scores[f"{label}_ci"] = in_window["accuracy_ci"].sel(pair).mean("time").to_numpy()
    weight = region_attention["weight"].sel(time=slice(*window)).mean("time")
    for direction in DIRECTIONS:
        scores[f"readout_weight_{direction}"] = (
            float(weight.sel(direction=direction, region=name)) if name in weight["region"] else np.nan
        )
    return scores


def summarize(decodings, attention, region_attention, window, n_boot=1000, seed=0):
    """The comparison table.

    Parameters
    ----------
    decodings : dict
        Name to decoding dataset (``accuracy`` and ``accuracy_ci`` over
        train_task, test_task, time), one per region and one for the model.
    attention : xarray.Dataset
        The task network's ``attention`` (trial, time, item) with per-trial
        ``task``, ``cued``, ``onset_samples`` and ``onset_response``, time in
        ms from the cue. Agreement is the correlation, over the test task's
        :func:`memory_span`, of the network's selection signal on that
        task's two-item trials with the accuracy time course.
    region_attention : xarray.Dataset
        ``weight`` (direction, time, region) of the region-attention readout.
    window : (float, float)
        ms after the cue onset over which accuracies and weights are averaged.
    n_boot : int
        Bootstrap resamples of the network's trials for the agreement interval.
    seed : int or numpy.random.SeedSequence

    Returns
    -------
    xarray.Dataset
        Variables over ``region`` (and ``bound`` for intervals); the rank
        correlation across regions of the readout weight with the transfer is
        ``weight_transfer_spearman`` (direction).
    """
    rng = np.random.default_rng(seed)
    names = list(decodings)
    attention = two_item_trials([attention])[0]  # a single-item trial has nothing to select between
    signal = selection_signal(attention)
    columns = {}
    for name in names:
        decoding = decodings[name]
        for label, value in window_scores(decoding, region_attention, name, window).items():
            columns.setdefault(label, []).append(value)
        for train, test, label in PAIRS:
            # The network's selection on the trials the decoder is tested on.
            accuracy = decoding["accuracy"].sel(train_task=train, test_task=test).sel(time=slice(*memory_span(attention, test)))
            model_signal = signal.isel(trial=(attention["task"] == test).to_numpy()).interp(time=accuracy["time"])
            r, low, high = bootstrap_correlation(model_signal, accuracy, n_boot, rng)
            columns.setdefault(f"agreement_{label}", []).append(r)
            columns.setdefault(f"agreement_{label}_ci", []).append([low, high])
    summary = xr.Dataset(
        {
            label: (("region", "bound") if label.endswith("_ci") else ("region",), np.array(values))
            for label, values in columns.items()
        },
        coords={"region": names, "bound": [0.025, 0.975]},
    )
    regions = [name for name in names if name in region_attention["region"]]
    summary["weight_transfer_spearman"] = ("direction", [
        spearmanr(
            summary[f"readout_weight_{direction}"].sel(region=regions),
            summary[f"transfer_{train}_to_{test}"].sel(region=regions),
        ).statistic
        for direction, (train, test) in DIRECTIONS.items()
    ])
    return summary.assign_coords(direction=list(DIRECTIONS)).assign_attrs(window_ms=list(window))


def as_table(summary):
    """One row per region; an interval becomes ``*_low`` and ``*_high`` columns."""
    columns = {}
    for name, variable in summary.data_vars.items():
        if variable.dims == ("region",):
            columns[name] = variable.to_numpy()
        elif variable.dims == ("region", "bound"):
            columns[f"{name}_low"], columns[f"{name}_high"] = variable.to_numpy().T
    return pd.DataFrame(columns, index=pd.Index(summary["region"].to_numpy(), name="region"))
