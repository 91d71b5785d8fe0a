"""Recordings in NWB: a simulation's round trip, a hand-made recording, and every refusal."""

import copy
import datetime

import numpy as np
import pytest
import xarray as xr
from pynwb import NWBHDF5IO, NWBFile

from wmattn.decode import decode_region
from wmattn.nwb import RecordingError, export_sessions, import_recordings
from wmattn.simulate import simulate_region
from wmattn.task import DEFAULT_TIMING, epoch_names, generate_trials, timing_from_config

COLUMNS = {"region": "electrode_group", "task": "task", "cued": "cued", "color_upper": "color_upper",
           "color_lower": "color_lower", "events": {}}
RATES = {"bin_ms": 100, "step_ms": 50}
TRIAL_MS = 6000  # a hand-made recording's trials start this far apart


@pytest.fixture(scope="module")
def simulated(config):
    return {region: simulate_region(config, region) for region in config["regions"]}


@pytest.fixture(scope="module")
def round_trip(config, simulated, tmp_path_factory):
    directory = tmp_path_factory.mktemp("nwb")
    paths = export_sessions({region: spikes for region, (_, spikes) in simulated.items()},
                            [directory / "session0.nwb", directory / "session1.nwb"], config)
    return dict(import_recordings(paths, list(config["regions"]), COLUMNS, timing_from_config(config["task"]["timing"]),
                                  config["rates"], config["decoding"]["n_folds"]))


def test_a_simulation_exported_and_imported_again_has_the_same_rates_and_spikes(simulated, round_trip):
    for region, (rates, spikes) in simulated.items():
        imported, imported_spikes = round_trip[region]
        np.testing.assert_array_equal(imported["rate"], rates["rate"])  # NaN where equal too
        assert imported["rate"].dtype == np.float32
        for name, coord in rates.coords.items():  # times too, though they went through seconds on the file's clock
            np.testing.assert_array_equal(imported[name], coord)
        # the ground truth travels as unit columns; the units' own ids come along
        assert {"selection_weight_retro", "cell_type", "unit_id"} <= set(imported_spikes["neuron"].coords)
        for name in ("spike_trial", "spike_neuron"):
            np.testing.assert_array_equal(imported_spikes[name], spikes[name])
        np.testing.assert_allclose(imported_spikes["spike_time"], spikes["spike_time"], atol=1e-6)


def test_a_simulation_exported_and_imported_again_decodes_the_same(simulated, round_trip):
    settings = dict(n_folds=3, n_resamples=2, n_permutations=4, seed=5)
    for region, (rates, _) in simulated.items():
        original, imported = decode_region(rates, **settings), decode_region(round_trip[region][0], **settings)
        for name in ("accuracy", "null", "generalization", "weights", "color_accuracy", "plane_cosine"):
            np.testing.assert_array_equal(imported[name], original[name])


def write_recording(path, n_per_condition=5, units=(("LPFC", 4), ("V4", 3)), region_column=None, events=None,
                    change=None, seed=0):
    """A recording made with pynwb itself: trials every ``TRIAL_MS`` ms with the default task, units
    firing 5 Hz throughout and once 150 ms after every cue onset; ``region_column`` names a units
    column with the region (default: electrode groups), ``events`` renames epochs' columns, and
    ``change(trials)`` edits the trials table (a DataFrame, onsets in ms from its trial's start)."""
    rng = np.random.default_rng(seed)
    trials = generate_trials(n_per_condition, rng)
    if change:
        change(trials)
    start = TRIAL_MS * np.arange(len(trials))
    nwbfile = NWBFile(session_description="hand-made", identifier=str(path),
                      session_start_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    names = {epoch: (events or {}).get(epoch, f"{epoch}_time") for epoch in epoch_names(DEFAULT_TIMING)}
    values = [name for name in ("task", "cued", "color_upper", "color_lower") if name in trials]
    for name in values + [names[epoch] for epoch in names if f"onset_{epoch}" in trials]:
        nwbfile.add_trial_column(name, name)
    for j, trial in trials.iterrows():
        onsets = {names[epoch]: (start[j] + trial[f"onset_{epoch}"]) / 1000 for epoch in names if f"onset_{epoch}" in trials}
        nwbfile.add_trial(start_time=start[j] / 1000, stop_time=(start[j] + TRIAL_MS - 1) / 1000,
                          **{name: trial[name] for name in values}, **onsets)
    device = nwbfile.create_device(name="probe")
    if region_column:
        nwbfile.add_unit_column(region_column, "brain area")
    cue = start + trials["onset_cue"].to_numpy()
    for region, n in units:
        group = nwbfile.create_electrode_group(name=region, description=region, location=region, device=device)
        for _ in range(n):
            background = rng.uniform(0, start[-1] + TRIAL_MS, rng.poisson(5 * (start[-1] + TRIAL_MS) / 1000))
            spike_times = np.sort(np.concatenate([background, cue + 150])) / 1000
            nwbfile.add_unit(spike_times=spike_times, electrode_group=group,
                             **({region_column: region} if region_column else {}))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def write_empty(path):
    """An NWB file with neither trials nor units."""
    with NWBHDF5IO(str(path), "w") as io:
        io.write(NWBFile(session_description="empty", identifier="empty",
                         session_start_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)))
    return path


def import_one(*paths, regions=("LPFC", "V4"), columns=COLUMNS, n_folds=3):
    return dict(import_recordings(list(paths), list(regions), columns, DEFAULT_TIMING, RATES, n_folds))


