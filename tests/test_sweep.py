"""Parameter sweeps: the sweep table's checks, and `snakemake sweeps` on the tiny config."""

import copy
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from conftest import ROOT, SCHEMA, TINY, load_config
from wmattn.config import validate_config
from wmattn.config import ConfigError
from wmattn.figures.style import plt
from wmattn.figures.sweep import sweep_figure, sweep_summary
from wmattn.io import open_dataset
from wmattn.sweep import Sweep

TABLE = ROOT / "tests" / "configs" / "sweeps" / "high_shared_selection.tsv"


def load_config_dict(config):
    return validate_config(config, SCHEMA)


@pytest.mark.parametrize("path", [ROOT / "config" / "config.yaml", ROOT / "config" / "planted.yaml",
                                  ROOT / "config" / "paper.yaml", TINY])
def test_every_shipped_config_is_valid_and_runs_no_sweep_by_default(path):
    assert load_config(path)["sweeps"] == []


def test_the_shipped_sweep_table_fits_the_planted_config():
    sweep = Sweep(ROOT / "config" / "sweeps" / "parietal_shared_selection.tsv",
                  load_config(ROOT / "config" / "planted.yaml"), SCHEMA)
    assert (sweep.name, sweep.region, sweep.values) == ("parietal_shared_selection", "parietal", [0, 0.25, 0.5, 0.75, 1])
    assert sweep.points[1] == "shared_selection~0.25" and sweep.value("shared_selection~0.25") == 0.25


def test_a_point_changes_only_the_swept_key_and_resimulates_what_the_region_drives(tiny_config, tmp_path):
    table = tmp_path / "sweep.tsv"
    table.write_text("regions.high.shared_selection\n0.3\n")
    tiny_config["regions"]["low"]["top_down"] = {"source": "high", "weight_mV": 0.1}
    sweep = Sweep(table, tiny_config, SCHEMA)
    point = sweep.points[0]
    assert sweep.point_config(point)["regions"]["high"]["shared_selection"] == 0.3
    assert tiny_config["regions"]["high"]["shared_selection"] == 1.0  # the main config is untouched
    assert sweep.resimulated(point) == ["high", "low"]
    # low's source is simulated again at the point, in the same job: no main rates drive it
    assert sweep.sources(point, 0) == {}


def test_a_circuit_point_resimulates_every_region(tmp_path):
    config = load_config_dict({"regions": {"PFC": {"memory": {}, "controller": {}}, "V4": {"memory": {}, "feedback": {}},
                                           "IT": {"cue_neurons": 3}}})
    table = tmp_path / "sweep.tsv"
    table.write_text("regions.V4.memory.recurrent_mV\n0\n2.4\n")
    sweep = Sweep(table, config, SCHEMA)
    for point in sweep.points:
        assert sweep.resimulated(point) == ["PFC", "V4", "IT"]  # one network: every region, in the config's order
        assert sweep.sources(point, 0) == {}
    assert sweep.point_config(sweep.points[0])["regions"]["V4"]["memory"] == {"neurons_per_location": 32, "recurrent_mV": 0}
    # a planted key cannot be swept in a circuit
    table.write_text("regions.V4.shared_selection\n0.5\n")
    with pytest.raises(ConfigError, match="line 2: config key regions.V4.shared_selection: a key of source planted"):
        Sweep(table, config, SCHEMA)


def test_a_source_the_point_does_not_simulate_again_drives_it_from_the_main_rates(tiny_config, tmp_path):
    table = tmp_path / "sweep.tsv"
    table.write_text("regions.high.shared_selection\n0.3\n")
    tiny_config["regions"]["high"]["top_down"] = {"source": "low", "weight_mV": 0.1}  # low drives the swept region
    sweep = Sweep(table, tiny_config, SCHEMA)
    point = sweep.points[0]
    assert sweep.resimulated(point) == ["high"]
    assert sweep.sources(point, 0) == {"low": "results/rates/session0.nc"}
    assert sweep.sources(point, 3) == {"low": "results/rates/session3.nc"}  # the same session's


@pytest.mark.parametrize(
    "text, message",
    [
        ("regions.high.shared_selection\tregions.low.shared_selection\n0\t1\n", "needs exactly one column"),
        ("decoding.C\n1\n", "column 'decoding.C' is not a region's config key"),
        ("regions.mid.shared_selection\n0.5\n", "'mid' is not a configured region"),
        ("regions.high.shared_selection\n0.5\n1.5\n", "line 3: config key regions.high.shared_selection: 1.5 is greater"),
        ("regions.high.shared_selektion\n0.5\n", "line 2: config key regions.high.shared_selektion: unknown key"),
        ("regions.high.shared_selection\n0.5\n0.5\n", "repeats the value 0.5"),
        ("regions.high.shared_selection\n", "at least one row"),
    ],
)
def test_a_bad_sweep_table_is_refused_naming_the_file_and_what_is_wrong(tiny_config, tmp_path, text, message):
    table = tmp_path / "bad.tsv"
    table.write_text(text)
    with pytest.raises(ConfigError) as refused:
        Sweep(table, tiny_config, SCHEMA)
    assert f"sweep table {table}" in str(refused.value) and message in str(refused.value)


