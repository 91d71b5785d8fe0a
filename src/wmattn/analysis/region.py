"""Every analysis of one region's rates, as its decoding file (DESIGN.md, ``decoding/{region}.nc``).

Each analysis is a module of its own; this runs them on the region's
two-item trials and merges their datasets:

- :mod:`~wmattn.analysis.location`: the cued location decoded in every time
  bin, within and across tasks, with its permutation null and cluster-mass
  statistics (:mod:`~wmattn.analysis.stats`);
- :mod:`~wmattn.analysis.generalization`: the generalisation index in epoch
  windows, with its bootstrap interval;
- :mod:`~wmattn.analysis.colour`: each neuron's colour information about the
  cued and the uncued item, with cluster tests across neurons;
- :mod:`~wmattn.analysis.geometry`: colour-plane angles in epoch windows with
  intervals and nulls, and the parallelism of the cued location.
"""

import numpy as np
import xarray as xr

from wmattn.analysis import geometry
from wmattn.analysis.colour import colour_information
from wmattn.analysis.generalization import window_generalization
from wmattn.analysis.location import location_decoding
from wmattn.pseudopop import trial_values, two_item_trials
from wmattn.task import TASKS

ONSET_STATISTICS = ("min", "median", "max")
ANALYSES = ("location", "generalization", "colour", "planes")  # each draws from its own random stream
# The schema's defaults of decoding.windows and decoding.plane_windows (tests/test_config.py checks they agree).
WINDOWS = {"cue": [100, 300], "delay": [400, 800]}
PLANE_WINDOWS = {"retro": {"before_selection": [-500, 0], "after_selection": [300, 800]},
                 "pro": {"after_selection": [1400, 2000]}}


def epoch_onsets(sessions):
    """Every epoch's onset (task, epoch, statistic) in ms from the cue: its min, median and max over the trials.

    Needs the per-trial ``task`` and ``onset_<epoch>`` coordinates; NaN for
    an epoch a task does not have. The figures mark the epochs with them.
    """
    task = trial_values(sessions, "task")
    epochs = [name.removeprefix("onset_") for name in sessions[0].coords if name.startswith("onset_")]
    onsets = np.full((len(TASKS), len(epochs), len(ONSET_STATISTICS)), np.nan)
    for i, name in enumerate(TASKS):
        for j, epoch in enumerate(epochs):
            values = trial_values(sessions, f"onset_{epoch}")[task == name]
            values = values[np.isfinite(values)]
            if values.size:
                onsets[i, j] = np.min(values), np.median(values), np.max(values)
    return xr.DataArray(onsets, dims=("task", "epoch", "onset_statistic"),
                        coords={"task": list(TASKS), "epoch": epochs, "onset_statistic": list(ONSET_STATISTICS)},
                        attrs={"units": "ms", "reference": "cue onset"})


def decode_region(sessions, n_folds=5, C=1.0, n_resamples=1, n_permutations=100, alpha=0.05, cluster_alpha=0.05,
                  windows=None, plane_windows=None, n_bootstrap=200, n_shuffles=100, n_cluster_permutations=1000, seed=0):
    """Every analysis of one region's rates, as the decoding contract (DESIGN.md).

    Parameters
    ----------
    sessions : list of xarray.Dataset
        One region's rates, one dataset per session
        (:func:`wmattn.io.region_sessions`), each with ``rate`` (trial,
        neuron, time), the per-trial coordinates ``task``, ``cued``,
        ``color_upper``, ``color_lower``, ``session`` and ``onset_<epoch>``,
        optionally ``n_items`` (single-item trials are left out), and the
        same ``time``.
    n_folds, C, n_resamples, n_permutations, alpha, cluster_alpha :
        The per-bin decoding (:func:`~wmattn.analysis.location.location_decoding`).
    windows : dict
        ``{name: [start_ms, end_ms]}``: the generalisation index's windows
        (default :data:`WINDOWS`).
    plane_windows : dict
        ``{task: {name: [start_ms, end_ms]}}``: the colour planes' windows
        (default :data:`PLANE_WINDOWS`).
    n_bootstrap, n_shuffles, n_cluster_permutations : int
        Bootstrap draws (GI, planes, the decoding's onset latency), colour
        shuffles (planes, and the z-scoring of the phase modulation index)
        and the sign flips of the colour information's cluster tests.
    seed : int or numpy.random.SeedSequence
        Each analysis draws from its own stream spawned from it.

    Returns
    -------
    xarray.Dataset
    """
    windows = WINDOWS if windows is None else windows
    plane_windows = PLANE_WINDOWS if plane_windows is None else plane_windows
    sessions = two_item_trials(sessions)
    streams = dict(zip(ANALYSES, np.random.SeedSequence(seed).spawn(len(ANALYSES)) if isinstance(seed, int)
                       else seed.spawn(len(ANALYSES))))
    decoding = location_decoding(sessions, n_folds, C, n_resamples, n_permutations, alpha, cluster_alpha,
                                 n_bootstrap, rng=streams["location"])
    parts = [
        window_generalization(sessions, windows, n_folds, C, n_bootstrap, rng=streams["generalization"]),
        colour_information(sessions, n_shuffles=n_shuffles, n_permutations=n_cluster_permutations, alpha=alpha,
                           cluster_alpha=cluster_alpha, rng=streams["colour"]),
        geometry.plane_alignment(sessions, plane_windows, n_bootstrap, n_shuffles, rng=streams["planes"]),
    ]
    print("decoding: generalisation, colour information and colour planes done", flush=True)
    decoding = xr.merge([decoding, *(part.drop_vars("neuron", errors="ignore") for part in parts)],
                        combine_attrs="drop_conflicts")
    decoding["parallelism"] = ("time", geometry.parallelism(sessions))
    decoding["epoch_onset"] = epoch_onsets(sessions)
    return decoding.assign_attrs(n_resamples=n_resamples, n_permutations=n_permutations, alpha=alpha,
                                 cluster_alpha=cluster_alpha, n_bootstrap=n_bootstrap, n_shuffles=n_shuffles,
                                 n_cluster_permutations=n_cluster_permutations)
