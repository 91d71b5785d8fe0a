"""Permutation statistics for time-resolved decoding accuracy.

Every time course (the last axis) of an ``observed`` accuracy array comes with
its own permutation null (label-shuffled decoding), and the test is one-sided:
only accuracy above the null is evidence of information.

The cluster test follows the authors' ``clusterMassOneSamp.m`` /
``getClust.m`` (Maris & Oostenveld, 2007): threshold every bin at a per-bin
p-value, take runs of contiguous supra-threshold bins as clusters, sum a
standardised statistic inside each cluster (they sum the t statistic; with no
samples to t-test, this module sums the z-score of the accuracy against the
permutation distribution), and compare each cluster's mass with the
permutation distribution of the largest cluster mass. Where they compute the
per-bin p-values of each permutation with a parametric t-test, here each
permutation is ranked within the pool of the observation and all permutations
(itself included), so the observation and every permutation are scored by
the same rule and are exchangeable under the null: that makes the
family-wise error rate exact rather than approximate. :func:`cluster_rule`
freezes the test's decision about its observation into thresholds, so that
other courses (bootstrap draws of the observation) are judged by the same
rule (:func:`cluster_significant`).

Across samples (e.g. neurons), :func:`cluster_mass_one_sample` and
:func:`cluster_mass_paired` are the authors' ``clusterMassOneSamp.m`` and
``clusterMassDependent.m``: a t-test per bin, the t statistic summed over each
cluster, sign flips of whole samples for the null.
"""

from typing import NamedTuple

import numpy as np
from scipy.stats import rankdata
from scipy.stats import t as t_distribution

TAILS = ("both", "right", "left")  # alternatives of the t-tests across samples, as MATLAB's ttest


class ClusterTest(NamedTuple):
    """Result of :func:`cluster_mass_test`, each array shaped like ``observed``.

    Attributes
    ----------
    significant : numpy.ndarray of bool
        Bins inside a cluster whose corrected p-value is below ``cluster_alpha``.
    cluster_p : numpy.ndarray of float
        Corrected p-value of the cluster containing each bin; NaN outside
        clusters.
    """

    significant: np.ndarray
    cluster_p: np.ndarray


def _validated(observed, null):
    observed = np.asarray(observed, dtype=float)
    null = np.asarray(null, dtype=float)
    if observed.ndim == 0:
        raise ValueError("observed must have at least one (time) axis")
    if null.shape[1:] != observed.shape:
        raise ValueError(
            f"null must be shaped (n_permutations, *observed.shape) = (n, {', '.join(map(str, observed.shape))}), "
            f"got {null.shape}"
        )
    if null.shape[0] == 0:
        raise ValueError("null has no permutations")
    # A NaN compares false with everything, so it would pass as the most extreme value.
    if not (np.isfinite(observed).all() and np.isfinite(null).all()):
        raise ValueError("observed and null must be finite (no NaN or inf)")
    return observed, null


def permutation_p_values(observed, null):
    """One-sided (greater) permutation p-value of every element.

    ``p = (1 + #{null >= observed}) / (1 + n_permutations)``: counting the
    observation as one of the permutations keeps p above zero and the test
    valid (Phipson & Smyth, 2010); ``>=`` makes ties, common for accuracies
    on a finite number of trials, count against the effect.

    Parameters
    ----------
    observed : array_like, shape (..., time)
        Statistic of the real labels, e.g. decoding accuracy.
    null : array_like, shape (n_permutations, ..., time)
        The same statistic for each permutation of the labels.

    Returns
    -------
    numpy.ndarray, shape of ``observed``
        p-values in ``[1 / (n_permutations + 1), 1]``.

    Raises
    ------
    ValueError
        If ``null.shape[1:]`` differs from ``observed.shape`` or a value is not
        finite.
    """
    observed, null = _validated(observed, null)
    return (1 + np.sum(null >= observed, axis=0)) / (1 + null.shape[0])


def _cluster_starts(supra, sign=None):
    """Bins that start a cluster: supra-threshold bins whose predecessor along the last axis is not in the same run.

    With ``sign``, a run also ends where the sign changes, so adjacent
    positive and negative runs are two clusters.
    """
    continued = supra[..., :-1] if sign is None else supra[..., :-1] & (sign[..., :-1] == sign[..., 1:])
    starts = supra.copy()
    starts[..., 1:] &= ~continued
    return starts


