"""Recordings in NWB (Neurodata Without Borders): imported as rates, and a simulation exported.

An NWB file holds one session: a units table (spike times in seconds on the
file's clock, and each unit's region) and a trials table (task, cued location,
both colours, every epoch's onset in seconds; optionally the items shown and the
reported colour). ``check_recordings`` reads
every file's trials and units and refuses, naming the file and what is wrong,
a recording that does not fit the analyses, before anything is imported; it
returns the time span all sessions' rates share. ``import_session`` then turns
one file into the rates and spikes of one session, every configured region's
units together, exactly as the simulation writes them (DESIGN.md,
``rates/session{k}.nc``). ``export_session`` writes a simulated session's
spikes as an NWB file, laid out on a session clock with the trials one after
another; importing it gives the same rates.
"""

import datetime
import hashlib
import json

import numpy as np
import pandas as pd
from hdmf.common import DynamicTableRegion, VectorIndex
from pynwb import NWBHDF5IO, NWBFile
from pynwb.epoch import TimeIntervals
from pynwb.file import Subject
from pynwb.misc import Units

from wmattn.config import simulation_dt_ms
from wmattn.io import atomic
from wmattn.rates import as_dataset, as_spikes, bin_spikes, region_spikes
from wmattn.task import LOCATIONS, TASKS, epoch_names, too_few_for_folds

MIN_NEURONS = 3  # a region's colour planes (geometry) are fitted in 3 dimensions; the simulation's minimum too
ITI_MS = 1000  # between exported trials: no spike falls in two trials' spans
TRIAL_COLUMNS = ("task", "cued", "color_upper", "color_lower")
# optional trials columns, by their name in a trial table and config key source.columns.<name>: the default column
# names, which the export writes
OPTIONAL_COLUMNS = {"n_items": "n_items", "report": "report_color"}
DEVICE_DESCRIPTIONS = {  # by source
    "circuit": "wmattn escape-noise spiking circuit (one network of every region)",
    "planted": "wmattn leaky integrate-and-fire networks (planted calibration source, one per region)",
}
RESERVED = ("neuron", "region", "unit_id")  # the contract's own per-neuron coordinates, never a units column's


class RecordingError(ValueError):
    """A recording that does not fit the analyses; the message names the file and the problem."""


def check_recordings(paths, regions, columns, timing, n_folds):
    """Check every NWB file before any is imported, and return the rates' span around the cue onset.

    Parameters
    ----------
    paths : list of str
        The NWB files, in session order.
    regions : list of str
        The regions to import; each names units by the ``columns["region"]`` column.
    columns : dict
        The config's ``source.columns``: names of the units column with the
        region and of the trials columns with ``task``, ``cued``, the colours,
        the optional ``n_items`` and ``report`` (default ``n_items`` and
        ``report_color``; absent from the file, the items shown are inferred
        from NaN colours and there is no report) and, under ``events``, each
        epoch's onset (default ``<epoch>_time``).
    timing : dict
        ``{task: {epoch: length}}`` (:func:`wmattn.task.timing_from_config`):
        the epochs of each task, in order.
    n_folds : int
        The decoding's folds: every session needs that many trials of every
        task x cued location.

    Returns
    -------
    dict
        ``start`` and ``stop`` in ms from the cue onset: as in the simulation,
        from the earliest trial start to the latest response onset over every
        file, so that every session's rates share one time axis. Raises
        :class:`RecordingError` if any file does not fit.
    """
    sessions = [read_session(path, columns, timing, n_folds, spike_times=False) for path in paths]
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
    trials = pd.concat([trials for trials, _ in sessions], ignore_index=True)
    cue = trials["onset_cue"].to_numpy()
    return {
        "start": float(-np.nanmax(cue - trials.filter(like="onset_").min(axis=1).to_numpy())),
        "stop": float(np.nanmax(trials["onset_response"].to_numpy() - cue)),
    }


def import_session(path, session, regions, columns, timing, rates, n_folds, span):
    """One NWB file's units of the configured regions as a session's rates and spikes (DESIGN.md).

    ``session`` is the file's place in the config's list; ``span`` the
    ``start`` and ``stop`` of :func:`check_recordings`; the other parameters
    as there, and ``rates`` the config's ``rates`` (``bin_ms``, ``step_ms``).
    Units of other regions are left out. The recording's trial and unit ids
    come along as ``trial_id`` and ``unit_id``, and every scalar units
    column as a neuron coordinate. Raises :class:`RecordingError`.
    """
    trials, units = read_session(path, columns, timing, n_folds)
    trials = trials.assign(session=session)
    kept = np.flatnonzero(np.isin(units["region"], regions))
    kept = kept[np.argsort([regions.index(region) for region in units["region"][kept]], kind="stable")]  # config order
    spike_times = [units["spike_times"][unit] for unit in kept]
    start, stop = span["start"], span["stop"]
    trial, neuron, time = _trial_spikes(spike_times, trials["onset_cue"].to_numpy(), start, stop)
    rate, time_axis = bin_spikes(trial, neuron, time, (len(trials), len(kept)), start, stop, rates["bin_ms"], rates["step_ms"])
    neurons = {name: values[kept] for name, values in units["coords"].items()}
    session_rates = as_dataset(rate, time_axis, trials, neurons, units["region"][kept])
    # the recording's own ids, to find a trial or unit again in its file
    session_rates = session_rates.assign_coords(trial_id=("trial", trials["trial_id"].to_numpy()))
    return session_rates, as_spikes(session_rates, trial, neuron, time)


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


