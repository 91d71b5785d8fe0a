"""Figures of the selection geometry: colour information of the cued and uncued item, colour planes.

Colour information is Panichello & Buschman's (Fig. 3): each neuron's z-scored
phase modulation index (and percent explained variance) by the colour of the
cued and of the uncued item, averaged over the region's neurons, with
cluster-mass tests across neurons. Colour planes are their Fig. 4: the |cos|
of the angle between two items' colour planes in an epoch window, with its
bootstrap interval beside the colour-shuffle null.
"""

from itertools import product

import numpy as np

from wmattn.figures.style import TASK_COLOURS, _label_region_grid, mark_epochs, plt, while_trials_run

CUE_STATUS_STYLE = {"cued": ("-", 1.0), "uncued": ("--", 0.6)}  # line style and opacity of an item's course
MEASURE_LABELS = {"pmi_z": "colour information\n(z-scored PMI)", "pev": "colour PEV (%)"}
SIGNIFICANCE_ROWS = {"cued": 0, "uncued": 1, "difference": 2}  # bars under the courses, top to bottom


def _colour_courses(ax, decoding, measure, task):
    """One task's population colour information of the cued and the uncued item over time.

    Lines are the mean over neurons with its interval; bars at the bottom
    mark significant clusters across neurons (one-sample against 0 for each
    item, black for the paired cued-vs-uncued difference). Drawn while the
    task's trials run.
    """
    onsets = decoding["epoch_onset"]
    mark_epochs(ax, onsets, [task])
    ax.axhline(0, color="0.4", lw=0.8, ls=":")
    time = decoding["time"].to_numpy()
    shown = lambda course: while_trials_run(course, onsets, task)  # noqa: E731
    selection = {"measure": measure, "task": task}
    for status, (line, alpha) in CUE_STATUS_STYLE.items():
        mean = shown(decoding["color_information_mean"].sel(selection | {"cue_status": status}))
        ax.plot(time, mean, color=TASK_COLOURS[task], ls=line, alpha=alpha, label=f"{status} item")
        ax.fill_between(time, *shown(decoding["color_information_mean_ci"].sel(selection | {"cue_status": status})),
                        color=TASK_COLOURS[task], alpha=0.15 * alpha, lw=0)
    bars = {status: decoding["color_significant"].sel(selection | {"cue_status": status}) for status in CUE_STATUS_STYLE}
    bars["difference"] = decoding["color_difference_significant"].sel(selection)
    bottom, top = ax.get_ylim()
    for name, significant in bars.items():
        level = bottom - (0.04 + 0.035 * SIGNIFICANCE_ROWS[name]) * (top - bottom)
        colour = "k" if name == "difference" else TASK_COLOURS[task]
        line, alpha = CUE_STATUS_STYLE.get(name, ("-", 1.0))
        ax.plot(time, np.where(shown(significant.astype(float)) == 1, level, np.nan), color=colour, ls=line, alpha=alpha,
                lw=2.5, solid_capstyle="butt")
    ax.set(ylim=(bottom - 0.15 * (top - bottom), top), xlim=(time[0], time[-1]))


def _plane_points(ax, decoding, x0=0.0, width=0.8):
    """Each plane comparison's |cos| with its bootstrap interval, beside its colour-shuffle null.

    The null is a grey box from its 5th to its 95th percentile with a tick at
    its median; the split-half ceiling, where the file has one, a hollow
    diamond. Returns the x positions.
    """
    pairs = decoding["plane_pair"].to_numpy()
    x = x0 + np.arange(len(pairs)) * width / max(len(pairs), 1)
    null = decoding["plane_cosine_null"]
    low, median, high = (null.quantile(q, "shuffle").to_numpy() for q in (0.05, 0.5, 0.95))
    step = width / max(len(pairs), 1)
    for k in range(len(pairs)):
        ax.add_patch(plt.Rectangle((x[k] - 0.3 * step, low[k]), 0.6 * step, high[k] - low[k], color="0.85", lw=0, zorder=0))
        ax.plot([x[k] - 0.3 * step, x[k] + 0.3 * step], [median[k]] * 2, color="0.55", lw=1, zorder=1)
    value = decoding["plane_cosine"].to_numpy()
    ci = decoding["plane_cosine_ci"].to_numpy()
    colours = [TASK_COLOURS.get(str(task), "0.2") for task in decoding["task_a"].to_numpy()]
    for k, colour in enumerate(colours):
        ax.errorbar(x[k], value[k], yerr=np.abs(ci[:, [k]] - value[k]), fmt="none", ecolor=colour, elinewidth=1.2,
                    capsize=2, zorder=2)
    cross = decoding["task_a"].to_numpy() != decoding["task_b"].to_numpy()
    ax.scatter(x, value, c=colours, marker="o", s=np.where(cross, 45, 25), edgecolors=np.where(cross, "k", "none"), zorder=3)
    if "plane_cosine_ceiling" in decoding:
        ax.scatter(x, decoding["plane_cosine_ceiling"], marker="D", s=18, facecolors="none", edgecolors="0.3", zorder=3)
    for k, p in enumerate(decoding["plane_p_value"].to_numpy()):
        if np.isfinite(p):
            ax.text(x[k], 1.02, f"p={p:.2g}", rotation=90, ha="center", va="bottom", fontsize="xx-small",
                    fontweight="bold" if p < 0.05 else "normal")
    ax.set_ylim(0, 1.25)
    return x


def plane_names(decoding):
    """Short tick labels of the plane comparisons: 'retro after selection: cued' from 'retro/after_selection/cued'."""
    names = []
    for name in decoding["plane_pair"].to_numpy():
        tasks, window, comparison = str(name).split("/")
        names.append(f"{tasks.replace('-', ' vs ')} {window.replace('_', ' ')}: {comparison.replace('_', ' ')}")
    return names


