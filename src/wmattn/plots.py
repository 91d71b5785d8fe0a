"""Figures of the decoding results and the attention network; each function returns a matplotlib Figure."""

from itertools import product

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from wmattn.compare import DIRECTIONS  # noqa: E402
from wmattn.rates import bin_spikes  # noqa: E402
from wmattn.task import RESPONSE_MS  # noqa: E402

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


def _accuracy_courses(ax, decoding, pairs):
    """Accuracy of each (train, test) pair over time, its band and its significant bins."""
    ax.axhline(CHANCE, color="0.4", lw=0.8, ls=":")
    time = decoding["time"].to_numpy()
    for k, (train, test) in enumerate(pairs):
        colour, line = STYLE[(train, test)]
        kind = "within" if train == test else "transfer"
        pair = {"train_task": train, "test_task": test}
        ax.plot(time, decoding["accuracy"].sel(pair), color=colour, ls=line, label=f"train {train}, test {test} ({kind})")
        ax.fill_between(time, *decoding["accuracy_ci"].sel(pair), color=colour, alpha=0.15, lw=0)
        significant = decoding["significant"].sel(pair).to_numpy()
        ax.plot(time, np.where(significant, 0.34 + 0.02 * k, np.nan), color=colour, ls=line, lw=2.5)
    ax.set_ylim(0.3, 1.02)


def decoding_time_courses(decoding, region):
    """Four accuracy time courses of one region, aligned to the cue onset.

    ``decoding`` needs ``accuracy`` and ``significant`` (train_task,
    test_task, time) and ``accuracy_ci`` (ci_bound, train_task, test_task,
    time). Bands are the interval over pseudo-population resamples; bars
    under the curves mark the cluster-corrected significant bins.
    """
    fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
    mark_cue(ax, "cue")
    _accuracy_courses(ax, decoding, STYLE)
    ax.set(
        xlabel="time from cue onset (ms)",
        ylabel="cued-location accuracy",
        title=f"{region}: decoding the cued location (bars: cluster-corrected p < {decoding.attrs.get('cluster_alpha', 0.05):g})",
    )
    ax.legend(fontsize="small", loc="upper left", frameon=False)
    return fig


def _label_region_grid(axes, regions, row_labels, xlabel):
    """Region names (in their colours) over the columns, ``row_labels`` beside the rows."""
    for ax, region in zip(axes[0], regions):
        ax.set_title(region, color=region_colours(regions)[region], fontweight="bold")
    for ax, label in zip(axes[:, 0], row_labels):
        ax.set_ylabel(label)
    for ax in axes[-1]:
        ax.set_xlabel(xlabel)


def decoding_overview(decodings):
    """Every region's within-task and transfer accuracy in one grid.

    ``decodings`` maps region name to a decoding dataset (as for
    :func:`decoding_time_courses`). Rows are the training task, columns the
    regions; in each panel the decoder is tested within its task (solid) and
    on the other task (dashed).
    """
    regions = list(decodings)
    tasks = list(TASK_COLOURS)
    fig, axes = plt.subplots(len(tasks), len(regions), figsize=(2.2 + 2.6 * len(regions), 5.6), layout="constrained",
                             sharex=True, sharey=True, squeeze=False)
    for (i, train), (j, region) in product(enumerate(tasks), enumerate(regions)):
        ax = axes[i, j]
        mark_cue(ax)
        _accuracy_courses(ax, decodings[region], [(train, test) for test in tasks])
    _label_region_grid(axes, regions, [f"trained on {train}\ncued-location accuracy" for train in tasks],
                       "time from cue onset (ms)")
    handles = [plt.Line2D([], [], color="0.2", ls=line) for line in ("-", "--")]
    fig.legend(handles, ["tested within the training task", "tested on the other task (transfer)"],
               loc="outside lower center", ncols=2, frameon=False, fontsize="small")
    fig.suptitle("Decoding the cued location (bands: interval over resamples; bars: cluster-corrected significant bins)")
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


