import numpy as np
import pytest
import xarray as xr

from wmattn.decode import decode_cued_location

N_PER_CONDITION, N_NEURONS, N_BINS = 40, 30, 6
SIGNAL_BINS = slice(3, 6)  # the first three bins carry no signal


def planted(axis_cosine, rng, signal=1.5):
    """Rates with the cued location planted along one axis per task from bin 3 on."""
    first, second = np.linalg.qr(rng.standard_normal((N_NEURONS, 2)))[0].T
    axes = {"retro": first, "pro": axis_cosine * first + np.sqrt(1 - axis_cosine**2) * second}
    task = np.repeat(["retro", "pro"], 2 * N_PER_CONDITION)
    cued = np.tile(np.repeat(["upper", "lower"], N_PER_CONDITION), 2)
    rate = rng.standard_normal((len(task), N_NEURONS, N_BINS))
    sign = np.where(cued == "upper", 1.0, -1.0)
    for name, axis in axes.items():
        trials = task == name
        rate[trials, :, SIGNAL_BINS] += signal * sign[trials, None, None] * axis[None, :, None] * np.sqrt(N_NEURONS) / 4
    return xr.Dataset(
        {"rate": (("trial", "neuron", "time"), rate)},
        coords={"task": ("trial", task), "cued": ("trial", cued), "time": 100.0 * np.arange(N_BINS)},
    )


def test_recovers_a_planted_shared_signal_within_and_across_tasks():
    accuracy = decode_cued_location(planted(1.0, np.random.default_rng(0)))["accuracy"]
    assert (accuracy.isel(time=SIGNAL_BINS) > 0.9).all()
    assert abs(float(accuracy.isel(time=slice(0, 3)).mean()) - 0.5) < 0.1


def test_orthogonal_axes_decode_within_each_task_but_do_not_transfer():
    accuracy = decode_cued_location(planted(0.0, np.random.default_rng(1)))["accuracy"].isel(time=SIGNAL_BINS)
    for task in ["retro", "pro"]:
        assert (accuracy.sel(train_task=task, test_task=task) > 0.9).all()
    transfer = accuracy.sel(train_task="retro", test_task="pro"), accuracy.sel(train_task="pro", test_task="retro")
    assert all(abs(float(t.mean()) - 0.5) < 0.12 for t in transfer)


def test_sits_at_chance_on_shuffled_labels():
    rng = np.random.default_rng(2)
    rates = planted(1.0, rng)
    cued = rates["cued"].to_numpy().copy()
    for task in ["retro", "pro"]:
        trials = np.flatnonzero(rates["task"].to_numpy() == task)
        cued[trials] = cued[rng.permutation(trials)]
    accuracy = decode_cued_location(rates.assign_coords(cued=("trial", cued)))["accuracy"]
    assert abs(float(accuracy.mean()) - 0.5) < 0.06
    assert (abs(accuracy - 0.5) < 0.25).all()


def test_refuses_rates_with_missing_neurons():
    rates = planted(1.0, np.random.default_rng(3))
    rates["rate"][0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        decode_cued_location(rates)
