"""Behaviour: the mixture model recovers what is planted in simulated reports, and its intervals cover it."""

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.integrate import quad
from scipy.special import i0e, i1e

from wmattn.analysis.behaviour import (
    CONDITIONS,
    a1_inverse,
    behaviour_summary,
    circular_error,
    fit_mixture,
    trial_table,
    von_mises_density,
)
from wmattn.figures.behaviour import behaviour
from wmattn.io import open_dataset, write_dataset

PLANTED = {"kappa": 8.0, "p_target": 0.7, "p_swap": 0.2, "p_guess": 0.1}


def reports(rng, n, kappa, p_target, p_swap):
    """Reports of ``n`` two-item trials drawn from the mixture: (report, target, nontarget), radians."""
    target, nontarget = rng.uniform(0, 2 * np.pi, (2, n))
    component = rng.choice(3, n, p=[p_target, p_swap, 1 - p_target - p_swap])
    remembered = np.where(component == 0, target, nontarget) + rng.vonmises(0, kappa, n)
    return np.mod(np.where(component == 2, rng.uniform(0, 2 * np.pi, n), remembered), 2 * np.pi), target, nontarget


def trials(rng, n, kappa=8.0, p_target=0.7, p_swap=0.2, task="retro", n_items=2):
    """A source's trials table (the columns of a rates file's trial coordinates) of one task and number of items."""
    report, target, nontarget = reports(rng, n, kappa, p_target, p_swap if n_items == 2 else 0.0)
    cued = rng.choice(["upper", "lower"], n)
    absent = np.nan if n_items == 1 else nontarget
    return pd.DataFrame({
        "task": task, "cued": cued,
        "color_upper": np.where(cued == "upper", target, absent), "color_lower": np.where(cued == "lower", target, absent),
        "n_items": n_items, "report": report,
    })


def mean_abs_error(kappa, p_target):
    """The mixture's mean absolute error to the target: a swap's or a guess's error is uniform (mean pi/2)."""
    von_mises = quad(lambda e: abs(e) * von_mises_density(e, kappa), -np.pi, np.pi)[0]
    return p_target * von_mises + (1 - p_target) * np.pi / 2


def test_a1_inverse_inverts_the_mean_cosine():
    kappa = np.array([0.0, 0.01, 0.5, 2.0, 8.0, 50.0, 1000.0])
    np.testing.assert_allclose(a1_inverse(i1e(kappa) / i0e(kappa)), kappa, rtol=1e-9)


def test_planted_mixture_parameters_are_recovered():
    report, target, nontarget = reports(np.random.default_rng(0), 2000, PLANTED["kappa"], PLANTED["p_target"], PLANTED["p_swap"])
    fit = fit_mixture(report, target, nontarget)
    print(fit)
    assert abs(fit.kappa - PLANTED["kappa"]) < 1.0  # the bootstrap sd is ~0.35 at 2000 trials
    for name in ("p_target", "p_swap", "p_guess"):
        assert abs(getattr(fit, name) - PLANTED[name]) < 0.04, name  # sd ~0.012
    assert fit.p_target + fit.p_swap + fit.p_guess == pytest.approx(1)


def test_without_swaps_the_swap_weight_is_near_zero_and_its_interval_reaches_zero():
    summary = behaviour_summary({"circuit": trials(np.random.default_rng(1), 1000, p_target=0.8, p_swap=0.0)},
                                n_bootstrap=200, rng=1).sel(source="circuit", condition="retro")
    print(float(summary["p_swap"]), summary["p_swap_ci"].values)
    assert summary["p_swap"] < 0.02
    assert summary["p_swap_ci"][0] < 0.005
    assert abs(summary["p_target"] - 0.8) < 0.05


def test_the_bootstrap_intervals_contain_the_planted_values_in_most_datasets():
    rng = np.random.default_rng(2)
    truth = PLANTED | {"mean_abs_error": mean_abs_error(PLANTED["kappa"], PLANTED["p_target"])}
    n_datasets = 50
    covered = {name: 0 for name in truth}
    for k in range(n_datasets):
        summary = behaviour_summary({"circuit": trials(rng, 300)}, n_bootstrap=200, rng=k)
        summary = summary.sel(source="circuit", condition="retro")
        for name, value in truth.items():
            low, high = summary[f"{name}_ci"].to_numpy()
            covered[name] += low <= value <= high
    coverage = {name: count / n_datasets for name, count in covered.items()}
    # measured: 0.90-0.96; over 200 datasets 0.92-0.94 (percentile intervals of 200 resamples cover a little under 95 %)
    print(coverage)
    # nominal 0.95 less three standard errors of a coverage over 50 datasets
    assert min(coverage.values()) >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / n_datasets)


