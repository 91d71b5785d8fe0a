"""Recordings in NWB (Neurodata Without Borders): imported as rates, and a simulation exported.

An NWB file holds one session: a units table (spike times in seconds on the
file's clock, and each unit's region) and a trials table (task, cued location,
both colours, every epoch's onset in seconds). ``import_recordings`` turns a
list of such files into the rates and spikes of every configured region,
exactly as the simulation writes them (DESIGN.md, ``rates/{region}.nc``): the
files are the sessions, in the order given, so pseudo-populations keep them
apart. A recording that does not fit the analyses is refused with the file and
what is wrong before anything is returned. ``export_sessions`` writes a
simulation's spikes as one NWB file per session, laid out on a session clock
with the trials one after another; importing them gives the same rates.
"""

import datetime
import json

import numpy as np
import pandas as pd
from hdmf.common import DynamicTableRegion, VectorIndex
from pynwb import NWBHDF5IO, NWBFile

from wmattn.io import atomic
from wmattn.rates import as_dataset, as_spikes, bin_spikes, one_session
from wmattn.task import LOCATIONS, TASKS, epoch_names

MIN_NEURONS = 3  # a region's colour planes (geometry) are fitted in 3 dimensions; the simulation's minimum too
ITI_MS = 1000  # between exported trials: no spike falls in two trials' spans
TRIAL_COLUMNS = ("task", "cued", "color_upper", "color_lower")
RESERVED = ("neuron", "neuron_session", "unit_id")  # the contract's own per-neuron coordinates, never a units column's


class RecordingError(ValueError):
    """A recording that does not fit the analyses; the message names the file and the problem."""


def import_recordings(paths, regions, columns, timing, rates, n_folds):
    """Every configured region's rates and spikes from NWB files, one session each.

    Parameters
    ----------
    paths : list of str
        The NWB files, in session order.
    regions : list of str
        The regions to import; each names units by the ``columns["region"]`` column.
    columns : dict
        The config's ``source.columns``: names of the units column with the
        region and of the trials columns with ``task``, ``cued``, the colours
        and, under ``events``, each epoch's onset (default ``<epoch>_time``).
    timing : dict
        ``{task: {epoch: length}}`` (:func:`wmattn.task.timing_from_config`):
        the epochs of each task, in order.
    rates : dict
        The config's ``rates`` (``bin_ms``, ``step_ms``).
    n_folds : int
        The decoding's folds: every session needs that many trials of every
        task x cued location.

    Returns
    -------
    iterator
        ``(region, (rates, spikes))`` for every region in order, the
        contract's rates and spikes datasets, built one region at a time as
        it is asked for (at paper scale a region's rate array takes 2 GB).
        Every file is read and checked before this returns: it raises
        :class:`RecordingError` if any does not fit.
    """
    sessions = [read_session(path, columns, timing, n_folds) for path in paths]
    counts = {region: [int((units["region"] == region).sum()) for _, units in sessions] for region in regions}
    for path, (trials, units) in zip(paths, sessions):
        found = ", ".join(f"{region} {n}" for region, n in zip(*np.unique(units["region"], return_counts=True)))
        print(f"{path}: {len(trials)} trials; units by region: {found}", flush=True)
    for region, n in counts.items():
        if sum(n) < MIN_NEURONS:
            raise RecordingError(
                f"{', '.join(map(str, paths))}: region {region} has {sum(n)} unit(s) in all (per file: "
                f"{', '.join(map(str, n))}); the analyses need at least {MIN_NEURONS} (colour planes are 3-dimensional)"
            )
    trials = pd.concat([session[0].assign(session=k) for k, session in enumerate(sessions)], ignore_index=True)
    cue = trials["onset_cue"].to_numpy()
    # As in the simulation: from the earliest trial start to the latest response onset, cue-aligned
    start = -np.nanmax(cue - trials.filter(like="onset_").min(axis=1).to_numpy())
    stop = np.nanmax(trials["onset_response"].to_numpy() - cue)
    return ((region, _region(region, sessions, trials, start, stop, rates)) for region in regions)


