import warnings

import numpy as np
import pytest
import xarray as xr
from scipy.stats import kstest
from sklearn.exceptions import ConvergenceWarning

from wmattn.analysis import stats
from wmattn.analysis.location import cross_task_decoding
from wmattn.task import TASKS

N_PER_CONDITION, N_NEURONS, N_BINS = 40, 30, 6
SIGNAL_BINS = slice(3, 6)  # the first three bins carry no signal


def planted(axis_cosine, rng, signal=1.5, n_per_condition=N_PER_CONDITION, n_neurons=N_NEURONS, n_bins=N_BINS):
    """Rates, cued location and task with the cued location planted along one axis per task from bin 3 on."""
    first, second = np.linalg.qr(rng.standard_normal((n_neurons, 2)))[0].T
    axes = {"retro": first, "pro": axis_cosine * first + np.sqrt(1 - axis_cosine**2) * second}
    task = np.repeat(["retro", "pro"], 2 * n_per_condition)
    cued = np.tile(np.repeat(["upper", "lower"], n_per_condition), 2)
    rate = rng.standard_normal((len(task), n_neurons, n_bins))
    sign = np.where(cued == "upper", 1.0, -1.0)
    for name, axis in axes.items():
        trials = task == name
        rate[trials, :, SIGNAL_BINS] += signal * sign[trials, None, None] * axis[None, :, None] * np.sqrt(n_neurons) / 4
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
