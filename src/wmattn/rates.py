"""Spike trains to firing rates in sliding windows, as the contract's ``rate``."""

import numpy as np
import xarray as xr

from wmattn.task import trial_coordinates


def window_times(start, stop, bin_ms, step_ms):
    """Centres of the windows of ``bin_ms`` every ``step_ms`` that fit in [start, stop)."""
    if bin_ms % step_ms:
        raise ValueError(
            f"rates.bin_ms ({bin_ms}) must be a whole multiple of rates.step_ms ({step_ms})"
        )
    n_windows = int((stop - start - bin_ms) // step_ms) + 1
    if n_windows < 1:
        raise ValueError(f"rates.bin_ms ({bin_ms}) is longer than the simulated {stop - start} ms")
    # to a nanosecond: the same span computed on another clock (an NWB file's seconds) gives the same axis
    return np.round(start + bin_ms / 2 + step_ms * np.arange(n_windows), 6)


def bin_spikes(trial_index, neuron_index, spike_time, shape, start, stop, bin_ms, step_ms):
    """Firing rates (Hz) of every trial and neuron in sliding windows.

    Parameters
    ----------
    trial_index, neuron_index, spike_time : array
        One entry per spike; ``spike_time`` in ms.
    shape : (int, int)
        Number of trials and of neurons.
    start, stop : float
        The recorded span in ms.
    bin_ms, step_ms : float
        Window width and the step between window onsets.

    Returns
    -------
    rate : float32 array (trial, neuron, time)
    time : window centres in ms
    """
    time = window_times(start, stop, bin_ms, step_ms)
    per_window = int(bin_ms // step_ms)
    n_steps = len(time) + per_window - 1
    # Rounded to a millionth of a step first, so that a spike on a window's edge lands in the same
    # window however its time was computed (ms from a cue onset, or seconds of an NWB file's clock).
    step = np.floor(np.round((spike_time - start) / step_ms, 6)).astype(int)
    kept = (step >= 0) & (step < n_steps)
    flat = (trial_index[kept] * shape[1] + neuron_index[kept]) * n_steps + step[kept]
    counts = np.bincount(flat, minlength=shape[0] * shape[1] * n_steps)
    counts = counts.reshape(shape[0], shape[1], n_steps)
    cumulative = np.concatenate([np.zeros((*shape, 1)), np.cumsum(counts, axis=2)], axis=2)
    window_counts = cumulative[:, :, per_window:] - cumulative[:, :, :-per_window]
    return (window_counts / (bin_ms / 1000)).astype(np.float32), time


def as_dataset(rate, time, trials, neurons, region):
    """The contract's rates dataset of one session (see DESIGN.md, ``rates/session{k}.nc``).

    ``trials`` is the session's trial table from :func:`wmattn.task.generate_trials`
    with a ``session`` column; its epoch onsets become coordinates in ms
    relative to the cue onset. ``neurons`` maps a per-neuron coordinate name
    to its values (the ground truth the simulation assigned, or a recording's
    unit columns); ``region`` is each neuron's region.
    """
    if not np.isfinite(rate).all():
        raise ValueError("rates must be finite everywhere; a NaN or infinite rate is an error, not a missing value")
    trial_coords = trial_coordinates(trials)
    neuron_coords = {name: ("neuron", np.asarray(values)) for name, values in neurons.items()}
    neuron_coords["region"] = ("neuron", np.asarray(region).astype(str))
    return xr.Dataset(
        {"rate": (("trial", "neuron", "time"), rate, {"units": "Hz"})},
        coords={
            "trial": np.arange(rate.shape[0]),
            "neuron": np.arange(rate.shape[1]),
            "time": ("time", time, {"units": "ms", "reference": "cue onset"}),
            **trial_coords,
            **neuron_coords,
        },
    )


def as_spikes(rates, trial_index, neuron_index, spike_time):
    """The contract's spikes dataset: every spike of a session, with its rates file's coordinates.

    ``rates`` is the contract's rates dataset; ``trial_index`` and
    ``neuron_index`` are positions along its ``trial`` and ``neuron``
    dimensions, one entry per spike, and ``spike_time`` is in ms from the
    trial's cue onset. Returns the trial and neuron coordinates of ``rates``
    (``rate`` and ``time`` dropped) with ``spike_trial``, ``spike_neuron``
    (values of the ``trial`` and ``neuron`` coordinates) and ``spike_time``,
    sorted by trial, neuron and time so that they compress well.
    """
    spikes = rates.drop_dims("time")
    order = np.lexsort((spike_time, neuron_index, trial_index))
    return spikes.assign(
        spike_trial=("spike", spikes["trial"].to_numpy()[np.asarray(trial_index)[order]]),
        spike_neuron=("spike", spikes["neuron"].to_numpy()[np.asarray(neuron_index)[order]]),
        spike_time=("spike", np.asarray(spike_time, float)[order], {"units": "ms", "reference": "cue onset"}),
    )


def region_spikes(spikes, region):
    """The neurons of ``region`` in a session's spikes dataset (:func:`as_spikes`), and their spikes."""
    kept = spikes.isel(neuron=spikes["region"].to_numpy() == region)
    return kept.isel(spike=np.isin(spikes["spike_neuron"].to_numpy(), kept["neuron"].to_numpy()))