def test_the_sweep_summary_averages_accuracies_over_the_window_and_reads_gi_in_every_window():
    time = np.array([0.0, 200.0, 400.0, 600.0])
    pairs = {"train_task": ["retro", "pro"], "test_task": ["retro", "pro"]}
    # accuracy: train retro 0.8 within, 0.6 transfer; train pro 0.9 within, 0.7 transfer, + time / 1000
    base = np.array([[0.8, 0.6], [0.7, 0.9]])[:, :, None] + time / 1000
    gi = np.array([[0.1, 0.2, 0.15], [0.3, 0.4, 0.35]])
    decoding = xr.Dataset(
        {"accuracy": (("train_task", "test_task", "time"), base),
         "accuracy_ci": (("ci_bound", "train_task", "test_task", "time"), np.stack([base - 0.1, base + 0.1])),
         "gi": (("window", "direction"), gi),
         "gi_ci": (("ci_bound", "window", "direction"), np.stack([gi - 0.5, gi + 0.5]))},
        coords={**pairs, "time": time, "ci_bound": [0.025, 0.975], "window": ["cue", "delay"],
                "direction": ["retro_to_pro", "pro_to_retro", "both"]},
    )
    summary = sweep_summary([0.0, 1.0], [decoding, decoding.assign(gi=decoding["gi"] + 1)], "high", (150, 450))
    assert list(summary["value"]) == [0.0, 1.0]
    row = summary.iloc[0]
    # bins 200 and 400 ms lie in the window: + 0.3 on average
    assert row["within_retro"] == pytest.approx(1.1) and row["within_pro"] == pytest.approx(1.2)
    assert row["transfer_retro_to_pro"] == pytest.approx(0.9) and row["transfer_pro_to_retro"] == pytest.approx(1.0)
    assert (row["transfer_retro_to_pro_low"], row["transfer_retro_to_pro_high"]) == pytest.approx((0.8, 1.0))
    assert row["gi_delay_pro_to_retro"] == pytest.approx(0.4)
    assert (row["gi_cue_retro_to_pro_low"], row["gi_cue_retro_to_pro_high"]) == pytest.approx((-0.4, 0.6))
    assert summary.iloc[1]["gi_delay_pro_to_retro"] == pytest.approx(1.4)
    assert not any("both" in column for column in summary.columns)
    plt.close(sweep_figure(summary, "regions.high.shared_selection", "high", (150, 450), configured=1.0))
    with pytest.raises(ValueError, match="no time bin"):
        sweep_summary([0.0], [decoding], "high", (1000, 2000))


def snakemake(workdir, configfile, *args):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
         "--directory", str(workdir), "--configfile", str(configfile), "--cores", "2", *args],
        capture_output=True, text=True,
    )


def test_a_missing_table_and_a_request_without_sweeps_say_what_to_do(tmp_path):
    run = snakemake(tmp_path, TINY, "--dry-run", "sweeps")
    assert run.returncode != 0 and "no sweeps configured" in run.stdout + run.stderr
    config = yaml.safe_load(TINY.read_text()) | {"sweeps": ["nowhere.tsv"]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    run = snakemake(tmp_path, tmp_path / "config.yaml", "--dry-run")
    assert run.returncode != 0 and "config key sweeps: nowhere.tsv: no such file" in run.stdout + run.stderr


def planned(workdir, configfile, *targets):
    """The jobs a dry run plans: {rule: [wildcards]}."""
    run = snakemake(workdir, configfile, "--dry-run", *targets)
    assert run.returncode == 0, run.stdout + run.stderr
    jobs = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", run.stdout + run.stderr):
        rule = re.match(r"(?:local)?rule (\w+):\n", block)
        if rule:
            wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.MULTILINE)
            jobs.setdefault(rule.group(1), []).append(wildcards.group(1) if wildcards else "")
    return jobs


