"""Speed and agreement of the cross-task decoder against MNE-Python (not a test).

On synthetic rates of 800 trials (400 retro, 400 pro) x 200 neurons x 60 bins,
with a cued-location signal that ramps up over the trial (an axis shared by both
tasks plus a weaker task-specific one, so accuracy rises from chance to about
0.9), this runs one analysis two ways -- decoding within each task (5-fold
stratified cross-validation), the transfer across tasks in both directions, and
the cross-temporal generalisation of both:

- ours: one call of ``wmattn.analysis.location.cross_task_decoding``;
- MNE-Python: ``SlidingEstimator`` and ``GeneralizingEstimator`` around
  ``make_pipeline(StandardScaler(), LogisticRegression(C=1))``, with
  ``cross_val_multiscore`` and the same ``StratifiedKFold`` within a task, and
  ``fit`` on one task and ``score`` on the other across tasks.

It prints the largest per-bin accuracy difference between the two (within,
transfer, generalisation), each side's wall time and the ratio, then the time
of our 100-permutation null and that of the same null built from MNE calls,
extrapolated from a few permuted labellings (within and transfer only, as the
null needs).

To tell solver tolerance from error, both are also compared (untimed) with
the MNE analysis run with lbfgs to tol=1e-9: a trial whose log-odds lie near 0
flips with the stopping point, and 1 trial moves a transfer accuracy by 0.0025
(1 of 400) and a cross-validated one by 0.0025 (1 of 80, over 5 folds).

Both sides get the same 2 cores (the process is pinned to 2 if the machine has
more). Ours runs in one process with 2 BLAS threads. MNE runs 2 joblib (loky)
worker processes: ``cross_val_multiscore(n_jobs=2)`` spreads the folds within a
task (the estimator's own ``n_jobs`` stays 1, so nothing nests), and the
estimator's ``n_jobs=2`` splits the bins of the across-task fits and scores.
joblib caps each loky worker at 1 BLAS thread (cpu_count // n_jobs), and the
main process is capped at 1 while MNE runs: scikit-learn's many small lbfgs
fits are an order of magnitude slower with 2 OpenBLAS threads per process, so
this is the favourable setting for MNE. Both sides are warmed up on two bins
first, so neither worker start-up nor imports are timed.

Other jobs on the machine skew the times (2-thread BLAS suffers most); the
load average is printed before and after so a noisy run can be spotted.

    .venv/bin/python benchmarks/decoding.py
"""

import os
import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

import mne
from mne.decoding import GeneralizingEstimator, SlidingEstimator, cross_val_multiscore

from wmattn.analysis.location import cross_task_decoding
from wmattn.task import TASKS

CORES = 2
N_TRIALS, N_NEURONS, N_TIMES = 800, 200, 60
N_FOLDS, C, RANDOM_STATE = 5, 1.0, 0
N_PERMUTATIONS, MNE_LABELLINGS = 100, 3
TOLERANCE = 0.01  # largest per-bin accuracy difference allowed between the two


def synthetic_data(seed=0):
    """Rates (trials, neurons, times) float32, binary cued location and task of every trial.

    Noise is standard normal; the location moves every trial along a shared
    unit axis by +-ramp and along its task's own axis by +-ramp / 2, where the
    ramp climbs linearly from 0 at bin 10 to 1.5 at bin 50.
    """
    rng = np.random.default_rng(seed)
    task = rng.permutation(np.repeat(np.asarray(TASKS), N_TRIALS // len(TASKS)))
    y = np.empty(N_TRIALS, int)
    for name in TASKS:
        trials = np.flatnonzero(task == name)
        y[trials] = rng.permutation(np.arange(len(trials)) % 2)
    shared, *own = (axis / np.linalg.norm(axis) for axis in rng.standard_normal((1 + len(TASKS), N_NEURONS)))
    ramp = 1.5 * np.clip((np.arange(N_TIMES) - 10) / 40, 0, 1)
    axis = shared + 0.5 * np.stack(own)[[TASKS.index(name) for name in task]]
    X = rng.standard_normal((N_TRIALS, N_NEURONS, N_TIMES), dtype=np.float32)
    X += ((2 * y - 1)[:, None, None] * axis[:, :, None] * ramp).astype(np.float32)
    return X, y, task


def ours(X, y, task, n_permutations=0):
    with threadpool_limits(CORES):
        return cross_task_decoding(X, y, task, N_FOLDS, C, n_permutations, RANDOM_STATE)


def decoder(tol=1e-4):
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, tol=tol, max_iter=100 if tol >= 1e-4 else 100_000))