def _region(region, sessions, trials, start, stop, settings):
    """One region's rates and spikes from every session's units of that region."""
    rows = [np.flatnonzero(trials["session"].to_numpy() == k) for k in range(len(sessions))]
    mine = [units["region"] == region for _, units in sessions]
    n_neurons = [int(m.sum()) for m in mine]
    first_neuron = np.concatenate([[0], np.cumsum(n_neurons)])
    rate, spikes = None, []
    for k, ((_, units), own, trial_rows) in enumerate(zip(sessions, mine, rows)):
        spike_times = [units["spike_times"][u] for u in np.flatnonzero(own)]
        trial, neuron, time = _trial_spikes(spike_times, trials["onset_cue"].to_numpy()[trial_rows], start, stop)
        session_rate, time_axis = bin_spikes(trial, neuron, time, (len(trial_rows), n_neurons[k]), start, stop,
                                             settings["bin_ms"], settings["step_ms"])
        if rate is None:
            rate = np.full((len(trials), first_neuron[-1], len(time_axis)), np.nan, np.float32)
        rate[trial_rows[0]:trial_rows[-1] + 1, first_neuron[k]:first_neuron[k + 1]] = session_rate  # rows are contiguous
        spikes.append((trial_rows[trial], first_neuron[k] + neuron, time))
    present = [(units["coords"], own) for (_, units), own in zip(sessions, mine) if own.any()]
    shared = set.intersection(*(set(coords) for coords, _ in present))  # columns every file with the region has
    neurons = {name: np.concatenate([coords[name][own] for coords, own in present])
               for name in ["unit_id", *sorted(shared - {"unit_id"})]}
    session = np.repeat(np.arange(len(sessions)), n_neurons)
    # the recording's own ids, to find a trial or unit again in its file
    region_rates = as_dataset(rate, time_axis, trials, neurons, session).assign_coords(trial_id=("trial", trials["trial_id"].to_numpy()))
    return region_rates, as_spikes(region_rates, *(np.concatenate(column) for column in zip(*spikes)))


def _trial_spikes(spike_times, cue, start, stop):
    """Every spike within ``[start, stop)`` ms of a trial's cue onset: (trial, neuron, ms from that cue onset).

    ``spike_times`` holds each unit's sorted spike times in ms on the file's
    clock. A spike in two trials' spans (trials closer than the span) counts
    in both, as a recording's rates in sliding windows would.
    """
    trial, neuron, time = [], [], []
    for unit, times in enumerate(spike_times):
        first, last = np.searchsorted(times, cue + start), np.searchsorted(times, cue + stop)
        count = last - first
        trial.append(np.repeat(np.arange(len(cue)), count))
        index = np.repeat(first - np.cumsum(count) + count, count) + np.arange(count.sum())
        time.append(times[index] - np.repeat(cue, count))
        neuron.append(np.full(count.sum(), unit))
    if not spike_times:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    return np.concatenate(trial), np.concatenate(neuron), np.concatenate(time)


def read_session(path, columns, timing, n_folds):
    """One NWB file's trials and units, checked against what the analyses need.

    Returns ``(trials, units)``: a trial table like
    :func:`wmattn.task.generate_trials`' (onsets in ms on the file's clock,
    NaN for an epoch the trial's task does not have), and a dict of the
    units' ``region`` (str array), ``spike_times`` (list of sorted arrays, ms)
    and ``coords`` (``unit_id`` and every scalar units column, per unit).
    """
    try:
        io = NWBHDF5IO(str(path), "r")
        nwbfile = io.read()
    except Exception as error:  # h5py, hdmf and pynwb raise many kinds for a file that is not NWB
        raise RecordingError(f"{path}: cannot be read as an NWB file ({type(error).__name__}: {error})") from error
    with io:
        if nwbfile.trials is None or len(nwbfile.trials) == 0:
            raise RecordingError(f"{path}: no trials table")
        if nwbfile.units is None or len(nwbfile.units) == 0:
            raise RecordingError(f"{path}: no units table")
        trials = _read_trials(path, nwbfile.trials, columns, timing)
        units = _read_units(path, nwbfile.units, columns["region"])
    _check_trials(path, trials, timing, n_folds)
    return trials, units


def _column(path, table, name, key):
    if name not in table.colnames:
        raise RecordingError(f"{path}: the {table.name} table has no column {name!r} (config key source.columns.{key}); "
                             f"its columns: {', '.join(table.colnames)}")
    return table[name].data[:]


