"""What every figure shares: colours, the time axis's epochs, saving."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

CHANCE = 0.5
CUE_MS = 300  # shaded in every time course: the cue epoch's default length
# Okabe & Ito's colour-blind-safe palette: two colours for the tasks, the rest
# for regions in config order, the same in every figure.
TASK_COLOURS = {"retro": "#0072B2", "pro": "#E69F00"}
REGION_PALETTE = ("#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442")
LOCATION_COLOURS = {"upper": "0.1", "lower": "0.6"}  # dark and light grey: distinct from the task and region colours
STYLE = {  # (train, test): the training task's colour; transfer is dashed
    (train, test): (TASK_COLOURS[train], "-" if train == test else "--")
    for train in TASK_COLOURS for test in TASK_COLOURS
}


def save(figure, paths):
    """Write ``figure`` to every path (one per format), at the resolution the report shows."""
    for path in paths:
        figure.savefig(path, dpi=150)


def region_colours(regions):
    """One palette colour per region, in the order given (the config's)."""
    return {region: REGION_PALETTE[k % len(REGION_PALETTE)] for k, region in enumerate(regions)}


def mark_cue(ax, label=None):
    """Shade the cue epoch on a time axis in ms from the cue onset."""
    ax.axvspan(0, CUE_MS, color="0.92", zorder=0, label=label)


# Epochs marked on every time course besides the shaded cue: their letter at the top of the axes.
EPOCH_LETTERS = {"samples": "S", "response": "R"}


def mark_epochs(ax, onsets, tasks=None):
    """Shade the cue; mark each task's sample and response onsets on a time axis in ms from the cue onset.

    ``onsets`` is a decoding file's ``epoch_onset`` (task, epoch,
    onset_statistic: min, median, max). In each task's colour a dotted line
    is drawn at the median onset, with its letter (S, R) at the top of the
    axes, and a thin bar there spans the onsets' range (the task's jitter).
    """
    mark_cue(ax)
    top = ax.get_xaxis_transform()  # x in data, y in axes fraction
    for k, task in enumerate(onsets["task"].to_numpy() if tasks is None else tasks):
        for epoch, letter in EPOCH_LETTERS.items():
            low, median, high = onsets.sel(task=task, epoch=epoch).to_numpy()
            if not np.isfinite(median):
                continue
            colour = TASK_COLOURS.get(task, "0.3")
            ax.axvline(median, color=colour, lw=0.7, ls=":", zorder=0)
            ax.plot([low, high], [0.985 - 0.025 * k] * 2, transform=top, color=colour, lw=2, alpha=0.5, clip_on=False)
            ax.text(median, 0.94 - 0.025 * k, letter, transform=top, color=colour, fontsize="x-small", ha="center",
                    va="top", fontweight="bold")


def while_trials_run(course, onsets, task):
    """``course`` (a DataArray over ``time``) with NaN after the last response onset of ``task``'s trials.

    Every trial of the task is over then (the circuit silences a trial at its
    response; a recording's rates there belong to the next trial), so a
    score there means nothing and is not drawn.
    """
    end = float(onsets.sel(task=task, epoch="response", onset_statistic="max"))
    return course.where(course["time"] <= end) if np.isfinite(end) else course


def _label_region_grid(axes, regions, row_labels, xlabel):
    """Region names (in their colours) over the columns, ``row_labels`` beside the rows."""
    for ax, region in zip(axes[0], regions):
        ax.set_title(region, color=region_colours(regions)[region], fontweight="bold")
    for ax, label in zip(axes[:, 0], row_labels):
        ax.set_ylabel(label)
    for ax in axes[-1]:
        ax.set_xlabel(xlabel)
