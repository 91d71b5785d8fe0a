"""Figures of the attention network and of its comparison with the regions."""

import numpy as np

from wmattn.compare import cued_attention
from wmattn.figures.style import CHANCE, TASK_COLOURS, mark_cue, plt

NETWORK_MARKERS = ("o", "s", "^", "D", "v", "P")


def attention_models(attentions, trainings):
    """Every task-trained network: its training and its attention on the cued item over time, a row each.

    ``attentions`` and ``trainings`` map network names to the network's
    ``attention`` dataset ((trial, time, item), per-trial ``task``,
    ``cued``, ``onset_samples``, ``onset_response``, time in ms from the
    cue) and its training table (``step``, ``loss``, ``median_error_deg``).
    """
    fig, axes = plt.subplots(len(attentions), 3, figsize=(13, 3.2 * len(attentions)), layout="constrained",
                             width_ratios=[1, 1, 1.6], squeeze=False)
    for row, (name, attention) in zip(axes, attentions.items()):
        training = trainings[name]
        row[0].plot(training["step"], training["loss"], color="0.2", lw=0.8)
        row[0].set(xlabel="training step", ylabel="loss (cosine distance)", yscale="log", title=f"{name}: training loss")
        row[1].plot(training["step"], training["median_error_deg"], color="0.2", lw=0.8)
        row[1].axhline(15, color="0.4", lw=0.8, ls=":", label="target 15\N{DEGREE SIGN}")
        row[1].set(xlabel="training step", ylabel="median |colour error| (deg)", yscale="log",
                   title=f"{name}: report error in training")
        row[1].legend(fontsize="small", frameon=False)
        ax = row[2]
        mark_cue(ax, "cue")
        ax.axhline(CHANCE, color="0.4", lw=0.8, ls=":")
        cued = cued_attention(attention)
        for task, colour in TASK_COLOURS.items():
            trials = attention["task"] == task
            ax.plot(attention["time"], cued.isel(trial=trials.to_numpy()).mean("trial"), color=colour, label=f"{task} trials")
            for onset, line in (("onset_samples", "-."), ("onset_response", ":")):
                ax.axvline(float(attention[onset].where(trials).mean()), color=colour, lw=0.8, ls=line)
        ax.plot([], [], color="0.3", lw=0.8, ls="-.", label="mean sample onset")
        ax.plot([], [], color="0.3", lw=0.8, ls=":", label="mean response onset")
        ax.set(xlabel="time from cue onset (ms)", ylabel="attention on the cued item", ylim=(0, 1.02),
               title=f"{name}: attention on the cued item, held-out trials")
        ax.legend(fontsize="small", frameon=False, loc="lower right", ncols=2)
    return fig


def _errorbar(ax, x, value, low, high, **style):
    value, low, high = (np.asarray(v, float) for v in (value, low, high))
    ax.errorbar(x, value, yerr=[np.clip(value - low, 0, None), np.clip(high - value, 0, None)], ls="", capsize=2, **style)


def _instances(n):
    return f"{n} instance" if n == 1 else f"{n} instances"


