"""Behaviour: the reported colours of a source's trials, and the mixture model that describes them.

Each trial's report is compared with the colour of the cued item (the
target) and, on two-item trials, of the uncued item (the non-target). The
three-component mixture model of Bays, Catalao & Husain (2009, J Vis 9(10):7)
describes the errors: with probability ``p_target`` a report is drawn from a
von Mises distribution of concentration ``kappa`` around the target, with
``p_swap`` from a von Mises of the same concentration around the non-target
(a swap error), and with ``p_guess`` uniformly from the colour wheel. On
single-item trials there is no non-target, ``p_swap`` is 0 and the model has
two components.

The fit is maximum likelihood by expectation-maximisation as Bays' JV10_fit /
JV10_function: the same starting grid (kappa 1, 10, 100 x swap weight 0.01,
0.1, 0.4 x guess weight 0.01, 0.1, 0.4; the swap weight 0 without
non-targets), iterations until the log likelihood changes by less than 1e-4,
and the best likelihood over the starting points kept. Deliberate
differences, each making the estimate the model's exact maximum-likelihood
one:

- kappa's M-step solves ``A1(kappa) = R`` exactly (Newton's method on
  ``I1/I0``) where JV10 uses Fisher's piecewise approximation of its inverse;
- ``R`` is the responsibility-weighted mean cosine of the errors, the M-step
  of a von Mises whose mean is fixed at the target, where JV10 uses the
  resultant length (the M-step of a free mean), which exceeds it when
  reports are biased;
- no small-sample correction of kappa (JV10 applies one for 15 trials or
  fewer), and kappa is capped at :data:`KAPPA_MAX`;
- a start that has not converged after ``max_iterations`` keeps its last
  estimate (EM never lowers the likelihood) with a warning, where JV10
  returns NaN.
"""

import itertools
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import i0e, i1e

from wmattn import seeds
from wmattn.task import TASKS

CONDITIONS = ("retro", "pro", "single_item")  # two-item trials of each task; single-item trials of both
CI = (0.025, 0.975)
PARAMETERS = ("kappa", "p_target", "p_swap", "p_guess")
MEASURES = ("mean_abs_error", *PARAMETERS)  # each with a bootstrap interval in the summary
KAPPA_MAX = 1e4  # a von Mises sd of 0.01 rad (0.6 deg): reports that never miss do not send kappa to infinity
# JV10_fit's starting grid
START_KAPPA = (1.0, 10.0, 100.0)
START_SWAP = (0.01, 0.1, 0.4)
START_GUESS = (0.01, 0.1, 0.4)
BOOTSTRAP_START_FLOOR = 0.01  # resamples start off the boundary, where EM's multiplicative updates cannot move a weight
ELEMENTS_PER_CHUNK = 2**20  # trial weights of the fits run at once: EM then holds ~100 MB
N_HISTOGRAM_BINS = 32
N_GRID = 181  # points of the fitted densities (2 degrees apart)
TRIAL_COLUMNS = ("task", "cued", "color_upper", "color_lower", "n_items", "report")


class MixtureFit(NamedTuple):
    """The mixture model's parameters and the log likelihood they reach (scalars, or arrays for a batch of fits)."""

    kappa: np.ndarray
    p_target: np.ndarray
    p_swap: np.ndarray
    p_guess: np.ndarray
    log_likelihood: np.ndarray


def circular_error(report, reference):
    """``report - reference`` wrapped to [-pi, pi)."""
    return np.mod(np.asarray(report) - np.asarray(reference) + np.pi, 2 * np.pi) - np.pi


def von_mises_density(error, kappa):
    """Density (per radian) of a von Mises of mean 0 and concentration ``kappa`` at ``error``, broadcast."""
    return _von_mises_of_cosine(np.cos(error), np.asarray(kappa, dtype=float))


