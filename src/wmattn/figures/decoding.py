"""Figures of the cued-location decoding: time courses, cross-temporal generalisation, transfer."""

from itertools import product

import numpy as np

import xarray as xr

from wmattn.figures.style import CHANCE, STYLE, TASK_COLOURS, _label_region_grid, mark_epochs, plt, region_colours, while_trials_run


def _accuracy_courses(ax, decoding, pairs):
    """Accuracy of each (train, test) pair over time, its interval, the null's and the significant bins.

    Drawn while the trials of both the training and the test task run
    (:func:`while_trials_run`): a decoder fitted after every training trial
    has ended has nothing to transfer. The grey band is the 2.5-97.5
    percentile envelope of the pairs' permutation nulls, drawn while any
    course is.
    """
    onsets = decoding["epoch_onset"]
    mark_epochs(ax, onsets)
    ax.axhline(CHANCE, color="0.4", lw=0.8, ls=":")
    time = decoding["time"].to_numpy()

    def while_both_run(course, train, test):
        return while_trials_run(while_trials_run(course, onsets, train), onsets, test)

    null = xr.concat([while_both_run(decoding["null"].sel(train_task=train, test_task=test, drop=True), train, test)
                      for train, test in pairs], "permutation")
    ax.fill_between(time, *null.quantile([0.025, 0.975], "permutation"), color="0.8", alpha=0.6, lw=0, zorder=1)
    for k, (train, test) in enumerate(pairs):
        colour, line = STYLE[(train, test)]
        kind = "within" if train == test else "transfer"
        pair = {"train_task": train, "test_task": test}
        shown = lambda course: while_both_run(course, train, test)  # noqa: E731
        ax.plot(time, shown(decoding["accuracy"].sel(pair)), color=colour, ls=line, label=f"train {train}, test {test} ({kind})")
        ax.fill_between(time, *shown(decoding["accuracy_ci"].sel(pair)), color=colour, alpha=0.15, lw=0)
        significant = shown(decoding["significant"].sel(pair).astype(float)).to_numpy() == 1
        ax.plot(time, np.where(significant, 0.34 + 0.02 * k, np.nan), color=colour, ls=line, lw=2.5)
    ax.set(ylim=(0.3, 1.05), xlim=(time[0], time[-1]))


def decoding_time_courses(decoding, region):
    """Four accuracy time courses of one region, aligned to the cue onset.

    ``decoding`` needs ``accuracy``, ``significant`` (train_task,
    test_task, time), ``accuracy_ci`` (ci_bound, train_task, test_task,
    time), ``null`` (permutation, train_task, test_task, time) and
    ``epoch_onset`` (task, epoch, onset_statistic). Bands are the accuracy's
    interval and, grey, the permutation null's; bars under the curves mark
    the bins of significant clusters, corrected over the four courses
    together.
    """
    fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    _accuracy_courses(ax, decoding, STYLE)
    ax.set(
        xlabel="time from cue onset (ms)",
        ylabel="cued-location accuracy",
        title=f"{region}: decoding the cued location (bars: cluster-corrected p < {decoding.attrs.get('cluster_alpha', 0.05):g})",
    )
    handles, labels = ax.get_legend_handles_labels()
    handles += [plt.Rectangle((0, 0), 1, 1, color="0.8"), plt.Rectangle((0, 0), 1, 1, color="0.92")]
    labels += ["permutation null, 95 %", "cue"]
    fig.legend(handles, labels, fontsize="x-small", loc="outside lower center", frameon=False, ncols=3,
               title=_EPOCH_NOTE, title_fontsize="x-small")
    return fig


_EPOCH_NOTE = ("S, R: median sample and response onsets of each task (bars at the top: their range);\n"
               "each course ends at the last response onset of its training or test task")


def decoding_overview(decodings):
    """Every region's within-task and transfer accuracy in one grid.

    ``decodings`` maps region name to a decoding dataset (as for
    :func:`decoding_time_courses`). Rows are the training task, columns the
    regions; in each panel the decoder is tested within its task (solid) and
    on the other task (dashed).
    """
    regions = list(decodings)
    tasks = list(TASK_COLOURS)
    fig, axes = plt.subplots(len(tasks), len(regions), figsize=(2.2 + 2.6 * len(regions), 5.8), layout="constrained",
                             sharex=True, sharey=True, squeeze=False)
    for (i, train), (j, region) in product(enumerate(tasks), enumerate(regions)):
        _accuracy_courses(axes[i, j], decodings[region], [(train, test) for test in tasks])
    _label_region_grid(axes, regions, [f"trained on {train}\ncued-location accuracy" for train in tasks],
                       "time from cue onset (ms)")
    handles = [plt.Line2D([], [], color="0.2", ls=line) for line in ("-", "--")] + [plt.Rectangle((0, 0), 1, 1, color="0.8")]
    fig.legend(handles, ["tested within the training task", "tested on the other task (transfer)", "permutation null, 95 %"],
               loc="outside lower center", ncols=3, frameon=False, fontsize="small")
    fig.suptitle("Decoding the cued location (bands: intervals; bars: significant clusters, corrected over each region's four courses)\n"
                 + _EPOCH_NOTE.replace(";\n", "; "), fontsize="medium")
    return fig