def read_session(path, columns, timing, n_folds, spike_times=True):
    """One NWB file's trials and units, checked against what the analyses need.

    Returns ``(trials, units)``: a trial table like
    :func:`wmattn.task.generate_trials`' (onsets in ms on the file's clock,
    NaN for an epoch the trial's task does not have; ``n_items``, and
    ``report`` where the file has it), and a dict of the
    units' ``region`` (str array), ``spike_times`` (list of sorted arrays, ms;
    not read unless ``spike_times``) and ``coords`` (``unit_id`` and every
    scalar units column, per unit).
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
        units = _read_units(path, nwbfile.units, columns["region"], spike_times)
    _check_trials(path, trials, timing, n_folds, columns)
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
    for name, default in OPTIONAL_COLUMNS.items():
        if columns.get(name, default) in table.colnames:
            trials[name] = _column(path, table, columns.get(name, default), name)
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


def _items_shown(path, trials, columns):
    """Each trial's ``n_items``, from its column or (absent) from the colours: 1 where the uncued item's is
    NaN, else 2; on a single-item trial the uncued item's colour becomes NaN (it was not shown)."""
    uncued = np.where(trials["cued"] == "upper", trials["color_lower"], trials["color_upper"]).astype(float)
    if "n_items" not in trials:
        trials["n_items"] = np.where(np.isnan(uncued), 1, 2)
    n_items = trials["n_items"].to_numpy(float)
    wrong = sorted(set(n_items[~np.isin(n_items, (1, 2))]))
    if wrong:
        raise RecordingError(f"{path}: trials column {columns.get('n_items', 'n_items')!r} (config key "
                             f"source.columns.n_items) holds {', '.join(f'{value:g}' for value in wrong)}; the items shown must be 1 or 2")
    trials["n_items"] = n_items.astype(int)
    for location in LOCATIONS:
        absent = (trials["n_items"] == 1).to_numpy() & (trials["cued"] != location).to_numpy()
        trials.loc[absent, f"color_{location}"] = np.nan


def _check_trials(path, trials, timing, n_folds, columns):
    """Colours in radians (the uncued one NaN on a single-item trial), reports in radians or NaN, every
    epoch's onset present and in the task's order, enough two-item trials per condition."""
    _items_shown(path, trials, columns)
    for name in ("color_upper", "color_lower"):
        color = trials[name].to_numpy(float)
        shown = (trials["n_items"] == 2).to_numpy() | (trials["cued"] == name.removeprefix("color_")).to_numpy()
        if not np.isfinite(color[shown]).all() or color[shown].min() < 0 or color[shown].max() > 2 * np.pi:
            raise RecordingError(f"{path}: the {name} colours (config key source.columns.{name}) of the trials that show "
                                 f"the item run from {np.nanmin(color[shown]):g} to {np.nanmax(color[shown]):g}; colours "
                                 "must be angles in radians, 0 to 2 pi")
    if "report" in trials:
        report = trials["report"].to_numpy(float)
        if np.nanmin(report, initial=0) < 0 or np.nanmax(report, initial=0) > 2 * np.pi:
            raise RecordingError(f"{path}: the reports (config key source.columns.report) run from {np.nanmin(report):g} "
                                 f"to {np.nanmax(report):g}; a reported colour must be an angle in radians, 0 to 2 pi, or NaN")
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
    short = too_few_for_folds(trials, n_folds)
    if short:
        task, cued, n = short
        raise RecordingError(f"{path}: {n} {task} trial(s) cued {cued} with two items; the decoding's {n_folds} folds "
                             f"(decoding.n_folds) need at least {n_folds} of every task x cued location")