def comparison(summary):
    """Which network each region resembles, the signature measures behind it, and selection timing.

    Needs the comparison ``summary`` (:func:`wmattn.compare.summarize`):
    ``distance``/``distance_ci``/``match`` over region and variant (with
    ``n_instances`` and ``variant_distance``), each network's ``network_variant``,
    ``signature`` with ``signature_low``/``_high`` (entity, measure), each
    region's ``selection_onset``/``_ci`` (region, task) and each network's
    ``cued_attention`` (network, task, attention_time) with
    ``attention_onset``/``_ci``.
    """
    fig, axes = plt.subplot_mosaic([["distance", "gi"], ["transfer", "timing"]], figsize=(13, 8.5), layout="constrained")
    regions, variants = summary["region"].to_numpy(), summary["variant"].to_numpy()
    markers = dict(zip(variants, NETWORK_MARKERS))
    colours = {variant: f"C{k}" for k, variant in enumerate(variants)}
    ax = axes["distance"]
    y = np.arange(len(regions))
    for k, variant in enumerate(variants):
        offset = (k - (len(variants) - 1) / 2) * 0.18
        interval = summary["distance_ci"].sel(variant=variant).to_numpy()
        value = summary["distance"].sel(variant=variant).to_numpy()
        ax.errorbar(value, y + offset, xerr=[value - interval[:, 0], interval[:, 1] - value], ls="",
                    marker=markers[variant], color=colours[variant], capsize=2,
                    label=f"{variant} ({_instances(int(summary['n_instances'].sel(variant=variant)))})")
    for i, region in enumerate(regions):
        ax.text(1.01, i, str(summary["match"].sel(region=region).item()), transform=ax.get_yaxis_transform(),
                va="center", fontsize="small")
    between = summary["variant_distance"].to_numpy()[np.triu_indices(len(variants), 1)]
    if between.size:
        ax.axvline(between.min(), color="0.4", lw=0.8, ls="--", label="variants' distance apart")
    ax.set_yticks(y, regions)
    ax.invert_yaxis()
    ax.set(xlabel="signature distance to the variant's centroid (RMS of scaled differences) [95 %]", xlim=(0, None),
           title="distance to each network variant; right: the match")
    ax.legend(fontsize="small", frameon=False, title="variant", title_fontsize="small", loc="best")

    entities = summary["entity"].to_numpy()
    x = np.arange(len(entities))
    for panel, measures, title, ylabel in (
        ("gi", [m for m in summary["measure"].to_numpy() if m.startswith("gi_")], "generalisation index", "GI"),
        ("transfer", [m for m in summary["measure"].to_numpy() if m.startswith("accuracy_")
                      and m.split("_")[2] != m.split("_")[4]], "transfer accuracy", "accuracy"),
    ):
        ax = axes[panel]
        for k, measure in enumerate(measures):
            offset = (k - (len(measures) - 1) / 2) * 0.8 / max(len(measures), 1)
            _errorbar(ax, x + offset, summary["signature"].sel(measure=measure),
                      summary["signature_low"].sel(measure=measure), summary["signature_high"].sel(measure=measure),
                      marker="o", ms=4, color=f"C{k}", label=measure.split("_", 1)[1].replace("_", " "))
        ax.axhline(0 if panel == "gi" else CHANCE, color="0.4", lw=0.8, ls=":")
        ax.set_xticks(x, [str(e).removeprefix("model_") for e in entities], rotation=30, ha="right")
        ax.set(ylabel=ylabel, title=f"{title} [95 %] (missing: within-task at chance)" if panel == "gi"
               else f"{title} [95 %]")
        ax.legend(fontsize="x-small", frameon=False, ncols=2)

    ax = axes["timing"]
    mark_cue(ax, "cue")
    time = summary["attention_time"].to_numpy()
    labelled = set()
    for network in summary["network"].to_numpy():
        variant = str(summary["network_variant"].sel(network=network).item())
        course = summary["cued_attention"].sel(network=network, task="retro").to_numpy()
        if np.isfinite(course).any():
            ax.plot(time, course, color=colours[variant], lw=1.0, alpha=0.8,
                    label=None if variant in labelled else f"{variant}: attention on cued (retro)")
            labelled.add(variant)
            onset, (low, high) = (float(summary["attention_onset"].sel(network=network, task="retro")),
                                  summary["attention_onset_ci"].sel(network=network, task="retro").to_numpy())
            ax.errorbar([onset], [0.5], xerr=[[onset - low], [high - onset]], marker=markers[variant],
                        color=colours[variant], capsize=2)
    for i, region in enumerate(regions):
        onset = float(summary["selection_onset"].sel(region=region, task="retro"))
        low, high = summary["selection_onset_ci"].sel(region=region, task="retro").to_numpy()
        level = 0.05 + 0.07 * i
        if np.isfinite(onset):
            ax.errorbar([onset], [level], xerr=[[onset - low], [np.nan_to_num(high, nan=time[-1]) - onset]],
                        marker="|", ms=10, color="0.3", capsize=2)
            ax.annotate(region, (onset, level), xytext=(3, 4), textcoords="offset points", fontsize="x-small")
        else:
            ax.text(0.98, level, f"{region}: no selection onset", transform=ax.get_yaxis_transform(), ha="right",
                    va="center", fontsize="x-small")
    ax.axhline(CHANCE, color="0.4", lw=0.8, ls=":")
    ax.set(xlabel="time from cue onset (ms)", ylabel="attention on the cued item", ylim=(0, 1.02),
           xlim=(-500, min(time[-1], 1500)),
           title="retro: attention onset (half rise) vs regions' selection onset [95 %]")
    ax.legend(fontsize="x-small", frameon=False, loc="center right")
    return fig
