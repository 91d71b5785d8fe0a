"""Summary statistics of a session set's decoding: what the posterior estimator sees of a simulation or a recording.

Every statistic is computed the same way for the observed rates and for each
simulated draw, from rates files of the contract (DESIGN.md). Per region:

- ``within`` and ``transfer`` accuracy of the cued location in each epoch
  window (:func:`wmattn.analysis.generalization.window_generalization`, point
  estimate only), and GI over both directions with the within-task accuracy
  floored at ``GI_FLOOR``: GI's denominator vanishes where a task barely
  decodes, and one undefined or huge GI would exclude or dominate a draw;
- the selection onset ``latency`` of each task: the time at which the
  within-task accuracy, decoded in short windows after the cue, first reaches
  half of its rise from chance to its maximum (interpolated; always defined,
  so no stand-in for "no onset");
- the ``axis_cosine`` of each epoch window: the cosine between the retro and
  the pro task's coding axes of the cued location (:func:`axis_cosine`), which
  keeps growing with the share of neurons that code it in both tasks after
  cross-task accuracy has saturated;
- the ``log_specificity`` of each epoch window: log10 of how differently the
  most selective neurons code the cued location in the two tasks
  (:func:`task_specificity`), which keeps falling with that share after the
  cosine of the whole population has saturated; in logarithms because it spans
  two orders of magnitude over the prior (0.015 to 1 over the default's draws),
  which the estimator's z-scoring would squash into a few outliers;
- ``colour`` information of the cued and of the uncued item after the retro
  cue: the mean over neurons of the percent explained variance
  (:func:`wmattn.analysis.colour.percent_explained_variance`).

And behaviour, where the trials carry reports: per task the median absolute
report error and the swap rate of the mixture model
(:func:`wmattn.analysis.behaviour.fit_mixture`), over two-item trials.
"""

import numpy as np
import pandas as pd

from wmattn.analysis.behaviour import circular_error, fit_mixture
from wmattn.analysis.colour import item_colors, percent_explained_variance
from wmattn.analysis.generalization import window_generalization
from wmattn.analysis.windows import window_mean
from wmattn.task import TASKS

GI_FLOOR = 0.1  # within-task accuracy - 0.5 below this counts as this in GI's denominator
# The share of a region's neurons, the most selective for the cued location, whose task specificity is measured:
# the neurons that select carry the difference between shared and separate control; averaged over all, it is
# diluted by the many that hold items or report.
SELECTIVE_SHARE = 0.1
SPECIFICITY_FLOOR = 1e-3  # task specificity below this counts as this in its logarithm


def latency_windows(grid):
    """Short windows ``{"latency_<centre>": [start, end]}`` of ``grid`` (``start``, ``stop``, ``width``, ms)."""
    starts = np.arange(grid["start"], grid["stop"] - grid["width"] + 1e-9, grid["width"])
    return {f"latency_{start + grid['width'] / 2:g}": [float(start), float(start + grid["width"])] for start in starts}


def half_rise_time(times, accuracy):
    """The first time ``accuracy`` reaches half its rise from 0.5 to its maximum, linearly interpolated."""
    target = 0.5 + (accuracy.max() - 0.5) / 2
    i = int(np.argmax(accuracy >= target))
    if i == 0:
        return float(times[0])
    step = accuracy[i] - accuracy[i - 1]
    return float(times[i - 1] + (target - accuracy[i - 1]) / step * (times[i] - times[i - 1]))


def region_statistics(sessions, settings, n_folds, C, rng):
    """One region's statistics, ``{name: value}``; ``sessions`` its rates (``rate``, ``task``, ``cued``,
    ``session``, ``n_items``, ``color_upper``, ``color_lower``), one per session."""
    windows, grid = settings["windows"], latency_windows(settings["latency"])
    decoded = window_generalization(sessions, {**windows, **grid}, n_folds=n_folds, C=C, n_bootstrap=0, rng=rng,
                                    n_resamples=settings["n_resamples"])
    accuracy = decoded["window_accuracy"]
    values = {}
    for window in windows:
        for task in TASKS:
            values[f"within.{task}.{window}"] = float(accuracy.sel(window=window, train_task=task, test_task=task))
        for train, test in ((TASKS[0], TASKS[1]), (TASKS[1], TASKS[0])):
            values[f"transfer.{train}_to_{test}.{window}"] = float(accuracy.sel(window=window, train_task=train,
                                                                               test_task=test))
        within = np.mean([values[f"within.{task}.{window}"] for task in TASKS]) - 0.5
        transfer = np.mean([values[f"transfer.{a}_to_{b}.{window}"] for a, b in ((TASKS[0], TASKS[1]), (TASKS[1], TASKS[0]))]) - 0.5
        values[f"gi.{window}"] = transfer / max(within, GI_FLOOR)
    centres = decoded["window_start"].sel(window=list(grid)).to_numpy() + settings["latency"]["width"] / 2
    for task in TASKS:
        curve = accuracy.sel(window=list(grid), train_task=task, test_task=task).to_numpy()
        values[f"latency.{task}"] = half_rise_time(centres, curve)
    for window, bounds in windows.items():
        axes = coding_axes(sessions, bounds)
        values[f"axis_cosine.{window}"] = axis_cosine(*axes)
        values[f"log_specificity.{window}"] = float(np.log10(max(task_specificity(*axes), SPECIFICITY_FLOOR)))
    for status, pev in zip(("cued", "uncued"), _colour_information(sessions, settings["colour_window"])):
        values[f"colour.{status}"] = pev
    return values


