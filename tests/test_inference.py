"""The inference stage: prior, sampling, summaries, excluded draws, calibration, and the stage end to end."""

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
import xarray as xr
import yaml

from conftest import ROOT, SCHEMA, TINY, load_config
from wmattn.config import ConfigError, circuit_neurons
from wmattn.inference import draws, posterior, prior, stage
from wmattn.inference.sampling import read_sampling
from wmattn.inference.circuit import circuit_config
from wmattn.inference.summaries import axis_cosine, coding_axes, half_rise_time, summary_statistics, task_specificity
from wmattn.simulation.circuit import simulate_session

CONFIG = ROOT / "tests" / "configs" / "inference.yaml"


@pytest.fixture(scope="module")
def circuit():
    return load_config(CONFIG)


def test_prior_refuses_a_key_the_circuit_lacks_naming_it(circuit):
    with pytest.raises(ConfigError, match=r"inference.prior.regions.front.controller.overlap: the circuit has no"):
        prior.parameters({"regions.front.controller.overlap": {"low": 0, "high": 1}}, circuit)
    with pytest.raises(ConfigError, match=r"regions.back.feedback.memory_gain: a log scale needs a positive low"):
        prior.parameters({"regions.back.feedback.memory_gain": {"low": 0, "high": 1, "scale": "log"}}, circuit)


def test_log_prior_is_uniform_in_the_logarithm(circuit):
    chosen = prior.parameters({"regions.back.feedback.memory_gain": {"low": 0.01, "high": 1, "scale": "log"}}, circuit)
    values = prior.draw(chosen, 20000, np.random.default_rng(0))[:, 0]
    assert values.min() >= 0.01 and values.max() <= 1
    assert abs(np.mean(values < 0.1) - 0.5) < 0.02  # half the draws below the geometric midpoint


def test_a_config_without_a_circuit_to_fit_is_refused_naming_the_key(circuit, tmp_path):
    recordings = {**circuit, "source": {"nwb": ["a.nwb"]}}
    with pytest.raises(ConfigError, match="inference.circuit"):
        circuit_config(recordings, SCHEMA)
    # the pipeline on the planted tiny config: no job planned, the key named
    planned = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory",
                              str(tmp_path), "--configfile", str(TINY), "--dry-run", "inference"],
                             capture_output=True, text=True)
    assert planned.returncode != 0 and "config key inference.circuit: the rates are not from the circuit" in planned.stdout + planned.stderr


def test_half_rise_time_interpolates():
    times = np.array([0.0, 100, 200, 300])
    assert half_rise_time(times, np.array([0.5, 0.5, 0.9, 0.9])) == pytest.approx(150)


@pytest.fixture(scope="module")
def simulated(circuit):
    """The tiny circuit with shared and with separate controller pools."""
    return {overlap: simulate_session(prior.with_values(circuit, [prior.Parameter(
        "regions.front.controller.cue_overlap", 0, 1)], [overlap]), 0)[0] for overlap in (0.0, 1.0)}


def test_cue_window_gi_tells_shared_from_separate_pools(circuit, simulated):
    settings = circuit["inference"]["summaries"]
    gi = {overlap: summary_statistics([rates], settings, 3, 1.0, 0)["front.gi.cue"] for overlap, rates in simulated.items()}
    assert gi[1.0] > 0.7 and gi[0.0] < 0.3


def test_axis_cosine_and_task_specificity_tell_shared_from_separate_pools(circuit, simulated):
    # separate pools: each task's cue reaches its own neurons, so the two tasks' coding axes are orthogonal
    axes = {overlap: coding_axes([rates.isel(neuron=rates["region"].to_numpy() == "front")], [100, 300])
            for overlap, rates in simulated.items()}
    assert axis_cosine(*axes[1.0]) > 0.6 and abs(axis_cosine(*axes[0.0])) < 0.2
    assert task_specificity(*axes[0.0]) > 0.7 and task_specificity(*axes[1.0]) < 0.2