def _generalization_image(ax, decoding, train, test):
    time = decoding["test_time"].to_numpy()
    image = ax.imshow(
        decoding["generalization"].sel(train_task=train, test_task=test), origin="lower",
        extent=(time[0], time[-1], time[0], time[-1]), cmap="RdBu_r", vmin=0, vmax=1, aspect="auto",
        interpolation="none",  # a PDF then embeds the matrix itself, not a resampled image of megabytes
    )
    ax.axvline(0, color="k", lw=0.6)
    ax.axhline(0, color="k", lw=0.6)
    return image


def generalization_matrices(decoding, region):
    """Cross-temporal generalisation: accuracy of every bin's decoder at every bin.

    ``decoding`` needs ``generalization`` (train_task, test_task, train_time,
    test_time). One panel per train task x test task.
    """
    tasks = decoding["train_task"].to_numpy()
    fig, axes = plt.subplots(len(tasks), len(tasks), figsize=(7.5, 6.5), layout="constrained", sharex=True, sharey=True)
    for (i, train), (j, test) in product(enumerate(tasks), enumerate(tasks)):
        ax = axes[i, j]
        image = _generalization_image(ax, decoding, train, test)
        ax.set_title(f"train {train}, test {test}", fontsize="medium")
        if i == len(tasks) - 1:
            ax.set_xlabel("test time from cue (ms)")
        if j == 0:
            ax.set_ylabel("train time from cue (ms)")
    fig.colorbar(image, ax=axes, label="cued-location accuracy", shrink=0.8)
    fig.suptitle(f"{region}: cross-temporal generalisation")
    return fig


def generalization_overview(decodings):
    """Every region's cross-temporal generalisation, within and across tasks, in one grid.

    ``decodings`` maps region name to a dataset with ``generalization``
    (train_task, test_task, train_time, test_time). Rows are train x test
    task, columns the regions.
    """
    regions = list(decodings)
    pairs = list(STYLE)
    fig, axes = plt.subplots(len(pairs), len(regions), figsize=(2 + 2.6 * len(regions), 2.3 * len(pairs)),
                             layout="constrained", sharex=True, sharey=True, squeeze=False)
    for (i, (train, test)), (j, region) in product(enumerate(pairs), enumerate(regions)):
        image = _generalization_image(axes[i, j], decodings[region], train, test)
    _label_region_grid(axes, regions, [f"train {train}, test {test}\ntrain time (ms)" for train, test in pairs],
                       "test time from cue (ms)")
    fig.colorbar(image, ax=axes, label="cued-location accuracy", shrink=0.6)
    fig.suptitle("Cross-temporal generalisation (lines: cue onset)")
    return fig


DIRECTION_MARKERS = {"retro_to_pro": "^", "pro_to_retro": "v"}  # GI per direction beside their mean ("both")
GI_LIMITS = (-1.5, 2.5)


