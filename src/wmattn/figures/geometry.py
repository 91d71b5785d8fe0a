"""Figures of the selection geometry: colour information of the cued and uncued item, colour planes."""

from itertools import product

import numpy as np

from wmattn.figures.style import LOCATION_COLOURS, TASK_COLOURS, _label_region_grid, mark_cue, plt

def geometry_time_courses(decoding, region):
    """Shared axis, abstraction, colour-plane alignment and colour information over time.

    ``decoding`` needs ``weight_cosine``, ``ccgp`` and ``parallelism``
    (time), ``plane_cosine`` (task, pair, time) and ``color_accuracy``
    (task, item, cue_status, time).
    """
    time = decoding["time"].to_numpy()
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), layout="constrained", sharex=True)
    for ax in axes.flat:
        mark_cue(ax)
    ax = axes[0, 0]
    ax.plot(time, decoding["weight_cosine"], color="k", label="cos(retro weights, pro weights)")
    ax.plot(time, decoding["parallelism"], color="k", ls="--", label="parallelism score")
    ax.plot(time, decoding["ccgp"], color="0.55", label="CCGP across tasks")
    ax.axhline(0, color="0.4", lw=0.8, ls=":")
    # headroom above the curves for the legend
    ax.set(ylabel="cosine / accuracy", ylim=(-0.3, 1.45), title="one cued-location axis for both tasks?")
    ax.legend(fontsize="small", frameon=False, loc="upper left", ncols=2)
    ax = axes[0, 1]
    for task, colour in TASK_COLOURS.items():
        for pair, line in zip(decoding["pair"].to_numpy(), ("-", "--", ":")):
            ax.plot(time, decoding["plane_cosine"].sel(task=task, pair=pair), color=colour, ls=line, label=f"{task}: {pair}")
    ax.set(ylabel="|cos| between colour planes", ylim=(0, 1), title="colour planes (PCA on 4 colour bins x 2 items)")
    ax.legend(fontsize="x-small", frameon=False, ncols=2)
    for ax, task in zip(axes[1], decoding["task"].to_numpy()):
        for item, colour in LOCATION_COLOURS.items():
            for status, line in zip(decoding["cue_status"].to_numpy(), ("-", "--")):
                ax.plot(time, decoding["color_accuracy"].sel(task=task, item=item, cue_status=status), color=colour, ls=line,
                        label=f"{item} item, {status}")
        ax.axhline(0.25, color="0.4", lw=0.8, ls=":")
        ax.set(xlabel="time from cue onset (ms)", ylabel="colour-bin accuracy (chance 0.25)", title=f"{task} trials: colour of each item")
        ax.legend(fontsize="small", frameon=False)
    fig.suptitle(f"{region}: selection geometry")
    return fig


# The before/after selection windows: the same hatch on the spans over the time
# courses and on the bars that average them.
WINDOW_HATCHES = {"before selection": "////", "after selection": "\\\\\\\\"}
CUE_STATUS_STYLE = {"cued": ("-", 1), "uncued": ("--", 0.7)}  # line style and opacity of an item's colour decoding


def _window_mean_sem(course, window):
    """Mean and SEM over the time bins of ``course`` whose centres lie in ``window`` (ms); NaN bins left out."""
    values = course.sel(time=slice(*window)).to_numpy()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.nan, np.nan
    sem = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else np.nan
    return values.mean(), sem