def _plane_legend_handles(decoding):
    handles = [plt.Line2D([], [], color="0.2", marker="o", ls="", label="|cos| with 95 % bootstrap interval"),
               plt.Line2D([], [], color="0.2", marker="o", ls="", mec="k", ms=8, label="cross-task comparison"),
               plt.Rectangle((0, 0), 1, 1, color="0.85", label="colour-shuffle null, 5-95 % (tick: median)")]
    if "plane_cosine_ceiling" in decoding:
        handles.append(plt.Line2D([], [], color="0.3", marker="D", mfc="none", ls="", label="split-half ceiling"))
    return handles


def selection_geometry(decoding, region):
    """One region's colour information (cued vs uncued item, both tasks) and its colour-plane angles.

    ``decoding`` needs ``color_information_mean`` and
    ``color_information_mean_ci`` (measure, task, cue_status, time; ci_bound
    first), ``color_significant`` (measure, task, cue_status, time),
    ``color_difference_significant`` (measure, task, time), ``epoch_onset``
    and the plane comparisons: ``plane_cosine``, ``plane_cosine_ci``,
    ``plane_cosine_null`` (shuffle, plane_pair), ``plane_p_value`` and the
    per-comparison ``task_a``, ``task_b`` coordinates (``plane_pair`` named task/window/comparison).
    """
    measures = list(decoding["measure"].to_numpy())
    tasks = list(TASK_COLOURS)
    fig = plt.figure(figsize=(12, 3.2 * len(measures) + 3.6), layout="constrained")
    grid = fig.add_gridspec(len(measures) + 1, len(tasks), height_ratios=[1] * len(measures) + [1.25])
    for (i, measure), (j, task) in product(enumerate(measures), enumerate(tasks)):
        ax = fig.add_subplot(grid[i, j])
        _colour_courses(ax, decoding, measure, task)
        ax.set(title=f"{task} trials", ylabel=MEASURE_LABELS.get(measure, measure) if j == 0 else None,
               xlabel="time from cue onset (ms)" if i == len(measures) - 1 else None)
        if i == 0 and j == 0:
            ax.legend(fontsize="small", frameon=False, loc="upper left")
    ax = fig.add_subplot(grid[-1, :])
    x = _plane_points(ax, decoding, width=len(decoding["plane_pair"]))
    ax.set_xticks(x, plane_names(decoding), rotation=15, ha="right", fontsize="small")
    ax.set(ylabel="|cos| between colour planes\n(0 orthogonal, 1 aligned)",
           title="colour planes in epoch windows (PCA on 4 colour bins x 2 planes), p: one-sided against the shuffle null")
    ax.legend(handles=_plane_legend_handles(decoding), fontsize="x-small", frameon=False, loc="upper left", ncols=4)
    fig.suptitle(f"{region}: colour information of the cued and uncued item, and their colour planes\n"
                 "bars under the courses: significant clusters across neurons (task colour: each item against 0; "
                 "black: cued vs uncued, paired)", fontsize="medium")
    return fig


def geometry_overview(decodings):
    """Every region side by side: cued and uncued colour information in both tasks, and the colour planes.

    ``decodings`` maps region name (columns, in the order given) to a
    decoding dataset as for :func:`selection_geometry`. Rows 1-2: the first
    measure (z-scored PMI) in retro and pro trials; row 3: every plane
    comparison with its interval and null.
    """
    regions = list(decodings)
    tasks = list(TASK_COLOURS)
    measure = str(decodings[regions[0]]["measure"].to_numpy()[0])
    fig, axes = plt.subplots(len(tasks) + 1, len(regions), figsize=(2.4 + 3 * len(regions), 9.5), layout="constrained",
                             squeeze=False, height_ratios=[1] * len(tasks) + [1.3])
    for (i, task), (j, region) in product(enumerate(tasks), enumerate(regions)):
        ax = axes[i, j]
        ax.sharex(axes[0, 0])
        _colour_courses(ax, decodings[region], measure, task)
    for ax in axes[:len(tasks)].flat:  # one scale for every region's colour information
        ax.set_ylim(min(a.get_ylim()[0] for a in axes[:len(tasks)].flat), max(a.get_ylim()[1] for a in axes[:len(tasks)].flat))
    _label_region_grid(axes[:len(tasks)], regions,
                       [f"{task} trials\n{MEASURE_LABELS.get(measure, measure)}" for task in tasks], "time from cue onset (ms)")
    for j, region in enumerate(regions):
        ax = axes[-1, j]
        x = _plane_points(ax, decodings[region], width=len(decodings[region]["plane_pair"]))
        ax.set_xticks(x, plane_names(decodings[region]), rotation=90, fontsize="x-small")
        ax.tick_params(labelleft=j == 0)
    axes[-1, 0].set_ylabel("|cos| between colour planes\n(0 orthogonal, 1 aligned)")
    handles = [plt.Line2D([], [], color="0.2", ls=line, alpha=alpha) for line, alpha in CUE_STATUS_STYLE.values()]
    planes = _plane_legend_handles(decodings[regions[0]])
    fig.legend(handles + planes, ["cued item", "uncued item"] + [h.get_label() for h in planes],
               loc="outside lower center", ncols=3, frameon=False, fontsize="small")
    fig.suptitle("Selection geometry: colour information of the cued and uncued item (rows 1-2; bars: significant clusters "
                 "across neurons, black: cued vs uncued) and colour-plane alignment (row 3)", fontsize="medium")
    return fig
