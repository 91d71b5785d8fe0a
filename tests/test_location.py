import warnings

import numpy as np
import pytest
import xarray as xr
from scipy.stats import kstest
from sklearn.exceptions import ConvergenceWarning

from wmattn.analysis import stats
from wmattn.analysis.location import (CI, cross_task_decoding, found_onset_interval, location_decoding,
                                      onset_interval, onset_time, stratified_bootstrap_counts)
from wmattn.task import TASKS

N_PER_CONDITION, N_NEURONS, N_BINS = 40, 30, 6
SIGNAL_BINS = slice(3, 6)  # the first three bins carry no signal


def planted(axis_cosine, rng, signal=1.5, n_per_condition=N_PER_CONDITION, n_neurons=N_NEURONS, n_bins=N_BINS,
            signal_bins=SIGNAL_BINS):
    """Rates, cued location and task with the cued location planted along one axis per task in ``signal_bins`` (from bin 3 on)."""
    first, second = np.linalg.qr(rng.standard_normal((n_neurons, 2)))[0].T
    axes = {"retro": first, "pro": axis_cosine * first + np.sqrt(1 - axis_cosine**2) * second}
    task = np.repeat(["retro", "pro"], 2 * n_per_condition)
    cued = np.tile(np.repeat(["upper", "lower"], n_per_condition), 2)
    rate = rng.standard_normal((len(task), n_neurons, n_bins))
    sign = np.where(cued == "upper", 1.0, -1.0)
    for name, axis in axes.items():
        trials = task == name
        rate[trials, :, signal_bins] += signal * sign[trials, None, None] * axis[None, :, None] * np.sqrt(n_neurons) / 4
    return rate, cued, task


def transfer(accuracy):
    return accuracy.sel(train_task="retro", test_task="pro"), accuracy.sel(train_task="pro", test_task="retro")


def test_planted_shared_axis_transfers_as_well_as_it_decodes_within_task():
    decoding = cross_task_decoding(*planted(1.0, np.random.default_rng(0)))
    accuracy = decoding["accuracy"].isel(time=SIGNAL_BINS)
    assert (accuracy > 0.9).all()
    within = (accuracy.sel(train_task="retro", test_task="retro") + accuracy.sel(train_task="pro", test_task="pro")) / 2
    assert all(abs(float((t - within).mean())) < 0.05 for t in transfer(accuracy))
    assert abs(float(decoding["accuracy"].isel(time=slice(0, 3)).mean()) - 0.5) < 0.1
    assert (decoding["auc"].isel(time=SIGNAL_BINS) > 0.95).all()
    assert (decoding["weight_cosine"].isel(time=SIGNAL_BINS) > 0.7).all()


def test_orthogonal_axes_decode_within_each_task_but_do_not_transfer():
    decoding = cross_task_decoding(*planted(0.0, np.random.default_rng(1)))
    accuracy = decoding["accuracy"].isel(time=SIGNAL_BINS)
    for task in TASKS:
        assert (accuracy.sel(train_task=task, test_task=task) > 0.9).all()
    assert all(abs(float(t.mean()) - 0.5) < 0.12 for t in transfer(accuracy))
    assert (abs(decoding["weight_cosine"].isel(time=SIGNAL_BINS)) < 0.35).all()


def test_sits_at_chance_on_shuffled_labels():
    rng = np.random.default_rng(2)
    rate, cued, task = planted(1.0, rng)
    for name in TASKS:
        trials = np.flatnonzero(task == name)
        cued[trials] = cued[rng.permutation(trials)]
    accuracy = cross_task_decoding(rate, cued, task)["accuracy"]
    assert abs(float(accuracy.mean()) - 0.5) < 0.06
    assert (abs(accuracy - 0.5) < 0.25).all()


def test_generalization_diagonal_is_the_accuracy_and_signal_does_not_generalise_to_silent_bins():
    decoding = cross_task_decoding(*planted(1.0, np.random.default_rng(3)))
    generalization = decoding["generalization"].to_numpy()
    np.testing.assert_allclose(np.diagonal(generalization, axis1=2, axis2=3), decoding["accuracy"].to_numpy())
    trained_on_signal_tested_before = generalization[:, :, 3:, :3]
    assert abs(trained_on_signal_tested_before.mean() - 0.5) < 0.1
    assert (generalization[:, :, 3:, 3:] > 0.9).all()


def test_rejects_a_task_with_one_class():
    rate, cued, task = planted(1.0, np.random.default_rng(4))
    cued[task == "pro"] = "upper"
    with pytest.raises(ValueError, match="pro trials hold only one class"):
        cross_task_decoding(rate, cued, task)