def test_single_item_trials_are_fitted_with_two_components():
    rng = np.random.default_rng(3)
    table = pd.concat([trials(rng, 600, task=task, n_items=1, p_target=0.75) for task in ("retro", "pro")], ignore_index=True)
    summary = behaviour_summary({"circuit": table}, n_bootstrap=100, rng=0).sel(source="circuit")
    single = summary.sel(condition="single_item")
    assert int(single["n_trials"]) == 1200
    assert float(single["p_swap"]) == 0 and (single["p_swap_ci"] == 0).all()
    assert float(single["p_target"] + single["p_guess"]) == pytest.approx(1)
    assert abs(single["p_target"] - 0.75) < 0.05 and abs(single["kappa"] - 8) < 1.5
    assert single["nontarget_error_density"].isnull().all()
    # no two-item trials: the other conditions are empty
    assert (summary["n_trials"].sel(condition=["retro", "pro"]) == 0).all()
    assert summary["p_target"].sel(condition=["retro", "pro"]).isnull().all()
    report, target, _ = reports(rng, 500, 8.0, 0.5, 0.4)
    assert fit_mixture(report, target).p_swap == 0  # swaps in the data, but no non-target to swap with


def test_trials_without_a_report_are_left_out_and_counted():
    rng = np.random.default_rng(4)
    table = trials(rng, 400)
    table.loc[:49, "report"] = np.nan
    summary = behaviour_summary({"circuit": table}, n_bootstrap=50, rng=0).sel(source="circuit", condition="retro")
    assert int(summary["n_trials"]) == 350 and int(summary["n_no_report"]) == 50
    reported = table.iloc[50:]
    target = np.where(reported["cued"] == "upper", reported["color_upper"], reported["color_lower"])
    assert float(summary["mean_abs_error"]) == pytest.approx(np.abs(circular_error(reported["report"], target)).mean())
    low, high = summary["mean_abs_error_ci"].to_numpy()
    assert low < float(summary["mean_abs_error"]) < high


def test_conditions_split_trials_by_task_and_items_and_a_missing_n_items_means_two():
    rng = np.random.default_rng(5)
    table = pd.concat([trials(rng, 100, task="retro"), trials(rng, 80, task="pro"), trials(rng, 60, task="pro", n_items=1)],
                      ignore_index=True)
    summary = behaviour_summary({"circuit": table, "model": table.iloc[:180].drop(columns="n_items")}, n_bootstrap=20, rng=0)
    assert list(summary["condition"].values) == list(CONDITIONS)
    assert summary["n_trials"].sel(source="circuit").values.tolist() == [100, 80, 60]
    assert summary["n_trials"].sel(source="model").values.tolist() == [100, 80, 0]
    # the histograms and the fitted mixture are densities over the error
    width = float(summary["error_bin"][1] - summary["error_bin"][0])
    assert float(summary["target_error_density"].sel(source="circuit", condition="retro").sum()) * width == pytest.approx(1)
    model = summary["target_error_model"].sel(source="circuit", condition="pro")
    assert np.trapezoid(model, summary["error_grid"]) == pytest.approx(1, abs=1e-3)


def test_the_same_seed_gives_identical_output_and_sources_have_their_own_streams():
    rng = np.random.default_rng(6)
    circuit, model = trials(rng, 200), trials(rng, 200, kappa=20.0)
    first = behaviour_summary({"circuit": circuit, "model": model}, n_bootstrap=50, rng=7)
    xr.testing.assert_identical(first, behaviour_summary({"circuit": circuit, "model": model}, n_bootstrap=50, rng=7))
    other_seed = behaviour_summary({"circuit": circuit, "model": model}, n_bootstrap=50, rng=8)
    assert not first["kappa_ci"].equals(other_seed["kappa_ci"])
    # a source's intervals do not depend on which other sources are summarised
    alone = behaviour_summary({"model": model}, n_bootstrap=50, rng=7)
    xr.testing.assert_identical(alone["kappa_ci"].sel(source="model"), first["kappa_ci"].sel(source="model"))


