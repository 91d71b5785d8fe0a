import copy
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, SCHEMA, TINY, load_config
from wmattn import config as config_module
from wmattn.config import ConfigError, validate_config

# the planted calibration config (the former default): the refusals of the planted source and of every source
DEFAULT = yaml.safe_load((ROOT / "config" / "planted.yaml").read_text())
# a circuit of three regions: a controller with a report, a memory it feeds back to, and cue neurons
CIRCUIT = {
    "regions": {
        "LPFC": {"memory": {}, "controller": {"cue_overlap": 0.5}, "report": {}},
        "parietal": {"memory": {"neurons_per_location": 16}, "feedback": {"gate_gain": 0}},
        "V4": {"cue_neurons": 4, "n_neurons": 10},
    },
}


def test_the_planted_config_is_valid_and_gains_the_schema_defaults():
    config = load_config(ROOT / "config" / "planted.yaml")
    assert config["source"] == "planted"
    assert config["simulation"]["dt_ms"] > 0
    assert {"cue": 300} in config["task"]["timing"]["retro"]
    assert set(config["regions"]) == {"LPFC", "FEF", "parietal", "V4"}
    assert all(region["n_neurons"] == 100 for region in config["regions"].values())
    # the circuit's region keys are not filled in
    assert not any(set(region) & set(config_module.CIRCUIT_KEYS) for region in config["regions"].values())


def test_a_circuit_config_gains_the_circuit_defaults_and_none_of_the_planted_keys():
    config = validate_config(copy.deepcopy(CIRCUIT), SCHEMA)
    assert config["source"] == "circuit"  # the default source
    assert config["circuit"]["dt_ms"] == 1.0 and config["circuit"]["report_window_ms"] == 200
    lpfc = config["regions"]["LPFC"]
    assert lpfc["memory"] == {"neurons_per_location": 32, "recurrent_mV": 2.4}
    assert lpfc["controller"] == {"neurons_per_location": 32, "cue_overlap": 0.5, "recurrent_mV": 2.3}
    assert lpfc["report"] == {"memory_to_gate_mV": 0.7, "gate_to_report_mV": 1.5, "recurrent_mV": 2.4, "neurons": 32,
                              "gate_bias_mV": -2}
    assert config["regions"]["parietal"]["feedback"] == {"memory_gain": 0.05, "gate_gain": 0, "delay_ms": 5}
    assert lpfc["cue_neurons"] == 0
    for region in config["regions"].values():
        assert not set(region) & set(config_module.PLANTED_KEYS)
    # n_neurons absent records every circuit neuron of the region
    assert "n_neurons" not in lpfc
    assert config_module.recorded_neurons(config)["V4"] == [10]  # one count per session
    assert config_module.recorded_neurons(config)["LPFC"] == [config_module.circuit_neurons(config)["LPFC"]]
    # the resolved config passes again unchanged (a sweep point validates it again)
    assert validate_config(copy.deepcopy(config), SCHEMA) == config


def test_the_circuits_neurons_are_counted_per_region():
    counts = config_module.circuit_neurons(validate_config(copy.deepcopy(CIRCUIT), SCHEMA))
    # memory: 2 rings of 32 with 8 inhibitory each; controller: 2 pools of 32 and 16 inhibitory per task;
    # report: 2 gates of 32, a ring of 32 and its 8 inhibitory
    assert counts["LPFC"] == 2 * (32 + 8) + (2 * 32 + 2 * 16) + (2 * 32 + 32 + 8)
    assert counts["parietal"] == 2 * (16 + 4)
    assert counts["V4"] == 4 * 4  # retro and pro x upper and lower