def test_a_recording_becomes_cue_aligned_rates_per_region_with_its_sessions_apart(tmp_path):
    first = write_recording(tmp_path / "a.nwb", region_column="area", events={"cue": "cue_onset"})
    second = write_recording(tmp_path / "b.nwb", units=(("LPFC", 2),), region_column="area",  # no V4 in this session
                             events={"cue": "cue_onset"}, seed=1)
    columns = dict(COLUMNS, region="area", events={"cue": "cue_onset"})
    imported = import_one(first, second, columns=columns)
    rates, spikes = imported["LPFC"]
    assert rates.sizes["neuron"] == 6 and rates["neuron_session"].values.tolist() == [0] * 4 + [1] * 2
    assert rates.sizes["trial"] == 40 and rates["session"].values.tolist() == [0] * 20 + [1] * 20
    assert (rates["onset_cue"] == 0).all() and (rates["trial_id"].values[:20] == np.arange(20)).all()
    own = (rates["session"] == rates["neuron_session"]).values
    assert rates["rate"].values[own].min() >= 0 and np.isnan(rates["rate"].values[~own]).all()
    # one spike 150 ms after every cue onset: 10 Hz more in the windows around it than the 5 Hz background
    around, away = rates["rate"].sel(time=slice(110, 190)), rates["rate"].sel(time=slice(400, 800))
    assert float(around.mean()) - float(away.mean()) == pytest.approx(10, abs=1.5)
    assert set(spikes["spike_neuron"].values) == set(range(6)) and (spikes["spike_time"] >= rates["time"][0] - 50).all()
    v4 = imported["V4"][0]
    assert (v4["neuron_session"] == 0).all() and v4.sizes["neuron"] == 3
    assert np.isnan(v4["rate"].values[20:]).all()  # every session's trials, for pseudo-populations and the readout
    xr.testing.assert_identical(v4.drop_dims("neuron"), rates.drop_dims("neuron"))


def swap_samples_and_cue(trials):
    retro = trials.index[trials["task"] == "retro"][0]
    trials.loc[retro, ["onset_samples", "onset_cue"]] = trials.loc[retro, ["onset_cue", "onset_samples"]].to_numpy()


@pytest.mark.parametrize("make, columns, n_folds, says", [
    (lambda p: write_recording(p, change=lambda t: t.drop(columns="cued", inplace=True)), COLUMNS, 3,
     "the trials table has no column 'cued' (config key source.columns.cued)"),
    (lambda p: write_recording(p, change=lambda t: t.drop(columns="onset_delay1", inplace=True)), COLUMNS, 3,
     "the trials table has no column 'delay1_time' (config key source.columns.events.delay1)"),
    (lambda p: write_recording(p), dict(COLUMNS, region="area"), 3,
     "the units table has no column 'area' (config key source.columns.region)"),
    (lambda p: write_recording(p, units=(("LPFC", 4), ("V4", 2))), COLUMNS, 3,
     "region V4 has 2 unit(s) in all"),
    (lambda p: write_recording(p, units=(("LPFC", 4),)), COLUMNS, 3, "region V4 has 0 unit(s) in all"),
    (lambda p: write_recording(p, n_per_condition=4), COLUMNS, 5,
     "4 retro trial(s) cued upper; the decoding's 5 folds (decoding.n_folds) need at least 5"),
    (lambda p: write_recording(p, change=swap_samples_and_cue), COLUMNS, 3,
     "events out of order, delay1 at"),
    (lambda p: write_recording(p, change=lambda t: t.__setitem__(
        "onset_delay2", np.where(t["task"] == "pro", np.nan, t["onset_delay2"]))),
     COLUMNS, 3, "(pro) has no delay2 onset"),
    (lambda p: write_recording(p, change=lambda t: t.__setitem__("task", t["task"].replace("retro", "retrospective"))),
     COLUMNS, 3, "holds 'retrospective'; the task must be one of retro, pro"),
    (lambda p: write_recording(p, change=lambda t: t.__setitem__("color_upper", np.degrees(t["color_upper"]))),
     COLUMNS, 3, "colours must be angles in radians"),
    (lambda p: p.write_text("not an NWB file") and p, COLUMNS, 3, "cannot be read as an NWB file"),
    (lambda p: write_recording(p, units=()), COLUMNS, 3, "no units table"),
    (write_empty, COLUMNS, 3, "no trials table"),
])
def test_a_recording_that_does_not_fit_is_refused_naming_the_file_and_the_problem(tmp_path, make, columns, n_folds, says):
    path = make(tmp_path / "session.nwb")
    with pytest.raises(RecordingError) as refused:
        import_one(path, columns=columns, n_folds=n_folds)
    assert str(path) in str(refused.value) and says in str(refused.value)


def test_export_needs_one_path_per_session(simulated, config, tmp_path):
    spikes = {region: data for region, (_, data) in simulated.items()}
    with pytest.raises(ValueError, match=r"the spikes hold 2 session\(s\), 1 paths given"):
        export_sessions(spikes, [tmp_path / "only.nwb"], config)
    assert not list(tmp_path.iterdir())


def test_the_exported_file_is_standard_nwb(simulated, config, tmp_path):
    spikes = {region: data for region, (_, data) in simulated.items()}
    export_sessions(spikes, [tmp_path / "s0.nwb", tmp_path / "s1.nwb"], copy.deepcopy(config))
    with NWBHDF5IO(str(tmp_path / "s1.nwb"), "r") as io:
        nwbfile = io.read()
        assert len(nwbfile.trials) == 24 and set(nwbfile.electrode_groups) == set(config["regions"])
        assert len(nwbfile.units) == 40 and "selection_weight_pro" in nwbfile.units.colnames
        assert "neuron" not in nwbfile.units.colnames  # the contract's index, not a property of the unit
        starts, stops = nwbfile.trials["start_time"].data[:], nwbfile.trials["stop_time"].data[:]
        assert (np.diff(starts) > 0).all() and (stops[:-1] < starts[1:]).all()  # one after another
