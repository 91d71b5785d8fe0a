"""A parameter sweep of one region: its transfer and its generalisation index against the swept value."""

import pandas as pd

from wmattn.figures.decoding import DIRECTION_MARKERS, GI_LIMITS
from wmattn.figures.style import CHANCE, STYLE, plt
from wmattn.task import TASKS

DIRECTIONS = ("retro_to_pro", "pro_to_retro")
WINDOW_LINES = ("-", "--", "-.", ":")  # one line style per GI window, in the decoding file's order


def _tasks(direction):
    """(train, test) of a direction such as ``retro_to_pro``."""
    train, test = direction.split("_to_")
    return train, test


def sweep_summary(values, decodings, region, window):
    """One row per sweep point: the swept region's accuracies and generalisation indices.

    Parameters
    ----------
    values : list
        The swept value of every point.
    decodings : list of xarray.Dataset
        The swept region's decoding at every point: ``accuracy``
        (train_task, test_task, time) and ``accuracy_ci`` (ci_bound,
        train_task, test_task, time); ``gi`` (window, direction) and
        ``gi_ci`` (ci_bound, window, direction) in the epoch windows.
    region : str
        The swept region (the decodings' region; not read, for the record).
    window : (float, float)
        ms after the cue onset over which the accuracies are averaged.

    Returns
    -------
    pandas.DataFrame
        ``value``; ``within_{task}`` (the within-task accuracy of each task)
        and ``transfer_{direction}`` (``retro_to_pro``, ``pro_to_retro``),
        each the mean over the bins of ``window`` with its interval (the
        bins' bounds averaged) as ``*_low``/``*_high``; and
        ``gi_{gi_window}_{direction}`` with ``*_low``/``*_high`` for every
        GI window of the decoding file and both directions (the stored
        value, also where the within-task accuracy is near chance and GI
        unstable).
    """
    rows = []
    for value, decoding in zip(values, decodings, strict=True):
        in_window = decoding.sel(time=slice(*window))
        if in_window.sizes["time"] == 0:
            raise ValueError(f"sweep of {region}: no time bin of the decoding lies in the window {window} ms")
        row = {"value": value}
        pairs = [(f"within_{task}", task, task) for task in TASKS]
        pairs += [(f"transfer_{direction}", *_tasks(direction)) for direction in DIRECTIONS]
        for label, train, test in pairs:
            pair = {"train_task": train, "test_task": test}
            row[label] = float(in_window["accuracy"].sel(pair).mean("time"))
            row[f"{label}_low"], row[f"{label}_high"] = in_window["accuracy_ci"].sel(pair).mean("time").to_numpy()
        for gi_window in decoding["window"].to_numpy():
            for direction in DIRECTIONS:
                where = {"window": gi_window, "direction": direction}
                label = f"gi_{gi_window}_{direction}"
                row[label] = float(decoding["gi"].sel(where))
                row[f"{label}_low"], row[f"{label}_high"] = decoding["gi_ci"].sel(where).to_numpy()
        rows.append(row)
    return pd.DataFrame(rows)


def gi_windows(summary):
    """The GI windows of a :func:`sweep_summary` table, in its columns' order."""
    suffix = f"_{DIRECTIONS[0]}"
    return [column[3:-len(suffix)] for column in summary.columns if column.startswith("gi_") and column.endswith(suffix)]


def sweep_figure(summary, key, region, window, configured=None):
    """Transfer (both directions) and generalisation index of the swept region against the swept value.

    ``summary`` is :func:`sweep_summary`'s table; ``key`` the swept config
    key; ``window`` the accuracies' window; ``configured`` the value in the
    main config, marked if a number. Left: transfer in both directions with
    its interval and the training task's within-task accuracy; right: GI of
    both directions in every GI window with its interval.
    """
    summary = summary.sort_values("value")
    x = summary["value"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained", sharex=True)
    if isinstance(configured, (int, float)):
        for ax in axes:
            ax.axvline(configured, color="0.3", lw=0.8, ls="-.", label=f"main config ({configured:g})")
    ax = axes[0]
    ax.axhline(CHANCE, color="0.4", lw=0.8, ls=":")
    for direction in DIRECTIONS:
        train, test = _tasks(direction)
        colour, line = STYLE[(train, test)]
        ax.plot(x, summary[f"transfer_{direction}"], color=colour, ls=line, marker="o", label=f"{train} \u2192 {test}")
        ax.fill_between(x, summary[f"transfer_{direction}_low"], summary[f"transfer_{direction}_high"],
                        color=colour, alpha=0.15, lw=0)
        ax.plot(x, summary[f"within_{train}"], color=colour, lw=0.8, marker=".", label=f"within {train} (training task)")
    ax.set(xlabel=key, ylabel="cued-location accuracy", ylim=(0.3, 1.02),
           title=f"{region}: cross-task transfer, {window[0]:g} to {window[1]:g} ms")
    ax.legend(fontsize="small", frameon=False)

    ax = axes[1]
    ax.axhline(0, color="0.4", lw=0.8, ls=":")
    ax.axhline(1, color="0.4", lw=0.8, ls=":")
    for k, gi_window in enumerate(gi_windows(summary)):
        line = WINDOW_LINES[k % len(WINDOW_LINES)]
        for direction in DIRECTIONS:
            train, test = _tasks(direction)
            colour = STYLE[(train, test)][0]
            label = f"gi_{gi_window}_{direction}"
            ax.plot(x, summary[label], color=colour, ls=line, marker=DIRECTION_MARKERS[direction],
                    label=f"{gi_window}: {train} \u2192 {test}")
            ax.fill_between(x, summary[f"{label}_low"], summary[f"{label}_high"], color=colour, alpha=0.1, lw=0)
    # GI is unbounded where the within-task accuracy nears chance: keep 0 and 1 readable
    low, high = ax.get_ylim()
    ax.set_ylim(max(low, GI_LIMITS[0]), min(high, GI_LIMITS[1]))
    ax.set(xlabel=key, ylabel=f"generalisation index GI of {region}",
           title="GI in the epoch windows (0: no transfer, 1: full)")
    ax.legend(fontsize="small", frameon=False)
    fig.suptitle(f"Sweep of {key}: 95 % intervals shaded; GI axis clipped to {GI_LIMITS[0]:g}..{GI_LIMITS[1]:g}")
    return fig