@pytest.mark.parametrize("recruited, expected", [(0.0, 1.0), (0.5, 1 / 3), (1.0, 0.0)])
def test_task_specificity_measures_how_far_the_other_task_recruits_the_most_selective_neurons(recruited, expected):
    # a tenth of the neurons select: half code the cued location in the retro task and `recruited` of it in the
    # pro task, half the reverse; the rest code it weakly and alike in both tasks, as memory neurons would
    rng = np.random.default_rng(0)
    retro, pro = (0.3 * np.ones(900) + 0.05 * rng.standard_normal(900) for _ in range(2))
    selecting = np.concatenate([np.full(50, 3.0), np.full(50, 3.0 * recruited)])
    retro, pro = np.concatenate([retro, selecting]), np.concatenate([pro, selecting[::-1]])
    assert task_specificity(retro, pro) == pytest.approx(expected, abs=0.02)


def test_sampling_refuses_a_region_without_counterpart_and_too_few_trials(circuit, simulated):
    rates = simulated[1.0]
    neurons = circuit_neurons(circuit)
    renamed = rates.assign_coords(region=("neuron", np.where(rates["region"] == "back", "V4", rates["region"])))
    with pytest.raises(ValueError, match=r"s0.nc: region V4 has no counterpart in the circuit"):
        read_sampling([renamed], ["s0.nc"], neurons, 3)
    with pytest.raises(ValueError, match=r"s0.nc: 6 two-item retro trials cued upper; the decoding's 7 folds"):
        read_sampling([rates], ["s0.nc"], neurons, 7)
    [session] = read_sampling([rates], ["s0.nc"], neurons, 3)
    assert session["trials"]["retro|upper|2"] == 6 and session["neurons"] == {"front": neurons["front"],
                                                                               "back": neurons["back"]}


def test_a_failing_draw_is_excluded_and_reported(monkeypatch, circuit):
    chosen = prior.parameters(circuit["inference"]["prior"], circuit)

    def fake(circuit, value, chosen, sampling, summaries, decoding, seed, behaviour):
        if value[0] > 0.5:
            raise RuntimeError("the network diverged")
        return __import__("pandas").Series({"a": 1.0, "b": np.nan if value[0] < 0.1 else 2.0})

    monkeypatch.setattr(draws, "simulate_summaries", fake)
    values = np.array([[0.9, 0.05], [0.3, 0.05], [0.05, 0.05]])
    chunk = draws.simulate_chunk(circuit, values, chosen, [], ["a", "b"], {}, circuit["decoding"], 1, "train/0")
    assert chunk["excluded"].to_numpy().tolist() == [True, False, True]
    assert "the network diverged" in str(chunk["error"][0].item()) and "not finite: b" in str(chunk["error"][2].item())
    assert np.isfinite(chunk["x"][1]).all() and np.isnan(chunk["x"][0]).all()


def gaussian(theta, rng, shift=0.0):
    """A simulator whose posterior is known: x = theta + noise (+ a shift the estimator never saw)."""
    return theta + 0.1 * rng.standard_normal(theta.shape) + shift


def test_calibration_passes_a_calibrated_posterior_and_fails_a_biased_one():
    chosen = [prior.Parameter("a", 0.0, 1.0), prior.Parameter("b", 0.1, 1.0, "log")]
    rng = np.random.default_rng(0)
    theta = prior.draw(chosen, 2000, rng)
    estimators, _ = posterior.train(chosen, theta, gaussian(prior.to_fit(chosen, theta), rng), "maf", 0, 200, 1)
    fitted = posterior.DirectPosterior(estimators[0], posterior.box_prior(chosen))
    held_out = prior.draw(chosen, 200, rng)
    x = gaussian(prior.to_fit(chosen, held_out), rng)
    good = posterior.calibration(fitted, chosen, held_out, x, 100, 0)
    assert (good["ks_p"] > 0.01).all()
    level = {round(float(v), 2): i for i, v in enumerate(posterior.LEVELS)}
    assert abs(good["coverage"][level[0.9]] - 0.9) < 0.08 and abs(good["coverage"][level[0.5]] - 0.5) < 0.1
    biased = posterior.calibration(fitted, chosen, held_out, gaussian(prior.to_fit(chosen, held_out), rng, 0.15), 100, 0)
    assert (biased["ks_p"] < 1e-3).all() and biased["coverage"][level[0.9]] < 0.6