def _cluster_mass_per_bin(supra, statistic, sign=None):
    """Mass (sum of ``statistic``) of the cluster holding each bin, 0 outside clusters.

    Runs never join across rows because the first bin of a row always starts a
    run, so every row of any leading shape is labelled in one pass.
    """
    labels = np.cumsum(_cluster_starts(supra, sign).ravel()).reshape(supra.shape) * supra
    masses = np.bincount(labels.ravel(), weights=np.where(supra, statistic, 0.0).ravel())
    return np.where(supra, masses[labels], 0.0)


def _family_axes(family_axes, ndim):
    """``family_axes`` as non-negative axes of ``observed``, refusing its last (time) axis."""
    axes = tuple(sorted({axis % ndim if -ndim <= axis < ndim else ndim for axis in family_axes}))
    if axes and axes[-1] >= ndim - 1:
        raise ValueError(f"family_axes must name leading axes of observed (0..{ndim - 2}), not its time axis; got {tuple(family_axes)}")
    return axes


def cluster_mass_test(observed, null, alpha=0.05, cluster_alpha=0.05, family_axes=()):
    """Cluster-mass permutation test along the last (time) axis.

    By default each time course (every index of the leading axes of
    ``observed``) is corrected on its own; ``family_axes`` corrects the
    courses along some leading axes together. A bin is supra-threshold when
    its permutation p-value is at most ``alpha``; a cluster is a run of contiguous
    supra-threshold bins; its mass is the sum over its bins of
    ``(value - mean) / std``, the mean and standard deviation taken over the
    pool of the observation and its permutations. Each permutation is put
    through the same steps, its p-values ranked within that same pool, and
    its largest cluster mass (0 if it has no cluster) joins the null
    distribution. A cluster's corrected p-value is
    ``(1 + #{largest null mass >= its mass}) / (1 + n_permutations)``.

    Family-wise over several courses (``family_axes``), a permutation's
    largest cluster mass is taken over all the courses of the family, so the
    chance that any of them shows a false cluster is ``cluster_alpha``. This
    needs permutation k of every course to come from the same label shuffle
    (as the four train x test task courses of a region do), so that the
    observation and each permutation are exchangeable as a whole (courses
    whose nulls were drawn independently are controlled too, conservatively
    where their observations are correlated).

    Parameters
    ----------
    observed : array_like, shape (..., time)
        Statistic of the real labels, e.g. accuracy (train_task, test_task,
        time).
    null : array_like, shape (n_permutations, ..., time)
        The same statistic for each permutation of the labels.
    alpha : float
        Per-bin threshold that forms clusters. It sets which effects the
        test is sensitive to (brief and strong vs. long and weak), not the
        error rate.
    cluster_alpha : float
        Family-wise error rate of the clusters called significant.
    family_axes : tuple of int
        Leading axes of ``observed`` whose courses are corrected together,
        e.g. ``(0, 1)`` for (train_task, test_task, time). Empty (the
        default): every course on its own.

    Returns
    -------
    ClusterTest
        ``significant`` and ``cluster_p``, each shaped like ``observed``.

    Raises
    ------
    ValueError
        If ``null.shape[1:]`` differs from ``observed.shape``, a value is not
        finite, or ``family_axes`` names the time axis.
    """
    pool = _ClusterPool(observed, null, alpha, family_axes)
    n_permutations = len(pool.null_max)
    exceed = np.sum(pool.null_max >= pool.mass[0], axis=0)
    cluster_p = np.where(pool.supra[0], (1 + exceed) / (1 + n_permutations), np.nan)
    significant = pool.supra[0] & (cluster_p < cluster_alpha)
    return ClusterTest(significant, cluster_p)


class _ClusterPool:
    """The steps of :func:`cluster_mass_test` on the pool of the observation and its permutations.

    ``supra``, ``z`` and ``mass`` are shaped (1 + n_permutations, ...,
    time), ``mean`` and ``std`` (..., time) are the pool's, ``null_max``
    (n_permutations, ...) is every permutation's largest cluster mass over
    the family and time (size-1 family and time axes).
    """

    def __init__(self, observed, null, alpha, family_axes):
        observed, null = _validated(observed, null)
        family = tuple(axis + 1 for axis in _family_axes(family_axes, observed.ndim))
        n_permutations = null.shape[0]
        pool = np.concatenate([observed[np.newaxis], null])

        # The rank of each member from the top, ties counted against it, is the
        # numerator of its permutation p-value; for pool[0] this equals
        # permutation_p_values(observed, null).
        p = rankdata(-pool, method="max", axis=0) / (n_permutations + 1)
        self.mean, self.std = pool.mean(axis=0), pool.std(axis=0)
        # A bin constant across the pool has p = 1, so it is never in a cluster
        # and its z-score is never summed.
        self.z = np.divide(pool - self.mean, self.std, out=np.zeros_like(pool), where=self.std > 0)
        self.supra = p <= alpha
        self.mass = _cluster_mass_per_bin(self.supra, self.z)
        self.null_max = self.mass[1:].max(axis=(*family, -1), keepdims=True)
        self.null = null


