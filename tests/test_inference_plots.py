"""The inference stage's figures on small datasets of its files' formats: they run quickly and show every panel."""

import time

import numpy as np
import pytest
import xarray as xr

from wmattn.figures import inference as plots_inference

PARAMETERS = {  # name: (low, high, scale), the schema's default prior
    "regions.LPFC.controller.cue_overlap": (0.0, 1.0, "linear"),
    "regions.FEF.feedback.memory_gain": (0.01, 0.2, "log"),
    "regions.LPFC.memory.recurrent_mV": (1.8, 3.0, "linear"),
}
QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95]
N_SAMPLES = 99


def statistics(regions=("LPFC", "FEF")):
    names = []
    for region in regions:
        for window in ("cue", "delay"):
            names += [f"{region}.within.{task}.{window}" for task in ("retro", "pro")]
            names += [f"{region}.transfer.{direction}.{window}" for direction in ("retro_to_pro", "pro_to_retro")]
            names += [f"{region}.gi.{window}", f"{region}.axis_cosine.{window}", f"{region}.log_specificity.{window}"]
        names += [f"{region}.latency.{task}" for task in ("retro", "pro")]
        names += [f"{region}.colour.{status}" for status in ("cued", "uncued")]
    return names + [f"behaviour.{kind}.{task}" for kind in ("error", "swap") for task in ("retro", "pro")]


def typical(names, rng, shape=()):
    """Values of each statistic on its own scale: accuracies, GI, latency (ms), PEV (%), error (rad), swap rate."""
    centre = {"within": 0.8, "transfer": 0.65, "gi": 0.5, "axis_cosine": 0.6, "log_specificity": -1.0, "latency": 150.0,
              "colour": 2.0, "error": 0.5, "swap": 0.1}
    spread = {"within": 0.05, "transfer": 0.05, "gi": 0.2, "axis_cosine": 0.15, "log_specificity": 0.3, "latency": 40.0,
              "colour": 1.0, "error": 0.1, "swap": 0.03}
    kinds = [name.split(".")[1] for name in names]
    return (np.array([centre[kind] for kind in kinds])
            + np.array([spread[kind] for kind in kinds]) * rng.standard_normal((*shape, len(names))))


def samples_dataset(rng, n=400):
    """Samples about the middle of each prior's range in fit space (log-normal on a log scale)."""
    low, high, scale = (np.array(column) for column in zip(*PARAMETERS.values()))
    fit_low, fit_high = (np.array([np.log(v) if s == "log" else v for v, s in zip(bound, scale)]) for bound in (low, high))
    fit = np.clip(fit_low + (fit_high - fit_low) * (0.5 + 0.12 * rng.standard_normal((n, len(low)))), fit_low, fit_high)
    theta = np.where(scale == "log", np.exp(fit), fit)
    return xr.Dataset(
        {"theta": (("sample", "parameter"), theta),
         "quantile_value": (("quantile", "parameter"), np.quantile(theta, QUANTILES, axis=0)),
         "prior_low": ("parameter", low), "prior_high": ("parameter", high), "scale": ("parameter", scale)},
        coords={"parameter": list(PARAMETERS), "quantile": QUANTILES},
        attrs={"n_train": 950, "n_excluded": 50, "epochs": 120, "density_estimator": "maf",
               "dropped_statistics": '["LPFC.within.pro.cue"]', "observed_outside_training": "[]"},
    )


def calibration_dataset(rng, n_draws=200):
    level = np.linspace(0, 1, 21)
    return xr.Dataset(
        {"rank": (("draw", "parameter"), rng.integers(0, N_SAMPLES + 1, (n_draws, len(PARAMETERS)))),
         "theta": (("draw", "parameter"), rng.uniform(0, 1, (n_draws, len(PARAMETERS)))),
         "ks_p": ("parameter", rng.uniform(0, 1, len(PARAMETERS))),
         "coverage": ("level", np.clip(level + 0.03 * np.sin(np.pi * level), 0, 1)),
         "marginal_coverage": (("level", "parameter"),
                               np.clip(level[:, None] - 0.05 * np.sin(np.pi * level)[:, None] * np.arange(3), 0, 1))},
        coords={"parameter": list(PARAMETERS), "level": level},
        attrs={"n_samples": N_SAMPLES, "n_test": n_draws, "n_excluded": 3},
    )


def observed_dataset(names, rng):
    return xr.Dataset({"x_o": ("statistic", typical(names, rng))}, coords={"statistic": names},
                      attrs={"sampling": "[]", "n_trials": 480})