def _read_trials(path, table, columns, timing):
    trials = pd.DataFrame({name: _column(path, table, columns[name], name) for name in TRIAL_COLUMNS})
    for name in ("task", "cued"):
        trials[name] = [_text(value) for value in trials[name]]
    trials["trial_id"] = table.id.data[:]
    for name, allowed in (("task", TASKS), ("cued", LOCATIONS)):
        unknown = sorted(set(trials[name]) - set(allowed))
        if unknown:
            raise RecordingError(f"{path}: trials column {columns[name]!r} holds {', '.join(map(repr, unknown))}; "
                                 f"the {name} must be one of {', '.join(allowed)}")
    for epoch in epoch_names(timing):
        has_epoch = trials["task"].isin([task for task, epochs in timing.items() if epoch in epochs or epoch == "response"])
        onset = np.full(len(trials), np.nan)
        if has_epoch.any():
            name = columns["events"].get(epoch, f"{epoch}_time")
            onset[has_epoch] = 1000 * np.asarray(_column(path, table, name, f"events.{epoch}"), float)[has_epoch]
        trials[f"onset_{epoch}"] = onset
    return trials


def _check_trials(path, trials, timing, n_folds):
    """Colours in radians, every epoch's onset present and in the task's order, enough trials per condition."""
    for name in ("color_upper", "color_lower"):
        color = trials[name].to_numpy(float)
        if not np.isfinite(color).all() or color.min() < 0 or color.max() > 2 * np.pi:
            raise RecordingError(f"{path}: the {name} colours (config key source.columns.{name}) run from "
                                 f"{np.nanmin(color):g} to {np.nanmax(color):g}; colours must be angles in radians, 0 to 2 pi")
    for task, epochs in timing.items():
        names = [*epochs, "response"]
        own = trials[trials["task"] == task]
        onsets = own[[f"onset_{epoch}" for epoch in names]].to_numpy()
        missing = np.isnan(onsets)
        if missing.any():
            row, column = np.argwhere(missing)[0]
            raise RecordingError(f"{path}: trial {own['trial_id'].iloc[row]} ({task}) has no {names[column]} onset")
        early = np.diff(onsets, axis=1) < 0
        if early.any():
            row, column = np.argwhere(early)[0]
            raise RecordingError(
                f"{path}: trial {own['trial_id'].iloc[row]} ({task}): events out of order, {names[column + 1]} at "
                f"{onsets[row, column + 1] / 1000:.3f} s before {names[column]} at {onsets[row, column] / 1000:.3f} s; "
                f"a {task} trial's epochs follow task.timing: {', '.join(names)}"
            )
    for task in TASKS:
        for cued in LOCATIONS:
            n = int(((trials["task"] == task) & (trials["cued"] == cued)).sum())
            if n < n_folds:
                raise RecordingError(f"{path}: {n} {task} trial(s) cued {cued}; the decoding's {n_folds} folds "
                                     f"(decoding.n_folds) need at least {n_folds} of every task x cued location")


