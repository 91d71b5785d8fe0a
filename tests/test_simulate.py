import copy

import numpy as np
import pytest
import xarray as xr
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import ROOT, SCHEMA, TINY, load_config
from wmattn.config import validate_config
from wmattn.analysis.location import cross_task_decoding
from wmattn.io import open_dataset, write_dataset
from wmattn.rates import bin_spikes, region_spikes
from wmattn.simulation import simulate_session
from wmattn.simulation.planted import (copy_inputs, draw_neurons, draw_synapses, run_session, selection_signal,
                                       simulation_order)
from wmattn.simulation.sessions import session_trials
from wmattn.task import aligned_schedule


@pytest.fixture(scope="module")
def simulated(config):
    """Both sessions of the two-session tiny config: {session: (rates, spikes)}."""
    return {k: simulate_session(config, k) for k in range(config["sessions"]["n_sessions"])}


@pytest.fixture(scope="module")
def rates(simulated):
    return simulated[0][0]


def of_region(data, region):
    return data.isel(neuron=(data["region"] == region).values)


def cosine(a, b):
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)


def test_the_same_config_and_seed_give_identical_files(config, rates, tmp_path):
    write_dataset(rates, tmp_path / "first.nc", config)
    write_dataset(simulate_session(config, 0)[0], tmp_path / "second.nc", config)
    first, second = (open_dataset(tmp_path / name, "rates") for name in ("first.nc", "second.nc"))
    xr.testing.assert_identical(first, second)
    assert first.attrs["seed"] == config["seed"]


def test_another_seed_gives_other_spikes(config, rates):
    other = copy.deepcopy(config)
    other["seed"] += 1
    assert not np.array_equal(simulate_session(other, 0)[0]["rate"], rates["rate"])


def test_adding_a_region_leaves_the_others_unchanged(config, rates):
    more = copy.deepcopy(config)
    more["regions"] = {"added": copy.deepcopy(config["regions"]["low"]), **config["regions"]}
    added = simulate_session(more, 0)[0]
    for region in config["regions"]:
        xr.testing.assert_identical(of_region(added, region).drop_vars("neuron"), of_region(rates, region).drop_vars("neuron"))


def test_regions_in_parallel_processes_give_the_same_rates(config, rates):
    xr.testing.assert_identical(simulate_session(config, 0, processes=2)[0], rates)


def test_a_session_file_holds_every_region_on_its_own_trials(config, simulated):
    per_session = config["sessions"]["n_trials_per_condition"] * 4
    for k, (rates, _) in simulated.items():
        assert rates.sizes["trial"] == per_session and (rates["session"] == k).all()
        assert list(dict.fromkeys(rates["region"].values)) == list(config["regions"])
        assert rates.sizes["neuron"] == sum(region["n_neurons"] for region in config["regions"].values())
        assert np.isfinite(rates["rate"]).all()
    # the sessions share one time axis, and differ in trials and neurons
    first, second = (simulated[k][0] for k in (0, 1))
    np.testing.assert_array_equal(first["time"], second["time"])
    assert not np.array_equal(first["color_upper"], second["color_upper"])
    assert not np.array_equal(first["preferred_color"], second["preferred_color"])


def test_the_spikes_binned_again_are_the_rates(config, simulated, tmp_path):
    rates, spikes = simulated[1]
    write_dataset(spikes, tmp_path / "spikes.nc", config)
    spikes = open_dataset(tmp_path / "spikes.nc", "spikes")
    assert (spikes["trial"] == rates["trial"]).all() and (spikes["neuron"] == rates["neuron"]).all()
    time, bin_ms = rates["time"].to_numpy(), config["rates"]["bin_ms"]
    rebinned, _ = bin_spikes(
        spikes["spike_trial"].to_numpy(), spikes["spike_neuron"].to_numpy(), spikes["spike_time"].to_numpy(),
        shape=(rates.sizes["trial"], rates.sizes["neuron"]), start=time[0] - bin_ms / 2, stop=time[-1] + bin_ms / 2,
        bin_ms=bin_ms, step_ms=config["rates"]["step_ms"],
    )
    np.testing.assert_array_equal(rebinned, rates["rate"])
    assert (rates["rate"] > 0).any()


def test_a_regions_spikes_are_its_neurons_and_only_theirs(simulated):
    rates, spikes = simulated[0]
    high = region_spikes(spikes, "high")
    assert (high["region"] == "high").all() and high.sizes["neuron"] == (rates["region"] == "high").sum()
    own = spikes["spike_neuron"].isin(high["neuron"])
    assert high.sizes["spike"] == int(own.sum()) < spikes.sizes["spike"]
    assert high["spike_neuron"].isin(high["neuron"]).all()