def a1_inverse(r):
    """The kappa of a von Mises whose mean cosine ``A1(kappa) = I1(kappa)/I0(kappa)`` is ``r``, elementwise.

    Fisher's (1993) approximation, then Newton steps on ``A1`` (increasing and
    concave, with ``A1' = 1 - A1/kappa - A1^2``) to machine precision; 0 where
    ``r <= 0`` and at most :data:`KAPPA_MAX`.
    """
    r = np.clip(np.asarray(r, dtype=float), 0, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.select(
            [r < 0.53, r < 0.85],
            [2 * r + r**3 + 5 * r**5 / 6, -0.4 + 1.39 * r + 0.43 / (1 - r)],
            1 / (r**3 - 4 * r**2 + 3 * r),
        )
        kappa = np.clip(np.nan_to_num(kappa, nan=KAPPA_MAX, posinf=KAPPA_MAX), 0, KAPPA_MAX)
        for _ in range(4):
            a1 = i1e(kappa) / i0e(kappa)
            step = (a1 - r) / (1 - a1 / kappa - a1**2)
            kappa = np.clip(np.where(kappa > 0, kappa - step, 0), 0, KAPPA_MAX)
    return np.where(r > 0, kappa, 0.0)


def _vector(values, name, n=None):
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"{name} must be one value per trial (1-D), got shape {values.shape}")
    if n is not None and len(values) != n:
        raise ValueError(f"{name} has {len(values)} trials but report has {n}; give one value per trial")
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"{name} must be finite but holds {int(bad.sum())} NaN or infinite values "
                         f"(the first at trial {int(np.flatnonzero(bad)[0])}); leave trials without a report out")
    return values


def _starts(start, with_swap):
    """Starting points (n_starts, 4) of (kappa, p_target, p_swap, p_guess): ``start``, or JV10's grid."""
    if start is None:
        grid = itertools.product(START_KAPPA, START_SWAP if with_swap else (0.0,), START_GUESS)
        return np.array([(kappa, 1 - swap - guess, swap, guess) for kappa, swap, guess in grid])
    start = np.array([start[:4]], dtype=float)
    weights = start[0, 1:]
    if not (np.isfinite(start).all() and start[0, 0] >= 0 and (weights >= 0).all() and abs(weights.sum() - 1) < 1e-6):
        raise ValueError(f"start must have kappa >= 0 and weights >= 0 that sum to 1, got {start[0].tolist()}")
    if not with_swap and weights[1] != 0:
        raise ValueError("start.p_swap must be 0 without non-targets (single-item trials have no swap component)")
    return start