def geometry_overview(decodings, before_window, after_window):
    """Every region's colour information and colour-plane alignment, before and after selection.

    ``decodings`` maps region name (columns, in the order given) to a decoding
    dataset with ``color_accuracy`` (task, item, cue_status, time;
    cue_status ``cued``/``uncued``) and ``plane_cosine`` (task, pair, time;
    pairs as :data:`wmattn.analysis.geometry.PLANE_PAIRS`). Rows 1-2: colour-bin accuracy
    of the cued (solid) and uncued (dashed) item, mean of the two items, in
    retro and pro trials. Row 3: retro |cos| between colour planes per pair,
    mean ± SEM over the time bins in ``before_window`` and ``after_window``
    (ms from cue onset), both shaded in rows 1-2. NaN bins are left out.
    """
    regions = list(decodings)
    windows = {"before selection": before_window, "after selection": after_window}
    fig, axes = plt.subplots(3, len(regions), figsize=(2.2 + 2.6 * len(regions), 8), layout="constrained", squeeze=False,
                             height_ratios=[1, 1, 1.1])
    for ax in axes[:2].flat:
        ax.sharex(axes[0, 0])
        ax.sharey(axes[0, 0])
    for ax in axes[2]:
        ax.sharey(axes[2, 0])
    for (i, task), (j, region) in product(enumerate(TASK_COLOURS), enumerate(regions)):
        ax = axes[i, j]
        mark_cue(ax)
        for name, window in windows.items():
            ax.axvspan(*window, facecolor="none", edgecolor="0.8", lw=0, hatch=WINDOW_HATCHES[name], zorder=0)
        ax.axhline(0.25, color="0.4", lw=0.8, ls=":")
        accuracy = decodings[region]["color_accuracy"].sel(task=task)
        for status, (line, alpha) in CUE_STATUS_STYLE.items():
            # Mean over the items that are not NaN; an all-NaN course draws nothing.
            ax.plot(accuracy["time"], accuracy.sel(cue_status=status).mean("item", skipna=True), color=TASK_COLOURS[task],
                    ls=line, alpha=alpha, lw=1)
        ax.tick_params(labelbottom=i == 1, labelleft=j == 0)
    axes[0, 0].set(ylim=(0, 1))
    _label_region_grid(axes[:2], regions, [f"{task} trials\ncolour-bin accuracy\n(chance 0.25)" for task in TASK_COLOURS],
                       "time from cue onset (ms)")

    pairs = list(decodings[regions[0]]["pair"].to_numpy())
    width = 0.38
    bar_style = {name: {"facecolor": "white" if k == 0 else TASK_COLOURS["retro"],
                        "edgecolor": TASK_COLOURS["retro"] if k == 0 else "white", "hatch": WINDOW_HATCHES[name]}
                 for k, name in enumerate(windows)}
    for j, region in enumerate(regions):
        ax = axes[2, j]
        cosine = decodings[region]["plane_cosine"].sel(task="retro")
        for k, (name, window) in enumerate(windows.items()):
            mean, sem = zip(*(_window_mean_sem(cosine.sel(pair=pair), window) for pair in pairs))
            ax.bar(np.arange(len(pairs)) + (k - 0.5) * width, mean, width * 0.9, yerr=sem, capsize=2, lw=0.8,
                   error_kw={"lw": 0.8}, label=name, **bar_style[name])
        ax.set_xticks(np.arange(len(pairs)), [pair.replace("_", " vs ") for pair in pairs])
        ax.set(ylim=(0, 1), xlabel="retro colour-plane pair")
        ax.tick_params(labelleft=j == 0)
    axes[2, 0].set_ylabel("|cos| between colour planes\n(0 orthogonal, 1 aligned)\nmean ± SEM over bins")

    handles = [plt.Line2D([], [], color="0.2", ls=line, alpha=alpha) for line, alpha in CUE_STATUS_STYLE.values()] + [
        plt.Rectangle((0, 0), 1, 1, lw=0, **bar_style[name]) for name in windows
    ]
    labels = ["cued item", "uncued item"] + [f"{name}, {window[0]:g} to {window[1]:g} ms (hatched spans above)"
                                             for name, window in windows.items()]
    fig.legend(handles, labels, loc="outside lower center", ncols=4, frameon=False, fontsize="small")
    fig.suptitle("Selection geometry: colour information of the cued and uncued item (rows 1-2) "
                 "and alignment of the colour planes in retro trials (row 3)")
    return fig
