import numpy as np
import pandas as pd
import pytest
import torch

from wmattn.attention import (CUE, DEFAULTS, RESPONSE_MS, AttentionNetwork, build, evaluate, n_units, task_inputs,
                              train)
from wmattn.task import DEFAULT_TIMING, epoch_names, generate_trials

# Smaller and shorter than DEFAULTS so the test trains in seconds; it still
# learns within ~250 steps, so the targets below are the full ones.
FAST = {"hidden_size": 32, "batch_size": 32, "n_steps": 300}
DT_MS = DEFAULTS["dt_ms"]
SINGLE = 0.2  # single-item trials, as in Panichello & Buschman


@pytest.fixture(scope="module")
def trained():
    model, history = train(FAST, rng_seed=0, single_item_fraction=SINGLE, progress=lambda line: None)
    return model, history


@pytest.fixture(scope="module")
def evaluated(trained):
    trials = generate_trials(100, np.random.default_rng(7), single_item_fraction=SINGLE)
    return evaluate(trained[0], trials, DT_MS, rng_seed=1), trials


def _cued_weight(ds):
    return ds["attention"].isel(item=(ds["cued"] == "lower").astype(int))


def test_inputs_follow_the_epochs():
    trials = generate_trials(5, np.random.default_rng(0), single_item_fraction=SINGLE)
    discrete = task_inputs(trials, DT_MS)
    assert np.isfinite(discrete.inputs).all()
    # On the simulation's schedule every cue onset falls on one step.
    cue_time = trials["onset_cue"].max()
    cue_step = int(np.rint(cue_time / DT_MS))
    assert discrete.cue_step == cue_step
    for trial, row in trials.iterrows():
        inputs = discrete.inputs[trial]
        step = lambda ms: int(np.rint((ms + cue_time - row["onset_cue"]) / DT_MS))  # noqa: E731,B023
        start, samples, response = step(0), step(row["onset_samples"]), step(row["onset_response"])
        # an item not shown (a single-item trial's uncued one) gives no input
        for features, color in ((slice(1, 3), row["color_upper"]), (slice(3, 5), row["color_lower"])):
            assert np.allclose(inputs[samples, features], [np.cos(color), np.sin(color)] if np.isfinite(color) else 0)
        assert np.all(inputs[:start] == 0) and np.all(inputs[response:] == 0)
        assert np.all(inputs[start:response, 0] == 1)
        # the retro and the pro cue are different stimuli: one feature per cue type and location
        shown_cue = [CUE[row["task"], row["cued"]]]
        assert inputs[cue_step, shown_cue] == 1 and inputs[cue_step, list(CUE.values())].sum() == 1
        assert discrete.response_mask[trial].sum() == RESPONSE_MS / DT_MS
        assert discrete.response_mask[trial, response]


def test_network_selects_the_cued_item_and_reports_its_colour(trained, evaluated):
    ds, _ = evaluated
    assert np.degrees(float(ds["error"].median())) < 15
    # with one item shown it reports that one
    assert np.degrees(float(ds["error"].where(ds["n_items"] == 1).median())) < 15
    in_response = (ds["time"] >= ds["onset_response"]) & (ds["time"] < ds["onset_response"] + RESPONSE_MS)
    assert float(_cued_weight(ds).where(in_response).mean()) > 0.9
    # Before a retro cue nothing says which item matters: no preference on average.
    before_cue = (ds["task"] == "retro") & (ds["time"] >= ds["onset_samples"]) & (ds["time"] < 0)
    assert 0.4 < float(ds["attention"].sel(item="upper").where(before_cue).mean()) < 0.6
    assert trained[1]["loss"].tail(20).mean() < trained[1]["loss"].head(20).mean() / 2


@pytest.mark.parametrize("selection", ["shared", "task_specific"])
def test_mirrored_input_mirrors_the_attention(selection):
    """Swapping upper and lower swaps the attention weights: no built-in location preference, in every variant."""
    trials = generate_trials(4, np.random.default_rng(3), single_item_fraction=SINGLE)
    mirrored = trials.assign(
        color_upper=trials["color_lower"],
        color_lower=trials["color_upper"],
        cued=trials["cued"].map({"upper": "lower", "lower": "upper"}),
    )
    # Untrained weights without noise (noise would differ between the two runs); symmetry is built in.
    torch.manual_seed(0)
    quiet = AttentionNetwork(FAST["hidden_size"], DEFAULTS["attention"], selection=selection)
    with torch.no_grad():
        _, weights, _ = quiet(torch.as_tensor(task_inputs(trials, DT_MS).inputs))
        _, mirrored_weights, _ = quiet(torch.as_tensor(task_inputs(mirrored, DT_MS).inputs))
    assert torch.allclose(weights, mirrored_weights.flip(-1), atol=1e-5, equal_nan=True)


