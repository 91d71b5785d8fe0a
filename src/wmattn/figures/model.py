"""Figures of the attention network and of its comparison with the regions."""

import numpy as np

from wmattn.compare import DIRECTIONS
from wmattn.figures.style import CHANCE, STYLE, TASK_COLOURS, mark_cue, plt, region_colours

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
