"""Colour information of the cued and the uncued item in every neuron.

As Panichello & Buschman (2021): each neuron's rate in each time bin is
related to an item's colour in 8 bins of the colour wheel, by a phase
modulation index (Tort et al., 2010) z-scored against colour shuffles
(their ``computePhaseModulationIndex.m`` / ``phaseModulationIndex.m``) and by
the percent explained variance (omega squared); the neurons of a region are
then tested together with cluster-mass statistics over time
(:mod:`~wmattn.analysis.stats`).
"""

import numpy as np
import xarray as xr
from scipy.stats import t as t_distribution

from wmattn.analysis.stats import cluster_mass_one_sample, cluster_mass_paired
from wmattn.pseudopop import two_item_trials
from wmattn.task import TASKS

N_COLOR_BINS = 4  # quarters of the colour wheel, for the colour planes (geometry)
N_INFORMATION_BINS = 8  # as computePhaseModulationIndex.m
MEASURES = ("pmi_z", "pev")
CUE_STATUSES = ("cued", "uncued")
CI = (0.025, 0.975)
REQUIRED = ("rate", "task", "cued", "color_upper", "color_lower")
MAX_BLOCK = 2**22  # elements of one block of per-bin sums (32 MB), bounding memory for large sessions


def color_bin(color):
    """Quarter of the colour wheel (0..3) of colours in radians."""
    return (np.mod(color, 2 * np.pi) // (2 * np.pi / N_COLOR_BINS)).astype(int)


def wheel_bins(color, n_bins=N_INFORMATION_BINS):
    """Bin (0..n_bins-1) of each colour (radians) on edges ``linspace(0, 2 pi, n_bins + 1)``.

    MATLAB's ``discretize`` semantics: every bin holds its left edge, the
    last also its right edge (2 pi). Colours outside [0, 2 pi] are wrapped
    into [0, 2 pi) first (``discretize`` would give NaN).
    """
    color = np.asarray(color, dtype=float)
    color = np.where((color >= 0) & (color <= 2 * np.pi), color, np.mod(color, 2 * np.pi))
    edges = np.linspace(0, 2 * np.pi, n_bins + 1)
    return np.minimum(np.searchsorted(edges, color, side="right") - 1, n_bins - 1)


def _columns(rate, color, n_bins):
    """Rates (trials, columns) of the trials that have a colour, as float64, and those trials' colour bins."""
    rate = np.asarray(rate, dtype=float)
    color = np.asarray(color, dtype=float)
    if color.shape != rate.shape[:1]:
        raise ValueError(f"color must have one value per trial (the first axis of rate, {rate.shape[0]}), got shape {color.shape}")
    has_color = np.isfinite(color)
    return rate[has_color].reshape(has_color.sum(), -1), wheel_bins(color[has_color], n_bins)


def _constant(rate):
    """Columns of ``rate`` (trials, columns) whose value is the same on every trial (e.g. a silent neuron); True with no trials."""
    if len(rate) == 0:
        return np.ones(rate.shape[1], bool)
    return rate.max(axis=0) == rate.min(axis=0)


def _modulation_index(rate, bins, n_bins):
    """Modulation index (labellings, columns) of ``rate`` (trials, columns) for each row of ``bins`` (labellings, trials).

    Bin means come from one 2-D matrix product per block of labellings
    (a stacked ``matmul`` is tens of times slower). An empty bin gives NaN;
    so does a negative rate, through a negative probability's logarithm
    (the caller marks those columns).
    """
    one_hot = (bins[:, None, :] == np.arange(n_bins)[:, None]).astype(float)
    counts = one_hot.sum(axis=-1, keepdims=True)
    block = max(1, MAX_BLOCK // max(1, n_bins * rate.shape[1]))
    index = np.empty((len(bins), rate.shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, len(bins), block):
            labellings = one_hot[start:start + block]
            sums = (labellings.reshape(-1, len(rate)) @ rate).reshape(len(labellings), n_bins, -1)
            means = sums / counts[start:start + block]
            p = means / means.sum(axis=1, keepdims=True)
            # 0 log 0 = 0: a bin with no firing adds nothing to the divergence.
            divergence = np.where(p == 0, 0.0, p * np.log(p * n_bins)).sum(axis=1)
            index[start:start + block] = divergence / np.log(n_bins)
    return index


def phase_modulation_index(rate, color, n_bins=N_INFORMATION_BINS):
    """Phase modulation index of the rate by colour (Tort et al., 2010), as ``phaseModulationIndex.m``.

    The trials' colours fall into ``n_bins`` bins of the wheel
    (:func:`wheel_bins`); ``p`` is the mean rate per bin divided by the sum
    of the bin means; the index is the Kullback-Leibler divergence of ``p``
    from the uniform distribution divided by ``log(n_bins)`` (0 log 0 = 0),
    from 0 (the same mean rate for every colour) to 1 (firing for one bin
    of colours only).

    - A bin with no trial makes the index NaN (as the MATLAB function).
    - A column whose rate is the same on every trial (a silent neuron) has
      index 0, as the MATLAB function gives.
    - A negative rate makes ``p`` no distribution and the index undefined:
      NaN for every column with a negative rate on some trial (e.g. the
      attention network's hidden states, decoded like a region; their
      :func:`percent_explained_variance` is defined).
    - Trials whose colour is NaN (the absent item of a single-item trial)
      are left out.

    Parameters
    ----------
    rate : array_like, shape (trials, ...)
        Firing rates (Hz), e.g. (trials, neurons, times).
    color : array_like, shape (trials,)
        Colour (radians) of the item on each trial.
    n_bins : int

    Returns
    -------
    numpy.ndarray, shape ``rate.shape[1:]``
    """
    columns, bins = _columns(rate, color, n_bins)
    index = _modulation_index(columns, bins[np.newaxis], n_bins)[0]
    # A constant rate, silent or not, is not modulated (a silent one's p is 0/0 otherwise).
    every_bin = np.bincount(bins, minlength=n_bins).min() > 0
    index = np.where(_constant(columns) & every_bin, 0.0, index)
    return np.where((columns < 0).any(axis=0), np.nan, index).reshape(np.shape(rate)[1:])


def zscored_phase_modulation_index(rate, color, n_shuffles=100, n_bins=N_INFORMATION_BINS, rng=None):
    """Phase modulation index z-scored against colour shuffles, as ``computePhaseModulationIndex.m``.

    ``(MI - mean(null)) / std(null)`` with the sample standard deviation
    (``ddof=1``, MATLAB's ``std``), where the null is the index of
    ``n_shuffles`` random permutations of the trials' colours. The shuffles
    are the same for every column (every neuron and time bin of a session),
    and all columns are computed at once. NaN where the index is
    (:func:`phase_modulation_index`) and where the rate is the same on every
    trial: a silent neuron's null has no spread (MATLAB's 0/0), so it
    carries no evidence either way and is left out of the statistics
    across neurons, as MATLAB's ``ttest`` leaves out a NaN.

    Parameters
    ----------
    rate : array_like, shape (trials, ...)
    color : array_like, shape (trials,)
    n_shuffles : int
        At least 2 (the standard deviation needs two).
    n_bins : int
    rng : numpy.random.Generator or int or None

    Returns
    -------
    numpy.ndarray, shape ``rate.shape[1:]``
    """
    if n_shuffles < 2:
        raise ValueError(f"n_shuffles must be at least 2 to z-score against the shuffles, got {n_shuffles}")
    rng = np.random.default_rng(rng)
    columns, bins = _columns(rate, color, n_bins)
    labellings = np.vstack([bins] + [rng.permutation(bins) for _ in range(n_shuffles)])
    index = _modulation_index(columns, labellings, n_bins)
    null = index[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (index[0] - null.mean(axis=0)) / null.std(axis=0, ddof=1)
    undefined = _constant(columns) | (columns < 0).any(axis=0)
    return np.where(undefined, np.nan, z).reshape(np.shape(rate)[1:])


def percent_explained_variance(rate, color, n_bins=N_INFORMATION_BINS):
    """Percent of the rate's variance explained by the colour bin: omega squared times 100.

    ``100 (SS_between - (k - 1) MS_within) / (SS_total + MS_within)`` of a
    one-way ANOVA of the rate over the ``k`` occupied colour bins
    (:func:`wheel_bins`), as the Buschman lab's PEV (Buschman et al., 2011,
    Neuron 69:818). Omega squared rather than the plain ratio
    ``SS_between / SS_total`` (eta squared) because the ratio is biased
    upwards, by about ``(k - 1) / (n_trials - 1)`` without any tuning (12 %
    with 8 bins and 60 trials): omega squared is about 0 without tuning, so
    testing it against 0 across neurons asks whether they carry colour
    information. It can be negative. It is defined for negative rates too.

    NaN where the rate is the same on every trial (no variance to explain)
    or there are no more trials than occupied bins; trials whose colour is
    NaN are left out.

    Parameters
    ----------
    rate : array_like, shape (trials, ...)
    color : array_like, shape (trials,)
    n_bins : int

    Returns
    -------
    numpy.ndarray, shape ``rate.shape[1:]``
    """
    columns, bins = _columns(rate, color, n_bins)
    counts = np.bincount(bins, minlength=n_bins)
    occupied = counts > 0
    sums = np.zeros((n_bins, columns.shape[1]))
    np.add.at(sums, bins, columns)
    n_trials, k = len(columns), occupied.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        grand = columns.mean(axis=0)
        ss_total = ((columns - grand) ** 2).sum(axis=0)
        ss_between = (counts[occupied, None] * (sums[occupied] / counts[occupied, None] - grand) ** 2).sum(axis=0)
        ms_within = (ss_total - ss_between) / (n_trials - k)
        pev = 100 * (ss_between - (k - 1) * ms_within) / (ss_total + ms_within)
    defined = ~_constant(columns) & (n_trials > k)
    return np.where(defined, pev, np.nan).reshape(np.shape(rate)[1:])


def item_colors(rates):
    """Colour of the cued and of the uncued item (cue_status, trial) of a rates dataset (``cued``, ``color_upper``, ``color_lower``)."""
    upper = rates["cued"].to_numpy() == "upper"
    color_upper, color_lower = rates["color_upper"].to_numpy(), rates["color_lower"].to_numpy()
    return np.stack([np.where(upper, color_upper, color_lower), np.where(upper, color_lower, color_upper)])


def _session_information(rates, n_bins, n_shuffles, rng):
    """z-PMI and PEV (measure, task, cue_status, neuron, time) of one session's neurons on its two-item trials."""
    [rates] = two_item_trials([rates])
    rate = rates["rate"].transpose("trial", "neuron", "time").to_numpy()
    colors, task = item_colors(rates), rates["task"].to_numpy()
    information = np.empty((len(MEASURES), len(TASKS), len(CUE_STATUSES), *rate.shape[1:]))
    for i, name in enumerate(TASKS):
        trials = task == name
        for c in range(len(CUE_STATUSES)):
            information[0, i, c] = zscored_phase_modulation_index(rate[trials], colors[c, trials], n_shuffles, n_bins, rng)
            information[1, i, c] = percent_explained_variance(rate[trials], colors[c, trials], n_bins)
    return information, len(rate)


def _mean_interval(values):
    """Mean over neurons (the first axis, NaN omitted) and its t-based ``CI`` interval (ci_bound, ...)."""
    finite = np.isfinite(values)
    n = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, values, 0).sum(axis=0) / n
        sem = np.sqrt(np.where(finite, (values - mean) ** 2, 0).sum(axis=0) / (n - 1) / n)
        bounds = np.stack([mean + t_distribution.ppf(q, n - 1) * sem for q in CI])
    return mean, np.where(n >= 2, bounds, np.nan), n


def colour_information(sessions, n_bins=N_INFORMATION_BINS, n_shuffles=100, n_permutations=1000, alpha=0.05,
                       cluster_alpha=0.05, rng=None):
    """Colour information of the cued and the uncued item in every neuron of a region, with cluster tests across neurons.

    Every neuron is analysed on its own session's trials, those with two
    items if the session has ``n_items`` (a single-item trial has no
    uncued item). In each task and time bin, a neuron's rate is related to
    the colour of the cued item (``color_upper`` where ``cued`` is upper,
    else ``color_lower``) and to that of the uncued item, by the z-scored
    phase modulation index (:func:`zscored_phase_modulation_index`, shuffles
    shared by a session's neurons) and the percent explained variance
    (:func:`percent_explained_variance`), both in ``n_bins`` colour bins.

    Across neurons, each course (measure x task x cue status, over time) is
    tested for information, i.e. a mean above 0, by
    :func:`~wmattn.analysis.stats.cluster_mass_one_sample` with
    ``tail="right"``, and cued against uncued (two-sided) by
    :func:`~wmattn.analysis.stats.cluster_mass_paired` (within-neuron swaps;
    see there for the differences from the authors' functions), each course
    corrected over time on its own. One-sided against 0 because both
    measures are right-skewed without tuning, which makes the sign-flip
    null too narrow for negative clusters: two-sided, 8-12 % of null
    courses of 20 neurons came out significant (all of them below 0); a
    mean below 0 is no colour information anyway. Under the null the cued
    and uncued values of a neuron are exchangeable, so their difference is
    symmetric and the paired test is exact. Neurons with a NaN value in a
    bin (a silent neuron's z-PMI, a negative rate's PMI) are left out of
    that bin.

    Parameters
    ----------
    sessions : list of xarray.Dataset
        One region's rates, one dataset per session, each with ``rate``
        (trial, neuron, time), per-trial ``task``, ``cued``,
        ``color_upper``, ``color_lower`` (radians) and optionally
        ``n_items``, and the same ``time``.
    n_bins : int
        Colour bins of both measures.
    n_shuffles : int
        Colour shuffles of each z-score.
    n_permutations : int
        Sign flips of each cluster test.
    alpha, cluster_alpha : float
        Per-bin threshold of the t-tests and level of the clusters.
    rng : numpy.random.Generator or int or None

    Returns
    -------
    xarray.Dataset
        ``color_information`` (measure, task, cue_status, neuron, time);
        ``color_information_mean`` (measure, task, cue_status, time), the
        mean over neurons, with ``color_information_mean_ci`` (ci_bound,
        measure, task, cue_status, time), its 95 % t interval across neurons
        (``mean +- t(n - 1) sem``, the t-test the clusters are formed with:
        the interval excludes 0 where that test's p < 0.05) and
        ``color_information_n_neurons``, the neurons with a value;
        ``color_significant`` and ``color_cluster_p`` (measure, task,
        cue_status, time), the test of a mean above 0 (``color_cluster_p``
        NaN outside clusters); ``color_difference_significant`` and
        ``color_difference_cluster_p`` (measure, task, time), cued against
        uncued. Coordinates ``measure`` (pmi_z, pev), ``task``,
        ``cue_status`` (cued, uncued), ``ci_bound``, ``time`` (the
        sessions'), ``neuron`` (0..n-1, the sessions' neurons one after
        another).

    Raises
    ------
    ValueError
        If a session lacks a required variable (named) or the sessions'
        times differ.
    """
    rng = np.random.default_rng(rng)
    time = sessions[0]["time"].to_numpy()
    per_session = []
    for k, rates in enumerate(sessions):
        missing = [name for name in REQUIRED if name not in rates]
        if missing:
            raise ValueError(f"session {k} of the region lacks {', '.join(missing)}, needed for colour information")
        if not np.array_equal(rates["time"].to_numpy(), time):
            raise ValueError(f"session {k} has other time bins than session 0; colour information needs one time axis")
        information, n_trials = _session_information(rates, n_bins, n_shuffles, rng)
        per_session.append(information)
        print(f"colour information: session {k + 1}/{len(sessions)} done ({information.shape[3]} neurons, {n_trials} trials)",
              flush=True)
    information = np.concatenate(per_session, axis=3)
    by_neuron = np.moveaxis(information, 3, 0)
    against_zero = cluster_mass_one_sample(by_neuron, n_permutations, alpha, cluster_alpha, rng, tail="right")
    difference = cluster_mass_paired(by_neuron[:, :, :, 0], by_neuron[:, :, :, 1], n_permutations, alpha, cluster_alpha, rng)
    mean, interval, n_neurons = _mean_interval(by_neuron)
    course = ("measure", "task", "cue_status", "time")
    return xr.Dataset(
        {
            "color_information": (("measure", "task", "cue_status", "neuron", "time"), information),
            "color_information_mean": (course, mean),
            "color_information_mean_ci": (("ci_bound", *course), interval),
            "color_information_n_neurons": (course, n_neurons),
            "color_significant": (course, against_zero.significant),
            "color_cluster_p": (course, against_zero.cluster_p),
            "color_difference_significant": (("measure", "task", "time"), difference.significant),
            "color_difference_cluster_p": (("measure", "task", "time"), difference.cluster_p),
        },
        coords={
            "measure": list(MEASURES), "task": list(TASKS), "cue_status": list(CUE_STATUSES), "ci_bound": list(CI),
            "time": time, "neuron": np.arange(information.shape[3]),
        },
        attrs={"color_n_bins": n_bins, "color_n_shuffles": n_shuffles, "color_n_permutations": n_permutations},
    )