@pytest.fixture(scope="module")
def null_datasets():
    """Per-bin p-values and cluster tests of many small datasets without any signal.

    Accuracy takes few values, so the observation often ties with permutations
    and the reported p-values (ties counted against the effect) are
    conservative. The uniformity check breaks ties at random instead, which
    makes the p-value exactly uniform if, and only if, the observation is
    exchangeable with its permutations.
    """
    rng = np.random.default_rng(5)
    p_values, tie_broken, false_positives = [], [], []
    for _ in range(200):
        rate, cued, task = planted(1.0, rng, signal=0.0, n_per_condition=10, n_neurons=8, n_bins=8)
        decoding = cross_task_decoding(rate, cued, task, n_folds=3, n_permutations=39, random_state=int(rng.integers(2**31)))
        observed, null = decoding["accuracy"].to_numpy(), decoding["null"].to_numpy()
        p_values.append(stats.permutation_p_values(observed, null)[..., 0])
        above, tied = (null > observed).sum(axis=0), (null == observed).sum(axis=0)
        tie_broken.append((1 + above + rng.integers(0, tied + 1))[..., 0] / (1 + len(null)))
        false_positives.append(stats.cluster_mass_test(observed, null).significant.any(axis=-1))
    return np.array(p_values), np.array(tie_broken), np.array(false_positives)


def test_per_bin_p_values_are_uniform_under_the_null(null_datasets):
    p_values, tie_broken, _ = null_datasets
    assert (p_values >= tie_broken).all()
    rng = np.random.default_rng(8)
    for i in range(len(TASKS)):
        for j in range(len(TASKS)):
            # Discrete uniform on k/40, spread over each step for the continuous KS test.
            assert kstest(tie_broken[:, i, j] - rng.uniform(0, 1 / 40, len(tie_broken)), "uniform").pvalue > 0.01


def test_cluster_test_false_positive_rate_is_nominal_under_the_null(null_datasets):
    _, _, false_positives = null_datasets
    rate = false_positives.mean(axis=0)
    standard_error = np.sqrt(0.05 * 0.95 / len(false_positives))
    assert (rate <= 0.05 + 2 * standard_error).all(), rate


def test_converges_when_most_trials_of_one_task_are_silent():
    # As the circuit just after a retro trial's response: most retro trials
    # silent, a few still active. Centred on both tasks' mean, the silent
    # rates were copies of the intercept and Newton stalled (ConvergenceWarning).
    rng = np.random.default_rng(5)
    rate, cued, task = planted(0.0, rng, n_neurons=200)
    rate = np.clip(rate + 2.0, 0, None) * 5
    retro = np.flatnonzero(task == "retro")
    rate[retro[rng.random(len(retro)) > 0.05]] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        decoding = cross_task_decoding(rate, cued, task, n_permutations=100)
    assert (decoding["accuracy"].sel(train_task="pro", test_task="pro").isel(time=SIGNAL_BINS) > 0.9).all()


def test_per_trial_correctness_gives_the_accuracy_of_every_course():
    rate, cued, task = planted(0.5, np.random.default_rng(10))
    decoding = cross_task_decoding(rate, cued, task)  # 80 trials per task: five folds of 16
    correct = decoding["correct"]
    assert correct.dims == ("train_task", "test_task", "trial", "time") and correct.dtype == bool
    for j, name in enumerate(TASKS):
        test_trials = correct.isel(test_task=j, trial=task == name)
        np.testing.assert_allclose(test_trials.mean("trial"), decoding["accuracy"].isel(test_task=j), atol=1e-12)
        assert not correct.isel(test_task=j, trial=task != name).any()  # only the test task's trials are scored


# onset latency: 50 ms bins from 200 ms before the cue, the cued location planted from 300 ms on
ONSET_TIMES = -200.0 + 50.0 * np.arange(17)
PLANTED_ONSET = 300.0


def onset_sessions(rng, signal, n_sessions=1, n_per_condition=30, n_neurons=20):
    """One region's sessions (rates datasets) with the cued location planted from ``PLANTED_ONSET`` on."""
    onset = slice(int(np.searchsorted(ONSET_TIMES, PLANTED_ONSET)), None)
    sessions = []
    for s in range(n_sessions):
        rate, cued, task = planted(1.0, rng, signal, n_per_condition, n_neurons, len(ONSET_TIMES), onset)
        sessions.append(xr.Dataset(
            {"rate": (("trial", "neuron", "time"), rate)},
            coords={"task": ("trial", task), "cued": ("trial", cued), "session": ("trial", np.full(len(task), s)),
                    "neuron": np.arange(n_neurons), "time": ONSET_TIMES},
        ))
    return sessions


def onset_outputs(decoding):
    return decoding[["onset_latency", "onset_latency_ci", "onset_found_fraction"]]