def _text(value):
    """A label as str: HDF5 strings may come back as bytes."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _read_units(path, table, region_column):
    region = _column(path, table, region_column, "region")
    region = np.array([getattr(value, "location", value) for value in region]).astype(str)
    index = table["spike_times"]
    ends = index.data[:]
    flat = 1000 * np.asarray(index.target.data[:], float)
    spike_times = [np.sort(times) for times in np.split(flat, ends[:-1])]
    coords = {"unit_id": table.id.data[:]}
    for name in table.colnames:
        column = table[name]
        if name in ("spike_times", region_column, *RESERVED) or isinstance(column, (VectorIndex, DynamicTableRegion)):
            continue
        values = np.asarray(column.data[:])
        if values.dtype == object and all(isinstance(value, (str, bytes)) for value in values):
            values = np.array([_text(value) for value in values])
        if values.ndim == 1 and values.dtype.kind in "biufU":
            coords[name] = values
    return {"region": region, "spike_times": spike_times, "coords": coords}


def export_sessions(spikes, paths, config):
    """Write a simulation's spikes as NWB files, one per session, and return their paths.

    ``spikes`` maps region name to its spikes dataset (:func:`wmattn.rates.as_spikes`:
    every session's spikes, per-trial ``task``, ``cued``, colours, ``session``
    and ``onset_{epoch}`` in ms from the cue onset, per-neuron
    ``neuron_session`` and the simulation's ground truth). ``paths[k]``
    receives session k. Trials follow one another on the file's clock, ``ITI_MS``
    apart; units carry their region as an electrode group's location and the
    ground truth as columns; ``config`` goes into the file's notes as JSON.
    """
    first = next(iter(spikes.values()))
    sessions = np.unique(first["session"].to_numpy())
    if len(paths) != len(sessions):
        raise ValueError(f"the spikes hold {len(sessions)} session(s), {len(paths)} paths given (one per session); "
                         "spikes files written before wmattn kept every session's hold the first only: simulate again")
    for session, path in zip(sessions, paths):
        nwbfile = _session_file(spikes, session, config)
        with atomic(path, suffix=".partial.nwb") as partial, NWBHDF5IO(partial, "w") as io:  # pynwb warns of other extensions
            io.write(nwbfile)
        print(f"wrote session {session}: {path}", flush=True)
    return list(paths)


def _session_file(spikes, session, config):
    """One session's trials and every region's units as an in-memory NWB file."""
    first = next(iter(spikes.values()))
    trials = first.drop_dims(["neuron", "spike"]).isel(trial=first["session"].to_numpy() == session)
    onsets = [name for name in trials.coords if name.startswith("onset_")]
    onset = np.column_stack([trials[name].to_numpy() for name in onsets])  # ms from the cue onset, NaN where no such epoch
    in_session = [one_session(data, session) for data in spikes.values()]
    times = [data["spike_time"].to_numpy() for data in in_session]
    low = min(np.nanmin(onset), *(t.min() for t in times if len(t)))
    high = max(np.nanmax(onset), *(t.max() for t in times if len(t)))
    # session clock (ms) of each trial's cue onset
    cue = (high - low + ITI_MS) * np.arange(trials.sizes["trial"]) - low

    nwbfile = NWBFile(
        session_description=f"wmattn simulation of the retro/pro-cue task, session {session}",
        identifier=f"wmattn-seed{config['seed']}-session{session}",
        session_start_time=datetime.datetime(2021, 4, 21, tzinfo=datetime.timezone.utc),
        experiment_description="spiking regions simulated by wmattn (Brian2); ground truth as unit columns",
        notes=json.dumps(config, sort_keys=True),
    )
    for name in TRIAL_COLUMNS:
        nwbfile.add_trial_column(name, f"{name} ({'radians' if name.startswith('color') else 'label'})")
    for name in onsets:
        nwbfile.add_trial_column(f"{name.removeprefix('onset_')}_time", "epoch onset (s); NaN if the task has no such epoch")
    for j in range(trials.sizes["trial"]):
        row = {name: trials[name].values[j].item() for name in TRIAL_COLUMNS}
        row |= {f"{name.removeprefix('onset_')}_time": (cue[j] + onset[j, i]) / 1000 for i, name in enumerate(onsets)}
        nwbfile.add_trial(start_time=(cue[j] + np.nanmin(onset[j])) / 1000,
                          stop_time=(cue[j] + float(trials["onset_response"][j])) / 1000, **row)

    device = nwbfile.create_device(name="simulation", description="wmattn leaky integrate-and-fire network")
    unit_columns = [name for name, coord in first.coords.items() if coord.dims == ("neuron",) and name not in RESERVED]
    for name in unit_columns:
        nwbfile.add_unit_column(name, f"simulation ground truth: {name}")
    for region, data in zip(spikes, in_session):
        group = nwbfile.create_electrode_group(name=region, description=f"simulated region {region}", location=region,
                                               device=device)
        by_neuron = np.argsort(data["spike_neuron"].to_numpy(), kind="stable")
        neuron_of_spike = data["spike_neuron"].to_numpy()[by_neuron]
        session_time = cue[np.searchsorted(trials["trial"].to_numpy(), data["spike_trial"].to_numpy()[by_neuron])] \
            + data["spike_time"].to_numpy()[by_neuron]
        for n, neuron in enumerate(data["neuron"].to_numpy()):
            own = slice(*np.searchsorted(neuron_of_spike, [neuron, neuron + 1]))
            nwbfile.add_unit(spike_times=np.sort(session_time[own]) / 1000, electrode_group=group,
                             **{name: data[name].values[n].item() for name in unit_columns})
    return nwbfile