def mne_analysis(X, y, task, estimator, tol=1e-4):
    """MNE's scores (train task, test task, times[, times]): cross-validated on the diagonal, transfer off it.

    ``tol`` is the lbfgs tolerance, scikit-learn's default unless a tight
    reference optimum is wanted.
    """
    folds = StratifiedKFold(N_FOLDS, shuffle=True, random_state=RANDOM_STATE)
    scores = {}
    with threadpool_limits(1):
        for train in TASKS:
            a = task == train
            for test in TASKS:
                b = task == test
                if train == test:
                    within = estimator(decoder(tol), scoring="accuracy", n_jobs=1, verbose=False)
                    scores[train, test] = cross_val_multiscore(
                        within, X[a], y[a], cv=folds, n_jobs=CORES, verbose=False
                    ).mean(axis=0)
                else:
                    across = estimator(decoder(tol), scoring="accuracy", n_jobs=CORES, verbose=False)
                    scores[train, test] = across.fit(X[a], y[a]).score(X[b], y[b])
    return np.array([[scores[train, test] for test in TASKS] for train in TASKS])


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def largest_difference(a, b, pairs, what):
    """Largest |a - b| over the (train, test) task pairs given, and where it is (a, b: (train, test, times...))."""
    difference = np.abs(a - b)
    where = max(((i, j, *np.unravel_index(difference[i, j].argmax(), difference[i, j].shape)) for i, j in pairs),
                key=lambda index: difference[index])
    differing = sum(int((difference[i, j] > 1e-9).sum()) for i, j in pairs)
    return difference[where], (f"{what} {TASKS[where[0]]}->{TASKS[where[1]]} bin {', '.join(map(str, where[2:]))}: "
                               f"ours {a[where]:.4f}, MNE {b[where]:.4f}; {differing} of "
                               f"{len(pairs) * difference[0, 0].size} entries differ at all")


