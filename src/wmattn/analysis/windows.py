"""Rates averaged over an epoch window: the features of every window analysis."""

import numpy as np


def window_mean(rates, window, name="the window"):
    """Rates (``rate`` (trial, neuron, time)) averaged over the bins whose centres lie in ``window`` (ms): (trial, neuron).

    Refuses, naming the window (``name``), one that is not ``[start, end]``
    with start <= end or that holds no bin centre.
    """
    if np.shape(window) != (2,) or not window[0] <= window[1]:
        raise ValueError(f"{name} must be [start_ms, end_ms] with start <= end, got {window}")
    time = rates["time"].to_numpy()
    inside = (time >= window[0]) & (time <= window[1])
    if not inside.any():
        raise ValueError(f"{name} {list(window)} ms holds no time bin centre (bins {time.min():g} to {time.max():g} ms)")
    return rates["rate"].transpose("trial", "neuron", "time").to_numpy()[:, :, inside].mean(axis=2, dtype=float)
