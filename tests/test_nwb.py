"""Recordings in NWB: a simulation's round trip, a hand-made recording, and every refusal."""

import copy
import datetime

import numpy as np
import pytest
from pynwb import NWBHDF5IO, NWBFile

from wmattn.analysis.region import decode_region
from wmattn.io import region_sessions, write_dataset
from wmattn.nwb import RecordingError, check_recordings, export_session, import_session
from wmattn.simulation import simulate_session
from wmattn.task import DEFAULT_TIMING, epoch_names, generate_trials, timing_from_config

COLUMNS = {"region": "electrode_group", "task": "task", "cued": "cued", "color_upper": "color_upper",
           "color_lower": "color_lower", "events": {}}
RATES = {"bin_ms": 100, "step_ms": 50}
TRIAL_MS = 6000  # a hand-made recording's trials start this far apart


def import_recordings(paths, regions, columns, timing, rates, n_folds):
    """What the workflow does: check every file (check_recordings), then import each (import_session),
    session k from ``paths[k]``; a list of (rates, spikes), one per session."""
    span = check_recordings(paths, regions, columns, timing, n_folds)
    return [import_session(path, k, regions, columns, timing, rates, n_folds, span) for k, path in enumerate(paths)]


def by_region(sessions, region):
    """One region's neurons of every session that has some, as :func:`wmattn.io.region_sessions` reads them."""
    kept = [rates.isel(neuron=rates["region"].values == region) for rates in sessions]
    return [rates for rates in kept if rates.sizes["neuron"]]


@pytest.fixture(scope="module")
def config(config):
    """The two-session tiny config with single-item trials, and 41 neurons of ``high`` over the two sessions."""
    config = copy.deepcopy(config)
    config["task"]["single_item_fraction"] = 0.2
    config["regions"]["high"]["n_neurons_total"] = 41
    del config["regions"]["high"]["n_neurons"]
    return config


@pytest.fixture(scope="module")
def simulated(config):
    """Every session of every region: a list of (rates, spikes), one per session. The planted source
    has no behaviour: each trial is given a report (the cued colour, or NaN), as the circuit's or an
    animal's, to travel with the trials."""
    sessions = []
    for session in range(config["sessions"]["n_sessions"]):
        rates, spikes = simulate_session(config, session)
        cued = np.where(rates["cued"] == "upper", rates["color_upper"], rates["color_lower"])
        report = np.where(np.arange(rates.sizes["trial"]) % 7, np.mod(cued + 0.3, 2 * np.pi), np.nan)
        sessions.append(tuple(data.assign_coords(report=("trial", report)) for data in (rates, spikes)))
    return sessions


@pytest.fixture(scope="module")
def exported(config, simulated, tmp_path_factory):
    """The simulation exported: one NWB file per session, alone in their folder."""
    directory = tmp_path_factory.mktemp("nwb")
    paths = [directory / f"session{k}.nwb" for k in range(len(simulated))]
    for (_, spikes), path in zip(simulated, paths):
        export_session(spikes, path, config)
    return paths


@pytest.fixture(scope="module")
def round_trip(config, exported):
    return import_recordings(exported, list(config["regions"]), COLUMNS, timing_from_config(config["task"]["timing"]),
                             config["rates"], config["decoding"]["n_folds"])


def test_a_simulation_exported_and_imported_again_has_the_same_rates_and_spikes(simulated, round_trip):
    assert len(round_trip) == len(simulated) == 2
    # the sessions' own trials and neurons: 24 two-item and 6 single-item trials, 21 and 20 neurons of high
    assert [rates.sizes["neuron"] for rates, _ in simulated] == [41, 40]
    for (rates, spikes), (imported, imported_spikes) in zip(simulated, round_trip):
        assert (rates["n_items"] == 1).sum() == 6 and np.isnan(rates["report"]).any()
        assert {"n_items", "report"} <= set(imported.coords) and {"n_items", "report"} <= set(imported_spikes.coords)
        np.testing.assert_array_equal(imported["rate"], rates["rate"])
        assert np.isfinite(imported["rate"].values).all() and imported["rate"].dtype == np.float32
        assert imported["rate"].dims == rates["rate"].dims
        for name, coord in rates.coords.items():  # times too, though they went through seconds on the file's clock
            np.testing.assert_array_equal(imported[name], coord)
        # the ground truth travels as unit columns; the units' own ids come along
        assert {"selection_weight_retro", "cell_type", "unit_id", "region"} <= set(imported_spikes["neuron"].coords)
        for name in ("spike_trial", "spike_neuron"):
            np.testing.assert_array_equal(imported_spikes[name], spikes[name])
        np.testing.assert_allclose(imported_spikes["spike_time"], spikes["spike_time"], atol=1e-6)


