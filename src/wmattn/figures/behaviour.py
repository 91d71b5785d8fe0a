"""The behaviour figure (after Panichello & Buschman 2021, Fig. 1c): report errors and their mixture-model fits."""

import numpy as np

from wmattn.figures.style import TASK_COLOURS, plt

CONDITION_COLOURS = {**TASK_COLOURS, "single_item": "0.35"}  # single-item trials of both tasks: grey
CONDITION_LABELS = {"retro": "retro", "pro": "pro", "single_item": "single item"}
COMPONENTS = {"p_target": "target", "p_swap": "swap", "p_guess": "guess"}


def _interval_points(ax, x, value, ci, colour):
    """Points at ``x`` with whiskers from ``ci`` (2, n); NaN values are left out."""
    shown = np.isfinite(value)
    ax.errorbar(np.asarray(x)[shown], value[shown], yerr=np.abs(ci[:, shown] - value[shown]), fmt="o", color=colour,
                ms=5, capsize=2, lw=1.2)


def _error_histogram(ax, summary, source, condition):
    """One condition's errors to the cued item (bars, % of trials per bin) and the fitted mixture (line)."""
    cell = summary.sel(source=source, condition=condition)
    n = int(cell["n_trials"])
    ax.set_title(f"{CONDITION_LABELS[condition]} (n = {n})", fontsize="medium", color=CONDITION_COLOURS[condition])
    if n == 0:
        ax.text(0.5, 0.5, "no reported trials", transform=ax.transAxes, ha="center", va="center", color="0.4")
        return
    centres = np.degrees(summary["error_bin"].to_numpy())
    width = centres[1] - centres[0]
    to_percent = 100 * np.radians(width)  # density per radian -> % of trials per bin
    ax.bar(centres, cell["target_error_density"] * to_percent, width=width, color=CONDITION_COLOURS[condition], alpha=0.55, lw=0)
    ax.plot(np.degrees(summary["error_grid"]), cell["target_error_model"] * to_percent, color="0.1", lw=1.3)
    ci = cell["kappa_ci"].to_numpy()
    ax.text(0.03, 0.96, f"\N{GREEK SMALL LETTER KAPPA} = {float(cell['kappa']):.3g}\n[{ci[0]:.3g}, {ci[1]:.3g}]",
            transform=ax.transAxes, va="top", fontsize="small")


def behaviour(summary):
    """Errors of every source's reports and the mixture model's weights, per condition.

    Needs the behaviour ``summary`` (:func:`wmattn.analysis.behaviour.behaviour_summary`):
    ``n_trials``, ``target_error_density`` (source, condition, error_bin),
    ``target_error_model`` (source, condition, error_grid), ``kappa``,
    ``p_target``, ``p_swap``, ``p_guess`` and ``mean_abs_error`` with their
    ``*_ci`` (ci_bound, source, condition). One row per source: the error to
    the cued item on retro, pro and single-item trials (bars) with the fitted
    mixture's density (line); then the mixture's weights and the mean
    absolute error per condition with their bootstrap intervals. The swap
    weight of single-item trials is 0 by the model and not drawn.
    """
    sources = summary["source"].to_numpy()
    conditions = list(summary["condition"].to_numpy())
    if not len(sources):
        fig, ax = plt.subplots(figsize=(6, 2), layout="constrained")
        ax.text(0.5, 0.5, "no source has reported colours", ha="center", va="center")
        ax.set_axis_off()
        return fig
    fig, axes = plt.subplots(len(sources), len(conditions) + 2, figsize=(15, 0.6 + 2.9 * len(sources)), layout="constrained",
                             width_ratios=[1] * len(conditions) + [1.15, 0.8], squeeze=False)
    for row, source in zip(axes, sources):
        for ax, condition in zip(row, conditions):
            _error_histogram(ax, summary, source, condition)
            ax.set_xticks([-180, -90, 0, 90, 180])
            ax.set_xlim(-180, 180)
            ax.set_xlabel("error to cued colour (deg)")
        top = max((ax.dataLim.y1 for ax in row[:len(conditions)] if ax.has_data()), default=1.0)
        for ax in row[:len(conditions)]:
            ax.set_ylim(0, 1.08 * top)
        for ax in row[1:len(conditions)]:
            ax.tick_params(labelleft=False)
        bin_deg = np.degrees(float(summary["error_bin"][1] - summary["error_bin"][0]))
        row[0].set_ylabel(f"% of trials per {bin_deg:g}\N{DEGREE SIGN} bin")
        row[0].annotate(source, xy=(-0.32, 0.5), xycoords="axes fraction", rotation=90, ha="center", va="center",
                        fontsize="large", fontweight="bold")

        ax = row[len(conditions)]
        for k, condition in enumerate(conditions):
            offset = (k - (len(conditions) - 1) / 2) * 0.22
            for x, name in enumerate(COMPONENTS):
                if name == "p_swap" and condition == "single_item":
                    continue
                cell = summary.sel(source=source, condition=condition)
                _interval_points(ax, [x + offset], cell[name].to_numpy()[None], cell[f"{name}_ci"].to_numpy()[:, None],
                                 CONDITION_COLOURS[condition])
        ax.set_xticks(range(len(COMPONENTS)), list(COMPONENTS.values()))
        ax.set(ylim=(-0.02, 1.02), ylabel="mixture weight")
        ax.set_title("mixture weights", fontsize="medium")
        ax.set_xlim(-0.5, len(COMPONENTS) - 0.5)

        ax = row[len(conditions) + 1]
        for k, condition in enumerate(conditions):
            cell = summary.sel(source=source, condition=condition)
            _interval_points(ax, [k], np.degrees(cell["mean_abs_error"].to_numpy())[None],
                             np.degrees(cell["mean_abs_error_ci"].to_numpy())[:, None], CONDITION_COLOURS[condition])
        ax.set_xticks(range(len(conditions)), [CONDITION_LABELS[condition] for condition in conditions])
        ax.set_xlim(-0.5, len(conditions) - 0.5)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("mean |error| (deg)")
        ax.set_title("mean absolute error", fontsize="medium")
    handles = [plt.Line2D([], [], color=CONDITION_COLOURS[c], marker="s", ls="", ms=8) for c in conditions]
    handles.append(plt.Line2D([], [], color="0.1", lw=1.3))
    fig.legend(handles, [CONDITION_LABELS[c] + " trials" for c in conditions] + ["fitted mixture (target + swap + guess)"],
               loc="outside lower center", ncols=len(handles), frameon=False, fontsize="small")
    fig.suptitle("Reported colours: error distributions and mixture model (Bays et al. 2009); whiskers: bootstrap 95% intervals")
    return fig