def test_a_top_down_source_given_gives_what_simulating_it_gives(config):
    driven = copy.deepcopy(config)
    driven["regions"]["low"]["top_down"] = {"source": "high", "weight_mV": 1.0}
    whole, _ = simulate_session(driven, 0)
    # a sweep of "low" simulates it alone, with "high"'s rates of the main results
    alone, _ = simulate_session(driven, 0, regions=["low"], sources={"high": of_region(whole, "high")})
    assert set(alone["region"].values) == {"low"}
    np.testing.assert_array_equal(alone["rate"], of_region(whole, "low")["rate"])
    undriven, _ = simulate_session(config, 0, regions=["low"])
    assert not np.array_equal(undriven["rate"], alone["rate"])


def test_regions_are_simulated_after_their_top_down_source():
    regions = {"a": {"top_down": {"source": "b"}}, "b": {}, "c": {"top_down": {"source": "a"}}, "d": {}}
    assert simulation_order(regions, list(regions)) == [["b", "d"], ["a"], ["c"]]
    assert simulation_order(regions, ["a", "c"]) == [["a"], ["c"]]  # b is given


def test_rates_follow_the_contract(config, rates):
    assert rates["rate"].dims == ("trial", "neuron", "time")
    assert rates["rate"].dtype == np.float32
    assert rates.sizes["neuron"] == sum(region["n_neurons"] for region in config["regions"].values())
    assert np.all(rates["onset_cue"] == 0)
    pro = (rates["task"] == "pro").values
    assert np.all(rates["onset_samples"].values[pro] > 0)
    assert np.all(rates["onset_samples"].values[~pro] < 0)


def test_an_item_not_shown_drives_no_neuron_and_every_input_is_finite(config):
    """Single-item trials (the uncued item's colour NaN): the planted network's inputs, without simulating it."""
    config = copy.deepcopy(config)
    config["task"]["single_item_fraction"] = 0.2
    trials = session_trials(config)
    onsets = aligned_schedule(trials)[2]
    single = (trials["n_items"] == 1).to_numpy()
    assert single.sum() == 12  # 0.2 of both sessions' 60 trials
    region = config["regions"]["high"]
    neurons = draw_neurons(20, region, np.random.default_rng(0))
    assert all(np.isfinite(values).all() for values in copy_inputs(trials, onsets, neurons, region).values())

    def colour_drive(preference):
        return copy_inputs(trials, onsets, dict(neurons, location_preference=np.full(20, preference)), region)["item_drive"]

    upper_cued = single & (trials["cued"] == "upper").to_numpy()
    lower_cued = single & (trials["cued"] == "lower").to_numpy()
    assert (colour_drive("upper")[lower_cued] == 0).all() and (colour_drive("upper")[upper_cued] > 0).all()
    np.testing.assert_array_equal(colour_drive("both")[upper_cued], colour_drive("upper")[upper_cued])


@pytest.mark.parametrize("shared_selection", [0.0, 0.3, 0.9, 1.0])
def test_shared_selection_is_the_cosine_of_the_retro_and_pro_axes(config, shared_selection):
    region = dict(config["regions"]["high"], shared_selection=shared_selection)
    neurons = draw_neurons(50, region, np.random.default_rng(0))
    retro, pro = neurons["selection_weight_retro"], neurons["selection_weight_pro"]
    assert cosine(retro, pro) == pytest.approx(shared_selection, abs=1e-9)
    assert np.mean(retro**2) == pytest.approx(1.0)


def test_the_rates_file_carries_each_neurons_ground_truth(rates):
    high = of_region(rates, "high")  # shared_selection 1
    assert cosine(high["selection_weight_retro"].values, high["selection_weight_pro"].values) == pytest.approx(1.0)
    assert set(rates["location_preference"].values) <= {"upper", "lower", "both"}
    assert set(rates["cell_type"].values) == {"E", "I"}
    for name in ("preferred_color", "response_color", "selection_weight_shared"):
        assert rates[name].dims == ("neuron",)


def spikes_of(config, region, n_per_condition=5):
    """Spikes of one small session of a configured region."""
    config = copy.deepcopy(config)
    config["sessions"] = {"n_sessions": 1, "n_trials_per_condition": n_per_condition}
    params = config["regions"][region]
    trials = session_trials(config)
    _, duration, onsets = aligned_schedule(trials)
    rng = np.random.default_rng(0)
    neurons = draw_neurons(params["n_neurons"], params, rng)
    synapses = draw_synapses(neurons["cell_type"], params, rng)
    trial, neuron, time = run_session(trials, onsets, duration, neurons, synapses, params,
                                      config["simulation"], None, seed=1)
    return trial * params["n_neurons"] + neuron, time, len(trials) * params["n_neurons"], duration


