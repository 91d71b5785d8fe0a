import copy

import numpy as np
import pytest
import xarray as xr

from conftest import TINY, load_config
from wmattn.io import open_dataset, write_dataset
from wmattn.simulate import draw_neurons, simulate_region


@pytest.fixture(scope="module")
def config():
    return load_config(TINY)


@pytest.fixture(scope="module")
def rates(config):
    return simulate_region(config, "high")


def test_the_same_config_and_seed_give_identical_files(config, rates, tmp_path):
    write_dataset(rates, tmp_path / "first.nc", config)
    write_dataset(simulate_region(config, "high"), tmp_path / "second.nc", config)
    first, second = (open_dataset(tmp_path / name, "rates") for name in ("first.nc", "second.nc"))
    xr.testing.assert_identical(first, second)
    assert first.attrs["seed"] == config["seed"]


def test_another_seed_gives_other_spikes(config, rates):
    other = copy.deepcopy(config)
    other["seed"] += 1
    assert not np.array_equal(simulate_region(other, "high")["rate"], rates["rate"])


def test_adding_a_region_leaves_the_others_unchanged(config, rates):
    more = copy.deepcopy(config)
    more["regions"] = {"added": copy.deepcopy(config["regions"]["low"]), **config["regions"]}
    xr.testing.assert_identical(simulate_region(more, "high"), rates)


def test_rates_follow_the_contract(config, rates):
    assert rates["rate"].dims == ("trial", "neuron", "time")
    assert rates["rate"].dtype == np.float32
    assert rates.sizes["trial"] == 4 * config["task"]["n_trials_per_condition"]
    assert set(rates["task"].values) == {"retro", "pro"}
    assert np.all(rates["onset_cue"] == 0)
    pro = (rates["task"] == "pro").values
    assert np.all(rates["onset_samples"].values[pro] > 0)
    assert np.all(rates["onset_samples"].values[~pro] < 0)


def test_baseline_rates_are_cortical_and_the_stimulus_drives_them(rates):
    # nothing is shown in the network's first 300 ms: the earliest trial is in fixation
    before_any_trial = rates["rate"].sel(time=slice(None, float(rates.time.min()) + 150)).mean()
    assert 2 <= float(before_any_trial) <= 15
    retro = rates["rate"].where(rates["task"] == "retro", drop=True)
    during_samples = retro.where((retro.time > retro.onset_samples + 100) & (retro.time < retro.onset_samples + 400))
    assert float(during_samples.mean()) > float(before_any_trial) + 1


def cosine(a, b):
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)


@pytest.mark.parametrize("shared_selection", [0.0, 0.3, 0.9, 1.0])
def test_shared_selection_is_the_cosine_of_the_retro_and_pro_axes(shared_selection):
    neurons = draw_neurons(50, shared_selection, np.random.default_rng(0))
    retro, pro = neurons["selection_weight_retro"], neurons["selection_weight_pro"]
    assert cosine(retro, pro) == pytest.approx(shared_selection, abs=1e-9)
    assert np.mean(retro**2) == pytest.approx(1.0)


def test_the_rates_file_carries_each_neurons_ground_truth(rates):
    retro, pro = rates["selection_weight_retro"].values, rates["selection_weight_pro"].values
    assert cosine(retro, pro) == pytest.approx(1.0)  # the tiny config's "high" region
    assert set(rates["location_preference"].values) <= {"upper", "lower", "both"}
    assert rates["preferred_color"].dims == ("neuron",)
