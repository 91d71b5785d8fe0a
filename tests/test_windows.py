"""Epoch-window analyses on the planted source, whose ground truth is known."""

import numpy as np
import pytest
import yaml

from conftest import SCHEMA, TINY
from wmattn.analysis.windows import colour_decoding, location_generalization, plane_alignment
from wmattn.config import validate_config
from wmattn.simulation import simulate_session

AFTER_CUE = (100, 800)


@pytest.fixture(scope="module")
def planted():
    """Regions with one selection axis for both tasks, with independent axes, and with no selection."""
    config = yaml.safe_load(TINY.read_text())
    config["sessions"] = {"n_sessions": 1, "n_trials_per_condition": 30}
    base = {"n_neurons": 60, "selection_gain_mV": 1.0, "memory_fraction": 0.5}
    config["regions"] = {
        "shared": {**base, "shared_selection": 1.0},
        "separate": {**base, "shared_selection": 0.0},
        "none": {**base, "shared_selection": 0.0, "selection_gain_mV": 0.0, "memory_fraction": 0.0,
                 "response_alignment": 0.0},
    }
    rates, _ = simulate_session(validate_config(config, SCHEMA), 0)
    return {name: rates.isel(neuron=(rates["region"] == name).to_numpy()) for name in config["regions"]}


def test_the_generalisation_index_recovers_the_planted_sharing(planted):
    shared = location_generalization(planted["shared"], AFTER_CUE, rng=0)
    separate = location_generalization(planted["separate"], AFTER_CUE, rng=0)
    assert shared["within"] > 0.9 and separate["within"] > 0.9
    assert shared["gi_interval"][0] > 0.7
    assert separate["gi_interval"][0] < 0.3 < shared["gi_interval"][0]
    assert shared["gi_interval"][0] <= shared["gi"] <= shared["gi_interval"][1]


def test_no_selection_gives_chance_within_task(planted):
    assert abs(location_generalization(planted["none"], AFTER_CUE, rng=0)["within"] - 0.5) < 0.1


def test_colour_is_found_when_held_and_not_when_absent(planted):
    retro = (planted["shared"]["task"] == "retro").to_numpy()
    assert colour_decoding(planted["shared"], (-400, 0), "upper", retro, n_shuffles=30, rng=0)["p_value"] < 0.05
    assert colour_decoding(planted["none"], (-400, 0), "upper", retro, n_shuffles=30, rng=0)["p_value"] > 0.05


def test_plane_alignment_sits_in_its_null_without_colour(planted):
    retro = (planted["none"]["task"] == "retro").to_numpy()
    result = plane_alignment(planted["none"], (-400, 0), ("upper", retro), ("lower", retro), n_shuffles=50, rng=0)
    assert result["p_value"] > 0.05
    assert np.percentile(result["null"], 5) <= result["cosine"] <= 1