def _text(value):
    """A label as str: HDF5 strings may come back as bytes."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _read_units(path, table, region_column, spike_times=True):
    region = _column(path, table, region_column, "region")
    region = np.array([getattr(value, "location", value) for value in region]).astype(str)
    if spike_times:
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


def export_session(spikes, path, config):
    """Write one session's spikes (every region's) as an NWB file at ``path``.

    ``spikes`` is a session's spikes dataset (:func:`wmattn.rates.as_spikes`:
    per-trial ``task``, ``cued``, colours, ``session`` and ``onset_{epoch}``
    in ms from the cue onset, and where the simulation has them ``n_items``
    and ``report``, written as the trials columns ``n_items`` and
    ``report_color``; per-neuron ``region`` and the simulation's
    ground truth). Trials follow one another on the file's clock, ``ITI_MS``
    apart; units carry their region as an electrode group's location and the
    ground truth as columns; ``config`` goes into the file's notes as JSON.
    """
    sessions = np.unique(spikes["session"].to_numpy())
    if len(sessions) != 1:
        raise ValueError(f"export_session takes one session's spikes; these hold sessions {', '.join(map(str, sessions))}")
    nwbfile = _session_file(spikes, config)
    with atomic(path, suffix=".partial.nwb") as partial, NWBHDF5IO(partial, "w") as io:  # pynwb warns of other extensions
        io.write(nwbfile)
    print(f"wrote session {spikes['session'].to_numpy()[0]}: {path}", flush=True)


def _session_file(spikes, config):
    """One session's trials and every region's units as an in-memory NWB file.

    It passes nwbinspector (tests/test_nwb.py): a Subject that says it is
    simulated, the units' resolution the simulation's time step, an identifier
    unique to the config and session.
    """
    session = spikes["session"].to_numpy()[0]
    trials = spikes.drop_dims(["neuron", "spike"])
    onsets = [name for name in trials.coords if name.startswith("onset_")]
    onset = np.column_stack([trials[name].to_numpy() for name in onsets])  # ms from the cue onset, NaN where no such epoch
    times = spikes["spike_time"].to_numpy()
    low = min(np.nanmin(onset), times.min() if len(times) else np.inf)
    high = max(np.nanmax(onset), times.max() if len(times) else -np.inf)
    # session clock (ms) of each trial's cue onset
    cue = (high - low + ITI_MS) * np.arange(trials.sizes["trial"]) - low

    notes = json.dumps(config, sort_keys=True)
    # the same config gives the same files; another config (paper.yaml and config.yaml share a seed) other ids
    simulation = f"wmattn-seed{config['seed']}-{hashlib.sha256(notes.encode()).hexdigest()[:12]}"
    nwbfile = NWBFile(
        session_description=f"wmattn simulation of the retro/pro-cue task, session {session}",
        identifier=f"{simulation}-session{session}",
        session_id=str(session),
        session_start_time=datetime.datetime(2021, 4, 21, tzinfo=datetime.timezone.utc),
        experiment_description="spiking regions simulated by wmattn (Brian2); ground truth as unit columns",
        keywords=["simulation", "spiking network", "working memory", "attention", "retro-cue", "pro-cue"],
        notes=notes,
        # the fields that nwbinspector and DANDI require: a simulation has no age nor sex, and says so
        subject=Subject(
            subject_id=simulation,
            species="Macaca mulatta",
            sex="U",
            age="P0D/",  # ISO 8601 range with no upper bound: any age, i.e. not modelled
            description="not an animal: a spiking network simulated by wmattn, modelled on the task and the "
                        "recordings in rhesus monkeys of Panichello & Buschman (2021, Nature 592:601); it has no age "
                        "nor sex, given as any age (P0D/) and unknown (U)",
        ),
        trials=TimeIntervals(name="trials", description="the simulated trials of the retro-cue and pro-cue tasks, one "
                                                        f"after another on the session clock, at least {ITI_MS} ms apart"),
        # spikes fall on the simulation's time steps
        units=Units(name="units", description="simulated neurons, one unit each; electrode_group names the region",
                    resolution=simulation_dt_ms(config) / 1000),
    )
    descriptions = {"task": "task (label)", "cued": "cued location (label)",
                    "color_upper": "colour of the upper item (radians); NaN if not shown",
                    "color_lower": "colour of the lower item (radians); NaN if not shown",
                    "n_items": "items shown: 2, or 1 (the cued item only)",
                    "report_color": "reported colour (radians); NaN if no report"}
    columns = {**{name: name for name in TRIAL_COLUMNS},
               **{column: name for name, column in OPTIONAL_COLUMNS.items() if name in trials.coords}}
    for column in columns:
        nwbfile.add_trial_column(column, descriptions[column])
    for name in onsets:
        nwbfile.add_trial_column(f"{name.removeprefix('onset_')}_time", "epoch onset (s); NaN if the task has no such epoch")
    for j in range(trials.sizes["trial"]):
        row = {column: trials[name].values[j].item() for column, name in columns.items()}
        row |= {f"{name.removeprefix('onset_')}_time": (cue[j] + onset[j, i]) / 1000 for i, name in enumerate(onsets)}
        nwbfile.add_trial(start_time=(cue[j] + np.nanmin(onset[j])) / 1000,
                          stop_time=(cue[j] + float(trials["onset_response"][j])) / 1000, **row)

    device = nwbfile.create_device(name="simulation", description=DEVICE_DESCRIPTIONS[config["source"]])
    unit_columns = [name for name, coord in spikes.coords.items() if coord.dims == ("neuron",) and name not in RESERVED]
    for name in unit_columns:
        nwbfile.add_unit_column(name, f"simulation ground truth: {name}")
    for region in dict.fromkeys(spikes["region"].to_numpy()):
        data = region_spikes(spikes, region)
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