def fit_mixture(report, target, nontarget=None, counts=None, start=None, tolerance=1e-4, max_iterations=10_000):
    """Maximum-likelihood fit of the mixture model by EM (Bays et al. 2009; see the module docstring).

    Parameters
    ----------
    report, target : array_like, shape (n_trials,)
        Reported and cued colours, radians.
    nontarget : array_like, shape (n_trials,), optional
        The uncued item's colour. Without it (single-item trials) the model
        has two components and ``p_swap`` is 0.
    counts : array_like, shape (n_fits, n_trials), optional
        How often each trial counts in each of ``n_fits`` fits (a bootstrap
        resample's draws); by default one fit, every trial once.
    start : MixtureFit or sequence, optional
        (kappa, p_target, p_swap, p_guess) to start every fit from; by default
        each fit starts from every point of JV10's grid and keeps the best.
    tolerance : float
        Convergence: the log likelihood changed by less than this.
    max_iterations : int

    Returns
    -------
    MixtureFit
        Floats, or with ``counts`` arrays of shape (n_fits,).

    Raises ``ValueError`` naming the input if the inputs differ in length, are
    not 1-D, hold NaN or infinite values, or if ``counts`` or ``start`` are
    malformed.
    """
    report = _vector(report, "report")
    if len(report) == 0:
        raise ValueError("report is empty: the mixture needs at least one trial")
    target = _vector(target, "target", len(report))
    cos_target = np.cos(circular_error(report, target))
    # without non-targets the swap weight starts, and so stays, at 0: any cosines serve
    if nontarget is None:
        cos_nontarget = cos_target
    else:
        cos_nontarget = np.cos(circular_error(report, _vector(nontarget, "nontarget", len(report))))
    single = counts is None
    counts = np.ones((1, len(report))) if single else np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.shape[1] != len(report):
        raise ValueError(f"counts must be shaped (n_fits, n_trials) = (n, {len(report)}), got {counts.shape}")
    if not (np.isfinite(counts).all() and (counts >= 0).all() and (counts.sum(axis=1) > 0).all()):
        raise ValueError("counts must be finite and >= 0, with at least one trial counted in every fit")
    starts = _starts(start, nontarget is not None)
    fits = []
    for rows in np.array_split(np.arange(len(counts)), max(1, len(counts) * len(starts) * len(report) // ELEMENTS_PER_CHUNK)):
        batch = np.repeat(counts[rows], len(starts), axis=0)
        params, log_likelihood = _em(cos_target, cos_nontarget, batch, np.tile(starts, (len(rows), 1)), tolerance, max_iterations)
        best = np.argmax(log_likelihood.reshape(len(rows), len(starts)), axis=1) + len(starts) * np.arange(len(rows))
        fits.append(np.column_stack([params[best], log_likelihood[best]]))
    fits = np.concatenate(fits)
    return MixtureFit(*(float(column[0]) if single else column for column in fits.T))


def _em(cos_target, cos_nontarget, counts, params, tolerance, max_iterations):
    """EM from every row of ``params`` (batch, 4) with trial weights ``counts`` (batch, n_trials).

    Rows stop one by one as they converge. A swap weight of 0 stays 0 (its
    update is proportional to it), which is how single-item fits keep two
    components. Returns the parameters (batch, 4) and their log likelihoods (batch,).
    """
    params = params.copy()
    log_likelihood = np.full(len(params), -np.inf)
    active = np.arange(len(params))
    for _ in range(max_iterations + 1):
        kappa, p_target, p_swap, p_guess = (column[:, None] for column in params[active].T)
        weights = counts[active]
        target = p_target * _von_mises_of_cosine(cos_target, kappa)
        swap = p_swap * _von_mises_of_cosine(cos_nontarget, kappa)
        guess = p_guess / (2 * np.pi)
        total = target + swap + guess
        current = (weights * np.log(total)).sum(axis=1)
        moving = ~(np.abs(current - log_likelihood[active]) < tolerance)
        log_likelihood[active] = current
        active = active[moving]
        if not len(active):
            break
        # each component's share of every trial, weighted by the trial's count
        target, swap, guess = (weights[moving] * np.broadcast_to(part, total.shape)[moving] / total[moving]
                               for part in (target, swap, guess))
        n = weights[moving].sum(axis=1)
        von_mises_mass = target.sum(axis=1) + swap.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_cosine = np.where(von_mises_mass > 0, (target @ cos_target + swap @ cos_nontarget) / von_mises_mass, 0.0)
        params[active] = np.column_stack([a1_inverse(mean_cosine), target.sum(axis=1) / n, swap.sum(axis=1) / n,
                                          guess.sum(axis=1) / n])
    else:
        warnings.warn(f"mixture fit: {len(active)} of {len(params)} EM runs had not converged after {max_iterations} "
                      "iterations; their last estimates are kept", RuntimeWarning, stacklevel=3)
    return params, log_likelihood


def _von_mises_of_cosine(cosine, kappa):
    """Von Mises density (mean 0) at errors given by their cosines, broadcast against ``kappa``."""
    # i0e(k) = I0(k) exp(-k): the density stays finite for large kappa
    return np.exp(kappa * (cosine - 1)) / (2 * np.pi * i0e(kappa))


def trial_table(dataset):
    """The per-trial coordinates the behaviour reads, as a DataFrame (one row per trial).

    ``dataset`` (a rates or attention file) needs ``task``, ``cued``,
    ``color_upper``, ``color_lower`` and ``report``; ``n_items`` where the
    source has single-item trials (without it every trial has two items).
    """
    return pd.DataFrame({name: dataset[name].to_numpy() for name in TRIAL_COLUMNS if name in dataset})


def _condition_trials(trials, source):
    """Check ``trials`` and split them by condition: {condition: (report, target, nontarget or None)}
    of the reported trials, and {condition: number of trials without a report}."""
    missing = [name for name in TRIAL_COLUMNS if name not in trials and name != "n_items"]
    if missing:
        raise ValueError(f"source {source}: trials lack the column(s) {', '.join(missing)}")
    task, cued = trials["task"].to_numpy(dtype=str), trials["cued"].to_numpy(dtype=str)
    n_items = trials["n_items"].to_numpy() if "n_items" in trials else np.full(len(trials), 2)
    for name, values, allowed in [("task", task, TASKS), ("cued", cued, ("upper", "lower")), ("n_items", n_items, (1, 2))]:
        wrong = sorted(set(values.tolist()) - set(allowed))
        if wrong:
            raise ValueError(f"source {source}: column {name} holds {wrong}; expected values in {list(allowed)}")
    upper, lower = (trials[f"color_{item}"].to_numpy(dtype=float) for item in ("upper", "lower"))
    target = np.where(cued == "upper", upper, lower)
    nontarget = np.where(cued == "upper", lower, upper)
    report = trials["report"].to_numpy(dtype=float)
    if np.isinf(report).any():
        raise ValueError(f"source {source}: column report holds infinite values (NaN marks a trial without a report)")
    reported = ~np.isnan(report)
    members = {"retro": (task == "retro") & (n_items == 2), "pro": (task == "pro") & (n_items == 2), "single_item": n_items == 1}
    split, no_report = {}, {}
    for condition, member in members.items():
        use = member & reported
        for name, values, needed in [("target", target, use), ("non-target", nontarget, use & (n_items == 2))]:
            bad = needed & ~np.isfinite(values)
            if bad.any():
                raise ValueError(f"source {source}: the {name} colour of {int(bad.sum())} {condition} trial(s) is not finite "
                                 f"(the first: trial {int(np.flatnonzero(bad)[0])}); every present item needs a colour")
        split[condition] = (report[use], target[use], nontarget[use] if condition != "single_item" else None)
        no_report[condition] = int((member & ~reported).sum())
    return split, no_report


def _bootstrap_start(fit, with_swap):
    """``fit`` with each of the model's weights at least BOOTSTRAP_START_FLOOR, renormalised (the swap weight
    stays 0 without non-targets)."""
    weights = np.maximum([fit.p_target, fit.p_swap, fit.p_guess], BOOTSTRAP_START_FLOOR) * [1, with_swap, 1]
    return (fit.kappa, *(weights / weights.sum()))


def _summarise_condition(report, target, nontarget, n_bootstrap, rng, edges, grid):
    """Point estimates, bootstrap samples (n_bootstrap, measure) and densities of one source's condition."""
    target_error = circular_error(report, target)
    absolute = np.abs(target_error)
    fit = fit_mixture(report, target, nontarget)
    counts = rng.multinomial(len(report), np.full(len(report), 1 / len(report)), size=n_bootstrap)
    resampled = fit_mixture(report, target, nontarget, counts=counts, start=_bootstrap_start(fit, nontarget is not None))
    samples = np.column_stack([counts @ absolute / len(report), *resampled[:4]])
    density = {"target_error_density": np.histogram(target_error, edges, density=True)[0]}
    # the swap component's errors to the target sit at each trial's non-target offset
    swap = 0.0 if nontarget is None else von_mises_density(grid[:, None] - circular_error(nontarget, target), fit.kappa).mean(1)
    density["target_error_model"] = (fit.p_target * von_mises_density(grid, fit.kappa) + fit.p_swap * swap
                                     + fit.p_guess / (2 * np.pi))
    if nontarget is not None:
        density["nontarget_error_density"] = np.histogram(circular_error(report, nontarget), edges, density=True)[0]
    point = [absolute.mean(), *fit[:4]]
    return point, fit.log_likelihood, samples, density


def behaviour_summary(trials_by_source, n_bootstrap=1000, rng=None):
    """Errors and mixture-model fits of every source's reports, per condition, with bootstrap intervals.

    Parameters
    ----------
    trials_by_source : dict
        Source name (e.g. "circuit", "recordings", "model") -> DataFrame of its
        trials with columns ``task`` (retro|pro), ``cued`` (upper|lower),
        ``color_upper``, ``color_lower`` (radians; NaN for the absent item of
        a single-item trial), ``report`` (radians; NaN for a trial without a
        report) and optionally ``n_items`` (1 or 2; without it every trial
        has two items). :func:`trial_table` makes one from a contract file.
    n_bootstrap : int
        Resamples of each source's and condition's trials (with replacement).
    rng : numpy.random.Generator, SeedSequence or int, optional
        One draw from it seeds every source's and condition's own stream,
        keyed by their names, so a source's intervals do not depend on which
        other sources are summarised.

    Returns
    -------
    xarray.Dataset
        Conditions: ``retro`` and ``pro`` (two-item trials of each task) and
        ``single_item`` (single-item trials of both tasks); the error is
        ``report - cued colour`` wrapped to [-pi, pi). Variables:

        - ``mean_abs_error`` (radians), ``kappa``, ``p_target``, ``p_swap``,
          ``p_guess`` (source, condition): the mean absolute error and the
          mixture's maximum-likelihood parameters (:func:`fit_mixture`;
          ``p_swap`` is 0 on single-item trials), each with ``{name}_ci``
          (ci_bound, source, condition), the percentile bootstrap interval
          over trials (resamples start from the estimate, see
          :data:`BOOTSTRAP_START_FLOOR`);
        - ``log_likelihood`` (source, condition) of the fit;
        - ``n_trials`` (trials with a report, which are the ones used) and
          ``n_no_report`` (trials left out) (source, condition);
        - ``target_error_density`` and ``nontarget_error_density`` (source,
          condition, error_bin): histograms (density per radian) of the error
          to the cued and to the uncued item, ``error_bin`` the bin centres
          (NaN for single-item trials' non-target);
        - ``target_error_model`` (source, condition, error_grid): the fitted
          mixture's density of the error to the cued item, its swap component
          averaged over the trials' non-target offsets.

        A condition without reported trials is NaN (``n_trials`` 0).
    """
    sources = list(trials_by_source)
    root = int(np.random.default_rng(rng).integers(2**32))
    edges = np.linspace(-np.pi, np.pi, N_HISTOGRAM_BINS + 1)
    grid = np.linspace(-np.pi, np.pi, N_GRID)
    shape = (len(sources), len(CONDITIONS))
    point, log_likelihood = np.full((*shape, len(MEASURES)), np.nan), np.full(shape, np.nan)
    interval = np.full((len(CI), *shape, len(MEASURES)), np.nan)
    n_trials, n_no_report = np.zeros(shape, int), np.zeros(shape, int)
    densities = {name: np.full((*shape, size), np.nan) for name, size in [
        ("target_error_density", N_HISTOGRAM_BINS), ("nontarget_error_density", N_HISTOGRAM_BINS), ("target_error_model", N_GRID)]}
    for i, source in enumerate(sources):
        split, no_report = _condition_trials(trials_by_source[source], source)
        for j, condition in enumerate(CONDITIONS):
            report, target, nontarget = split[condition]
            n_trials[i, j], n_no_report[i, j] = len(report), no_report[condition]
            if not len(report):
                continue
            point[i, j], log_likelihood[i, j], samples, density = _summarise_condition(
                report, target, nontarget, n_bootstrap, seeds.rng(root, source, condition), edges, grid)
            interval[:, i, j] = np.quantile(samples, CI, axis=0)
            for name, values in density.items():
                densities[name][i, j] = values
    pair, units = ("source", "condition"), {"mean_abs_error": {"units": "radians"}}
    variables = {name: (pair, point[..., k], units.get(name, {})) for k, name in enumerate(MEASURES)}
    variables |= {f"{name}_ci": (("ci_bound", *pair), interval[..., k], units.get(name, {})) for k, name in enumerate(MEASURES)}
    variables |= {"log_likelihood": (pair, log_likelihood), "n_trials": (pair, n_trials), "n_no_report": (pair, n_no_report)}
    variables |= {name: ((*pair, "error_grid" if name == "target_error_model" else "error_bin"), values, {"units": "1/radian"})
                  for name, values in densities.items()}
    return xr.Dataset(
        variables,
        coords={
            "source": np.array(sources, dtype=str),
            "condition": list(CONDITIONS),
            "ci_bound": list(CI),
            "error_bin": ("error_bin", (edges[:-1] + edges[1:]) / 2, {"units": "radians"}),
            "error_grid": ("error_grid", grid, {"units": "radians"}),
        },
        attrs={"n_bootstrap": n_bootstrap, "model": "Bays, Catalao & Husain (2009) mixture: target, swap, guess"},
    )
