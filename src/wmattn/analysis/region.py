"""Every analysis of one region's rates, written as its decoding file (DESIGN.md, ``decoding/{region}.nc``).

The cued location is decoded on pseudo-populations with a permutation null
and cluster-mass statistics (:mod:`~wmattn.analysis.location`,
:mod:`~wmattn.analysis.stats`); then the colour of cued and uncued items
(:mod:`~wmattn.analysis.colour`) and the geometry (plane angle, CCGP,
parallelism; :mod:`~wmattn.analysis.geometry`).
"""

import numpy as np
import xarray as xr

from wmattn.analysis import geometry, stats
from wmattn.analysis.colour import color_decoding
from wmattn.analysis.location import cross_task_decoding
from wmattn.logistic import SlidingLogisticRegression
from wmattn.pseudopop import condition_codes, resample, trial_values, two_item_trials
from wmattn.task import LOCATIONS, TASKS

CI = (0.025, 0.975)


def decode_region(sessions, n_folds=5, C=1.0, n_resamples=1, n_permutations=100, alpha=0.05, cluster_alpha=0.05, seed=0):
    """Every analysis of one region's rates, as the decoding contract (DESIGN.md).

    Parameters
    ----------
    sessions : list of xarray.Dataset
        One region's rates, one dataset per session
        (:func:`wmattn.io.region_sessions`), each with ``rate`` (trial,
        neuron, time), the per-trial coordinates ``task``, ``cued``,
        ``color_upper`` and ``color_lower``, and the same ``time``; only
        two-item trials are analysed (:func:`wmattn.pseudopop.two_item_trials`).
    n_folds, C :
        Cross-validation folds and inverse L2 strength.
    n_resamples : int
        Pseudo-populations drawn (trials balanced over task x cued location
        per session) for the cued-location analyses; scores are their mean,
        ``*_ci`` their 2.5 and 97.5 percentiles. Colour decoding, the most
        expensive analysis (four classes, balanced over 16 conditions), uses
        one draw; plane angles and parallelism use every trial through
        condition means.
    n_permutations : int
        Size of the label-permutation null, spread over the resamples. Each
        permutation is one resample's score, compared with the mean over
        resamples, whose spread under the null is no larger: with several
        resamples the p-values are conservative.
    alpha, cluster_alpha : float
        Per-bin threshold and corrected level of the cluster-mass test.
    seed : int or numpy.random.SeedSequence

    Returns
    -------
    xarray.Dataset
    """
    if n_permutations < 1:
        raise ValueError("decoding.n_permutations must be at least 1 for the statistics")
    rng = np.random.default_rng(seed)
    sessions = two_item_trials(sessions)
    condition = condition_codes(sessions, ["task", "cued"])
    task_all, cued_all = trial_values(sessions, "task"), trial_values(sessions, "cued")
    runs, ccgps = [], []
    for r in range(n_resamples):
        X, source = resample(sessions, condition, rng)
        task, cued = task_all[source], cued_all[source]
        runs.append(cross_task_decoding(X, cued, task, n_folds, C, len(range(r, n_permutations, n_resamples)), int(rng.integers(2**31))))
        ccgps.append(geometry.ccgp(X, cued, condition[source], SlidingLogisticRegression(C), context=task))
        print(f"decoding: resample {r + 1}/{n_resamples} done", flush=True)
    null = xr.concat([run["null"] for run in runs if "null" in run], "permutation")
    runs = xr.concat([run.drop_vars("null", errors="ignore") for run in runs], "resample")
    runs["ccgp"] = (("resample", "time"), np.array(ccgps))
    decoding = runs.mean("resample")
    for name in ("accuracy", "auc"):
        decoding[f"{name}_ci"] = runs[name].quantile(CI, "resample").rename(quantile="ci_bound")
    decoding["null"] = null
    decoding["p_value"] = (null.dims[1:], stats.permutation_p_values(decoding["accuracy"].to_numpy(), null.to_numpy()))
    decoding["significant"] = (null.dims[1:], stats.cluster_mass_test(decoding["accuracy"].to_numpy(), null.to_numpy(), alpha, cluster_alpha).significant)
    decoding["color_accuracy"] = (("task", "item", "cue_status", "time"), color_decoding(sessions, n_folds, C, rng))
    decoding["plane_cosine"] = (("task", "pair", "time"), geometry.plane_cosines(sessions))
    decoding["parallelism"] = ("time", geometry.parallelism(sessions))
    decoding["n_trials"] = ("task", [np.sum(task == name) for name in TASKS])
    time = sessions[0]["time"].to_numpy()
    return decoding.assign_coords(
        time=time, train_time=time, test_time=time, neuron=np.arange(decoding.sizes["neuron"]),
        # where each decoded neuron is: its session, and its index in that session's rates file
        neuron_session=("neuron", np.concatenate([np.full(rates.sizes["neuron"], rates["session"].to_numpy()[0]) for rates in sessions])),
        session_neuron=("neuron", np.concatenate([rates["neuron"].to_numpy() for rates in sessions])),
        task=list(TASKS), item=list(LOCATIONS), cue_status=["cued", "uncued"], pair=list(geometry.PLANE_PAIRS),
        ci_bound=list(CI),
    ).assign_attrs(n_resamples=n_resamples, n_permutations=n_permutations, alpha=alpha, cluster_alpha=cluster_alpha)