def coding_axes(sessions, window):
    """The retro and the pro task's coding axes of the cued location in ``window``: per neuron, the mean rate on
    two-item trials cued to the upper item less that on those cued to the lower one, with rates z-scored per
    neuron over both tasks' trials (so that high-rate neurons do not dominate), concatenated over sessions."""
    axes = {task: [] for task in TASKS}
    for rates in sessions:
        rate = window_mean(rates, window, "inference.summaries.windows")
        rate = (rate - rate.mean(axis=0)) / np.maximum(rate.std(axis=0), 1e-9)
        task, upper, two = rates["task"].to_numpy(), rates["cued"].to_numpy() == "upper", _two_items(rates)
        for name in TASKS:
            trials = (task == name) & two
            axes[name].append(rate[trials & upper].mean(axis=0) - rate[trials & ~upper].mean(axis=0))
    return tuple(np.concatenate(axes[name]) for name in TASKS)


def axis_cosine(retro, pro):
    """The cosine between the retro and the pro coding axes (:func:`coding_axes`).

    Cross-task accuracy saturates once a few neurons carry the cued location in
    both tasks (the decoder finds them); the cosine grows with the share of the
    population that does.
    """
    return float(retro @ pro / max(np.linalg.norm(retro) * np.linalg.norm(pro), 1e-12))


def task_specificity(retro, pro):
    """How differently the most selective neurons code the cued location in the two tasks, from 0 (alike in both)
    to 1 (each in one task only): sum |retro - pro| / sum (|retro| + |pro|) over the ``SELECTIVE_SHARE`` of
    neurons (at least one) with the largest |retro| + |pro| (:func:`coding_axes`).

    A neuron that codes in one task a fraction f of what it codes in the other adds (1 - f) / (1 + f): unlike
    the cosine, which moves with the square of small differences, this moves with them, so it tells a
    controller whose task-specific neurons are half recruited by the other task from one without such neurons.
    """
    strength = np.abs(retro) + np.abs(pro)
    top = np.argsort(strength)[::-1][:max(1, int(round(SELECTIVE_SHARE * len(strength))))]
    return float(np.abs(retro[top] - pro[top]).sum() / max(strength[top].sum(), 1e-12))


def _colour_information(sessions, window):
    """Mean PEV over neurons of the cued and the uncued item's colour in ``window``, two-item retro trials."""
    per_status = [[], []]
    for rates in sessions:
        kept = (rates["task"].to_numpy() == "retro") & _two_items(rates)
        rates = rates.isel(trial=kept)
        rate = window_mean(rates, window, "inference.summaries.colour_window")
        for status, color in enumerate(item_colors(rates)):
            per_status[status].append(percent_explained_variance(rate, color))
    return [float(np.nanmean(np.concatenate(pev))) for pev in per_status]


def _two_items(rates):
    return rates["n_items"].to_numpy() == 2 if "n_items" in rates.coords else np.ones(rates.sizes["trial"], bool)


def behaviour_statistics(sessions):
    """Per task the median absolute report error (radians) and the mixture model's swap rate, two-item trials.
    ``sessions`` are rates datasets with ``report``; trials without a report (NaN) are left out."""
    trials = pd.concat([pd.DataFrame({name: rates[name].to_numpy() for name in
                                      ("task", "cued", "color_upper", "color_lower", "report")})
                        .assign(two=_two_items(rates)) for rates in sessions], ignore_index=True)
    trials = trials[trials["two"] & np.isfinite(trials["report"])]
    upper = (trials["cued"] == "upper").to_numpy()
    target = np.where(upper, trials["color_upper"], trials["color_lower"])
    other = np.where(upper, trials["color_lower"], trials["color_upper"])
    values = {}
    for task in TASKS:
        rows = (trials["task"] == task).to_numpy()
        report = trials["report"].to_numpy()[rows]
        values[f"behaviour.error.{task}"] = float(np.median(np.abs(circular_error(report, target[rows]))))
        values[f"behaviour.swap.{task}"] = float(fit_mixture(report, target[rows], other[rows]).p_swap)
    return values


def summary_statistics(sessions, settings, n_folds, C, rng, behaviour=True):
    """Every statistic of a set of sessions (rates datasets of every region), a ``pandas.Series`` by name.

    ``settings`` is the config's ``inference.summaries`` (``windows``,
    ``latency``, ``colour_window``, ``n_resamples``); ``n_folds`` and ``C``
    are the decoding's. Regions come in the order they first appear;
    statistic names are ``<region>.<statistic>`` and ``behaviour.<...>``.
    """
    rng = np.random.default_rng(rng)
    regions = list(dict.fromkeys(np.concatenate([rates["region"].to_numpy() for rates in sessions])))
    values = {}
    for region in regions:
        members = [rates.isel(neuron=rates["region"].to_numpy() == region) for rates in sessions]
        members = [rates for rates in members if rates.sizes["neuron"]]
        values |= {f"{region}.{name}": value for name, value in region_statistics(members, settings, n_folds, C, rng).items()}
    if behaviour:
        values |= behaviour_statistics(sessions)
    return pd.Series(values, dtype=float)
