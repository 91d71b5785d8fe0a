import numpy as np
import pytest

from wmattn.rates import bin_spikes


def test_counts_spikes_in_sliding_windows_as_hz():
    trial = np.array([0, 0, 0, 1])
    neuron = np.array([1, 1, 1, 0])
    time = np.array([10.0, 60.0, 160.0, 199.0])
    rate, centres = bin_spikes(trial, neuron, time, (2, 2), start=0, stop=200, bin_ms=100, step_ms=50)
    assert centres.tolist() == [50, 100, 150]
    assert rate.dtype == np.float32 and rate.shape == (2, 2, 3)
    assert rate[0, 1].tolist() == [20, 10, 10]  # 2, 1 and 1 spikes in 0.1 s
    assert rate[1, 0].tolist() == [0, 0, 10]
    assert rate.sum() == rate[0, 1].sum() + rate[1, 0].sum()


def test_refuses_a_window_that_is_not_a_multiple_of_the_step():
    with pytest.raises(ValueError, match="multiple"):
        bin_spikes(np.array([0]), np.array([0]), np.array([1.0]), (1, 1), 0, 100, 30, 20)