@pytest.mark.parametrize(
    "change, key, reason",
    [
        # the planted source's keys, named
        *[(lambda c, key=key, value=value: c["regions"]["V4"].update({key: value}), f"regions.V4.{key}",
           "a key of source planted, and source is circuit")
          for key, value in [("shared_selection", 0.5), ("inhibitory_fraction", 0.2), ("connection_probability", 0.2),
                             ("excitatory_weight_mV", 0.5), ("inhibition_ratio", 5.0), ("background_rate", 250.0),
                             ("background_weight_mV", 2.5), ("color_gain_mV", 4.0), ("tuning_kappa", 2.0),
                             ("memory_fraction", 0.5), ("selection_gain_mV", 0.75), ("selection_latency", 100),
                             ("cued_gain", 0.5), ("response_alignment", 0.5),
                             ("top_down", {"source": "LPFC", "weight_mV": 0.1})]],
        (lambda c: c["regions"]["V4"].update(controller={}), "regions.V4.controller",
         "at most one region has a controller, and regions.LPFC.controller is one"),
        (lambda c: c["regions"]["LPFC"].pop("controller"), "regions.parietal.feedback", "needs a controller in some region"),
        (lambda c: c["regions"]["V4"].update(report={}), "regions.V4.report", "needs memory in the same region"),
        (lambda c: c["regions"]["V4"].update(cue_neurons=0), "regions.V4", "no population"),
        (lambda c: c["regions"].update(MT={}), "regions.MT", "no population"),
        (lambda c: c["regions"]["V4"].update(n_neurons=17), "regions.V4.n_neurons",
         "17 neurons to record, and the region has 16 in the circuit"),
        (lambda c: c["regions"]["parietal"].update(n_neurons=41), "regions.parietal.n_neurons", "has 40 in the circuit"),
        (lambda c: c["regions"]["LPFC"]["memory"].update(neurons_per_location=2), "regions.LPFC.memory.neurons_per_location",
         "minimum"),
        (lambda c: c["regions"]["LPFC"]["controller"].update(cue_overlap=1.5), "regions.LPFC.controller.cue_overlap",
         "maximum"),
        (lambda c: c["regions"]["parietal"]["feedback"].update(delay_ms=-1), "regions.parietal.feedback.delay_ms",
         "minimum"),
        (lambda c: c["regions"]["LPFC"]["report"].update(gain=1), "regions.LPFC.report.gain", "unknown key"),
        (lambda c: c.update(circuit={"dt_ms": 2}), "circuit.dt_ms", "maximum"),
        (lambda c: c.update(circuit={"inhibitory_fraction": 0}), "circuit.inhibitory_fraction", "less than or equal to the minimum"),
        (lambda c: c.update(circuit={"activation_slope_mV": 0}), "circuit.activation_slope_mV", "less than or equal to the minimum"),
        (lambda c: c.update(circuit={"tau_m_ms": 20}), "circuit.tau_m_ms", "unknown key"),
        (lambda c: c["decoding"].update(n_folds=7) or c["sessions"].update(n_trials_per_condition=6), "decoding.n_folds",
         "7 folds need at least 7 trials"),
        (lambda c: c["regions"]["V4"].update(n_neurons_total=40), "regions.V4.n_neurons_total",
         "neurons over the sessions, and regions.V4.n_neurons gives them per session"),
        (lambda c: c["regions"]["parietal"].update(n_neurons_total=81) or c["sessions"].update(n_sessions=2),
         "regions.parietal.n_neurons_total", "81 neurons over 2 session(s) record 41 in a session, and the region has 40"),
        (lambda c: c["regions"]["parietal"].update(n_neurons_total=5) or c["sessions"].update(n_sessions=2),
         "regions.parietal.n_neurons_total", "5 neurons over 2 session(s) give a session 2, and a simulated session needs at least 3"),
        (lambda c: c["regions"]["parietal"].update(n_neurons_total=2), "regions.parietal.n_neurons_total", "minimum"),
    ],
)
def test_a_bad_circuit_value_is_refused_and_its_key_named(change, key, reason):
    config = copy.deepcopy(CIRCUIT) | {"decoding": {}, "sessions": {}}
    change(config)
    with pytest.raises(ConfigError) as refused:
        validate_config(config, SCHEMA)
    assert f"config key {key}:" in str(refused.value)
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    "change, key, reason",
    [
        (lambda c: c.update(sed=1), "sed", "unknown key"),
        (lambda c: c["regions"]["LPFC"].update(shared_selektion=0.5), "regions.LPFC.shared_selektion", "unknown key"),
        (lambda c: c["regions"]["V4"].update(shared_selection="high"), "regions.V4.shared_selection", "not of type"),
        (lambda c: c["sessions"].update(n_trials_per_condition=2.5), "sessions.n_trials_per_condition", "not of type"),
        (lambda c: c["regions"]["FEF"].update(shared_selection=1.5), "regions.FEF.shared_selection", "maximum"),
        (lambda c: c["decoding"].update(n_folds=1), "decoding.n_folds", "minimum"),
        (lambda c: c.update(networks={"shared": {"attention": "multiplicative"}}), "networks.shared.attention", "not one of"),
        (lambda c: c.update(networks={"a b": {}}), "networks", "does not match"),
        (lambda c: c.update(model={"hidden_size": 8}), "model", "unknown key; allowed here"),
        (lambda c: c["regions"]["LPFC"].pop("shared_selection"), "regions.LPFC.shared_selection", "required when source is planted"),
        (lambda c: c.update(source="recordings"), "source", "neither one of 'circuit', 'planted' nor a mapping"),
        (lambda c: c.update(source="simulation"), "source", "neither one of 'circuit', 'planted' nor a mapping"),
        (lambda c: c.pop("source"), "regions.LPFC.shared_selection", "a key of source planted, and source is circuit"),
        *[(lambda c, key=key, value=value: c["regions"]["V4"].update({key: value}), f"regions.V4.{key}",
           "a key of source circuit, and source is planted")
          for key, value in [("memory", {}), ("cue_neurons", 0), ("controller", {}), ("report", {}), ("feedback", {})]],
        (lambda c: c.update(source={"nwb": []}), "source.nwb", "non-empty"),
        (lambda c: c.update(source={"nwb": ["a.nwb"], "columns": {"cue": "cue_time"}}), "source.columns.cue", "unknown key"),
        (lambda c: c.update(source={"nwb": ["a.nwb"], "columns": {"events": {"delay3": "d3"}}}) or c["regions"]["FEF"].pop("top_down"),
         "source.columns.events.delay3", "not an epoch of task.timing"),
        (lambda c: c.update(source={"nwb": ["a.nwb"]}), "regions.FEF.top_down", "source: planted only"),
        (lambda c: c.update(source={"nwb": ["a.nwb"]}, sweeps=["s.tsv"]) or c["regions"]["FEF"].pop("top_down"),
         "sweeps", "(source: circuit or planted) only"),
        (lambda c: c["rates"].update(bin_ms=75, step_ms=50), "rates.bin_ms", "multiple"),
        (lambda c: c.update(decoding={"windows": {"late": [800, 400]}}), "decoding.windows.late", "must start before it ends"),
        (lambda c: c.update(decoding={"plane_windows": {"pro": {"after_selection": [4000, 4500]}}}),
         "decoding.plane_windows.pro.after_selection", "outside the trials"),
        (lambda c: c.update(decoding={"plane_windows": {"pro": {"during_cue": [0, 300]}}}),
         "decoding.plane_windows.pro.during_cue", "unknown key"),
        (lambda c: c.update(task={"timing": {"retro": [{"samples": 500}, {"cue": 300}],
                                             "pro": [{"cue": 300}, {"sample": 500}]}}),
         "task.timing.pro", "needs an epoch named samples"),
        (lambda c: c.update(task={"timing": {"retro": [{"samples": 500}, {"cue": 300}],
                                             "pro": [{"cue": 300}, {"samples": 500}, {"cue": 300}]}}),
         "task.timing.pro", "cue appears more than once"),
        (lambda c: c["regions"]["V4"].update(top_down={"source": "MT", "weight_mV": 0.1}),
         "regions.V4.top_down.source", "not a configured region"),
        (lambda c: c["regions"]["LPFC"].update(top_down={"source": "FEF", "weight_mV": 0.1}),
         "regions.FEF.top_down.source", "cycle"),
        (lambda c: c["regions"]["V4"].update(top_down={"source": "LPFC"}), "regions.V4.top_down", "weight_mV"),
        # NaN and infinity pass the schema's bounds (every comparison with NaN is false)
        (lambda c: c["regions"]["V4"].update(shared_selection=float("nan")), "regions.V4.shared_selection", "nan is not a finite number"),
        (lambda c: c["rates"].update(step_ms=float("inf")), "rates.step_ms", "inf is not a finite number"),
        (lambda c: c.update(figures={"transfer_window": [100, float("-inf")]}), "figures.transfer_window.1", "-inf is not a finite number"),
        (lambda c: c.update(task={"timing": {"retro": [{"samples": float("nan")}, {"cue": 300}], "pro": [{"cue": 300}, {"samples": 500}]}}),
         "task.timing.retro.0.samples", "nan is not a finite number"),
        # jsonschema counts a float with no fraction as an integer
        (lambda c: c["decoding"].update(n_folds=3.0), "decoding.n_folds", "3.0 is not of type 'integer'"),
        (lambda c: c["regions"]["V4"].update(n_neurons=50.0), "regions.V4.n_neurons", "50.0 is not of type 'integer'"),
        (lambda c: c.update(seed=1.0), "seed", "1.0 is not of type 'integer'"),
        (lambda c: c["decoding"].update(n_folds=7) or c["sessions"].update(n_trials_per_condition=6), "decoding.n_folds",
         "7 folds need at least 7 trials of each task x cued location in a session, and sessions.n_trials_per_condition is 6"),
        # trial totals over the sessions instead of trials per session
        (lambda c: c["sessions"].update(n_trials={"retro": 100, "pro": 100}), "sessions.n_trials",
         "totals over the sessions, and sessions.n_trials_per_condition gives trials per session"),
        (lambda c: c.update(sessions={"n_trials": {"retro": 100, "pro": 100, "single_item": 50}},
                            task={"single_item_fraction": 0.1}), "sessions.n_trials.single_item",
         "task.single_item_fraction gives them as a fraction"),
        (lambda c: c.update(sessions={"n_trials": {"retro": 100}}), "sessions.n_trials", "'pro' is a required property"),
        (lambda c: c.update(sessions={"n_trials": {"retro": 100, "pro": 100, "single": 5}}), "sessions.n_trials.single",
         "unknown key"),
        (lambda c: c.update(sessions={"n_trials": {"retro": 100, "pro": 100, "single_item": -1}}),
         "sessions.n_trials.single_item", "minimum"),
        (lambda c: c.update(sessions={"n_sessions": 3, "n_trials": {"retro": 100, "pro": 29}}), "decoding.n_folds",
         "5 folds need at least 5 two-item trials of each task x cued location in a session, and sessions.n_trials "
         "gives session 2 4 pro trials cued"),
        (lambda c: c.update(task={"single_item_fraction": 1}), "task.single_item_fraction", "greater than or equal to the maximum"),
        (lambda c: c.update(task={"single_item_fraction": -0.1}), "task.single_item_fraction", "minimum"),
        (lambda c: c["regions"]["V4"].update(n_neurons=50, n_neurons_total=300), "regions.V4.n_neurons_total",
         "neurons over the sessions, and regions.V4.n_neurons gives them per session"),
    ],
)
def test_a_bad_value_is_refused_and_its_key_named(change, key, reason):
    config = copy.deepcopy(DEFAULT)
    change(config)
    with pytest.raises(ConfigError) as refused:
        validate_config(config, SCHEMA)
    assert f"config key {key}:" in str(refused.value)
    assert reason in str(refused.value)


