"""The retro-cue / pro-cue task: one trial generator shared by every stage.

Epoch lengths follow Panichello & Buschman (2021). Like neurogym's task
definitions, a task is a timing dict of epochs in order; a value is a fixed
length in ms or a ``[min, max]`` pair meaning uniform jitter. Trials end at the
onset of the response epoch (the colour wheel), which has no fixed length.
"""

import numpy as np
import pandas as pd

TASKS = ("retro", "pro")
LOCATIONS = ("upper", "lower")
N_COLORS = 64  # steps on the colour wheel
RESPONSE_MS = 300  # trials end at the response onset; the report (model, figures) lasts this long

DEFAULT_TIMING = {
    "pro": {
        "fixation": [300, 500],
        "cue": 300,
        "cue_delay": [200, 600],
        "samples": 500,
        "delay2": [1300, 2000],
    },
    "retro": {
        "fixation": [300, 500],
        "samples": 500,
        "delay1": [500, 1000],
        "cue": 300,
        "delay2": [500, 700],
    },
}


def timing_from_config(entries):
    """``{task: [{epoch: length}, ...]}`` from a config to ``{task: {epoch: length}}``.

    Configs list epochs so that their order survives any re-serialisation.
    """
    timing = {}
    for task, epochs in entries.items():
        names = [name for entry in epochs for name in entry]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"task.timing.{task}: epoch {', '.join(repeated)} appears more than once")
        timing[task] = {name: length for entry in epochs for name, length in entry.items()}
    return timing


def epoch_names(timing):
    """Every epoch that occurs in any task, in first-seen order, then ``response``."""
    names = [epoch for epochs in timing.values() for epoch in epochs]
    return list(dict.fromkeys(names)) + ["response"]


def _durations(length, n_trials, rng):
    if np.isscalar(length):
        return np.full(n_trials, float(length))
    low, high = length
    return rng.uniform(low, high, n_trials)


def generate_trials(n_per_condition, rng, timing=None):
    """Draw a balanced, shuffled set of trials.

    Parameters
    ----------
    n_per_condition : int
        Trials for each task x cued-location condition.
    rng : numpy.random.Generator
    timing : dict, optional
        ``{task: {epoch: length}}``; defaults to :data:`DEFAULT_TIMING`.

    Returns
    -------
    pandas.DataFrame
        One row per trial: ``task``, ``cued``, ``color_upper`` and
        ``color_lower`` (radians, on the 64-step wheel) and ``onset_{epoch}``
        in ms from trial start for every epoch of :func:`epoch_names` (NaN for
        an epoch the trial's task does not have).
    """
    timing = DEFAULT_TIMING if timing is None else timing
    if n_per_condition < 1:
        raise ValueError(f"n_per_condition must be at least 1, got {n_per_condition}")
    conditions = [(task, cued) for task in timing for cued in LOCATIONS]
    rows = pd.DataFrame(
        [condition for condition in conditions for _ in range(n_per_condition)],
        columns=["task", "cued"],
    )
    rows = rows.iloc[rng.permutation(len(rows))].reset_index(drop=True)
    n_trials = len(rows)
    wheel = 2 * np.pi * np.arange(N_COLORS) / N_COLORS
    rows["color_upper"] = rng.choice(wheel, n_trials)
    rows["color_lower"] = rng.choice(wheel, n_trials)

    onsets = {name: np.full(n_trials, np.nan) for name in epoch_names(timing)}
    for task, epochs in timing.items():
        in_task = (rows["task"] == task).to_numpy()
        clock = np.zeros(in_task.sum())
        for epoch, length in epochs.items():
            onsets[epoch][in_task] = clock
            clock = clock + _durations(length, in_task.sum(), rng)
        onsets["response"][in_task] = clock
    for name, onset in onsets.items():
        rows[f"onset_{name}"] = onset
    return rows


def aligned_schedule(trials):
    """Place trials in network time with every cue onset at the same instant.

    Returns ``(cue_time, duration, network_onsets)``: the network time of the
    cue onset and the network's run length in ms, and a table of every trial's
    epoch onsets in network time.
    """
    onsets = trials.filter(like="onset_")
    cue_time = trials["onset_cue"].max()
    network_onsets = onsets.add(cue_time - trials["onset_cue"].to_numpy(), axis=0)
    duration = np.nanmax(network_onsets["onset_response"].to_numpy())
    return cue_time, duration, network_onsets


def epoch_offset(onsets, epoch):
    """End of ``epoch`` in every trial: the earliest later onset."""
    own = onsets[f"onset_{epoch}"].to_numpy()[:, None]
    values = onsets.to_numpy()
    return np.where(values > own, values, np.inf).min(axis=1)


def trial_coordinates(trials):
    """Per-trial coordinates of a contract file (rates, attention): task, cued,
    both colours, every epoch's onset in ms from the cue onset, and the
    session and the reported colour where the table has them."""
    onsets = trials.filter(like="onset_")
    columns = {name: trials[name].to_numpy(dtype=str) for name in ("task", "cued")}
    columns |= {name: trials[name].to_numpy() for name in ("color_upper", "color_lower", "session", "report") if name in trials}
    # to a nanosecond, as the rates' time axis (wmattn.rates.window_times)
    columns |= {name: np.round((onsets[name] - trials["onset_cue"]).to_numpy(), 6) for name in onsets.columns}
    return {name: ("trial", values) for name, values in columns.items()}
