import numpy as np
import pytest
import xarray as xr
from scipy.stats import f_oneway

from conftest import TINY, load_config
from wmattn.analysis.colour import (
    colour_information,
    percent_explained_variance,
    phase_modulation_index,
    wheel_bins,
    zscored_phase_modulation_index,
)
from wmattn.simulation import simulate_session
from wmattn.task import LOCATIONS, TASKS

WHEEL = 2 * np.pi * np.arange(64) / 64  # the task's 64-step colour wheel
TUNED = slice(4, 9)  # time bins of the planted tuning


def synthetic_session(rng, n_trials=160, n_neurons=20, n_time=12, gain_hz=0.0, session=0):
    """Poisson rates (200 ms bins) of neurons tuned (von Mises, kappa 2) to the cued item's colour in ``TUNED`` bins only."""
    colors = rng.choice(WHEEL, (2, n_trials))
    cued = rng.choice(LOCATIONS, n_trials)
    cued_color = np.where(cued == "upper", *colors)
    preferred = rng.uniform(0, 2 * np.pi, n_neurons)
    tuning = np.exp(2 * (np.cos(cued_color[:, None] - preferred) - 1))
    on = np.zeros(n_time)
    on[TUNED] = 1
    mean_hz = 5 + gain_hz * tuning[:, :, None] * on
    return xr.Dataset(
        {"rate": (("trial", "neuron", "time"), rng.poisson(mean_hz * 0.2) / 0.2)},
        coords={
            "task": ("trial", np.resize(TASKS, n_trials)), "cued": ("trial", cued),
            "color_upper": ("trial", colors[0]), "color_lower": ("trial", colors[1]),
            "session": ("trial", np.full(n_trials, session)), "time": 100.0 * np.arange(n_time),
        },
    )


