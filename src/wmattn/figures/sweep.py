"""A parameter sweep of one region: its transfer and its readout weight against the swept value."""

import numpy as np
import pandas as pd

from wmattn.compare import DIRECTIONS, window_scores
from wmattn.figures.style import CHANCE, STYLE, plt


def sweep_summary(values, decodings, readouts, region, window):
    """One row per sweep point: the swept region's accuracies and readout weights.

    Parameters
    ----------
    values : list
        The swept value of every point.
    decodings : list of xarray.Dataset
        The swept region's decoding at every point (``accuracy`` and
        ``accuracy_ci`` over train_task, test_task, time).
    readouts : list of xarray.Dataset
        The region-attention readout at every point (``weight`` over
        direction, time, region).
    region : str
    window : (float, float)
        ms after the cue onset over which accuracies and weights are averaged.

    Returns
    -------
    pandas.DataFrame
        ``value``; the columns of :func:`wmattn.compare.window_scores`
        (``within_*``, ``transfer_*``, ``readout_weight_*``), intervals as
        ``*_low``/``*_high``; ``n_regions`` the readout chose among.
    """
    rows = []
    for value, decoding, readout in zip(values, decodings, readouts, strict=True):
        row = {"value": value}
        for label, score in window_scores(decoding, readout, region, window).items():
            if label.endswith("_ci"):
                row[f"{label[:-3]}_low"], row[f"{label[:-3]}_high"] = score
            else:
                row[label] = score
        row["n_regions"] = readout.sizes["region"]
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_figure(summary, key, region, window, configured=None):
    """Transfer (both directions) and readout weight of the swept region against the swept value.

    ``summary`` is :func:`sweep_summary`'s table; ``key`` the swept config
    key; ``configured`` the value in the main config, marked if a number.
    """
    summary = summary.sort_values("value")
    x = summary["value"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained", sharex=True)
    if isinstance(configured, (int, float)):
        for ax in axes:
            ax.axvline(configured, color="0.3", lw=0.8, ls="-.", label=f"main config ({configured:g})")
    ax = axes[0]
    ax.axhline(CHANCE, color="0.4", lw=0.8, ls=":")
    for direction, (train, test) in DIRECTIONS.items():
        colour, line = STYLE[(train, test)]
        ax.plot(x, summary[f"transfer_{direction}"], color=colour, ls=line, marker="o", label=f"{train} \u2192 {test}")
        ax.fill_between(x, summary[f"transfer_{direction}_low"], summary[f"transfer_{direction}_high"],
                        color=colour, alpha=0.15, lw=0)
        ax.plot(x, summary[f"within_{train}"], color=colour, lw=0.8, marker=".", label=f"within {train} (training task)")
    ax.set(xlabel=key, ylabel="cued-location accuracy", ylim=(0.3, 1.02), title=f"{region}: cross-task transfer")
    ax.legend(fontsize="small", frameon=False)

    ax = axes[1]
    n_regions = np.unique(summary["n_regions"])
    if len(n_regions) == 1:
        ax.axhline(1 / n_regions[0], color="0.4", lw=0.8, ls=":", label="uniform")
    for direction, (train, test) in DIRECTIONS.items():
        colour, line = STYLE[(train, test)]
        ax.plot(x, summary[f"readout_weight_{direction}"], color=colour, ls=line, marker="o",
                label=f"{train} maps / {test} attention")
    ax.set(xlabel=key, ylabel=f"readout weight of {region}", ylim=(0, 1), title="region-attention readout")
    ax.legend(fontsize="small", frameon=False)
    fig.suptitle(f"Sweep of {key}, mean over {window[0]:g} to {window[1]:g} ms after cue onset")
    return fig
