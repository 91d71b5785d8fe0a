"""Figures of the decoding results; each function returns a matplotlib Figure."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

CHANCE = 0.5
STYLE = {  # (train, test): colour and line style; transfer is dashed
    ("retro", "retro"): ("tab:blue", "-"),
    ("pro", "pro"): ("tab:orange", "-"),
    ("retro", "pro"): ("tab:blue", "--"),
    ("pro", "retro"): ("tab:orange", "--"),
}


def decoding_time_courses(decoding, region):
    """Four accuracy time courses of one region, aligned to the cue onset.

    ``decoding`` needs ``accuracy`` (train_task, test_task, time).
    """
    fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
    ax.axvspan(0, 300, color="0.92", zorder=0, label="cue")
    ax.axhline(CHANCE, color="0.4", lw=0.8, ls=":")
    for (train, test), (colour, line) in STYLE.items():
        kind = "within" if train == test else "transfer"
        ax.plot(
            decoding["time"],
            decoding["accuracy"].sel(train_task=train, test_task=test),
            color=colour,
            ls=line,
            label=f"train {train}, test {test} ({kind})",
        )
    ax.set(
        xlabel="time from cue onset (ms)",
        ylabel="cued-location accuracy",
        ylim=(0.3, 1.02),
        title=f"{region}: decoding the cued location",
    )
    ax.legend(fontsize="small", loc="upper left", frameon=False)
    return fig


def select_window(decoding, window):
    """``accuracy`` in the time bins whose centres lie in ``window`` (ms)."""
    return decoding["accuracy"].sel(time=slice(*window))


def transfer_summary(decodings, shared_selection, window):
    """Cross-task transfer of every region, regions ordered by ``shared_selection``.

    Bars are the mean transfer accuracy over the bins in ``window`` (ms from cue
    onset); dots are the individual bins; the within-task accuracy of the
    training task is drawn as a tick for reference.

    Parameters
    ----------
    decodings : dict
        Region name to a decoding dataset with ``accuracy`` (train_task,
        test_task, time).
    shared_selection : dict
        Region name to its configured ``shared_selection``.
    window : (float, float)
    """
    regions = sorted(decodings, key=lambda region: shared_selection[region], reverse=True)
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
        [f"{region}\nshared={shared_selection[region]:g}" for region in regions],
    )
    ax.set(
        ylabel="cued-location accuracy",
        ylim=(0.3, 1.02),
        title=f"Cross-task transfer, {window[0]:g} to {window[1]:g} ms after cue onset",
    )
    ax.legend(fontsize="small", loc="upper right", frameon=False)
    return fig