def task_timeline(timing):
    """Both trial types as epochs on a time axis aligned to the cue onset.

    ``timing`` is ``{task: {epoch: length}}`` (:func:`wmattn.task.timing_from_config`):
    a length is ms or a ``[min, max]`` range. Epochs are drawn at their mean
    length; hatched spans show where a boundary falls given the jitter.
    """
    fig, ax = plt.subplots(figsize=(9, 0.9 + 0.8 * len(timing)), layout="constrained")
    shades = {"samples": "0.55", "cue": "0.3", "response": "0.75"}
    for row, (task, epochs) in enumerate(timing.items()):
        names = list(epochs) + ["response"]
        lengths = [np.atleast_1d(np.asarray(epochs[name], float)) for name in epochs] + [np.array([RESPONSE_MS])]
        mean = np.array([length.mean() for length in lengths])
        low = np.array([length.min() for length in lengths])
        high = np.array([length.max() for length in lengths])
        cue = names.index("cue")
        # Boundaries relative to the cue onset: mean, and the range the jitter allows.
        starts = np.concatenate([[0], np.cumsum(mean)[:-1]]) - mean[:cue].sum()
        for k, (name, start, length) in enumerate(zip(names, starts, mean)):
            ax.barh(row, length, left=start, height=0.6, color=shades.get(name, "white"), edgecolor=TASK_COLOURS.get(task, "k"))
            ax.text(start + length / 2, row, name.replace("_", " "), ha="center", va="center", fontsize="small",
                    color="white" if name in ("cue", "samples") else "k")
            span = _boundary_range(low, high, cue, k)
            if span[1] > span[0]:
                ax.barh(row, span[1] - span[0], left=span[0], height=0.8, color="none", edgecolor="0.75", hatch="///",
                        lw=0, zorder=0)
    ax.set_yticks(range(len(timing)), [f"{task} trials" for task in timing])
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.8)
    ax.set(xlabel="time from cue onset (ms)", title="The task: epochs at their mean length; hatched: where jitter moves a boundary")
    return fig


def _boundary_range(low, high, cue, k):
    """Earliest and latest time (from the cue onset) of the start of epoch ``k``."""
    if k <= cue:
        return -high[k:cue].sum(), -low[k:cue].sum()
    return low[cue:k].sum(), high[cue:k].sum()


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


def attention_model(attention, training):
    """The task-trained attention network: its training and its attention over time.

    Needs the network's ``attention`` (trial, time, item) with the per-trial
    ``task``, ``cued`` and ``onset_samples``, ``onset_response`` (ms from the
    cue), and the ``training`` table (``step``, ``loss``,
    ``median_error_deg``).
    """
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained", width_ratios=[1, 1, 1.6])
    axes[0].plot(training["step"], training["loss"], color="0.2", lw=0.8)
    axes[0].set(xlabel="training step", ylabel="loss (cosine distance)", yscale="log", title="training loss")
    axes[1].plot(training["step"], training["median_error_deg"], color="0.2", lw=0.8)
    axes[1].axhline(15, color="0.4", lw=0.8, ls=":", label="target 15\N{DEGREE SIGN}")
    axes[1].set(xlabel="training step", ylabel="median |colour error| (deg)", yscale="log", title="report error in training")
    axes[1].legend(fontsize="small", frameon=False)

    ax = axes[2]
    mark_cue(ax, "cue")
    ax.axhline(CHANCE, color="0.4", lw=0.8, ls=":")
    cued = attention["attention"].sel(item=attention["cued"])
    for task, colour in TASK_COLOURS.items():
        trials = attention["task"] == task
        ax.plot(attention["time"], cued.isel(trial=trials.to_numpy()).mean("trial"), color=colour, label=f"{task} trials")
        for onset, line in (("onset_samples", "-."), ("onset_response", ":")):
            ax.axvline(float(attention[onset].where(trials).mean()), color=colour, lw=0.8, ls=line)
    ax.plot([], [], color="0.3", lw=0.8, ls="-.", label="mean sample onset")
    ax.plot([], [], color="0.3", lw=0.8, ls=":", label="mean response onset")
    ax.set(xlabel="time from cue onset (ms)", ylabel="attention on the cued item", ylim=(0, 1.02),
           title="attention on the cued item, held-out trials")
    ax.legend(fontsize="small", frameon=False, loc="lower right", ncols=2)
    return fig