def test_onset_latency_finds_a_planted_selection_onset_and_its_interval_holds_it():
    decoding = location_decoding(onset_sessions(np.random.default_rng(20), signal=1.0), n_permutations=39,
                                 n_bootstrap=200, rng=21)
    latency, ci = decoding["onset_latency"], decoding["onset_latency_ci"]
    assert latency.dims == ("train_task", "test_task") and ci.dims == ("ci_bound", "train_task", "test_task")
    assert (abs(latency - PLANTED_ONSET) <= 50).all()  # within one bin
    low, high = ci.sel(ci_bound=0.025), ci.sel(ci_bound=0.975)
    assert ((low <= PLANTED_ONSET) & (PLANTED_ONSET <= high)).all()
    assert ((low <= latency) & (latency <= high)).all()
    assert (decoding["onset_found_fraction"] > 0.97).all()
    # the onset is the first significant bin at or after the cue
    significant = decoding["significant"].where(decoding["time"] >= 0, False)
    np.testing.assert_array_equal(latency, decoding["time"][significant.argmax("time")])
    assert "correct" not in decoding and "trial" not in decoding.dims


def test_the_found_interval_is_over_the_draws_that_found_an_onset():
    """Draws without an onset (+inf) leave the latency's interval to those with one; none found: NaN."""
    onsets = np.array([[100.0, np.inf]] * 60 + [[np.inf, np.inf]] * 40)[:, :, None]
    interval = found_onset_interval(onsets)
    np.testing.assert_array_equal(interval[:, 0, 0], [100.0, 100.0])
    assert np.isnan(interval[:, 1, 0]).all()
    assert np.isnan(onset_interval(onsets)[1, 0, 0])  # the full interval's upper bound reaches the draws without


def test_onset_latency_is_undefined_without_a_planted_signal():
    decoding = location_decoding(onset_sessions(np.random.default_rng(22), signal=0.0), n_permutations=39,
                                 n_bootstrap=200, rng=23)
    assert decoding["onset_latency"].isnull().all()
    assert (decoding["onset_found_fraction"] < 0.2).all()
    assert decoding["onset_latency_ci"].sel(ci_bound=0.975).isnull().all()  # most draws find no onset


def test_the_same_seed_gives_identical_onsets():
    sessions = onset_sessions(np.random.default_rng(24), signal=0.7, n_sessions=2)
    # 25 draws spread over 2 resamples: 13 from the first, 12 from the second
    first, again = (onset_outputs(location_decoding(sessions, n_folds=3, n_resamples=2, n_permutations=20,
                                                    n_bootstrap=25, rng=25)) for _ in range(2))
    xr.testing.assert_identical(first, again)
    assert np.isfinite(first["onset_latency"]).any()


def test_onset_time_is_the_first_significant_bin_from_the_cue_on():
    time = np.array([-100.0, -50, 0, 50, 100])
    significant = np.array([[True, True, True, False, False],  # a cluster from before the cue: its first bin from 0
                            [True, False, False, True, True],  # before the cue only counts for nothing
                            [True, False, False, False, False]])
    np.testing.assert_array_equal(onset_time(significant, time), [0, 50, np.inf])


def test_onset_interval_is_undefined_where_draws_without_an_onset_reach_it():
    onsets = np.linspace(100, 300, 200)
    some_missing, many_missing = onsets.copy(), onsets.copy()
    some_missing[:4] = np.inf  # 2 %
    many_missing[:5] = np.inf  # 2.5 %: the 97.5th percentile (between the 195th and 196th draw) reaches them
    interval = onset_interval(np.column_stack([onsets, some_missing, many_missing]))
    np.testing.assert_allclose(interval[:, 0], np.quantile(onsets, CI))
    assert np.isfinite(interval[:, 1]).all() and interval[1, 1] <= 300
    assert np.isfinite(interval[0, 2]) and np.isnan(interval[1, 2])
    assert np.isnan(onset_interval(np.full((200, 1), np.inf))).all()


def test_stratified_bootstrap_keeps_every_stratum_size():
    strata = np.array(["upper"] * 7 + ["lower"] * 5)
    counts = stratified_bootstrap_counts(strata, 300, np.random.default_rng(26))
    assert (counts[:, :7].sum(axis=1) == 7).all() and (counts[:, 7:].sum(axis=1) == 5).all()
    assert 0.9 < counts.mean() < 1.1 and counts.std(axis=0).min() > 0.5


def test_the_cluster_rule_reproduces_the_cluster_test_and_judges_draws_alike():
    rng = np.random.default_rng(27)
    for n_permutations in (19, 39, 100):
        # accuracies on 20 trials, so values tie; a planted run in one course
        null = rng.binomial(20, 0.5, (n_permutations, 2, 2, 15)) / 20
        observed = rng.binomial(20, 0.5, (2, 2, 15)) / 20
        observed[0, 1, 6:11] = rng.binomial(20, 0.8, 5) / 20
        for family_axes in ((0, 1), ()):
            rule = stats.cluster_rule(observed, null, family_axes=family_axes)
            expected = stats.cluster_mass_test(observed, null, family_axes=family_axes).significant
            assert expected.any() == (n_permutations > 19)  # 19 permutations cannot reach p < 0.05
            np.testing.assert_array_equal(stats.cluster_significant(observed, rule), expected)
            draws = np.stack([observed, null[0], observed])
            judged = stats.cluster_significant(draws, rule)
            np.testing.assert_array_equal(judged[0], expected)
            np.testing.assert_array_equal(judged[2], expected)