def test_a_simulation_exported_and_imported_again_decodes_the_same(config, simulated, round_trip):
    settings = dict(n_folds=3, n_resamples=2, n_permutations=4, seed=5)
    for region in config["regions"]:
        original = decode_region(by_region([rates for rates, _ in simulated], region), **settings)
        imported = decode_region(by_region([rates for rates, _ in round_trip], region), **settings)
        for name in ("accuracy", "null", "generalization", "weights", "gi", "color_information", "plane_cosine"):
            np.testing.assert_array_equal(imported[name], original[name])


def write_recording(path, n_per_condition=5, units=(("LPFC", 4), ("V4", 3)), region_column=None, events=None,
                    change=None, seed=0, single_item_fraction=0.0):
    """A recording made with pynwb itself: trials every ``TRIAL_MS`` ms with the default task, units
    firing 5 Hz throughout and once 150 ms after every cue onset; ``region_column`` names a units
    column with the region (default: electrode groups), ``events`` renames epochs' columns, and
    ``change(trials)`` edits the trials table (a DataFrame, onsets in ms from its trial's start; every
    other column is written as a trials column)."""
    rng = np.random.default_rng(seed)
    trials = generate_trials(n_per_condition, rng, single_item_fraction=single_item_fraction)
    if change:
        change(trials)
    start = TRIAL_MS * np.arange(len(trials))
    nwbfile = NWBFile(session_description="hand-made", identifier=str(path),
                      session_start_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    names = {epoch: (events or {}).get(epoch, f"{epoch}_time") for epoch in epoch_names(DEFAULT_TIMING)}
    values = [name for name in trials.columns if not name.startswith("onset_")]
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
    return import_recordings(list(paths), list(regions), columns, DEFAULT_TIMING, RATES, n_folds)


def test_a_recording_becomes_cue_aligned_rates_per_session_with_every_region(tmp_path):
    first = write_recording(tmp_path / "a.nwb", region_column="area", events={"cue": "cue_onset"})
    second = write_recording(tmp_path / "b.nwb", units=(("LPFC", 2),), region_column="area",  # no V4 in this session
                             events={"cue": "cue_onset"}, seed=1)
    columns = dict(COLUMNS, region="area", events={"cue": "cue_onset"})
    (rates, spikes), (other, other_spikes) = import_one(first, second, columns=columns)
    assert rates["region"].values.tolist() == ["LPFC"] * 4 + ["V4"] * 3  # every configured region, in config order
    assert other["region"].values.tolist() == ["LPFC"] * 2
    for k, session in enumerate((rates, other)):
        assert session.sizes["trial"] == 20 and (session["session"] == k).all()
        assert (session["onset_cue"] == 0).all() and (session["trial_id"].values == np.arange(20)).all()
        assert np.isfinite(session["rate"].values).all() and session["rate"].values.min() >= 0
    # one time axis for every session: the span check_recordings found over both files
    np.testing.assert_array_equal(rates["time"], other["time"])
    # one spike 150 ms after every cue onset: 10 Hz more in the windows around it than the 5 Hz background
    for session in (rates, other):
        around, away = session["rate"].sel(time=slice(110, 190)), session["rate"].sel(time=slice(400, 800))
        assert float(around.mean()) - float(away.mean()) == pytest.approx(10, abs=1.5)
    assert set(spikes["spike_neuron"].values) == set(range(7)) and set(other_spikes["spike_neuron"].values) == {0, 1}
    for session, session_spikes in ((rates, spikes), (other, other_spikes)):
        assert (session_spikes["spike_time"] >= session["time"][0] - 50).all()
    # written as the workflow writes them, a region's sessions are those that recorded it
    paths = [tmp_path / "session0.nc", tmp_path / "session1.nc"]
    for session, path in zip((rates, other), paths):
        write_dataset(session, path, {"seed": 0})
    lpfc, v4 = region_sessions(paths, "LPFC"), region_sessions(paths, "V4")
    assert [session.sizes["neuron"] for session in lpfc] == [4, 2]
    assert [session["session"].values[0] for session in lpfc] == [0, 1]
    assert len(v4) == 1 and v4[0].sizes["neuron"] == 3 and (v4[0]["session"] == 0).all()
    np.testing.assert_array_equal(v4[0]["rate"], rates["rate"].values[:, 4:])


def test_a_recordings_single_item_trials_and_reports_are_read_from_its_columns_or_its_colours(tmp_path):
    """Items shown from an n_items column (under another name) or, without one, from NaN colours; reports
    under another name; a single-item trial's uncued colour, recorded or not, becomes NaN."""
    def recorded_elsewhere(trials):
        trials.rename(columns={"n_items": "n_samples"}, inplace=True)
        trials["response"] = np.mod(trials["color_upper"].fillna(0) + 0.1, 2 * np.pi)
        trials["color_lower"] = trials["color_lower"].fillna(1.0)  # a colour stored for the location left blank

    named = write_recording(tmp_path / "named.nwb", single_item_fraction=0.2, change=recorded_elsewhere)
    inferred = write_recording(tmp_path / "inferred.nwb", single_item_fraction=0.2, seed=1,
                               change=lambda t: t.drop(columns="n_items", inplace=True))
    columns = dict(COLUMNS, n_items="n_samples", report="response")
    (named_rates, _), (inferred_rates, _) = import_one(named, inferred, columns=columns)
    for rates, seed in ((named_rates, 0), (inferred_rates, 1)):
        trials = generate_trials(5, np.random.default_rng(seed), single_item_fraction=0.2)
        np.testing.assert_array_equal(rates["n_items"], trials["n_items"])
        for name in ("color_upper", "color_lower"):
            np.testing.assert_array_equal(rates[name], trials[name])
    np.testing.assert_allclose(named_rates["report"], np.mod(np.nan_to_num(named_rates["color_upper"]) + 0.1, 2 * np.pi))
    assert "report" not in inferred_rates.coords  # the file has no column named response
    # both sessions decode, from their two-item trials
    decoding = decode_region(by_region([named_rates, inferred_rates], "LPFC"), n_folds=3, n_permutations=2)
    assert decoding["n_trials"].values.tolist() == [10, 10]  # pseudo-trials per task: 5 of each cued location


def swap_samples_and_cue(trials):
    retro = trials.index[trials["task"] == "retro"][0]
    trials.loc[retro, ["onset_samples", "onset_cue"]] = trials.loc[retro, ["onset_cue", "onset_samples"]].to_numpy()


# Every file is checked before any is imported (check_recordings); import_session reads its file's
# trials and units through the same checks, so a file that changed since is refused too, except for
# the regions' units in all, which only the check over every file can count.
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
     "4 retro trial(s) cued upper with two items; the decoding's 5 folds (decoding.n_folds) need at least 5"),
    (lambda p: write_recording(p, change=swap_samples_and_cue), COLUMNS, 3,
     "events out of order, delay1 at"),
    (lambda p: write_recording(p, change=lambda t: t.__setitem__(
        "onset_delay2", np.where(t["task"] == "pro", np.nan, t["onset_delay2"]))),
     COLUMNS, 3, "(pro) has no delay2 onset"),
    (lambda p: write_recording(p, change=lambda t: t.__setitem__("task", t["task"].replace("retro", "retrospective"))),
     COLUMNS, 3, "holds 'retrospective'; the task must be one of retro, pro"),
    (lambda p: write_recording(p, change=lambda t: t.__setitem__("color_upper", np.degrees(t["color_upper"]))),
     COLUMNS, 3, "colours must be angles in radians"),
    (lambda p: write_recording(p, change=lambda t: t.__setitem__("n_items", np.where(t.index % 2, 2, 3))), COLUMNS, 3,
     "trials column 'n_items' (config key source.columns.n_items) holds 3; the items shown must be 1 or 2"),
    (lambda p: write_recording(p, change=lambda t: t.__setitem__("report_color", np.degrees(t["color_upper"]))), COLUMNS, 3,
     "the reports (config key source.columns.report) run from"),
    (lambda p: write_recording(p, single_item_fraction=0.2, change=lambda t: t.__setitem__(
        "color_upper", np.where(t["cued"] == "upper", np.nan, t["color_upper"]))), COLUMNS, 3,
     "the color_upper colours (config key source.columns.color_upper) of the trials that show the item run from"),
    (lambda p: p.write_text("not an NWB file") and p, COLUMNS, 3, "cannot be read as an NWB file"),
    (lambda p: write_recording(p, units=()), COLUMNS, 3, "no units table"),
    (write_empty, COLUMNS, 3, "no trials table"),
])
def test_a_recording_that_does_not_fit_is_refused_naming_the_file_and_the_problem(tmp_path, make, columns, n_folds, says):
    path = make(tmp_path / "session.nwb")
    with pytest.raises(RecordingError) as refused:
        check_recordings([path], ["LPFC", "V4"], columns, DEFAULT_TIMING, n_folds)
    assert str(path) in str(refused.value) and says in str(refused.value)
    if "unit(s) in all" not in says:  # a file's own problem: its import refuses it too
        with pytest.raises(RecordingError) as refused:
            import_session(path, 0, ["LPFC", "V4"], columns, DEFAULT_TIMING, RATES, n_folds, {"start": -1000, "stop": 3000})
        assert str(path) in str(refused.value) and says in str(refused.value)