def test_the_sweep_gives_one_result_per_row_in_its_own_directory_and_a_figure(tmp_path):
    table = tmp_path / TABLE.name  # a copy, to add a row to; the sweep is named after the file
    shutil.copy(TABLE, table)
    config = yaml.safe_load(TINY.read_text()) | {"sweeps": [str(table)]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    run = snakemake(tmp_path, tmp_path / "config.yaml", "sweeps")
    assert run.returncode == 0, run.stdout + run.stderr
    results = tmp_path / "results"
    sessions = [f"session{k}.nc" for k in range(config["sessions"]["n_sessions"])]
    values = pd.read_csv(TABLE, sep="\t").iloc[:, 0].tolist()
    points = sorted(path.name for path in (results / "sweeps" / "high_shared_selection").iterdir() if path.is_dir())
    assert points == sorted(f"shared_selection~{value}" for value in values)
    for point in points:
        directory = results / "sweeps" / "high_shared_selection" / point
        # Only the swept region is simulated again, in every session, and only it is decoded.
        for kind in ("rates", "spikes"):
            assert sorted(path.name for path in (directory / kind).iterdir()) == sessions
        for name in sessions:
            assert set(open_dataset(directory / "rates" / name, "rates")["region"].values) == {"high"}
        assert sorted(path.name for path in (directory / "decoding").iterdir()) == ["high.nc"]
        assert sorted(path.name for path in directory.iterdir()) == ["decoding", "rates", "spikes"]
        # Every file of the point records the point's config, not the main one.
        value = float(point.split("~")[1])
        for path in (directory / "rates" / sessions[0], directory / "spikes" / sessions[0],
                     directory / "decoding" / "high.nc"):
            recorded = json.loads(xr.open_dataset(path).attrs["config"])
            assert recorded["regions"]["high"]["shared_selection"] == value, path
    for ext in ("png", "pdf"):
        assert (results / "figures" / f"sweep_high_shared_selection.{ext}").stat().st_size > 1000
    # The swept region has no top-down source, so the sweep asks for no main result at all:
    # no main simulation, decoding, model or figure is made.
    assert sorted(path.name for path in results.iterdir()) == ["benchmarks", "figures", "logs", "sweeps"]
    assert sorted(path.name for path in (results / "figures").iterdir()) == [
        "sweep_high_shared_selection.pdf", "sweep_high_shared_selection.png"]

    # The point at the configured value is the main simulation again (same seed, same config) ...
    run = snakemake(tmp_path, tmp_path / "config.yaml", *(f"results/rates/{name}" for name in sessions))
    assert run.returncode == 0, run.stdout + run.stderr
    for name in sessions:
        main = open_dataset(results / "rates" / name, "rates")
        again = open_dataset(results / "sweeps" / "high_shared_selection" / "shared_selection~1.0" / "rates" / name, "rates")
        # high is the first region: its neurons are numbered alike in both files
        xr.testing.assert_identical(main["rate"].isel(neuron=main["region"].values == "high"), again["rate"])
    # ... and the swept value moves the region's transfer and its generalisation index (high is the
    # planted source: shared_selection 1 plants one selection axis for both tasks, 0 two orthogonal ones).
    summary = pd.read_csv(results / "sweeps" / "high_shared_selection" / "summary.csv").set_index("value")
    assert list(summary.index) == values
    for window in ("cue", "delay"):
        for direction in ("retro_to_pro", "pro_to_retro"):
            gi = f"gi_{window}_{direction}"
            assert {gi, f"{gi}_low", f"{gi}_high"} <= set(summary.columns)
            assert (summary[f"{gi}_low"] <= summary[gi]).all() and (summary[gi] <= summary[f"{gi}_high"]).all()
    for direction in ("retro_to_pro", "pro_to_retro"):
        assert summary.loc[1.0, f"transfer_{direction}"] > summary.loc[0.0, f"transfer_{direction}"] + 0.1
        assert summary.loc[1.0, f"gi_delay_{direction}"] > summary.loc[0.0, f"gi_delay_{direction}"]

    # Adding a row runs only that row (and the figure again) ...
    table.write_text(TABLE.read_text().rstrip("\n") + "\n0.5\n")
    jobs = planned(tmp_path, tmp_path / "config.yaml", "sweeps")
    assert set(jobs) == {"sweep_simulate", "sweep_decode", "plot_sweep", "sweeps"}, jobs
    for rule in ("sweep_simulate", "sweep_decode"):
        assert all("point=shared_selection~0.5" in wildcards for wildcards in jobs[rule]), jobs[rule]
    assert len(jobs["sweep_simulate"]) == len(sessions)
    # ... and editing the swept region in the config runs every row again (and not the main simulation).
    edited = copy.deepcopy(config)
    edited["regions"]["high"]["tuning_kappa"] = 3.0
    (tmp_path / "edited.yaml").write_text(yaml.safe_dump(edited))
    jobs = planned(tmp_path, tmp_path / "edited.yaml", "sweeps")
    assert sorted(jobs["sweep_simulate"]) == sorted(
        f"sweep=high_shared_selection, point=shared_selection~{value}, session={k}"
        for value in [*values, 0.5] for k in range(len(sessions)))
    assert "simulate" not in jobs, jobs