def test_recordings_need_no_simulation_keys_and_gain_the_default_column_names():
    config = copy.deepcopy(DEFAULT)
    config["regions"] = {"LPFC": {}, "V4": {}}
    config["source"] = {"nwb": ["session0.nwb", "session1.nwb"], "columns": {"region": "area"}}
    columns = validate_config(config, SCHEMA)["source"]["columns"]
    assert columns == {"region": "area", "task": "task", "cued": "cued", "color_upper": "color_upper",
                       "color_lower": "color_lower", "n_items": "n_items", "report": "report_color", "events": {}}
    # neither source's region defaults are filled in; n_neurons sizes the jobs
    assert validate_config(copy.deepcopy(config), SCHEMA)["regions"] == {"LPFC": {"n_neurons": 100}, "V4": {"n_neurons": 100}}


def test_snakemake_stops_on_a_bad_config_before_any_job(tmp_path):
    config = copy.deepcopy(DEFAULT)
    config["regions"]["V4"]["shared_selection"] = -0.2
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
         "--directory", str(tmp_path), "--configfile", str(path), "--cores", "1"],
        capture_output=True, text=True,
    )
    assert run.returncode != 0
    assert "config key regions.V4.shared_selection" in run.stdout + run.stderr
    assert not (tmp_path / "results").exists()