DIRECTION_MARKERS = ("o", "s")  # the readout's two directions, in DIRECTIONS order


def comparison(summary, region_attention, window):
    """Regions and the attention network side by side.

    Needs the comparison ``summary`` (``transfer_*``, ``within_*``,
    ``readout_weight_*``, ``agreement_*`` and their ``*_ci`` over region)
    and the readout's ``weight`` (direction, time, region). ``window`` (ms
    from the cue onset) is the span the summary averages over; the readout's
    weights are drawn bold there and faint elsewhere, where no region's
    decoder tells much and the weights are a softmax over noise.
    """
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), layout="constrained")
    names = summary["region"].to_numpy()
    x = np.arange(len(names))
    ax = axes[0, 0]
    for k, (direction, (train, test)) in enumerate(DIRECTIONS.items()):
        name = f"transfer_{train}_to_{test}"
        ci = summary[f"{name}_ci"].to_numpy().T
        value = summary[name].to_numpy()
        ax.bar(x + (k - 0.5) * 0.38, value, 0.35, yerr=np.abs(ci - value), color=STYLE[(train, test)][0], alpha=0.7,
               label=f"{train} \u2192 {test}")
    ax.axhline(CHANCE, color="0.4", lw=0.8, ls=":")
    ax.set_xticks(x, names)
    ax.set(ylabel="cued-location transfer accuracy", ylim=(0.3, 1.02), title="cross-task transfer (model: its hidden states)")
    ax.legend(fontsize="small", frameon=False)

    ax = axes[0, 1]
    for k, ((train, test), (colour, line)) in enumerate(STYLE.items()):
        label = f"within_{train}" if train == test else f"transfer_{train}_to_{test}"
        value = summary[f"agreement_{label}"].to_numpy()
        ci = summary[f"agreement_{label}_ci"].to_numpy().T
        ax.bar(x + (k - 1.5) * 0.2, value, 0.18, yerr=np.abs(ci - value), color=colour, alpha=0.7,
               hatch="//" if train != test else None, edgecolor="white",
               label=f"train {train}, test {test}" + (" (transfer)" if train != test else ""))
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_xticks(x, names)
    ax.set(ylabel="r (network selection, accuracy)", ylim=(-1, 1),
           title="agreement of time courses with the network's selection")
    ax.legend(fontsize="x-small", frameon=False, ncols=2, loc="lower left")

    ax = axes[1, 0]
    regions = region_attention["region"].to_numpy()
    colours = region_colours(regions)
    time = region_attention["time"].to_numpy()
    inside = (time >= window[0]) & (time <= window[1])
    for region, colour in colours.items():
        for direction, (train, test) in DIRECTIONS.items():
            weight = region_attention["weight"].sel(direction=direction, region=region).to_numpy()
            line = STYLE[(train, test)][1] if train == "pro" else "-"
            ax.plot(time, weight, color=colour, ls=line, lw=0.7, alpha=0.35)
            ax.plot(time, np.where(inside, weight, np.nan), color=colour, ls=line, lw=1.6,
                    label=f"{region}, {train} maps / {test} attention")
    ax.axhline(1 / len(regions), color="0.4", lw=0.8, ls=":")
    mark_cue(ax)
    ax.set(xlabel="time from cue onset (ms)", ylabel="readout attention weight", ylim=(0, 1),
           title=f"region-attention readout (bold: {window[0]:g} to {window[1]:g} ms; dotted: uniform)")
    ax.legend(fontsize="x-small", frameon=False, ncols=2)

    ax = axes[1, 1]
    for marker, (direction, (train, test)) in zip(DIRECTION_MARKERS, DIRECTIONS.items()):
        weight = summary[f"readout_weight_{direction}"]
        regions = weight["region"].to_numpy()[np.isfinite(weight.to_numpy())]
        transfer = summary[f"transfer_{train}_to_{test}"].sel(region=regions)
        ax.scatter(transfer, weight.sel(region=regions), c=[colours[region] for region in regions], marker=marker, s=40)
    # Two legends: the region by colour, the direction by marker (regions at chance sit on top of each other).
    regions_legend = ax.legend(
        [plt.Line2D([], [], color=colour, marker="o", ls="") for colour in colours.values()], list(colours),
        fontsize="small", frameon=False, loc="upper left", title="region", title_fontsize="small",
    )
    ax.add_artist(regions_legend)
    ax.legend(
        [plt.Line2D([], [], color="0.3", marker=marker, ls="") for marker in DIRECTION_MARKERS],
        [f"{train} maps, {test} attention: Spearman {float(summary['weight_transfer_spearman'].sel(direction=direction)):.2f}"
         for direction, (train, test) in DIRECTIONS.items()],
        fontsize="small", frameon=False, loc="lower right",
    )
    ax.set(xlabel="transfer accuracy", ylabel="mean readout weight", title="readout weight vs transfer, per region")
    return fig