class ClusterRule(NamedTuple):
    """The decision :func:`cluster_mass_test` makes about its observation, as fixed thresholds (:func:`cluster_rule`).

    Attributes
    ----------
    threshold : numpy.ndarray, shaped like ``observed``
        A bin is supra-threshold when its value is above it (its permutation
        p-value is then at most ``alpha``); +inf where no value can be,
        -inf where every value is.
    mean, std : numpy.ndarray, shaped like ``observed``
        The pool's mean and standard deviation that z-score a value into
        cluster mass (a bin with ``std == 0`` adds nothing).
    critical_mass : numpy.ndarray
        A cluster is significant when its mass is above it (its corrected
        p-value is then below ``cluster_alpha``); shaped like ``observed``
        with size-1 family and time axes; +inf where no cluster can be.
    """

    threshold: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    critical_mass: np.ndarray


def cluster_rule(observed, null, alpha=0.05, cluster_alpha=0.05, family_axes=()):
    """The per-bin threshold and critical cluster mass of :func:`cluster_mass_test`, to apply to other courses.

    :func:`cluster_mass_test` ranks the observation within the pool of
    itself and its permutations and compares its cluster masses with the
    permutations' largest ones. Both comparisons are with values of the
    null alone, so they are thresholds: a bin is supra-threshold when
    ``1 + #{null >= value}``, over ``1 + n_permutations``, is at most
    ``alpha``, i.e. when the value is above a per-bin order statistic of
    the null; a cluster is significant when ``1 + #{null_max >= mass}``,
    over ``1 + n_permutations``, is below ``cluster_alpha``, i.e. when its
    mass is above an order statistic of ``null_max``. The z-scoring (the
    pool's mean and std) and ``null_max`` are those of the pool with
    ``observed``, so :func:`cluster_significant` of ``observed`` is
    ``cluster_mass_test(observed, null, ...).significant``; applied to
    another course (e.g. a bootstrap draw of the observation) it decides
    by the same fixed rule.

    Parameters and errors as :func:`cluster_mass_test`.

    Returns
    -------
    ClusterRule
    """
    pool = _ClusterPool(observed, null, alpha, family_axes)
    n_permutations = len(pool.null)
    count = 1 + np.arange(n_permutations + 1)  # 1 + #{null >= value}, as in the p-values
    # the most permutations at or above a value that keep it supra-threshold / a cluster significant,
    # with the same floating-point comparisons as cluster_mass_test
    bin_allowed = np.sum(count / (n_permutations + 1) <= alpha) - 1
    cluster_allowed = np.sum(count / (1 + n_permutations) < cluster_alpha) - 1
    return ClusterRule(
        threshold=_order_statistic(pool.null, bin_allowed),
        mean=pool.mean,
        std=pool.std,
        critical_mass=_order_statistic(pool.null_max, cluster_allowed),
    )


def _order_statistic(values, allowed):
    """The value along axis 0 that more than ``allowed`` members must reach: the (allowed + 1)-th largest.

    A value above it is reached by at most ``allowed`` members; -inf if all
    may reach it, +inf if none may.
    """
    if allowed < 0:
        return np.full(values.shape[1:], np.inf)
    if allowed >= len(values):
        return np.full(values.shape[1:], -np.inf)
    return -np.partition(-values, allowed, axis=0)[allowed]


def cluster_significant(values, rule):
    """Bins of ``values`` (..., *observed.shape) inside a cluster that ``rule`` (:func:`cluster_rule`) calls significant.

    Every course of ``values`` (e.g. one bootstrap draw of the observation
    per index of its leading axes) is judged on its own by the same
    thresholds.
    """
    values = np.asarray(values, dtype=float)
    supra = values > rule.threshold
    z = np.divide(values - rule.mean, rule.std, out=np.zeros_like(values), where=rule.std > 0)
    return supra & (_cluster_mass_per_bin(supra, z) > rule.critical_mass)