def workers_blas_threads():
    """BLAS threads in each of the loky workers MNE will use (and starts them)."""
    return Parallel(n_jobs=CORES)(
        delayed(lambda: sum(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"))()
        for _ in range(CORES)
    )


def main():
    available = sorted(os.sched_getaffinity(0))
    if len(available) > CORES:
        os.sched_setaffinity(0, available[:CORES])
    if len(os.sched_getaffinity(0)) < CORES:
        raise SystemExit(f"needs {CORES} cores, has {len(os.sched_getaffinity(0))}")
    mne.set_log_level("ERROR")
    load_before = os.getloadavg()
    X, y, task = synthetic_data()
    print(f"{N_TRIALS} trials ({', '.join(f'{(task == name).sum()} {name}' for name in TASKS)}) x {N_NEURONS} "
          f"neurons x {N_TIMES} bins, {N_FOLDS} folds, C={C}; {CORES} cores "
          f"(load average {load_before[0]:.2f}); MNE {mne.__version__}", flush=True)
    print(f"BLAS threads: ours {CORES}; MNE main process 1, its {CORES} loky workers {workers_blas_threads()}",
          flush=True)

    print("warming up both sides on two bins ...", flush=True)
    ours(X[:, :, -2:], y, task)
    mne_analysis(X[:, :, -2:], y, task, SlidingEstimator)
    mne_analysis(X[:, :, -2:], y, task, GeneralizingEstimator)

    print("ours: within, transfer and generalisation in one call ...", flush=True)
    result, ours_seconds = timed(ours, X, y, task)
    print(f"  {ours_seconds:.1f} s", flush=True)
    print("MNE: SlidingEstimator within (cross_val_multiscore) and across (fit/score) ...", flush=True)
    sliding, sliding_seconds = timed(mne_analysis, X, y, task, SlidingEstimator)
    print(f"  {sliding_seconds:.1f} s", flush=True)
    print("MNE: GeneralizingEstimator within and across ...", flush=True)
    generalizing, generalizing_seconds = timed(mne_analysis, X, y, task, GeneralizingEstimator)
    print(f"  {generalizing_seconds:.1f} s", flush=True)
    mne_seconds = sliding_seconds + generalizing_seconds

    accuracy = result["accuracy"].values
    same = [(i, i) for i in range(len(TASKS))]
    other = [(i, j) for i in range(len(TASKS)) for j in range(len(TASKS)) if i != j]
    within, within_where = largest_difference(accuracy, sliding, same, "within")
    transfer, transfer_where = largest_difference(accuracy, sliding, other, "transfer")
    generalization, generalization_where = largest_difference(
        result["generalization"].values, generalizing, same + other, "generalisation")
    shown = [*range(0, N_TIMES, 10), N_TIMES - 1]
    print(f"\naccuracy ours, per task pair, bins {', '.join(map(str, shown))}:")
    for i, train in enumerate(TASKS):
        for j, test in enumerate(TASKS):
            print(f"  {train:>5}->{test:<5} " + " ".join(f"{accuracy[i, j, k]:.2f}" for k in shown))
    print(f"largest |ours - MNE| per bin (allowed {TOLERANCE}):")
    print(f"  within {within:.4f}   ({within_where})")
    print(f"  transfer {transfer:.4f}   ({transfer_where})")
    print(f"  generalisation matrices {generalization:.4f}   ({generalization_where})")
    print("reference, untimed: the same MNE analysis with lbfgs run to tol=1e-9 (near the exact optimum) ...",
          flush=True)
    reference = mne_analysis(X, y, task, SlidingEstimator, 1e-9)
    reference_generalizing = mne_analysis(X, y, task, GeneralizingEstimator, 1e-9)
    for name, a, g in [("ours", accuracy, result["generalization"].values), ("MNE", sliding, generalizing)]:
        print(f"  {name:>4} vs reference: within and transfer max {np.abs(a - reference).max():.4f}, "
              f"{(np.abs(a - reference) > 1e-9).sum()} of {a.size} entries differ; generalisation max "
              f"{np.abs(g - reference_generalizing).max():.4f}, mean {np.abs(g - reference_generalizing).mean():.5f}")
    print(f"time: ours {ours_seconds:.1f} s, MNE {mne_seconds:.1f} s (sliding {sliding_seconds:.1f} s + "
          f"generalising {generalizing_seconds:.1f} s); MNE / ours {mne_seconds / ours_seconds:.1f}x "
          f"(generalising alone, whose diagonal holds the same accuracies, {generalizing_seconds / ours_seconds:.1f}x)")

    print(f"\nours: null of {N_PERMUTATIONS} permutations (one call, with the observed labels) ...", flush=True)
    _, null_seconds = timed(ours, X, y, task, N_PERMUTATIONS)
    print(f"  {null_seconds / 60:.2f} min (target: under 3 min)", flush=True)
    rng = np.random.default_rng(RANDOM_STATE + 1)
    labelling_seconds = []
    for k in range(MNE_LABELLINGS):
        print(f"MNE: within and transfer on permuted labelling {k + 1} of {MNE_LABELLINGS} ...", flush=True)
        permuted = y.copy()
        for name in TASKS:
            trials = np.flatnonzero(task == name)
            permuted[trials] = rng.permutation(y[trials])
        labelling_seconds.append(timed(mne_analysis, X, permuted, task, SlidingEstimator)[1])
        print(f"  {labelling_seconds[-1]:.1f} s", flush=True)
    mne_null_seconds = N_PERMUTATIONS * np.mean(labelling_seconds)
    print(f"MNE null of {N_PERMUTATIONS} permutations, extrapolated from {MNE_LABELLINGS}: "
          f"{mne_null_seconds / 60:.1f} min; MNE / ours {mne_null_seconds / null_seconds:.1f}x")

    load_after = os.getloadavg()
    ok = max(within, transfer) < TOLERANCE
    print(f"\nsummary ({CORES} cores; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after)")
    print(f"  agreement   max |ours - MNE| within {within:.4f}, transfer {transfer:.4f} "
          f"({'<' if ok else 'NOT <'} {TOLERANCE}); generalisation {generalization:.4f}")
    print(f"  analysis    ours {ours_seconds:.1f} s, MNE {mne_seconds:.1f} s: {mne_seconds / ours_seconds:.1f}x faster")
    print(f"  null x{N_PERMUTATIONS}   ours {null_seconds / 60:.2f} min "
          f"({'within' if null_seconds < 180 else 'OVER'} the 3 min target), "
          f"MNE ~{mne_null_seconds / 60:.1f} min (extrapolated): {mne_null_seconds / null_seconds:.1f}x faster")


if __name__ == "__main__":
    main()
