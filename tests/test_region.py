"""decode_region: every analysis of a region, on pseudo-populations of several sessions."""

import numpy as np
import xarray as xr

from test_location import N_BINS, SIGNAL_BINS, planted
from wmattn.analysis.region import decode_region
from wmattn.io import CONTRACTS

# the synthetic sessions' time axis is 0-500 ms: windows inside it
SETTINGS = {"windows": {"early": [0, 200], "late": [300, 500]},
            "plane_windows": {"retro": {"after_selection": [300, 500]}, "pro": {"after_selection": [300, 500]}},
            "n_bootstrap": 20, "n_shuffles": 20, "n_cluster_permutations": 50}


def sessions_rates(rng, n_sessions=3, n_per_condition=12, n_neurons_per_session=10, signal=1.5, single_items=0):
    """One region's rates in several sessions (a dataset each), with a shared cued-location axis from bin 3 on.

    ``single_items`` trials of each session are made single-item trials (the uncued colour NaN) whose
    rates are noise: they must not reach any analysis.
    """
    sessions = []
    for s in range(n_sessions):
        rate, cued, task = planted(1.0, rng, signal, n_per_condition + s, n_neurons_per_session)
        n_items = np.full(len(task), 2)
        color_upper, color_lower = rng.uniform(0, 2 * np.pi, (2, len(task)))
        if single_items:
            rate = np.concatenate([rate, 100 * rng.standard_normal((single_items, *rate.shape[1:]))])  # noise
            task, cued = np.append(task, ["retro"] * single_items), np.append(cued, ["upper"] * single_items)
            n_items = np.append(n_items, np.ones(single_items, int))
            color_upper, color_lower = np.append(color_upper, np.zeros(single_items)), np.append(color_lower, np.full(single_items, np.nan))
        retro = task == "retro"
        sessions.append(xr.Dataset(
            {"rate": (("trial", "neuron", "time"), np.clip(rate + 10, 0, None))},  # rates are not negative
            coords={
                "task": ("trial", task), "cued": ("trial", cued), "n_items": ("trial", n_items),
                "session": ("trial", np.full(len(task), s)),
                "color_upper": ("trial", color_upper), "color_lower": ("trial", color_lower),
                "onset_samples": ("trial", np.where(retro, -1200.0, 600.0)), "onset_cue": ("trial", np.zeros(len(task))),
                "onset_response": ("trial", np.where(retro, 900.0, 2500.0)),
                "neuron": np.arange(n_neurons_per_session),
                "time": 100.0 * np.arange(N_BINS),
            },
        ))
    return sessions


def test_decode_region_pools_sessions_into_pseudo_populations():
    sessions = sessions_rates(np.random.default_rng(6))
    decoding = decode_region(sessions, n_folds=3, n_resamples=3, n_permutations=30, seed=7, **SETTINGS)
    accuracy = decoding["accuracy"].isel(time=SIGNAL_BINS)
    assert (accuracy > 0.8).all()
    assert (decoding["significant"].isel(time=SIGNAL_BINS)).all()
    assert not decoding["significant"].isel(time=slice(0, 2)).any()
    low, high = decoding["accuracy_ci"].sel(ci_bound=0.025), decoding["accuracy_ci"].sel(ci_bound=0.975)
    assert (low <= decoding["accuracy"]).all() and (decoding["accuracy"] <= high).all()
    assert (decoding["ccgp"].isel(time=SIGNAL_BINS) > 0.9).all()
    assert (decoding["parallelism"].isel(time=SIGNAL_BINS) > 0.7).all()
    assert decoding.sizes["permutation"] == 30
    assert list(decoding["n_trials"].to_numpy()) == [2 * 12, 2 * 12]  # the smallest session's trials per task
    # every neuron of every session, and where it came from
    assert decoding.sizes["neuron"] == 30
    np.testing.assert_array_equal(decoding["neuron_session"], np.repeat([0, 1, 2], 10))
    np.testing.assert_array_equal(decoding["session_neuron"], np.tile(np.arange(10), 3))
    # one code for both tasks from bin 3 on: GI near 1 in the late window, undefined-or-anything in the silent one
    assert float(decoding["gi"].sel(window="late", direction="both")) > 0.8
    for name, dims in CONTRACTS["decoding"]["variables"].items():
        assert decoding[name].dims == dims, name
    assert float(decoding["epoch_onset"].sel(task="retro", epoch="samples", onset_statistic="median")) == -1200


def test_single_item_trials_reach_no_analysis():
    rng = np.random.default_rng(3)
    with_single = sessions_rates(rng, n_sessions=2, single_items=6)
    two_items = [rates.isel(trial=rates["n_items"].to_numpy() == 2) for rates in with_single]
    first, second = (decode_region(sessions, n_folds=3, n_permutations=5, seed=1, **SETTINGS) for sessions in (with_single, two_items))
    xr.testing.assert_identical(first, second)


def test_the_same_seed_gives_identical_results_and_another_seed_other_resamples():
    sessions = sessions_rates(np.random.default_rng(9))
    first, again = (decode_region(sessions, n_folds=3, n_resamples=2, n_permutations=10, seed=11, **SETTINGS) for _ in range(2))
    xr.testing.assert_identical(first, again)
    other = decode_region(sessions, n_folds=3, n_resamples=2, n_permutations=10, seed=12, **SETTINGS)
    assert not np.array_equal(first["null"], other["null"])