class SampleClusterTest(NamedTuple):
    """Result of :func:`cluster_mass_one_sample` and :func:`cluster_mass_paired`.

    Every array is shaped like one sample, ``x.shape[1:]`` = (..., tests).

    Attributes
    ----------
    significant : numpy.ndarray of bool
        Bins inside a cluster whose corrected p-value is below ``cluster_alpha``.
    cluster_p : numpy.ndarray of float
        Corrected p-value of the cluster containing each bin; NaN outside
        clusters.
    t : numpy.ndarray of float
        One-sample t statistic of each bin; NaN where it is undefined (fewer
        than two values, or all values equal).
    cluster : numpy.ndarray of int
        Cluster label of each bin, numbered 1, 2, ... along each course in
        time order (as ``bwlabel``); 0 outside clusters.
    mass : numpy.ndarray of float
        Mass (sum of ``t``) of the cluster containing each bin; NaN outside
        clusters.
    """

    significant: np.ndarray
    cluster_p: np.ndarray
    t: np.ndarray
    cluster: np.ndarray
    mass: np.ndarray


def _observed_t(x):
    """One-sample t statistic of every column of ``x`` (samples, columns), NaN values omitted.

    Two-pass (centred) variance, so a column far from zero relative to its
    spread keeps its precision; NaN where fewer than two values remain or
    all are equal (the statistic is undefined, ``ttest`` gives NaN or inf).
    """
    finite = np.isfinite(x)
    n = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, x, 0).sum(axis=0) / n
        variance = np.where(finite, (x - mean) ** 2, 0).sum(axis=0) / (n - 1)
        t = mean / np.sqrt(variance / n)
    spread = np.max(x, axis=0, initial=-np.inf, where=finite) > np.min(x, axis=0, initial=np.inf, where=finite)
    return np.where((n >= 2) & spread, t, np.nan)


def _flipped_t(signs, values, n):
    """t statistics (flips, columns) of ``values`` (samples, columns; missing values 0) with each sample's sign flipped by ``signs`` (flips, samples).

    Flipping signs leaves the sum of squares unchanged, so every flip's
    statistic comes from one matrix product.
    """
    total = signs @ values
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = ((values**2).sum(axis=0) - total**2 / n) / (n - 1)
        t = total / n / np.sqrt(variance / n)
    return np.where((n >= 2) & (variance > 0), t, np.nan)



