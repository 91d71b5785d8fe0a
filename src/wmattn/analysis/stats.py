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
family-wise error rate exact rather than approximate.
"""

from typing import NamedTuple

import numpy as np
from scipy.stats import rankdata


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


def _cluster_mass_per_bin(supra, z):
    """Mass of the cluster (run of ``supra`` along the last axis) holding each bin.

    Runs never join across rows because the first bin of a row always starts a
    run, so every row of any leading shape is labelled in one pass.
    """
    starts = supra.copy()
    starts[..., 1:] &= ~supra[..., :-1]
    labels = np.cumsum(starts.ravel()).reshape(supra.shape) * supra
    masses = np.bincount(labels.ravel(), weights=np.where(supra, z, 0.0).ravel())
    return np.where(supra, masses[labels], 0.0)


def cluster_mass_test(observed, null, alpha=0.05, cluster_alpha=0.05):
    """Cluster-mass permutation test along the last (time) axis.

    Each time course (every index of the leading axes of ``observed``) is
    corrected on its own. A bin is supra-threshold when its permutation
    p-value is at most ``alpha``; a cluster is a run of contiguous
    supra-threshold bins; its mass is the sum over its bins of
    ``(value - mean) / std``, the mean and standard deviation taken over the
    pool of the observation and its permutations. Each permutation is put
    through the same steps, its p-values ranked within that same pool, and
    its largest cluster mass (0 if it has no cluster) joins the null
    distribution. A cluster's corrected p-value is
    ``(1 + #{largest null mass >= its mass}) / (1 + n_permutations)``.

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

    Returns
    -------
    ClusterTest
        ``significant`` and ``cluster_p``, each shaped like ``observed``.

    Raises
    ------
    ValueError
        If ``null.shape[1:]`` differs from ``observed.shape`` or a value is not
        finite.
    """
    observed, null = _validated(observed, null)
    n_permutations = null.shape[0]
    pool = np.concatenate([observed[np.newaxis], null])

    # The rank of each member from the top, ties counted against it, is the
    # numerator of its permutation p-value; for pool[0] this equals
    # permutation_p_values(observed, null).
    p = rankdata(-pool, method="max", axis=0) / (n_permutations + 1)
    std = pool.std(axis=0)
    # A bin constant across the pool has p = 1, so it is never in a cluster
    # and its z-score is never summed.
    z = np.divide(pool - pool.mean(axis=0), std, out=np.zeros_like(pool), where=std > 0)
    supra = p <= alpha
    mass = _cluster_mass_per_bin(supra, z)

    observed_mass, null_max = mass[0], mass[1:].max(axis=-1, keepdims=True)
    exceed = np.sum(null_max >= observed_mass, axis=0)
    cluster_p = np.where(supra[0], (1 + exceed) / (1 + n_permutations), np.nan)
    significant = supra[0] & (cluster_p < cluster_alpha)
    return ClusterTest(significant, cluster_p)