def test_fit_leaves_out_a_statistic_saturated_in_the_training_draws_and_names_it(circuit, tmp_path):
    # an accuracy at ceiling in every draw (LPFC's within-task cue accuracy does this): its spread is zero, and a
    # recording with 0.9 there would be 1e13 standard deviations out; left in, the posterior is nonsense
    inference = {**circuit["inference"], "density_estimator": "maf", "n_estimators": 1, "max_epochs": 100,
                 "n_samples": 500}
    chosen = prior.parameters(inference["prior"], circuit)
    rng = np.random.default_rng(1)
    theta = prior.draw(chosen, 800, rng)
    x = np.column_stack([gaussian(prior.to_fit(chosen, theta), rng), np.ones(len(theta))])
    statistic = ["a", "b", "ceiling"]
    xr.Dataset({"theta": (("draw", "parameter"), theta), "x": (("draw", "statistic"), x),
                "excluded": ("draw", np.zeros(len(theta), bool))},
               coords={"parameter": [p.name for p in chosen], "statistic": statistic}).to_netcdf(tmp_path / "chunk0.nc")
    truth = np.array([[0.3, 0.05]])
    observed = xr.Dataset({"x_o": ("statistic", np.append(prior.to_fit(chosen, truth)[0], 0.9))},
                          coords={"statistic": statistic})
    samples = stage.fit([tmp_path / "chunk0.nc"], observed, circuit, inference, 0, tmp_path / "posterior.pt")
    assert json.loads(samples.attrs["dropped_statistics"]) == ["ceiling"]
    assert posterior.load(tmp_path / "posterior.pt")[2] == ["a", "b"]
    median = samples["quantile_value"].sel(quantile=0.5).to_numpy()
    assert abs(median[0] - 0.3) < 0.15 and abs(np.log(median[1] / 0.05)) < 0.3  # x is each fit-space value +- 0.1


def run(workdir, *args):
    result = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory",
                             str(workdir), "--configfile", str(workdir / "inference.yaml"), "--cores", "2", *args],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_stage_end_to_end_and_more_draws_rerun_only_new_chunks(tmp_path):
    shutil.copy(CONFIG, tmp_path / "inference.yaml")
    run(tmp_path, "inference")
    results = tmp_path / "results" / "inference"
    saved = torch.load(results / "posterior.pt", weights_only=True)
    assert saved["parameters"] == ["regions.back.feedback.memory_gain", "regions.front.controller.cue_overlap"]
    loaded, chosen, statistics = posterior.load(results / "posterior.pt")
    samples = xr.load_dataset(results / "samples.nc")
    assert samples.sizes == {"sample": 20, "parameter": 2, "quantile": 5}
    assert (samples["theta"] >= samples["prior_low"]).all() and (samples["theta"] <= samples["prior_high"]).all()
    calibration = xr.load_dataset(results / "calibration.nc")
    assert calibration.sizes["draw"] == 6 and calibration["ks_p"].sizes == {"parameter": 2}
    assert statistics == list(xr.load_dataset(results / "observed.nc")["statistic"].to_numpy())
    for name in ("posterior", "calibration", "predictive"):
        assert (tmp_path / "results" / "figures" / f"inference_{name}.png").stat().st_size > 0
    # one chunk more of training draws: only it is simulated, then everything after the simulations
    config = yaml.safe_load((tmp_path / "inference.yaml").read_text())
    config["inference"]["n_train"] = 18
    (tmp_path / "inference.yaml").write_text(yaml.safe_dump(config, sort_keys=False))  # regions keep their order
    planned = re.findall(r"output: results/inference/simulations/(\S+)", run(tmp_path, "inference", "--dry-run"))
    # the predictive draws are the new posterior's samples
    assert sorted(planned) == ["predictive/chunk0.nc", "train/chunk2.nc"]
