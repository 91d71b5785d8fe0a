"""The retro-cue / pro-cue task: one trial generator shared by every stage.

Epoch lengths follow Panichello & Buschman (2021). Like neurogym's task
definitions, a task is a timing dict of epochs in order; a value is a fixed
length in ms or a ``[min, max]`` pair meaning uniform jitter. Trials end at the
onset of the response epoch (the colour wheel), which has no fixed length.
A trial shows two items, or on a single-item trial only the cued one.
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


def spread(total, n_parts, start=0):
    """``total`` in ``n_parts`` whole parts as even as possible (an int array).

    The ``total % n_parts`` parts that take one more are those from position
    ``start`` on, cyclically: successive calls with ``start`` 0, 1, ... pass
    the remainders round.
    """
    parts = np.full(n_parts, total // n_parts)
    parts[(start + np.arange(total % n_parts)) % n_parts] += 1
    return parts


def conditions(timing=None):
    """Every task x cued location of ``timing`` (default :data:`DEFAULT_TIMING`), in order."""
    return [(task, cued) for task in (DEFAULT_TIMING if timing is None else timing) for cued in LOCATIONS]


def single_item_total(n_two_item, single_item_fraction):
    """Single-item trials that make ``single_item_fraction`` of all trials beside ``n_two_item``
    two-item trials, rounded."""
    return int(round(single_item_fraction * n_two_item / (1 - single_item_fraction)))


def condition_counts(n_per_condition, single_item_fraction=0.0, timing=None, start=0):
    """Trials of every condition, ``{(task, cued, n_items): count}``.

    ``n_per_condition`` two-item trials of every task x cued location, and on
    top of them single-item trials, ``single_item_fraction`` of all trials
    (rounded), spread over task x cued location as evenly as possible, the
    remainders to the conditions from position ``start`` on
    (:func:`spread`).
    """
    pairs = conditions(timing)
    single = spread(single_item_total(n_per_condition * len(pairs), single_item_fraction), len(pairs), start)
    return {**{(task, cued, 2): n_per_condition for task, cued in pairs},
            **{(task, cued, 1): int(n) for (task, cued), n in zip(pairs, single)}}


def draw_trials(counts, rng, timing=None):
    """A shuffled set of trials with ``counts[(task, cued, n_items)]`` of every condition.

    On a single-item trial only the cued item is shown (Panichello &
    Buschman's task code displays the target alone, the other location
    blank, in both tasks; the cue is still shown): the other item's colour
    is NaN.

    Returns
    -------
    pandas.DataFrame
        One row per trial: ``task``, ``cued``, ``n_items`` (1 or 2),
        ``color_upper`` and ``color_lower`` (radians, on the 64-step wheel;
        NaN for an item not shown) and ``onset_{epoch}`` in ms from trial
        start for every epoch of :func:`epoch_names` (NaN for an epoch the
        trial's task does not have).
    """
    timing = DEFAULT_TIMING if timing is None else timing
    unknown = sorted({task for task, _, _ in counts} - set(timing))
    if unknown:
        raise ValueError(f"trials of task {', '.join(unknown)}, which the timing does not have")
    rows = pd.DataFrame(
        [condition for condition, n in counts.items() for _ in range(n)], columns=["task", "cued", "n_items"],
    )
    rows = rows.iloc[rng.permutation(len(rows))].reset_index(drop=True)
    n_trials = len(rows)
    wheel = 2 * np.pi * np.arange(N_COLORS) / N_COLORS
    single = (rows["n_items"] == 1).to_numpy()
    for location in LOCATIONS:
        color = rng.choice(wheel, n_trials)
        rows[f"color_{location}"] = np.where(single & (rows["cued"] != location).to_numpy(), np.nan, color)

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


def generate_trials(n_per_condition, rng, timing=None, single_item_fraction=0.0):
    """Draw a balanced, shuffled set of trials (:func:`draw_trials`).

    Parameters
    ----------
    n_per_condition : int
        Two-item trials for each task x cued-location condition.
    rng : numpy.random.Generator
    timing : dict, optional
        ``{task: {epoch: length}}``; defaults to :data:`DEFAULT_TIMING`.
    single_item_fraction : float
        Single-item trials on top of the two-item ones, as a fraction of all
        trials (:func:`condition_counts`); Panichello & Buschman had 0.2.
    """
    if n_per_condition < 1:
        raise ValueError(f"n_per_condition must be at least 1, got {n_per_condition}")
    return draw_trials(condition_counts(n_per_condition, single_item_fraction, timing), rng, timing)


def too_few_for_folds(trials, n_folds):
    """``(task, cued, count)`` of the first task x cued location with fewer two-item trials than ``n_folds``
    (a table with ``task``, ``cued`` and ``n_items``), or None: the within-task cross-validation needs
    ``n_folds`` of each."""
    for task in TASKS:
        for cued in LOCATIONS:
            n = int(((trials["task"] == task) & (trials["cued"] == cued) & (trials["n_items"] == 2)).sum())
            if n < n_folds:
                return task, cued, n
    return None


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
    number of items, the session and the reported colour where the table has them."""
    onsets = trials.filter(like="onset_")
    columns = {name: trials[name].to_numpy(dtype=str) for name in ("task", "cued")}
    columns |= {name: trials[name].to_numpy() for name in ("n_items", "color_upper", "color_lower", "session", "report")
                if name in trials}
    # to a nanosecond, as the rates' time axis (wmattn.rates.window_times)
    columns |= {name: np.round((onsets[name] - trials["onset_cue"]).to_numpy(), 6) for name in onsets.columns}
    return {name: ("trial", values) for name, values in columns.items()}