def test_wheel_bins_are_left_closed_with_the_last_bin_closed():
    edges = np.linspace(0, 2 * np.pi, 9)
    np.testing.assert_array_equal(wheel_bins(edges), [0, 1, 2, 3, 4, 5, 6, 7, 7])
    np.testing.assert_array_equal(wheel_bins(WHEEL), np.arange(64) // 8)
    np.testing.assert_array_equal(wheel_bins([-0.1, 2 * np.pi + 0.1]), [7, 0])  # wrapped


def test_phase_modulation_index_known_answers():
    color = np.repeat(WHEEL[::8], 3)  # three trials in each of the 8 bins
    one_bin = (wheel_bins(color) == 5) * 12.0
    flat = np.full(len(color), 4.0)
    silent = np.zeros(len(color))
    rate = np.column_stack([one_bin, flat, silent])
    np.testing.assert_allclose(phase_modulation_index(rate, color), [1, 0, 0], atol=1e-12)
    # 4 bins with means (3, 1, 0, 0): p = (3/4, 1/4, 0, 0), KL = 3/4 log 3 + 1/4 log 1 (0 log 0 = 0).
    color4 = np.repeat(np.pi / 2 * np.arange(4) + 0.1, 2)
    rate4 = np.array([2, 4, 1, 1, 0, 0, 0, 0.0])
    np.testing.assert_allclose(phase_modulation_index(rate4, color4, n_bins=4), 0.75 * np.log(3) / np.log(4))
    # Trials without a colour are left out; an empty bin or a negative rate leaves the index undefined.
    np.testing.assert_allclose(phase_modulation_index(np.append(rate4, 50), np.append(color4, np.nan), n_bins=4),
                               0.75 * np.log(3) / np.log(4))
    assert np.isnan(phase_modulation_index(rate4[:6], color4[:6], n_bins=4))
    assert np.isnan(phase_modulation_index(rate4 - 0.5, color4, n_bins=4))


def test_zscored_index_is_computePhaseModulationIndex_with_shared_shuffles():
    rng = np.random.default_rng(0)
    color = rng.choice(WHEEL, 80)
    rate = rng.poisson(3.0, (80, 5, 4)).astype(float)
    rate[:, 0, 0] = 0  # silent
    rate[:, 1, 1] -= 1  # negative: no index, but a PEV
    z = zscored_phase_modulation_index(rate, color, n_shuffles=30, rng=3)
    shuffles = np.random.default_rng(3)
    null = np.array([phase_modulation_index(rate, color[shuffles.permutation(80)]) for _ in range(30)])
    with np.errstate(invalid="ignore"):  # the silent neuron's 0/0
        expected = (phase_modulation_index(rate, color) - null.mean(axis=0)) / null.std(axis=0, ddof=1)
    expected[0, 0] = expected[1, 1] = np.nan
    np.testing.assert_allclose(z, expected, rtol=1e-10)
    assert np.isfinite(percent_explained_variance(rate, color)[1, 1])
    # The same shuffles for every neuron: a neuron alone gets the value it gets among others.
    np.testing.assert_allclose(zscored_phase_modulation_index(rate[:, 3], color, 30, rng=3), z[3])


def test_zscored_index_is_standard_without_tuning_and_large_with_it():
    rng = np.random.default_rng(1)
    color = rng.choice(WHEEL, 120)
    null = zscored_phase_modulation_index(rng.poisson(2.0, (120, 3000)).astype(float), color, 50, rng=2)
    print(f"null z-PMI: mean {null.mean():.3f}, sd {null.std():.3f}")
    assert abs(null.mean()) < 0.1 and 0.85 < null.std() < 1.15
    tuned = rng.poisson(2 + 6 * np.exp(2 * (np.cos(color) - 1))).astype(float)
    assert zscored_phase_modulation_index(tuned, color, 50, rng=2) > 5


def test_pev_is_omega_squared_of_the_one_way_anova():
    rng = np.random.default_rng(2)
    color = rng.choice(WHEEL, 60)
    rate = rng.gamma(2.0, 2.0, (60, 6)) + 3 * np.cos(color)[:, None] * np.arange(6) / 5
    bins = wheel_bins(color)
    k, n = len(np.unique(bins)), len(color)
    F = f_oneway(*(rate[bins == b] for b in np.unique(bins))).statistic
    np.testing.assert_allclose(percent_explained_variance(rate, color), 100 * (k - 1) * (F - 1) / ((k - 1) * (F - 1) + n))
    # Without tuning omega squared is about 0, where the plain ratio (eta squared) sits near (k - 1) / (n - 1).
    null = percent_explained_variance(rng.poisson(3.0, (60, 4000)).astype(float), color)
    print(f"null PEV: mean {null.mean():.3f} % (eta squared would be about {100 * (k - 1) / (n - 1):.1f} %)")
    assert abs(null.mean()) < 0.5
    assert np.isnan(percent_explained_variance(np.zeros((60, 1)), color))


@pytest.fixture(scope="module")
def planted():
    """Two sessions whose neurons are tuned to the cued item's colour in TUNED bins."""
    rng = np.random.default_rng(3)
    return [synthetic_session(rng, n_neurons=n, gain_hz=8.0, session=k) for k, n in enumerate([20, 15])]


def test_cued_colour_information_is_found_where_planted(planted):
    result = colour_information(planted, n_shuffles=50, n_permutations=500, rng=4)
    assert result["color_information"].sizes == {"measure": 2, "task": 2, "cue_status": 2, "neuron": 35, "time": 12}
    assert result["color_information_mean_ci"].dims == ("ci_bound", "measure", "task", "cue_status", "time")
    cued = result["color_significant"].sel(cue_status="cued")
    outside = np.r_[:3, 10:12]  # a bin either side of the tuning is allowed (rates are per bin, clusters are contiguous)
    assert cued.isel(time=TUNED).all() and not cued.isel(time=outside).any()
    assert not result["color_significant"].sel(cue_status="uncued").any()
    assert result["color_difference_significant"].isel(time=TUNED).all()
    assert not result["color_difference_significant"].isel(time=outside).any()
    lower = result["color_information_mean_ci"].sel(ci_bound=0.025, cue_status="cued").isel(time=TUNED)
    assert (lower > 0).all()


def test_single_item_trials_are_left_out(planted):
    rng = np.random.default_rng(5)
    extra = synthetic_session(rng, n_trials=40, n_neurons=20)
    extra["color_lower"][:] = np.nan  # no second item
    with_single = [xr.concat([planted[0], extra], "trial").assign_coords(n_items=("trial", [2] * 160 + [1] * 40)), planted[1]]
    xr.testing.assert_identical(colour_information(with_single, n_shuffles=20, n_permutations=50, rng=6),
                                colour_information(planted, n_shuffles=20, n_permutations=50, rng=6))


def test_the_same_seed_gives_identical_output_and_a_missing_key_is_named(planted):
    first, second = (colour_information(planted, n_shuffles=20, n_permutations=50, rng=7) for _ in range(2))
    xr.testing.assert_identical(first, second)
    with pytest.raises(ValueError, match="color_lower"):
        colour_information([planted[0].drop_vars("color_lower")])


def test_no_colour_information_is_found_in_untuned_neurons():
    rng = np.random.default_rng(8)
    n_datasets = 200
    against_zero, difference = [], []
    for _ in range(n_datasets):
        result = colour_information([synthetic_session(rng, n_trials=120, n_time=8)], n_shuffles=20, n_permutations=200, rng=rng)
        against_zero.append(result["color_significant"].any("time"))
        difference.append(result["color_difference_significant"].any("time"))
    # Courses of one dataset share its rates, so the error bound counts datasets, not courses.
    bound = 0.05 + 2 * np.sqrt(0.05 * 0.95 / n_datasets)
    for name, courses in (("one-sample", against_zero), ("paired", difference)):
        rate = xr.concat(courses, "dataset").mean("dataset")
        print(f"{name} false-positive rate per course: {rate.to_series().round(3).to_dict()}")
        assert (rate.mean([dim for dim in rate.dims if dim != "measure"]) <= bound).all()


def test_a_planted_simulation_shows_cued_colour_information():
    # The tiny config with 30 trials per condition (~7 trials per colour bin and task): about 10 s of simulation.
    config = load_config(TINY)
    config["sessions"]["n_trials_per_condition"] = 30
    rates, _ = simulate_session(config, 0)
    result = colour_information([rates], n_shuffles=50, n_permutations=200, rng=0)
    assert result["color_significant"].sel(cue_status="cued").any("time").all()
