"""Cross-task generalisation in epoch windows (GI with bootstrap intervals) and the region contrast, on planted codes."""

import contextlib
import io

import numpy as np
import pytest
import xarray as xr
from sklearn.linear_model import LogisticRegression

from conftest import TINY, load_config
from test_location import SIGNAL_BINS, planted
from wmattn.analysis.generalization import decoding_accuracy, holm, region_contrast, window_generalization
from wmattn.logistic import fit_logistic
from wmattn.simulation import simulate_session
from wmattn.task import TASKS

# planted() puts the cued location in bins 3-5 (times 300-500 ms here) and nothing before.
WINDOWS = {"before": [0, 200], "signal": [300, 500]}
SIGNAL = {"signal": [300, 500]}


def as_sessions(per_session):
    """Rates datasets, one per (rate, cued, task) of ``per_session``, with the bins of planted() at 0, 100, ... ms."""
    return [
        xr.Dataset(
            {"rate": (("trial", "neuron", "time"), rate)},
            coords={"task": ("trial", task), "cued": ("trial", cued), "session": ("trial", np.full(len(task), s)),
                    "time": 100.0 * np.arange(rate.shape[2])},
        )
        for s, (rate, cued, task) in enumerate(per_session)
    ]


def planted_sessions(axis_cosine, rng, n_sessions=2, n_per_condition=30, n_neurons=16, signal=1.0):
    """One region's sessions, each with the retro and pro axes at exactly ``axis_cosine`` (test_location.planted)."""
    return as_sessions([planted(axis_cosine, rng, signal, n_per_condition + s, n_neurons) for s in range(n_sessions)])


def independent_neurons(axis_cosine, rng, n_per_condition, n_neurons, signal=1.0):
    """planted()'s code with every neuron's loadings on the two axes drawn independently.

    Then neurons are exchangeable draws from one distribution, as the
    bootstrap over neurons and the contrast's relabelling of neurons assume,
    and a population's own retro-pro cosine varies around ``axis_cosine``.
    """
    first, second = rng.standard_normal((2, n_neurons)) / np.sqrt(n_neurons)
    axes = {"retro": first, "pro": axis_cosine * first + np.sqrt(1 - axis_cosine**2) * second}
    task = np.repeat(["retro", "pro"], 2 * n_per_condition)
    cued = np.tile(np.repeat(["upper", "lower"], n_per_condition), 2)
    rate = rng.standard_normal((len(task), n_neurons, 6))
    sign = np.where(cued == "upper", 1.0, -1.0)
    for name, axis in axes.items():
        trials = task == name
        rate[trials, :, SIGNAL_BINS] += signal * sign[trials, None, None] * axis[None, :, None] * np.sqrt(n_neurons) / 4
    return rate, cued, task


def independent_regions(counts, axis_cosine, rng, n_per_condition):
    """Regions recorded in one session on the same trials: {name: [rates]} for ``counts`` {name: n_neurons}."""
    return {name: as_sessions([independent_neurons(axis_cosine, rng, n_per_condition, n)]) for name, n in counts.items()}


def quiet(function, *args, **kwargs):
    """``function`` without its progress lines."""
    with contextlib.redirect_stdout(io.StringIO()):
        return function(*args, **kwargs)