def test_every_file_is_checked_and_the_one_that_does_not_fit_is_named(tmp_path):
    good = write_recording(tmp_path / "good.nwb")
    bad = write_recording(tmp_path / "bad.nwb", change=swap_samples_and_cue, seed=1)
    for paths in ([good, bad], [bad, good]):
        with pytest.raises(RecordingError) as refused:
            check_recordings(paths, ["LPFC", "V4"], COLUMNS, DEFAULT_TIMING, 3)
        assert str(bad) in str(refused.value) and str(good) not in str(refused.value)
    # regions' units are counted over every file: 2 V4 units here and 2 there make enough
    first = write_recording(tmp_path / "first.nwb", units=(("LPFC", 4), ("V4", 2)))
    second = write_recording(tmp_path / "second.nwb", units=(("LPFC", 4), ("V4", 2)), seed=2)
    span = check_recordings([first, second], ["LPFC", "V4"], COLUMNS, DEFAULT_TIMING, 3)
    assert span["start"] < 0 < span["stop"]


def test_the_exported_file_is_standard_nwb(simulated, config, tmp_path):
    export_session(simulated[1][1], tmp_path / "s1.nwb", copy.deepcopy(config))
    assert [path.name for path in tmp_path.iterdir()] == ["s1.nwb"]  # nothing left beside it
    with NWBHDF5IO(str(tmp_path / "s1.nwb"), "r") as io:
        nwbfile = io.read()
        assert nwbfile.session_id == "1" and nwbfile.identifier.endswith("-session1")
        assert len(nwbfile.trials) == 30 and set(nwbfile.electrode_groups) == set(config["regions"])
        assert {"n_items", "report_color"} <= set(nwbfile.trials.colnames)
        assert len(nwbfile.units) == 40 and "selection_weight_pro" in nwbfile.units.colnames
        # the contract's index and the region (the electrode group's location), not unit columns
        assert "neuron" not in nwbfile.units.colnames and "region" not in nwbfile.units.colnames
        starts, stops = nwbfile.trials["start_time"].data[:], nwbfile.trials["stop_time"].data[:]
        assert (np.diff(starts) > 0).all() and (stops[:-1] < starts[1:]).all()  # one after another


