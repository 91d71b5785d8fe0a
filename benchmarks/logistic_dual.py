"""Time and peak memory of the primal and dual logistic solvers at p > n (not a test).

``wmattn.logistic.fit_logistic`` solves in the dual (representer) form when
there are more features than trials. This fits the same problems both ways,
as ``wmattn.analysis.location.fit_task`` poses them for one task of a pseudo-population:
188 trials z-scored over all of them, 6 groups (5 stratified folds and all
trials), 11 labellings (the
observed one and 10 permutations within folds), float32, C = 1, tol = 1e-4.

Rates are standard normal with the label moving every trial along a random
unit axis by up to +-1.5 (a ramp over the bins), so accuracy climbs from
chance to nearly perfect.

Cases, each fitted with ``_fit_primal`` and ``_fit_dual`` on the same input:

- 553 features (paper scale) x 100 bins;
- 2765 features (five times more) x 20 bins: the primal peaks at 3.7 GB
  here (a (2766 x 2766) float32 preconditioner per bin, held several times
  over while it is formed and inverted), so at 100 bins it would need about
  19 GB, more than a shared machine should be asked for. Both solvers are
  linear in the bins, so the ratios carry over;
- 2765 features x 100 bins with the dual alone.

Peak memory is tracemalloc's peak of numpy allocations during the fit (the
input excluded); time is wall time with BLAS limited to ``THREADS`` threads.
Each line also gives the largest difference between the two solvers'
weights on z-scored features, relative to the largest weight.

    .venv/bin/python benchmarks/logistic_dual.py
"""

import os
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits

from wmattn.analysis.location import permuted_within_folds, stratified_folds
from wmattn.logistic import _fit_dual, _fit_primal, standardization

THREADS = 1
N_TRIALS, N_FOLDS, N_PERMUTATIONS, C, TOL = 188, 5, 10, 1.0, 1e-4
CASES = [(553, 100, True), (2765, 20, True), (2765, 100, False)]  # features, bins, also the primal


def problem(n_features, n_bins, seed=0):
    """The arguments ``fit_task`` gives ``fit_logistic``'s solvers: X, labels, weights, scales (1: z-scored once)."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(N_TRIALS) % 2)
    axis = rng.standard_normal(n_features)
    axis /= np.linalg.norm(axis)
    ramp = np.linspace(0, 1.5, n_bins, dtype=np.float32)
    X = rng.standard_normal((n_bins, N_TRIALS, n_features), dtype=np.float32)
    X += (2 * y - 1)[None, :, None] * axis[None, None, :].astype(np.float32) * ramp[:, None, None]
    mean, scale = standardization(X)
    X = (X - mean[:, None]) / scale[:, None]
    test = stratified_folds(y, N_FOLDS, seed)
    labels = permuted_within_folds(y, test, N_PERMUTATIONS, rng).astype(np.float32)
    train = np.column_stack([~test, np.ones(N_TRIALS, bool)]).astype(np.float32)
    return X, labels, train, np.ones((n_bins, train.shape[1], n_features), np.float32)


def measured(solver, X, labels, train, scale):
    """(coef, intercept, Newton iterations), wall seconds and peak MB of one solver's fit."""
    tracemalloc.start()
    start = time.perf_counter()
    with threadpool_limits(THREADS):
        fit = solver(X, labels, C, train, scale, TOL, 100)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return fit, seconds, peak


def main():
    print(f"{N_TRIALS} trials, {N_FOLDS + 1} groups, {N_PERMUTATIONS + 1} labellings, float32, {THREADS} BLAS thread(s); "
          f"load average {os.getloadavg()[0]:.1f}")
    for n_features, n_bins, with_primal in CASES:
        X, labels, train, scale = problem(n_features, n_bins)
        (coef, _, _), dual_seconds, dual_peak = measured(_fit_dual, X, labels, train, scale)
        line = f"{n_features:5d} features x {n_bins:3d} bins: dual {dual_seconds:6.1f} s, {dual_peak:7.0f} MB"
        if with_primal:
            (primal_coef, _, _), primal_seconds, primal_peak = measured(_fit_primal, X, labels, train, scale)
            standardized = np.abs(coef - primal_coef) * scale[:, :, None]
            line += (f"; primal {primal_seconds:6.1f} s, {primal_peak:7.0f} MB; primal / dual: time "
                     f"{primal_seconds / dual_seconds:.1f}x, memory {primal_peak / dual_peak:.0f}x; "
                     f"weights differ by {standardized.max() / np.abs(coef * scale[:, :, None]).max():.1e}")
        print(line, flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