def cluster_mass_one_sample(x, n_permutations=1000, alpha=0.05, cluster_alpha=0.05, rng=None, tail="both"):
    """Cluster-mass sign-flip test of every column of ``x`` against zero.

    As the authors' ``clusterMassOneSamp.m`` (Maris & Oostenveld, 2007): a
    one-sample t-test per bin (NaN values omitted per bin, as MATLAB's
    ``ttest`` does), two-sided by default; bins with ``p <= alpha`` are
    supra-threshold; a cluster is a run of adjacent supra-threshold bins
    along the last axis and its mass the sum of their t. The null flips the
    sign of whole samples (rows) at random, which keeps every sample's
    correlations over time; each permutation contributes its most extreme
    mass (largest ``|mass|``; with ``tail="right"`` the largest mass, with
    ``"left"`` the most negative, as a magnitude; 0 with no cluster), and a
    cluster's p-value is ``(1 + #{null >= |mass|}) / (1 + n_permutations)``.
    Every course along the leading axes of ``x.shape[1:]`` is corrected on
    its own; the sign flips are shared by all of them.

    Deliberate differences from ``clusterMassOneSamp.m``:

    - the observation counts as one of the permutations (Phipson & Smyth,
      2010): their ``#{null >= |mass|} / nIter`` can be 0 and is
      anti-conservative;
    - a cluster also ends where t changes sign: their ``bwlabel`` of the
      supra-threshold bins joins an adjacent positive and negative run into
      one cluster whose masses cancel;
    - a bin whose values are all equal has t = NaN and is never in a
      cluster (``ttest`` gives p = 0 and t = inf for a constant non-zero
      column);
    - with a one-sided ``tail``, the permutations are thresholded and
      their masses taken on the same side as the observation (theirs
      threshold the permutations two-sided and take ``max |mass|``).

    Sign flips are exact under the null hypothesis that each sample's values
    are symmetric about zero. A statistic that is right-skewed under the
    null with a mean of 0 (z-scored PMI, omega squared) breaks that: its
    t is skewed to the left (a few large positive values inflate the
    spread), so negative clusters are more extreme than the symmetrised
    null allows, and the two-sided test rejects too often (8-12 % of null
    courses of 20 neurons' z-PMI, 35 % for exponential noise), while the
    right tail is lighter than the null's and ``tail="right"`` stays below
    its level (about 2 %; tests/test_stats.py, tests/test_colour.py).

    Parameters
    ----------
    x : array_like, shape (samples, ..., tests)
        e.g. (neuron, time) or (neuron, measure, task, time). NaN marks a
        missing value.
    n_permutations : int
        Sign-flip permutations.
    alpha : float
        Per-bin threshold (on the t-test's p-value for ``tail``) that forms
        clusters.
    cluster_alpha : float
        Error rate of the clusters called significant, per course.
    rng : numpy.random.Generator or int or None
    tail : {"both", "right", "left"}
        Alternative hypothesis: mean different from, greater than or less
        than 0 (MATLAB's ``ttest`` ``'tail'``).

    Returns
    -------
    SampleClusterTest
        ``significant``, ``cluster_p``, ``t``, ``cluster``, ``mass``, each
        shaped ``x.shape[1:]``.

    Raises
    ------
    ValueError
        If ``x`` has fewer than two axes, holds an infinite value,
        ``n_permutations`` is below 1 or ``tail`` is unknown.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim < 2:
        raise ValueError(f"x must be shaped (samples, ..., tests), got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError("x must not hold an infinite value (NaN marks a missing one)")
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}")
    if tail not in TAILS:
        raise ValueError(f"tail must be one of {TAILS}, got {tail!r}")
    rng = np.random.default_rng(rng)
    shape = x.shape[1:]
    flat = x.reshape(len(x), -1)
    n = np.isfinite(flat).sum(axis=0)
    signs = rng.choice([-1.0, 1.0], (n_permutations, len(x)))
    t = np.vstack([_observed_t(flat), _flipped_t(signs, np.nan_to_num(flat), n)]).reshape(1 + n_permutations, *shape)
    df = (n - 1).reshape(shape)
    with np.errstate(invalid="ignore"):
        if tail == "both":
            supra = 2 * t_distribution.sf(np.abs(t), df) <= alpha
        else:
            supra = t_distribution.sf(t if tail == "right" else -t, df) <= alpha
    sign = np.sign(t)
    mass = _cluster_mass_per_bin(supra, t, sign)

    # Bins outside clusters have mass 0, so a permutation without a cluster contributes 0.
    extremity = np.abs(mass) if tail == "both" else np.maximum(mass if tail == "right" else -mass, 0)
    null_max = extremity[1:].max(axis=-1, keepdims=True)
    exceed = np.sum(null_max >= extremity[0], axis=0)
    cluster_p = np.where(supra[0], (1 + exceed) / (1 + n_permutations), np.nan)
    return SampleClusterTest(
        significant=supra[0] & (cluster_p < cluster_alpha),
        cluster_p=cluster_p,
        t=t[0],
        cluster=np.cumsum(_cluster_starts(supra[0], sign[0]), axis=-1) * supra[0],
        mass=np.where(supra[0], mass[0], np.nan),
    )


def cluster_mass_paired(x, y, n_permutations=1000, alpha=0.05, cluster_alpha=0.05, rng=None, tail="both"):
    """Cluster-mass test of paired samples: does ``x`` differ from ``y``?

    A paired t-test per bin and clusters as :func:`cluster_mass_one_sample`,
    which this is on the differences ``x - y`` (a pair with a NaN in either
    is omitted from that bin, as MATLAB's ``ttest(x, y)`` does). The null
    swaps ``x_i`` and ``y_i`` within random pairs, i.e. flips the sign of
    their difference: under the null hypothesis that the two conditions of
    a pair are exchangeable, that is the exact permutation distribution.

    Deliberate difference from ``clusterMassDependent.m``: it computes the
    paired t-test but builds its null by shuffling all ``2n`` rows between
    the conditions, which breaks the pairs. Whatever the pairs share (a
    neuron's firing in a bin, common to its cued and uncued values) then
    enters the null's differences but cancels in the observed ones, so the
    null is not the distribution of the observed statistic: when ``x_i`` and
    ``y_i`` share a large offset in each bin, the shuffled differences are
    dominated by it and lose the observed differences' correlation over
    time, their clusters are short, and about a third of null datasets show
    a "significant" cluster (tests/test_stats.py). The other differences are
    those of :func:`cluster_mass_one_sample`.

    Parameters
    ----------
    x, y : array_like, shape (samples, ..., tests)
        The two conditions of each sample, e.g. the cued and uncued colour
        information of the same neurons.
    n_permutations, alpha, cluster_alpha, rng, tail :
        As :func:`cluster_mass_one_sample`; ``tail="right"`` asks whether
        ``x`` is greater than ``y``.

    Returns
    -------
    SampleClusterTest
        ``t`` is the paired t statistic of ``x - y``.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in shape, or as :func:`cluster_mass_one_sample`.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape (paired samples), got {x.shape} and {y.shape}")
    return cluster_mass_one_sample(x - y, n_permutations, alpha, cluster_alpha, rng, tail)