@pytest.mark.parametrize("n_features", [8, 200])  # the primal and the dual solver
def test_accuracies_are_those_of_scikit_learn_fits(n_features):
    rng = np.random.default_rng(0)
    n_folds, n_trials, C = 4, 96, 1.0
    task = np.repeat(TASKS, n_trials // 2)
    label = np.tile(np.repeat([1.0, 0.0], n_trials // 4), 2)
    fold = np.tile(np.arange(n_trials // 4) % n_folds, 4)
    X = rng.standard_normal((n_trials, n_features)) + 0.3 * np.outer(2 * label - 1, rng.standard_normal(n_features))
    X = ((X - X.mean(axis=0)) / X.std(axis=0)).astype(np.float32)
    accuracy = decoding_accuracy(X[None], (task, label, fold), n_folds, C)[0]

    def scikit_learn(train):
        return LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X[train], label[train])

    for i, name in enumerate(TASKS):
        own = task == name
        every = scikit_learn(own)
        coef, intercept = fit_logistic(X[None], label[:, None], C, sample_weight=own[:, None], tol=1e-8)
        np.testing.assert_allclose(coef[0, 0, 0], every.coef_[0], rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(intercept[0, 0, 0], every.intercept_[0], rtol=1e-3, atol=1e-4)
        within = np.mean([scikit_learn(own & (fold != f)).score(X[own & (fold == f)], label[own & (fold == f)]) for f in range(n_folds)])
        assert accuracy[i, i] == pytest.approx(within, abs=1 / n_trials)
        assert accuracy[i, 1 - i] == pytest.approx(every.score(X[~own], label[~own]), abs=1 / n_trials)


@pytest.fixture(scope="module")
def shared_and_orthogonal():
    """GI of two-session regions whose retro and pro axes are shared (cosine 1) or orthogonal (0)."""
    return {cosine: window_generalization(planted_sessions(cosine, np.random.default_rng(seed)), WINDOWS, n_bootstrap=100, rng=seed)
            for seed, cosine in enumerate((1.0, 0.0))}


def test_shared_axes_give_gi_near_one_within_its_interval(shared_and_orthogonal):
    result = shared_and_orthogonal[1.0].sel(window="signal")
    assert (result["window_accuracy"] > 0.9).all()
    assert (abs(result["gi"] - 1) < 0.1).all()
    low, high = result["gi_ci"].sel(ci_bound=0.025), result["gi_ci"].sel(ci_bound=0.975)
    assert (low > 0.6).all() and (high >= 0.97).all()


def test_orthogonal_axes_give_gi_near_zero_within_its_interval(shared_and_orthogonal):
    result = shared_and_orthogonal[0.0].sel(window="signal")
    for i, name in enumerate(TASKS):
        assert result["window_accuracy"].sel(train_task=name, test_task=name) > 0.9
    assert (abs(result["gi"]) < 0.3).all()
    low, high = result["gi_ci"].sel(ci_bound=0.025), result["gi_ci"].sel(ci_bound=0.975)
    assert (low < 0).all() and (high > 0).all() and (high < 0.8).all()


def test_a_window_without_the_code_decodes_at_chance(shared_and_orthogonal):
    accuracy = shared_and_orthogonal[1.0]["window_accuracy"].sel(window="before")
    assert abs(float(accuracy.mean()) - 0.5) < 0.08


def test_output_layout(shared_and_orthogonal):
    result = shared_and_orthogonal[1.0]
    assert result["window_accuracy_ci"].dims == ("ci_bound", "window", "train_task", "test_task")
    assert result["gi_ci"].dims == ("ci_bound", "window", "direction")
    assert list(result["direction"].values) == ["retro_to_pro", "pro_to_retro", "both"]
    assert list(result["window_start"].values) == [0, 300] and list(result["window_end"].values) == [200, 500]
    assert result.attrs["n_bootstrap"] == 100
    assert (result["window_accuracy_ci"].sel(ci_bound=0.025) <= result["window_accuracy_ci"].sel(ci_bound=0.975)).all()


def test_the_bootstrap_interval_covers_the_expected_gi():
    """Over independent datasets of independent neurons (cosine 0.5, within-task accuracy about 0.92), 95 %
    intervals cover the mean GI at least 95 % - 2 SE of the time, and are not more than twice as wide as
    1.96 standard deviations of the estimates either side."""
    rng = np.random.default_rng(10)
    results = [window_generalization(as_sessions([independent_neurons(0.5, rng, 40, 16)]), SIGNAL, n_bootstrap=100, n_resamples=4, rng=rng)
               for _ in range(40)]
    gi = np.array([r["gi"].sel(window="signal").to_numpy() for r in results])
    interval = np.array([r["gi_ci"].sel(window="signal").to_numpy() for r in results])
    truth = gi.mean(axis=0)
    coverage = ((interval[:, 0] <= truth) & (truth <= interval[:, 1])).mean(axis=0)
    assert (coverage >= 0.95 - 2 * np.sqrt(0.95 * 0.05 / len(gi))).all(), coverage
    assert (np.mean(interval[:, 1] - interval[:, 0], axis=0) < 2 * 2 * 1.96 * gi.std(axis=0)).all()


def test_only_two_item_trials_are_used():
    sessions = planted_sessions(1.0, np.random.default_rng(11), n_sessions=1)
    rates = sessions[0]
    single = rates.isel(trial=slice(0, 20)).assign(rate=lambda d: d["rate"] * 0 + 1e3)
    mixed = xr.concat([rates, single], "trial").assign_coords(n_items=("trial", np.r_[np.full(rates.sizes["trial"], 2), np.ones(20, int)]))
    xr.testing.assert_identical(window_generalization([mixed], SIGNAL, n_bootstrap=10, rng=0),
                                window_generalization(sessions, SIGNAL, n_bootstrap=10, rng=0))


def test_the_same_seed_gives_identical_output_and_another_seed_other_draws():
    sessions = planted_sessions(0.5, np.random.default_rng(12))
    first, again, other = (window_generalization(sessions, WINDOWS, n_bootstrap=20, rng=seed) for seed in (3, 3, 4))
    xr.testing.assert_identical(first, again)
    assert not np.array_equal(first["gi_ci"], other["gi_ci"])
    regions = {"a": sessions, "b": planted_sessions(0.0, np.random.default_rng(13))}
    contrasts = [quiet(region_contrast, regions, SIGNAL, n_permutations=10, n_subsamples=2, rng=5) for _ in range(2)]
    xr.testing.assert_identical(*contrasts)


def test_a_window_without_a_bin_is_refused_by_name():
    sessions = planted_sessions(1.0, np.random.default_rng(14), n_sessions=1)
    with pytest.raises(ValueError, match="window 'late'"):
        window_generalization(sessions, {"signal": [300, 500], "late": [520, 580]})
    with pytest.raises(ValueError, match="window 'late'"):
        region_contrast({"a": sessions, "b": sessions}, {"late": [520, 580]})


def test_the_contrast_finds_a_shared_against_an_orthogonal_region():
    rng = np.random.default_rng(15)
    # planted() lays out its trials the same way every time: the regions share their sessions' trials
    shared, orthogonal = planted_sessions(1.0, rng, n_sessions=3), planted_sessions(0.0, rng, n_sessions=3, n_neurons=30)
    # the orthogonal region (60 neurons) was not recorded in the last session; the shared one has 48
    result = quiet(region_contrast, {"shared": shared, "orthogonal": orthogonal[:2]}, WINDOWS, n_permutations=99, n_subsamples=5, rng=0)
    signal = result.sel(contrast="shared-orthogonal", window="signal")
    assert (signal["gi_difference"] > 0.6).all()
    assert (signal["p_value"] <= 0.02).all() and (signal["p_holm"] == signal["p_value"]).all()
    assert int(result["n_neurons"].sel(contrast="shared-orthogonal")) == 48
    assert result["gi_difference"].dims == ("contrast", "window", "direction")


def test_the_contrast_refuses_regions_recorded_on_other_trials():
    rng = np.random.default_rng(16)
    first, second = planted_sessions(1.0, rng, n_sessions=1), planted_sessions(1.0, rng, n_sessions=1, n_per_condition=31)
    with pytest.raises(ValueError, match="session 0: the trials of a and b differ"):
        region_contrast({"a": first, "b": second}, SIGNAL)


def test_the_contrast_false_positive_rate_is_nominal_on_regions_with_one_code():
    """100 null datasets (two regions of 12 independent neurons, cosine 0.5), 39 permutations and 3 subsamples each."""
    rng = np.random.default_rng(17)
    p_values = np.array([
        quiet(region_contrast, independent_regions({"a": 12, "b": 12}, 0.5, rng, 20), SIGNAL,
              n_permutations=39, n_subsamples=3, rng=rng)["p_value"].to_numpy()[0, 0]
        for _ in range(100)
    ])
    assert not np.isnan(p_values).any()
    rate = (p_values <= 0.05).mean(axis=0)
    assert (rate <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / len(p_values))).all(), rate
    assert (p_values.mean(axis=0) > 0.4).all()  # spread over (0, 1], not stuck at 1


def test_count_matching_keeps_a_larger_region_with_the_same_code_from_differing():
    """A region of 80 neurons decodes better than one of 10 with the same code, which alone raises its GI
    (the within-task accuracy saturates first); matched to 10 neurons the difference is gone (60 datasets)."""
    rng = np.random.default_rng(18)
    matched, unmatched, p_values = [], [], []
    for _ in range(60):
        regions = independent_regions({"large": 80, "small": 10}, 0.5, rng, 30)
        result = quiet(region_contrast, regions, SIGNAL, n_permutations=19, n_subsamples=4, rng=rng)
        matched.append(result["gi_difference"].to_numpy()[0, 0])
        p_values.append(result["p_value"].to_numpy()[0, 0])
        gi = {name: window_generalization(sessions, SIGNAL, n_bootstrap=1, n_resamples=4, rng=rng)["gi"].to_numpy()[0]
              for name, sessions in regions.items()}
        unmatched.append(gi["large"] - gi["small"])
    matched, unmatched = np.array(matched), np.array(unmatched)
    standard_error = lambda x: x.std(axis=0) / np.sqrt(len(x))  # noqa: E731
    assert (unmatched.mean(axis=0) > 4 * standard_error(unmatched)).all(), unmatched.mean(axis=0)
    assert (abs(matched.mean(axis=0)) < 2.5 * standard_error(matched)).all(), matched.mean(axis=0)
    assert ((np.array(p_values) <= 0.05).mean(axis=0) <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / len(p_values))).all()


def test_holm_adjusts_step_down_within_each_family():
    p = np.array([[0.01, 0.5], [0.04, 0.2], [0.03, 0.01]])
    np.testing.assert_allclose(holm(p, axis=0), [[0.03, 0.5], [0.06, 0.4], [0.06, 0.03]])


def test_the_planted_source_generalises_where_its_selection_is_shared():
    """tests/configs/tiny.yaml: region ``high`` (shared_selection 1) against ``low`` (0), 30 trials per condition."""
    config = load_config(TINY)
    config["sessions"]["n_trials_per_condition"] = 30
    for region in config["regions"].values():
        region["n_neurons"] = 40
    rates, _ = quiet(simulate_session, config, 0)
    regions = {name: [rates.isel(neuron=(rates["region"] == name).to_numpy())] for name in ("high", "low")}
    delay = {"delay": [100, 800]}
    gi = {name: window_generalization(sessions, delay, n_bootstrap=100, rng=0).sel(window="delay", direction="both")
          for name, sessions in regions.items()}
    assert float(gi["high"]["gi"]) > 0.8 and abs(float(gi["low"]["gi"])) < 0.3
    assert float(gi["high"]["gi_ci"].sel(ci_bound=0.025)) > float(gi["low"]["gi_ci"].sel(ci_bound=0.975))
    contrast = quiet(region_contrast, regions, delay, n_permutations=99, n_subsamples=5, rng=0)
    assert float(contrast["p_value"].sel(contrast="high-low", window="delay", direction="both")) < 0.05
