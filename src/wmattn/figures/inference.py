"""Figures of the circuit's fit to the decoding: posterior, calibration and posterior predictive check."""

import json

import numpy as np
from matplotlib import ticker
from scipy import stats

from wmattn.figures.style import CHANCE, plt, region_colours

INTERVAL = (0.05, 0.95)  # the central 90 % credible interval and the predictive range
N_RANK_BINS = 20
BAND = 0.99  # the rank histogram's band: counts a uniform rank falls in with this probability, bin by bin
COVERAGE_TOLERANCE = 0.05
COVERAGE_MARKS = (0.5, 0.9)
BEHAVIOUR_COLOUR = "0.1"  # the observed behaviour belongs to no region
CREDIBLE_COLOUR = "#0072B2"  # the palette's blue: no figure here shows tasks, so it cannot be read as retro


def _label(name, names):
    """The last two parts of a dotted config key, or more where two keys of ``names`` would share them."""
    parts = name.split(".")
    for n in range(2, len(parts) + 1):
        if sum(other.split(".")[-n:] == parts[-n:] for other in names) == 1:
            return ".".join(parts[-n:])
    return name


def _fit_space(values, scale):
    """Where the prior is uniform: the value, or its logarithm on a log scale."""
    return np.log(values) if scale == "log" else np.asarray(values, float)


def _edges(low, high, scale, n):
    """``n`` bins evenly spaced in fit space between the prior's bounds, in the parameter's units."""
    edges = np.linspace(_fit_space(low, scale), _fit_space(high, scale), n + 1)
    return np.exp(edges) if scale == "log" else edges


def _set_scale(ax, which, scale):
    """Make ``ax``'s x or y axis (``which``) linear or log; a log axis spanning about a decade is labelled at 1,
    2 and 5 times powers of ten, as plain numbers, rather than with matplotlib's crowded minor labels."""
    getattr(ax, f"set_{which}scale")(scale)
    axis = getattr(ax, f"{which}axis")
    if scale == "log":
        axis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))
        axis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        axis.set_minor_formatter(ticker.NullFormatter())


def posterior(samples, observed=None):
    """A corner plot of the posterior: each parameter's marginal with the prior, each pair's joint density.

    ``samples`` is ``samples.nc``: ``theta`` (sample, parameter),
    ``quantile_value`` (quantile, parameter; quantiles 0.05, 0.5 and 0.95
    read), ``prior_low``, ``prior_high`` and ``scale`` ("linear" or "log")
    over parameter, attrs ``n_train``, ``n_excluded`` and ``dropped_statistics``
    (JSON list). ``observed``
    (``observed.nc``: ``x_o`` over statistic, attr ``n_trials``), if given,
    names in the title what was fitted. Densities are per unit of fit
    space (the value, or its natural logarithm on a log scale), where the
    prior is flat; axes span the prior's bounds.
    """
    names = list(samples["parameter"].to_numpy())
    n = len(names)
    fig, axes = plt.subplots(n, n, figsize=(2.6 * n + 1, 2.6 * n + 1), layout="constrained", squeeze=False)
    for i, row in enumerate(axes):
        for j, ax in enumerate(row):
            if j > i:
                fig.delaxes(ax)
    bounds = {name: (float(samples["prior_low"].sel(parameter=name)), float(samples["prior_high"].sel(parameter=name)),
                     str(samples["scale"].sel(parameter=name).item())) for name in names}
    theta = {name: samples["theta"].sel(parameter=name).to_numpy() for name in names}
    for i, name in enumerate(names):
        low, high, scale = bounds[name]
        ax = axes[i, i]
        edges = _edges(low, high, scale, 30)
        counts, _ = np.histogram(theta[name], edges)
        width = np.diff(_fit_space(edges, scale))
        ax.stairs(counts / counts.sum() / width, edges, fill=True, color="0.6", label="posterior samples")
        ax.hlines(1 / (_fit_space(high, scale) - _fit_space(low, scale)), low, high, color="0.1", ls="--", lw=1.2,
                  label="prior (uniform; in log on a log axis)")
        q_low, median, q_high = (float(samples["quantile_value"].sel(quantile=q, parameter=name))
                                 for q in (INTERVAL[0], 0.5, INTERVAL[1]))
        ax.axvspan(q_low, q_high, color=CREDIBLE_COLOUR, alpha=0.15, lw=0, zorder=0, label="90 % central credible interval")
        ax.axvline(median, color=CREDIBLE_COLOUR, lw=1.5, label="posterior median")
        ax.set_title(f"{_label(name, names)}\n{median:.3g} [{q_low:.3g}, {q_high:.3g}]", fontsize="medium")
        ax.set_ylim(0, None)
        ax.tick_params(left=False, labelleft=False)
        for j, other in enumerate(names[:i]):
            other_low, other_high, other_scale = bounds[other]
            x_edges, y_edges = _edges(other_low, other_high, other_scale, 25), _edges(low, high, scale, 25)
            joint, _, _ = np.histogram2d(theta[other], theta[name], [x_edges, y_edges])
            axes[i, j].pcolormesh(x_edges, y_edges, joint.T, cmap="Greys", rasterized=True)
            _set_scale(axes[i, j], "y", scale)
            axes[i, j].set_ylim(low, high)
    for j, name in enumerate(names):
        low, high, scale = bounds[name]
        for ax in axes[j:, j]:
            _set_scale(ax, "x", scale)
            ax.set_xlim(low, high)
        for ax in axes[j:-1, j]:
            ax.tick_params(which="both", labelbottom=False)
        axes[-1, j].set_xlabel(_label(name, names))
    for i, name in enumerate(names[1:], start=1):
        axes[i, 0].set_ylabel(_label(name, names))
        for ax in axes[i, 1:i]:
            ax.tick_params(which="both", labelleft=False)
    fitted = ""
    if observed is not None:
        used = observed.sizes["statistic"] - len(json.loads(samples.attrs["dropped_statistics"]))
        fitted = f" to {used} summary statistics of {observed.attrs['n_trials']} trials"
    fig.suptitle(f"Posterior of the circuit's parameters fitted{fitted}\n{samples.sizes['sample']} samples; estimator "
                 f"trained on {samples.attrs['n_train']} simulated prior draws ({samples.attrs['n_excluded']} excluded)",
                 fontsize="medium")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=4, frameon=False,
               fontsize="small")
    return fig