@pytest.mark.parametrize("selection, retro_controller_knows", [("shared", True), ("task_specific", False)])
def test_only_a_shared_controller_hears_the_pro_cue_in_the_units_that_serve_retro(selection, retro_controller_knows):
    """Between a pro cue and the samples (nothing in memory to read), the units that the retro cue drives
    tell the pro cue's location only when one controller serves both cue types."""
    torch.manual_seed(0)
    network = AttentionNetwork(8, selection=selection, cue_size=2)
    pro = generate_trials(1, np.random.default_rng(1)).query("task == 'pro'").iloc[:1]
    trials = pd.concat([pro, pro.assign(cued=pro["cued"].map({"upper": "lower", "lower": "upper"}))], ignore_index=True)
    discrete = task_inputs(trials, DT_MS)
    before_samples = slice(discrete.cue_step, discrete.cue_step + int(pro["onset_samples"].iloc[0] - pro["onset_cue"].iloc[0]) // DT_MS)
    with torch.no_grad():
        _, _, hidden = network(torch.as_tensor(discrete.inputs))
    retro_units = hidden[:, before_samples, :8]  # the first controller's (the retro cue's in task_specific)
    assert (not torch.allclose(retro_units[0], retro_units[1])) == retro_controller_knows


def test_hidden_size_must_fit_a_controllers_halves():
    with pytest.raises(ValueError, match="hidden_size"):
        build({"selection": "task_specific", "hidden_size": 7})


@pytest.mark.parametrize("selection, n_controllers", [("shared", 1), ("task_specific", 2)])
def test_every_controller_has_hidden_size_units(selection, n_controllers):
    """The variants differ in how many controllers select, not in the size of each."""
    network = build({"selection": selection, "hidden_size": 8})
    _, _, hidden = network(torch.as_tensor(task_inputs(generate_trials(1, np.random.default_rng(0)), DT_MS).inputs))
    assert hidden.shape[-1] == n_units({"selection": selection, "hidden_size": 8}) == 8 * n_controllers


def test_same_seed_gives_identical_weights():
    config = {"hidden_size": 8, "batch_size": 8, "n_steps": 10}
    lines = []
    first, history = train(config, rng_seed=5, progress=lines.append)
    assert len(lines) == 10 and len(history) == 10
    second, _ = train(config, rng_seed=5, progress=lambda line: None)
    other, _ = train(config, rng_seed=6, progress=lambda line: None)
    for name, weight in first.state_dict().items():
        assert torch.equal(weight, second.state_dict()[name]), name
    assert not torch.equal(first.readout.weight, other.readout.weight)
    trials = generate_trials(2, np.random.default_rng(0))
    assert evaluate(first, trials, DT_MS, rng_seed=3).identical(evaluate(second, trials, DT_MS, rng_seed=3))


@pytest.mark.parametrize(
    "config, key",
    [
        ({"attention": "multiplicative"}, "attention"),
        ({"device": "tpu"}, "device"),
        ({"hidden_units": 8}, "hidden_units"),
        ({"selection": "both"}, "selection"),
    ],
)
def test_bad_config_is_refused_naming_the_key(config, key):
    with pytest.raises(ValueError, match=key):
        train({**config, "n_steps": 1}, rng_seed=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_refused():
    with pytest.raises(ValueError, match="device"):
        train({"device": "cuda", "n_steps": 1}, rng_seed=0)


def test_evaluate_follows_the_contract(trained, evaluated):
    ds, trials = evaluated
    assert ds["attention"].dims == ("trial", "time", "item")
    assert ds["hidden"].dims == ("trial", "time", "unit")
    assert ds["error"].dims == ("trial",)
    assert ds["attention"].dtype == np.float32 and ds["hidden"].dtype == np.float32
    assert list(ds["item"].values) == ["upper", "lower"]
    assert ds.sizes["unit"] == FAST["hidden_size"] and ds.sizes["trial"] == len(trials)
    for name in ["task", "cued", "n_items"]:
        assert np.array_equal(ds[name].values, trials[name].to_numpy()), name
    for name in ["color_upper", "color_lower"]:
        assert np.array_equal(ds[name].values, trials[name].to_numpy(), equal_nan=True), name
    # the reported colour on the wheel, whose distance to the cued colour is the error
    report = ds["report"].to_numpy()
    assert ds["report"].dims == ("trial",) and (report >= 0).all() and (report < 2 * np.pi).all()
    cued = np.where(trials["cued"] == "upper", trials["color_upper"], trials["color_lower"])
    np.testing.assert_allclose(np.abs(np.angle(np.exp(1j * (report - cued)))), ds["error"], atol=1e-5)
    for epoch in epoch_names(DEFAULT_TIMING):
        assert np.allclose(
            ds[f"onset_{epoch}"], trials[f"onset_{epoch}"] - trials["onset_cue"], equal_nan=True
        ), epoch
    assert np.all(ds["onset_cue"] == 0)
    # Cue-aligned on the simulation's schedule: hidden states exist at every
    # time, from the earliest trial start to the latest response's end.
    assert ds["time"].attrs["units"] == "ms" and 0 in ds["time"].values
    assert ds["hidden"].notnull().all()
    assert np.isclose(ds["time"][0], -DT_MS * np.rint(trials["onset_cue"].max() / DT_MS))
    assert ds["time"][-1] >= (ds["onset_response"] + RESPONSE_MS - 2 * DT_MS).max()
    # Attention exists only once both samples are shown: never on a single-item trial.
    before_samples = ds["time"] < ds["onset_samples"] - DT_MS
    assert ds["attention"].where(before_samples).isnull().all()
    assert ds["attention"].where(ds["n_items"] == 1).isnull().all()
    assert ds["attention"].where(ds["n_items"] == 2).notnull().any()