def test_yaml_nan_and_inf_are_refused_as_read_from_a_file():
    config = yaml.safe_load(TINY.read_text().replace("shared_selection: 1.0", "shared_selection: .nan"))
    with pytest.raises(ConfigError, match=r"config key regions.high.shared_selection: nan is not a finite number"):
        validate_config(config, SCHEMA)
    config = yaml.safe_load(TINY.read_text().replace("n_folds: 3", "n_folds: 3.0"))
    with pytest.raises(ConfigError, match=r"config key decoding.n_folds: 3.0 is not of type 'integer'"):
        validate_config(config, SCHEMA)


def test_as_many_folds_as_trials_per_condition_pass_and_recordings_are_checked_per_file():
    config = copy.deepcopy(DEFAULT)
    config["decoding"]["n_folds"] = config["sessions"]["n_trials_per_condition"] = 5
    validate_config(config, SCHEMA)
    config = copy.deepcopy(DEFAULT)
    config["decoding"]["n_folds"], config["sessions"]["n_trials_per_condition"] = 7, 6
    config["source"] = {"nwb": ["a.nwb"]}
    config["regions"] = {"LPFC": {}}
    validate_config(config, SCHEMA)  # the import compares the folds with each file's trials


def test_a_rates_array_larger_than_the_machines_memory_is_refused(monkeypatch):
    # the default config: 240 two-item and 60 single-item trials x 400 neurons (4 regions); 1 ms steps
    # give 5301 bins of 100 ms, 2.5 GB
    config = copy.deepcopy(DEFAULT)
    config["rates"]["step_ms"] = 1
    monkeypatch.setattr(config_module, "machine_memory_bytes", lambda: 2 * 10**9)
    with pytest.raises(ConfigError) as refused:
        validate_config(copy.deepcopy(config), SCHEMA)
    assert str(refused.value) == (
        "config key rates.step_ms: 1 ms steps give 5301 time bins, and a session's rates array "
        "(300 trials x 400 neurons of every region x 5301 time bins x 4 bytes) would need 2.5 GB; "
        "this machine has 2.0 GB of memory"
    )
    monkeypatch.setattr(config_module, "machine_memory_bytes", lambda: 3 * 10**9)
    validate_config(copy.deepcopy(config), SCHEMA)