def _rank_band(n_draws, n_samples, edges):
    """Per rank bin the expected count of uniform ranks (0..``n_samples``) and its central ``BAND`` range."""
    p = np.histogram(np.arange(n_samples + 1), edges)[0] / (n_samples + 1)
    return n_draws * p, stats.binom.ppf((1 - BAND) / 2, n_draws, p), stats.binom.ppf((1 + BAND) / 2, n_draws, p)


def _marks(curve):
    """The coverage of ``curve`` (over level) at each of ``COVERAGE_MARKS``."""
    return ", ".join(f"{float(curve.sel(level=level, method='nearest')):.2f}" for level in COVERAGE_MARKS)


def calibration(calibration):
    """Simulation-based calibration rank histograms (one panel per parameter) and the coverage curves.

    ``calibration`` is ``calibration.nc``: ``rank`` (draw, parameter; ranks
    0..``n_samples``), ``ks_p`` (parameter), ``coverage`` (level) and
    ``marginal_coverage`` (level, parameter), attrs ``n_samples``,
    ``n_test`` and ``n_excluded``. The coverage panel takes the last column.
    """
    names = list(calibration["parameter"].to_numpy())
    n_samples, n_draws = int(calibration.attrs["n_samples"]), calibration.sizes["draw"]
    n_cols = min(len(names), 3)
    n_rows = -(-len(names) // n_cols)
    fig = plt.figure(figsize=(3.6 * n_cols + 6.5, 1.2 + 3.4 * n_rows), layout="constrained")
    grid = fig.add_gridspec(n_rows, n_cols + 1, width_ratios=[1] * n_cols + [2.0])
    edges = np.linspace(0, n_samples + 1, min(N_RANK_BINS, n_samples + 1) + 1)
    expected, low, high = _rank_band(n_draws, n_samples, edges)
    for k, name in enumerate(names):
        ax = fig.add_subplot(grid[k // n_cols, k % n_cols])
        ax.fill_between(edges, np.append(low, low[-1]), np.append(high, high[-1]), step="post", color="0.85", lw=0,
                        label=f"uniform ranks: {BAND * 100:g} % band per bin (binomial)")
        ax.stairs(expected, edges, baseline=None, color="0.4", lw=1, ls="--", label="uniform ranks: expected")
        ax.stairs(np.histogram(calibration["rank"].sel(parameter=name), edges)[0], edges, baseline=None, color="0.1",
                  lw=1.5, label="held-out draws")
        ax.set(xlim=(0, n_samples + 1), ylim=(0, None), xlabel=f"rank of the true value among {n_samples} samples",
               ylabel="held-out draws per bin")
        ax.set_title(f"{_label(name, names)}\nKS p = {float(calibration['ks_p'].sel(parameter=name)):.2g}",
                     fontsize="medium")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3, frameon=False, fontsize="small")
    ax = fig.add_subplot(grid[:, -1])
    level = calibration["level"].to_numpy()
    ax.fill_between(level, level - COVERAGE_TOLERANCE, level + COVERAGE_TOLERANCE, color="0.88", lw=0,
                    label=f"ideal (diagonal) \N{PLUS-MINUS SIGN} {COVERAGE_TOLERANCE:g}")
    ax.plot([0, 1], [0, 1], color="0.4", lw=0.8, ls="--")
    for k, name in enumerate(names):
        curve = calibration["marginal_coverage"].sel(parameter=name)
        ax.plot(level, curve, color=f"C{k}", lw=0.9, label=f"{_label(name, names)}: {_marks(curve)}")
    ax.plot(level, calibration["coverage"], color="0.1", lw=2, label=f"joint (HPD): {_marks(calibration['coverage'])}")
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal", xlabel="credibility level",
           ylabel="share of true values inside the credible region")
    ax.set_title("expected coverage: joint and marginal", fontsize="medium")
    ax.legend(fontsize="small", frameon=False, loc="center left", bbox_to_anchor=(1.02, 0.5),
              title=f"coverage at {' and '.join(f'{m * 100:g} %' for m in COVERAGE_MARKS)}", title_fontsize="small")
    fig.suptitle(f"Calibration of the posterior on {calibration.attrs['n_test']} held-out prior draws "
                 f"({calibration.attrs['n_excluded']} excluded): simulation-based calibration ranks and coverage",
                 fontsize="medium")
    return fig


# Panels of the predictive check, in order: title, y label, reference lines (value, label) and y limits.
PANELS = {
    "accuracy": ("decoding accuracy of the cued location (task, epoch window)", "accuracy", [(CHANCE, "chance")], (0, 1)),
    "gi": ("generalisation index (epoch window)", "GI", [(0, "no transfer"), (1, "full transfer")], None),
    "axis_cosine": ("retro vs pro coding axis (epoch window)", "cosine", [(0, "orthogonal"), (1, "the same axis")],
                    (-1, 1)),
    "log_specificity": ("task specificity, most selective neurons (epoch window)", "log10 task specificity",
                        [(0, "one task only")], None),
    "latency": ("selection onset", "latency (ms from cue onset)", [(0, "cue onset")], None),
    "colour": ("colour information after the retro cue", "PEV (%)", [(0, "none")], None),
    "error": ("report error", "median |error| (deg)", [], (0, None)),
    "swap": ("swap rate", "swap rate", [], (0, None)),
}


def _panel(statistic):
    """The panel of a statistic (a key of ``PANELS``) and its tick label."""
    region, kind, rest = statistic.split(".", 2)
    label = rest.replace("_to_", "\N{RIGHTWARDS ARROW}")
    if kind in ("within", "transfer"):
        task, window = label.rsplit(".", 1)
        return "accuracy", f"{region} {kind} {task}, {window}"
    return kind, label if region == "behaviour" else f"{region} {label}"


def predictive(observed, predictive):
    """The posterior predictive check: each observed summary statistic against the simulations of posterior samples.

    ``observed`` is ``observed.nc`` (``x_o`` over statistic); ``predictive``
    the predictive chunks concatenated along draw: ``x`` (draw, statistic)
    and ``excluded`` (draw). Statistics are ``<region>.<kind>.<...>`` or
    ``behaviour.<error|swap>.<task>``; a panel per kind (within-task and
    transfer accuracy share one), in the order of ``PANELS``. Report errors
    are in radians in the files, in degrees here.
    """
    kept = predictive["x"].isel(draw=~predictive["excluded"].to_numpy())
    if not kept.sizes["draw"]:
        raise ValueError(f"posterior predictive check: all {predictive.sizes['draw']} draws excluded")
    statistics = list(observed["statistic"].to_numpy())
    regions = list(dict.fromkeys(s.split(".")[0] for s in statistics if not s.startswith("behaviour.")))
    colours = region_colours(regions) | {"behaviour": BEHAVIOUR_COLOUR}
    panels = {}
    for statistic in statistics:
        panel, label = _panel(statistic)
        panels.setdefault(panel, []).append((statistic, label))
    panels = {panel: panels[panel] for panel in sorted(panels, key=list(PANELS).index)}
    # the accuracies, the most statistics, get a row of their own; the other kinds share the second
    rows = [row for row in ([p for p in panels if p == "accuracy"], [p for p in panels if p != "accuracy"]) if row]
    # a panel is as wide as its statistics are many, plus room for the y axis and the title
    widths = {panel: len(members) + 3 for panel, members in panels.items()}
    width = max(10.0, *(0.45 * sum(widths[p] for p in row) for row in rows))
    fig = plt.figure(figsize=(width, 0.6 + 4.2 * len(rows)), layout="constrained")
    grid = fig.add_gridspec(len(rows), 1)
    axes = {}
    for row, spec in zip(rows, grid):
        for panel, cell in zip(row, spec.subgridspec(1, len(row), width_ratios=[widths[p] for p in row])):
            axes[panel] = fig.add_subplot(cell)
    rng = np.random.default_rng(0)  # the dots' horizontal jitter only
    for panel, members in panels.items():
        ax = axes[panel]
        title, ylabel, references, ylim = PANELS[panel]
        scale = np.degrees(1) if panel == "error" else 1
        names = [statistic for statistic, _ in members]
        simulated = kept.sel(statistic=names).to_numpy() * scale
        value = observed["x_o"].sel(statistic=names).to_numpy() * scale
        low, median, high = np.quantile(simulated, [INTERVAL[0], 0.5, INTERVAL[1]], axis=0)
        x = np.arange(len(names))
        jitter = rng.uniform(-0.18, 0.18, simulated.shape)
        ax.scatter((x + jitter).ravel(), simulated.ravel(), s=7, color="0.6", alpha=0.6, lw=0, zorder=2,
                   label="predictive simulations")
        ax.errorbar(x, median, yerr=[median - low, high - median], fmt="_", ms=12, mew=2, color="0.25", elinewidth=1.5,
                    zorder=3, label="predictive median, 5\N{EN DASH}95 %")
        ax.scatter(x, value, s=45, marker="D", color=[colours[s.split(".")[0]] for s in names], edgecolor="0.1",
                   lw=0.7, zorder=4, label="observed (colour: region)")
        for reference, label in references:
            ax.axhline(reference, color="0.4", lw=0.8, ls=":", zorder=1)
            ax.annotate(label, (1, reference), xycoords=ax.get_yaxis_transform(), xytext=(-2, 2),
                        textcoords="offset points", ha="right", fontsize="x-small", color="0.4")
        region_of = [s.split(".")[0] for s in names]
        for k in range(1, len(names)):
            if region_of[k] != region_of[k - 1]:
                ax.axvline(k - 0.5, color="0.85", lw=0.8, zorder=0)
        ax.set_xticks(x, [label for _, label in members], rotation=40 if panel == "accuracy" else 60, ha="right",
                      rotation_mode="anchor", fontsize="small")
        for tick, region in zip(ax.get_xticklabels(), region_of):
            tick.set_color(colours[region])
        outside = int(np.sum((value < low) | (value > high)))
        ax.set(xlim=(-0.6, len(names) - 0.4), ylabel=ylabel)
        ax.set_title(f"{title}\n{outside} of {len(names)} outside 5\N{EN DASH}95 %", fontsize="medium")
        if ylim is None:
            ax.margins(y=0.1)  # room for the labels of reference lines at the data's edge
        else:
            ax.set_ylim(*ylim)
    fig.legend(*next(iter(axes.values())).get_legend_handles_labels(), loc="outside lower center", ncols=3,
               frameon=False, fontsize="small", markerscale=1.5)
    fig.suptitle(f"Posterior predictive check: {kept.sizes['draw']} simulations of posterior samples "
                 f"({predictive.sizes['draw'] - kept.sizes['draw']} excluded) against the observed summaries",
                 fontsize="medium")
    return fig