@pytest.mark.parametrize("region", ["LPFC", "FEF", "parietal", "V4"])
def test_every_default_region_fires_irregularly_at_cortical_rates(region):
    copy_index, time, n_copies, duration = spikes_of(load_config(ROOT / "config" / "planted.yaml"), region)
    early = time < 250  # no trial shows anything in the first 250 ms of network time
    baseline = np.bincount(copy_index[early], minlength=n_copies) / 0.25
    assert 2 <= baseline.mean() <= 15
    assert len(time) / n_copies / (duration / 1000) < 40
    order = np.lexsort((time, copy_index))
    isi, same = np.diff(time[order]), np.diff(copy_index[order]) == 0
    owner = copy_index[order][1:][same]
    cv = [isi[same][owner == k].std() / isi[same][owner == k].mean()
          for k in np.unique(owner) if (owner == k).sum() >= 10]
    assert 0.7 <= np.median(cv) <= 1.3


@pytest.fixture(scope="module")
def coding():
    """Three regions that differ in memory and in shared selection, 160 trials each."""
    config = yaml.safe_load(TINY.read_text())
    config["sessions"] = {"n_sessions": 1, "n_trials_per_condition": 40}
    base = {"n_neurons": 60, "selection_gain_mV": 1.0}
    config["regions"] = {
        "memory": {**base, "shared_selection": 1.0, "memory_fraction": 0.5},
        "half": {**base, "shared_selection": 0.5, "memory_fraction": 0.5},
        "forgetful": {**base, "shared_selection": 0.0, "memory_fraction": 0.0},
        "driven": {**base, "shared_selection": 0.0, "top_down": {"source": "memory", "weight_mV": 1.0}},
    }
    rates, _ = simulate_session(validate_config(config, SCHEMA), 0)
    return {region: of_region(rates, region) for region in config["regions"]}


def window_mean(rates, start, stop, relative_to="onset_cue"):
    """Each trial's mean rate (trial, neuron) between ``start`` and ``stop`` ms after an onset."""
    since = rates["time"] - rates[relative_to]
    return rates["rate"].where((since >= start) & (since < stop)).mean("time").values


def cv_accuracy(X, y):
    decoder = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000))
    return cross_val_score(decoder, X, y, cv=5).mean()


def test_colour_is_decodable_in_the_delay_only_with_memory(coding):
    accuracy = {}
    for region, rates in coding.items():
        delay = window_mean(rates, 600, 1300, relative_to="onset_samples")  # 100-800 ms after offset
        upper_half = np.sin(rates["color_upper"].values) > 0
        accuracy[region] = cv_accuracy(delay, upper_half)
    assert accuracy["memory"] > 0.7
    assert abs(accuracy["forgetful"] - 0.5) < 0.12


def test_cued_location_is_decodable_after_the_cue_and_at_chance_before(coding):
    rates = coding["memory"]
    accuracy = cross_task_decoding(rates["rate"], rates["cued"], rates["task"])["accuracy"].assign_coords(time=rates["time"])
    retro = accuracy.sel(train_task="retro", test_task="retro")
    assert float(retro.sel(time=slice(200, 700)).mean()) > 0.8
    assert abs(float(retro.sel(time=slice(-1000, -100)).mean()) - 0.5) < 0.08


def test_decoder_axes_recover_the_planted_shared_selection(coding):
    cosines = {}
    for region, rates in coding.items():
        axes = []
        for task in ("retro", "pro"):
            trials = rates.isel(trial=(rates["task"] == task).values)
            X = StandardScaler().fit_transform(window_mean(trials, 200, 700))
            axes.append(LogisticRegression(C=0.1, max_iter=1000).fit(X, trials["cued"].values).coef_[0])
        cosines[region] = cosine(*axes)
    assert cosines["forgetful"] < cosines["half"] < cosines["memory"]
    assert cosines["memory"] > 0.6 and abs(cosines["forgetful"]) < 0.3
    # top-down input from a shared-selection region makes an independent one share
    assert cosines["driven"] > cosines["forgetful"] + 0.25


def test_the_selection_signal_reads_the_cued_location_after_the_cue(coding):
    rates = coding["memory"]
    signal = selection_signal(rates)
    after = signal[:, (rates["time"] > 200).values & (rates["time"] < 700).values].mean(axis=1)
    upper = (rates["cued"] == "upper").values
    assert (after[upper] > 0).mean() > 0.9 and (after[~upper] < 0).mean() > 0.9