def test_a_step_no_machine_could_hold_is_refused_with_this_machines_memory():
    config = copy.deepcopy(DEFAULT)
    config["rates"]["step_ms"] = 2.0**-20  # 5.6e9 time bins: petabytes (a power of two divides bin_ms exactly)
    with pytest.raises(ConfigError, match=r"config key rates.step_ms: .* would need [0-9.]+ GB; this machine has") as refused:
        validate_config(config, SCHEMA)
    assert f"{config_module.machine_memory_bytes() / 1e9:.1f} GB of memory" in str(refused.value)


def test_the_circuits_rates_array_counts_its_recorded_neurons(monkeypatch):
    config = copy.deepcopy(CIRCUIT)
    config["rates"] = {"step_ms": 1}
    resolved = validate_config(copy.deepcopy(config), SCHEMA)
    recorded = sum(counts[0] for counts in config_module.recorded_neurons(resolved).values())
    assert recorded == config_module.circuit_neurons(resolved)["LPFC"] + 40 + 10
    monkeypatch.setattr(config_module, "machine_memory_bytes", lambda: 10**6)
    with pytest.raises(ConfigError) as refused:
        validate_config(copy.deepcopy(config), SCHEMA)
    assert f"(300 trials x {recorded} neurons of every region x 5301 time bins x 4 bytes)" in str(refused.value)