def cued_selectivity(spikes, window):
    """How well each neuron's spike count in ``window`` tells the cued location, per task.

    d' of the count between cued-upper and cued-lower trials, (task, neuron),
    0 where a neuron is silent. ``spikes`` is a spikes dataset (``spike_time``,
    ``spike_trial``, ``spike_neuron``; per-trial ``task`` and ``cued``).
    """
    time = spikes["spike_time"].to_numpy()
    inside = (time >= window[0]) & (time < window[1])
    trial = np.searchsorted(spikes["trial"].to_numpy(), spikes["spike_trial"].to_numpy()[inside])
    neuron = np.searchsorted(spikes["neuron"].to_numpy(), spikes["spike_neuron"].to_numpy()[inside])
    n_trials, n_neurons = spikes.sizes["trial"], spikes.sizes["neuron"]
    counts = np.bincount(trial * n_neurons + neuron, minlength=n_trials * n_neurons).reshape(n_trials, n_neurons)
    task, cued = spikes["task"].to_numpy(), spikes["cued"].to_numpy()
    selectivity = []
    for name in TASK_COLOURS:
        upper, lower = counts[(task == name) & (cued == "upper")], counts[(task == name) & (cued == "lower")]
        spread = np.sqrt((upper.var(axis=0, ddof=1) + lower.var(axis=0, ddof=1)) / 2)
        difference = upper.mean(axis=0) - lower.mean(axis=0)
        selectivity.append(np.divide(difference, spread, out=np.zeros(n_neurons), where=spread > 0))
    return np.array(selectivity)