@pytest.mark.parametrize("arguments, message", [
    (([0.1, 0.2, 0.3], [0.1, 0.2]), "target has 2 trials but report has 3"),
    (([0.1, 0.2], [0.1, 0.2], [0.3]), "nontarget has 1 trials but report has 2"),
    (([0.1, np.nan], [0.1, 0.2]), "report must be finite but holds 1 NaN"),
    (([0.1, 0.2], [0.1, np.inf]), "target must be finite"),
    (([[0.1, 0.2]], [0.1, 0.2]), "report must be one value per trial"),
    (([], []), "report is empty"),
])
def test_fit_mixture_refuses_inputs_naming_what_is_wrong(arguments, message):
    with pytest.raises(ValueError, match=message):
        fit_mixture(*arguments)


def test_fit_mixture_refuses_malformed_counts_and_starts():
    report, target, nontarget = reports(np.random.default_rng(11), 10, 8.0, 0.7, 0.2)
    with pytest.raises(ValueError, match="counts must be shaped .n_fits, n_trials. = .n, 10., got .10,."):
        fit_mixture(report, target, nontarget, counts=np.ones(10))
    with pytest.raises(ValueError, match="start.p_swap must be 0 without non-targets"):
        fit_mixture(report, target, start=(8.0, 0.7, 0.2, 0.1))


def test_the_summary_refuses_trials_naming_the_source_and_the_column():
    table = trials(np.random.default_rng(7), 20)
    with pytest.raises(ValueError, match="source model: trials lack the column.s. report"):
        behaviour_summary({"model": table.drop(columns="report")}, n_bootstrap=10)
    with pytest.raises(ValueError, match="source circuit: column n_items holds \\[3\\]"):
        behaviour_summary({"circuit": table.assign(n_items=3)}, n_bootstrap=10)
    broken = table.copy()
    broken.loc[4, ["color_upper", "color_lower"]] = np.nan
    with pytest.raises(ValueError, match="source circuit: the target colour of 1 retro trial.s. is not finite .the first: trial 4"):
        behaviour_summary({"circuit": broken}, n_bootstrap=10)


def test_a_summary_round_trips_through_its_contract_even_without_sources(tmp_path):
    summary = behaviour_summary({"circuit": trials(np.random.default_rng(8), 100)}, n_bootstrap=20, rng=0)
    for name, dataset in {"one": summary, "none": behaviour_summary({}, n_bootstrap=20, rng=0)}.items():
        write_dataset(dataset, tmp_path / f"{name}.nc", {"seed": 0})
        xr.testing.assert_allclose(open_dataset(tmp_path / f"{name}.nc", "behaviour").drop_attrs(), dataset.drop_attrs())


def test_trial_table_reads_the_per_trial_coordinates():
    table = trials(np.random.default_rng(9), 10)
    rates = xr.Dataset({"rate": (("trial", "neuron"), np.zeros((10, 2)))},
                       coords={name: ("trial", table[name].to_numpy()) for name in table.columns if name != "n_items"})
    pd.testing.assert_frame_equal(trial_table(rates), table.drop(columns="n_items"), check_dtype=False)


def test_the_figure_draws_every_source_and_condition_with_its_fit():
    rng = np.random.default_rng(10)
    table = pd.concat([trials(rng, 200, task="retro"), trials(rng, 200, task="pro"), trials(rng, 100, n_items=1)],
                      ignore_index=True)
    summary = behaviour_summary({"circuit": table, "model": table.iloc[:400]}, n_bootstrap=20, rng=0)
    fig = behaviour(summary)
    assert isinstance(fig, matplotlib.figure.Figure)
    axes = np.array(fig.axes).reshape(2, 5)
    assert [ax.get_title() for ax in axes[0, :3]] == ["retro (n = 200)", "pro (n = 200)", "single item (n = 100)"]
    assert axes[1, 2].get_title() == "single item (n = 0)"
    assert [text.get_text() for text in axes[0, 3].get_xticklabels()] == ["target", "swap", "guess"]
    # the fitted density is drawn over its histogram, both as % of trials per bin
    width = float(summary["error_bin"][1] - summary["error_bin"][0])
    line = axes[0, 0].get_lines()[0]
    fitted = summary["target_error_model"].sel(source="circuit", condition="retro")
    np.testing.assert_allclose(line.get_ydata(), 100 * width * fitted)
    assert isinstance(behaviour(behaviour_summary({}, n_bootstrap=10)), matplotlib.figure.Figure)