def generalization_summary(decodings, contrast, shared_selection=None):
    """Every region's generalisation index GI = (transfer - 0.5) / (within - 0.5) in each epoch window.

    One panel per window (``decodings``' ``window`` coordinate): GI of both
    directions together with its bootstrap interval, each direction's beside
    it, 0 (a code that does not transfer) and 1 (one that transfers fully)
    marked; then one panel per window of the region contrasts: every pair's
    GI difference (row minus column) with the Holm-corrected permutation
    p-value, the regions subsampled to equal neurons.

    Parameters
    ----------
    decodings : dict
        Region name to a decoding dataset with ``gi`` (window, direction) and
        ``gi_ci`` (ci_bound, window, direction).
    contrast : xarray.Dataset
        The contrast file: ``gi_difference`` and ``p_holm`` (contrast,
        window, direction) with per-contrast ``region_a``, ``region_b``.
    shared_selection : dict, optional
        Region name to the planted ``shared_selection``: regions are ordered
        by it and it is drawn as the GI it plants (the cosine of the two
        tasks' axes). None (circuit, recordings) keeps the given order.
    """
    regions = list(decodings)
    if shared_selection is not None:
        regions.sort(key=lambda region: shared_selection[region], reverse=True)
    colours = region_colours(list(decodings))
    windows = list(decodings[regions[0]]["window"].to_numpy())
    fig, axes = plt.subplots(2, len(windows), figsize=(1.5 + (1.3 * len(regions) + 1) * len(windows), 7.2),
                             layout="constrained", squeeze=False, height_ratios=[1.2, 1])
    x = np.arange(len(regions))
    for ax, window in zip(axes[0], windows):
        ax.axhline(0, color="0.4", lw=0.8, ls=":")
        ax.axhline(1, color="0.4", lw=0.8, ls="--")
        for k, region in enumerate(regions):
            gi, ci = decodings[region]["gi"].sel(window=window), decodings[region]["gi_ci"].sel(window=window)
            both = float(gi.sel(direction="both"))
            ax.errorbar(x[k], both, yerr=np.abs(ci.sel(direction="both").to_numpy() - both)[:, None], fmt="o",
                        color=colours[region], ms=7, capsize=3, lw=1.5)
            for offset, (direction, marker) in zip((-0.22, 0.22), DIRECTION_MARKERS.items()):
                value = float(gi.sel(direction=direction))
                ax.errorbar(x[k] + offset, value, yerr=np.abs(ci.sel(direction=direction).to_numpy() - value)[:, None],
                            fmt=marker, color=colours[region], ms=4, capsize=1.5, lw=0.8, alpha=0.6)
            if shared_selection is not None:
                ax.scatter(x[k], shared_selection[region], marker="*", s=90, facecolors="none", edgecolors="k", zorder=3)
        start, end = (float(decodings[regions[0]][name].sel(window=window)) for name in ("window_start", "window_end"))
        ax.set_xticks(x, regions)
        for label, region in zip(ax.get_xticklabels(), regions):
            label.set_color(colours[region])
        ax.set(title=f"{window}: {start:g} to {end:g} ms after the cue", ylabel="generalisation index GI")
    handles = [plt.Line2D([], [], color="0.3", marker="o", ls="", label="GI, both directions, 95 % bootstrap interval")] + [
        plt.Line2D([], [], color="0.3", marker=marker, ls="", alpha=0.6, label=direction.replace("_", " "))
        for direction, marker in DIRECTION_MARKERS.items()]
    if shared_selection is not None:
        handles.append(plt.Line2D([], [], color="k", marker="*", mfc="none", ls="", ms=10, label="planted shared_selection"))
    axes[0, 0].legend(handles=handles, fontsize="x-small", frameon=False, loc="lower left")
    for ax, window in zip(axes[1], windows):
        _contrast_matrix(ax, contrast.sel(window=window, direction="both"), regions)
    for ax in axes[0]:  # GI is unbounded where the within-task accuracy nears 0.5: keep 0 and 1 readable
        low, high = ax.get_ylim()
        ax.set_ylim(max(low, GI_LIMITS[0]), min(high, GI_LIMITS[1]))
    fig.suptitle("Cross-task generalisation of the cued location per region (top; axis clipped to "
                 f"{GI_LIMITS[0]:g}..{GI_LIMITS[1]:g})\nand between regions (bottom: GI of the row minus the column's, "
                 "neurons matched; p Holm-corrected)", fontsize="medium")
    return fig


def _contrast_matrix(ax, contrast, regions):
    """The GI differences of every pair of ``regions`` as a matrix, each cell annotated with its p-value."""
    n = len(regions)
    difference, p = np.full((n, n), np.nan), np.full((n, n), np.nan)
    for a, b, d, q in zip(contrast["region_a"].to_numpy(), contrast["region_b"].to_numpy(),
                          contrast["gi_difference"].to_numpy(), contrast["p_holm"].to_numpy()):
        if a in regions and b in regions:
            i, j = regions.index(a), regions.index(b)
            difference[i, j], difference[j, i], p[i, j], p[j, i] = d, -d, q, q
    image = ax.imshow(difference, cmap="RdBu_r", vmin=-1.5, vmax=1.5)
    for i, j in product(range(n), range(n)):
        if np.isfinite(difference[i, j]):
            ax.text(j, i, f"{difference[i, j]:+.2f}\np={p[i, j]:.2g}", ha="center", va="center", fontsize="x-small",
                    fontweight="bold" if p[i, j] < 0.05 else "normal")
    ax.set_xticks(range(n), regions, fontsize="small")
    ax.set_yticks(range(n), regions, fontsize="small")
    plt.colorbar(image, ax=ax, shrink=0.8, label="GI difference (row - column)")