def inspector_problems(path):
    """nwbinspector's messages at CRITICAL or BEST_PRACTICE_VIOLATION on a file or folder, with DANDI's
    importances: stricter than the default (the Subject's checks are CRITICAL, which `dandi validate` refuses)."""
    from nwbinspector import Importance, inspect_all, load_config

    return list(inspect_all(path, config=load_config("dandi"), progress_bar=False,
                            importance_threshold=Importance.BEST_PRACTICE_VIOLATION))


def test_the_exported_files_pass_the_nwb_inspector(exported, config, tmp_path):
    problems = inspector_problems(exported[0].parent)  # the folder: identifiers unique across its files too
    assert not problems, "\n".join(f"{m.importance.name} {m.check_function_name} {m.file_path} {m.location}: {m.message}"
                                    for m in problems)
    with NWBHDF5IO(str(exported[0]), "r") as io:
        nwbfile = io.read()
        assert nwbfile.units.resolution == config["simulation"]["dt_ms"] / 1000  # seconds
        assert nwbfile.subject.species == "Macaca mulatta" and "not an animal" in nwbfile.subject.description
    # the same check finds a file without them: a hand-made recording has no subject nor resolution
    found = {m.check_function_name for m in inspector_problems(write_recording(tmp_path / "hand-made.nwb"))}
    assert {"check_subject_exists", "check_units_resolution_is_set"} <= found