def predictive_chunk(names, rng, n_draws, excluded):
    x = typical(names, rng, (n_draws,))
    x[excluded] = np.nan
    return xr.Dataset(
        {"theta": (("draw", "parameter"), rng.uniform(0, 1, (n_draws, len(PARAMETERS)))),
         "x": (("draw", "statistic"), x), "excluded": ("draw", excluded),
         "error": ("draw", np.where(excluded, "RuntimeError: diverged", ""))},
        coords={"parameter": list(PARAMETERS), "statistic": names},
    )


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_the_posterior_is_a_corner_plot_with_prior_bounds_and_credible_intervals(rng):
    samples = samples_dataset(rng)
    started = time.perf_counter()
    fig = plots_inference.posterior(samples, observed_dataset(statistics(), rng))
    assert time.perf_counter() - started < 3
    assert len(fig.axes) == 6  # the diagonal and the lower triangle of 3 parameters
    diagonal, joint, gain = fig.axes[0], fig.axes[3], fig.axes[4]  # (0, 0), (2, 0) and (2, 1) in row order
    median, low, high = (float(samples["quantile_value"].sel(quantile=q, parameter="regions.LPFC.controller.cue_overlap"))
                         for q in (0.5, 0.05, 0.95))
    assert diagonal.get_title() == f"controller.cue_overlap\n{median:.3g} [{low:.3g}, {high:.3g}]"
    assert diagonal.get_xlim() == (0.0, 1.0) and joint.get_ylim() == pytest.approx((1.8, 3.0))
    assert gain.get_xscale() == "log" and gain.get_xlim() == pytest.approx((0.01, 0.2))
    assert fig.axes[5].get_xlabel() == "memory.recurrent_mV"
    assert "950 simulated prior draws (50 excluded)" in fig.get_suptitle()


def test_parameter_labels_keep_the_region_where_the_last_two_parts_are_shared():
    names = ["regions.LPFC.memory.recurrent_mV", "regions.FEF.memory.recurrent_mV", "regions.FEF.feedback.memory_gain"]
    assert [plots_inference._label(name, names) for name in names] == [
        "LPFC.memory.recurrent_mV", "FEF.memory.recurrent_mV", "feedback.memory_gain"]


def test_calibration_shows_a_rank_histogram_per_parameter_and_the_coverage(rng):
    calibration = calibration_dataset(rng)
    started = time.perf_counter()
    fig = plots_inference.calibration(calibration)
    assert time.perf_counter() - started < 3
    assert len(fig.axes) == 4
    p = float(calibration["ks_p"].sel(parameter="regions.FEF.feedback.memory_gain"))
    assert fig.axes[1].get_title() == f"feedback.memory_gain\nKS p = {p:.2g}"
    assert fig.axes[0].get_xlim() == (0, N_SAMPLES + 1)
    legend = fig.axes[3].get_legend()
    assert legend.get_title().get_text() == "coverage at 50 % and 90 %"
    assert legend.get_texts()[-1].get_text() == "joint (HPD): {:.2f}, {:.2f}".format(
        *(float(calibration["coverage"].sel(level=level, method="nearest")) for level in (0.5, 0.9)))


def test_the_predictive_check_has_a_panel_per_kind_and_leaves_out_excluded_draws(rng):
    names = statistics()
    chunks = [predictive_chunk(names, rng, 10, np.arange(10) == 3), predictive_chunk(names, rng, 5, np.zeros(5, bool))]
    started = time.perf_counter()
    fig = plots_inference.predictive(observed_dataset(names, rng), xr.concat(chunks, dim="draw"))
    assert time.perf_counter() - started < 3
    titles = [ax.get_title() for ax in fig.axes]
    assert [title.split("\n")[0] for title in titles] == [
        "decoding accuracy of the cued location (task, epoch window)", "generalisation index (epoch window)",
        "retro vs pro coding axis (epoch window)", "task specificity, most selective neurons (epoch window)",
        "selection onset",
        "colour information after the retro cue", "report error", "swap rate"]
    accuracy = fig.axes[0]
    assert accuracy.get_ylim() == (0, 1) and len(accuracy.get_xticklabels()) == 16
    assert accuracy.get_xticklabels()[4].get_text() == "LPFC within retro, delay"
    assert accuracy.get_xticklabels()[2].get_text() == "LPFC transfer retro\N{RIGHTWARDS ARROW}pro, cue"
    assert "14 simulations of posterior samples (1 excluded)" in fig.get_suptitle()
    dots = accuracy.collections[0]  # the predictive simulations: only the 14 kept draws
    assert len(dots.get_offsets()) == 14 * 16 and np.isfinite(dots.get_offsets()).all()


def test_the_predictive_check_refuses_when_every_draw_is_excluded(rng):
    names = statistics(["LPFC"])
    with pytest.raises(ValueError, match="all 4 draws excluded"):
        plots_inference.predictive(observed_dataset(names, rng), predictive_chunk(names, rng, 4, np.ones(4, bool)))