def example_neurons(spikes, window, bin_ms, step_ms):
    """Raster and PSTH of one example neuron per region, retro and pro trials, cued upper vs lower.

    ``spikes`` maps region name (rows, in the order given) to one session's
    spikes of that region (``spike_time``, ``spike_trial``, ``spike_neuron``;
    per-trial ``task``, ``cued``, ``onset_samples``, ``onset_response`` in ms
    from the cue onset; :func:`wmattn.rates.region_spikes`). The example is the region's neuron whose count in ``window`` (ms)
    best tells the cued location in retro trials (largest |d'|), so it shows
    what the region carries at best, not a typical neuron; its pro trials then
    show whether that selectivity carries over, as the retro-trained decoder's
    transfer asks of the population. Choosing on both tasks together would
    favour neurons selective in both by chance and make a task-specific region
    look shared. PSTHs are rates in windows of ``bin_ms`` every ``step_ms``,
    mean ± SEM over trials.
    """
    regions = list(spikes)
    tasks = list(TASK_COLOURS)
    first = next(iter(spikes.values()))
    start = float(first["onset_samples"].min()) - 300
    stop = float(first["onset_response"].max())
    fig, axes = plt.subplots(2 * len(regions), len(tasks), figsize=(10, 0.6 + 3.3 * len(regions)), layout="constrained",
                             sharex=True, squeeze=False, height_ratios=[1.3, 1] * len(regions))
    for i, region in enumerate(regions):
        data = spikes[region]
        selectivity = cued_selectivity(data, window)
        neuron = int(np.argmax(np.abs(selectivity[0])))
        mine = data["spike_neuron"].to_numpy() == data["neuron"].to_numpy()[neuron]
        spike_time = data["spike_time"].to_numpy()[mine]
        spike_row = np.searchsorted(data["trial"].to_numpy(), data["spike_trial"].to_numpy()[mine])
        rate, time = bin_spikes(spike_row, np.zeros_like(spike_row), spike_time, (data.sizes["trial"], 1),
                                start, stop, bin_ms, step_ms)
        for j, task in enumerate(tasks):
            raster, psth = axes[2 * i, j], axes[2 * i + 1, j]
            trials = data["task"].to_numpy() == task
            # cued upper above cued lower, each ordered by the sample onset
            order = np.flatnonzero(trials)[np.lexsort((data["onset_samples"].to_numpy()[trials],
                                                       data["cued"].to_numpy()[trials] != "upper"))]
            y = np.full(data.sizes["trial"], -1)
            y[order] = np.arange(len(order))[::-1]
            shown = y[spike_row] >= 0
            for ax in (raster, psth):
                mark_cue(ax)
            raster.scatter(spike_time[shown], y[spike_row[shown]], s=2, marker="|", lw=0.6, rasterized=True,
                           c=[LOCATION_COLOURS[c] for c in data["cued"].to_numpy()[spike_row[shown]]])
            for onset in ("onset_samples", "onset_response"):
                raster.scatter(data[onset].to_numpy()[order], y[order], s=3, marker="|", color=TASK_COLOURS[task], lw=1.2)
            raster.set(ylim=(-1, len(order)), yticks=[], title=f"{region}, neuron {data['neuron'].to_numpy()[neuron]}: "
                       f"{task} trials (d\u2032 {selectivity[j, neuron]:+.1f})", xlim=(start, stop))
            raster.title.set_color(region_colours(regions)[region])
            for cued, colour in LOCATION_COLOURS.items():
                selected = trials & (data["cued"].to_numpy() == cued)
                course = rate[selected, 0]
                mean, sem = course.mean(axis=0), course.std(axis=0, ddof=1) / np.sqrt(len(course))
                psth.plot(time, mean, color=colour, label=f"cued {cued}")
                psth.fill_between(time, mean - sem, mean + sem, color=colour, alpha=0.25, lw=0)
            psth.set_ylim(bottom=0)
            if j == len(tasks) - 1:
                # one neuron can share by chance: what the region's neurons do together
                psth.text(0.01, 0.97, f"all {data.sizes['neuron']} neurons: r(d\u2032 {tasks[0]}, d\u2032 {task}) = "
                          f"{np.corrcoef(selectivity[0], selectivity[j])[0, 1]:.2f}", transform=psth.transAxes,
                          va="top", fontsize="small")
            if j == 0:
                raster.set_ylabel("trials\ncued upper | lower")
                psth.set_ylabel("rate (Hz)")
    for ax in axes[-1]:
        ax.set_xlabel("time from cue onset (ms)")
    handles = [plt.Line2D([], [], color=colour, lw=2) for colour in LOCATION_COLOURS.values()] + [
        plt.Line2D([], [], color="0.5", marker="|", ls="", markersize=8, mew=1.5)
    ]
    fig.legend(handles, ["cued upper", "cued lower", "sample onset, response onset (task colour)"],
               loc="outside lower center", ncols=3, frameon=False, fontsize="small")
    fig.suptitle(f"Example neurons: each region's most cued-location-selective neuron in retro trials (first session)\n"
                 f"d\u2032 of the spike count from {window[0]:g} to {window[1]:g} ms; PSTH mean \u00b1 SEM, {bin_ms:g} ms windows")
    return fig
