"""Figures of the task and of example neurons."""

import numpy as np

from wmattn.figures.style import LOCATION_COLOURS, TASK_COLOURS, mark_cue, plt, region_colours
from wmattn.rates import bin_spikes
from wmattn.task import RESPONSE_MS

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
