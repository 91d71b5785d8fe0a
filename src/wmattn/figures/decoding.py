"""Figures of the cued-location decoding: time courses, cross-temporal generalisation, transfer."""

from itertools import product

import numpy as np

import xarray as xr

from wmattn.figures.style import CHANCE, STYLE, TASK_COLOURS, _label_region_grid, mark_epochs, plt, region_colours, while_trials_run


def _accuracy_courses(ax, decoding, pairs):
    """Accuracy of each (train, test) pair over time, its interval, the null's and the significant bins.

    Drawn while the test task's trials run (:func:`while_trials_run`); the
    grey band is the 2.5-97.5 percentile envelope of the pairs' permutation
    nulls.
    """
    onsets = decoding["epoch_onset"]
    mark_epochs(ax, onsets)
    ax.axhline(CHANCE, color="0.4", lw=0.8, ls=":")
    time = decoding["time"].to_numpy()
    null = xr.concat([decoding["null"].sel(train_task=train, test_task=test, drop=True) for train, test in pairs], "permutation")
    ax.fill_between(time, *null.quantile([0.025, 0.975], "permutation"), color="0.8", alpha=0.6, lw=0, zorder=1)
    for k, (train, test) in enumerate(pairs):
        colour, line = STYLE[(train, test)]
        kind = "within" if train == test else "transfer"
        pair = {"train_task": train, "test_task": test}
        shown = lambda course: while_trials_run(course, onsets, test)  # noqa: E731
        ax.plot(time, shown(decoding["accuracy"].sel(pair)), color=colour, ls=line, label=f"train {train}, test {test} ({kind})")
        ax.fill_between(time, *shown(decoding["accuracy_ci"].sel(pair)), color=colour, alpha=0.15, lw=0)
        significant = shown(decoding["significant"].sel(pair).astype(float)).to_numpy() == 1
        ax.plot(time, np.where(significant, 0.34 + 0.02 * k, np.nan), color=colour, ls=line, lw=2.5)
    ax.set_ylim(0.3, 1.05)


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
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    _accuracy_courses(ax, decoding, STYLE)
    ax.set(
        xlabel="time from cue onset (ms)",
        ylabel="cued-location accuracy",
        title=f"{region}: decoding the cued location (bars: cluster-corrected p < {decoding.attrs.get('cluster_alpha', 0.05):g})",
    )
    handles, labels = ax.get_legend_handles_labels()
    handles += [plt.Rectangle((0, 0), 1, 1, color="0.8"), plt.Rectangle((0, 0), 1, 1, color="0.92")]
    labels += ["permutation null, 95 %", "cue"]
    ax.legend(handles, labels, fontsize="x-small", loc="upper left", frameon=False, ncols=2)
    fig.text(0.01, 0.005, _EPOCH_NOTE, fontsize="x-small", color="0.3")
    return fig


_EPOCH_NOTE = ("S, R: median sample and response onset of each task (task colour; bars at the top: their range); "
               "each course ends at the test task's last response onset")


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
                 + _EPOCH_NOTE, fontsize="medium")
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


def select_window(decoding, window):
    """``accuracy`` in the time bins whose centres lie in ``window`` (ms)."""
    return decoding["accuracy"].sel(time=slice(*window))


def transfer_summary(decodings, shared_selection, window):
    """Cross-task transfer of every region, regions ordered by ``shared_selection`` if given.

    Bars are the mean transfer accuracy over the bins in ``window`` (ms from cue
    onset); dots are the individual bins; the within-task accuracy of the
    training task is drawn as a tick for reference.

    Parameters
    ----------
    decodings : dict
        Region name to a decoding dataset with ``accuracy`` (train_task,
        test_task, time).
    shared_selection : dict or None
        Region name to its configured ``shared_selection`` (planted source); None (circuit, recordings)
        keeps the order of ``decodings``.
    window : (float, float)
    """
    regions = list(decodings)
    if shared_selection is not None:
        regions.sort(key=lambda region: shared_selection[region], reverse=True)
    directions = [("retro", "pro"), ("pro", "retro")]
    width = 0.38
    fig, ax = plt.subplots(figsize=(1.5 + 1.4 * len(regions), 3.8), layout="constrained")
    ax.axhline(CHANCE, color="0.4", lw=0.8, ls=":")
    rng = np.random.default_rng(0)  # horizontal jitter of the dots only
    for k, (train, test) in enumerate(directions):
        colour = STYLE[(train, test)][0]
        x = np.arange(len(regions)) + (k - 0.5) * width
        for xi, region in zip(x, regions):
            in_window = select_window(decodings[region], window)
            transfer = in_window.sel(train_task=train, test_task=test)
            within = in_window.sel(train_task=train, test_task=train)
            ax.bar(xi, float(transfer.mean()), width * 0.9, color=colour, alpha=0.6,
                   label=f"{train} \u2192 {test}" if region == regions[0] else None)
            ax.scatter(xi + rng.uniform(-0.1, 0.1, transfer.size), transfer, s=6, color=colour)
            ax.plot([xi - width / 2.2, xi + width / 2.2], [float(within.mean())] * 2, color="k", lw=1.5,
                    label="within-task (training task)" if region == regions[0] and k == 0 else None)
    ax.set_xticks(
        np.arange(len(regions)),
        regions if shared_selection is None else [f"{region}\nshared={shared_selection[region]:g}" for region in regions],
    )
    for label, region in zip(ax.get_xticklabels(), regions):
        label.set_color(region_colours(list(decodings))[region])
    ax.set(
        ylabel="cued-location accuracy",
        ylim=(0.3, 1.02),
        title=f"Cross-task transfer, {window[0]:g} to {window[1]:g} ms after cue onset",
    )
    # below the axes: inside, it would cover the within-task ticks near 1
    fig.legend(fontsize="small", loc="outside lower center", ncols=3, frameon=False)
    return fig