def test_the_paper_config_gives_the_papers_trial_and_neuron_totals_over_its_sessions():
    """P&B: 23 sessions, 8,620 retro, 8,169 pro and 4,207 single-item trials; LPFC 574, FEF 163, parietal 292,
    V4 311 neurons. Counted from the trial tables the simulation draws (no network is run)."""
    from wmattn.simulation.sessions import session_trials

    config = load_config(ROOT / "config" / "paper.yaml")
    trials = session_trials(config)
    assert trials["session"].nunique() == 23
    single = trials["n_items"] == 1
    assert trials[~single]["task"].value_counts().to_dict() == {"retro": 8620, "pro": 8169}
    assert single.sum() == 4207
    # as evenly as possible: sessions within one trial of each other in every count, the first ones larger
    for counts in (trials[~single].groupby(["session", "task"]).size().unstack(),
                   trials[single].groupby("session").size().to_frame()):
        for column in counts:
            assert counts[column].max() - counts[column].min() <= 1 and counts[column].is_monotonic_decreasing
    per_condition = trials.groupby(["task", "cued", "n_items"]).size()
    # and over the cued locations (the remainders passed from session to session), single-item trials over both tasks
    for task in ("retro", "pro"):
        assert abs(per_condition[task, "upper", 2] - per_condition[task, "lower", 2]) <= 1
    assert per_condition[:, :, 1].max() - per_condition[:, :, 1].min() <= 2
    assert config_module.trials_per_session(config) == trials.groupby("session").size().tolist()
    neurons = config_module.recorded_neurons(config)
    assert {name: sum(counts) for name, counts in neurons.items()} == {"LPFC": 574, "FEF": 163, "parietal": 292, "V4": 311}
    assert all(max(counts) - min(counts) <= 1 and counts == sorted(counts, reverse=True) for counts in neurons.values())
    # the defaults the totals replace are not in the resolved config, which passes again unchanged
    assert "n_trials_per_condition" not in config["sessions"] and "single_item_fraction" not in config["task"]
    assert "n_neurons" not in config["regions"]["LPFC"]
    assert validate_config(copy.deepcopy(config), SCHEMA) == config
    assert config_module.single_item_fraction(config) == pytest.approx(4207 / 20996)


def test_trials_per_condition_put_single_item_trials_on_top_and_totals_may_leave_them_to_the_fraction():
    config = load_config(ROOT / "config" / "planted.yaml")  # 60 per condition, the default fraction 0.2
    assert config_module.trials_per_session(config) == [300]
    assert config_module.session_trial_counts(config)[0]["retro", "upper", 1] == 15
    config = copy.deepcopy(DEFAULT)
    config["sessions"] = {"n_sessions": 2, "n_trials": {"retro": 50, "pro": 50}}
    counts = config_module.session_trial_counts(validate_config(config, SCHEMA))
    assert [sum(n for key, n in own.items() if key[2] == 1) for own in counts] == [13, 12]  # 25 = 0.2 of 125
    assert [own["retro", "upper", 2] + own["retro", "lower", 2] for own in counts] == [25, 25]


def test_the_analyses_default_windows_are_the_schemas():
    from wmattn.analysis.region import PLANE_WINDOWS, WINDOWS

    config = load_config(TINY)
    assert config["decoding"]["windows"] == WINDOWS and config["decoding"]["plane_windows"] == PLANE_WINDOWS
