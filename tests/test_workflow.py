"""The Snakemake workflow end to end, on the tiny config."""

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
import yaml

from conftest import ROOT, TINY
from wmattn.attention import build
from wmattn.io import open_dataset

REGIONS = list(yaml.safe_load(TINY.read_text())["regions"])
NETWORKS = yaml.safe_load(TINY.read_text())["networks"]


def snakemake(workdir, *args, configfile=TINY):
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
         "--directory", str(workdir), "--configfile", str(configfile), "--cores", "2", *args],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout + run.stderr


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pipeline")
    snakemake(workdir)
    return workdir


def test_lint_reports_no_issue():
    run = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0 and "Lints for" not in run.stdout + run.stderr


def test_every_output_opens_and_keeps_the_contract(workdir):
    results = workdir / "results"
    rates = open_dataset(results / "rates" / "session0.nc", "rates")
    assert list(dict.fromkeys(rates["region"].values)) == REGIONS and np.isfinite(rates["rate"]).all()
    for region in REGIONS:
        decoding = open_dataset(results / "decoding" / f"{region}.nc", "decoding")
        assert decoding.sizes["neuron"] == (rates["region"] == region).sum()
        assert rates["rate"].dtype == "float32"
        retro = (rates["task"] == "retro").values
        assert (rates["onset_samples"].values[retro] < 0).all()  # epochs kept their order
        assert (rates["onset_samples"].values[~retro] > 0).all()
        assert decoding["accuracy"].sizes == {"train_task": 2, "test_task": 2, "time": rates.sizes["time"]}
        assert ((decoding["accuracy"] >= 0) & (decoding["accuracy"] <= 1)).all()
        assert decoding.sizes["permutation"] == 20
        assert decoding["significant"].dtype == bool
        assert (decoding["train_time"].values == rates["time"].values).all()
        assert yaml.safe_load(rates.attrs["config"])["regions"].keys() == set(REGIONS)
        for figure in ("decoding", "generalization", "geometry"):
            for ext in ("png", "pdf"):
                assert (results / "figures" / f"{figure}_{region}.{ext}").stat().st_size > 1000
    spikes = open_dataset(results / "spikes" / "session0.nc", "spikes")
    assert (spikes["trial"] == rates["trial"]).all() and spikes.sizes["spike"] > 0
    for figure in ("task", "examples", "decoding_overview", "generalization_overview", "geometry_overview", "generalization_summary",
                   "attention_model", "comparison", "behaviour"):
        assert (results / "figures" / f"{figure}.png").stat().st_size > 1000
    contrast = open_dataset(results / "contrast" / "generalization.nc", "contrast")
    assert list(contrast["contrast"].values) == ["high-low"] and (contrast["n_neurons"] == 20).all()
    # the planted source has no behaviour; the networks report
    assert list(open_dataset(results / "behaviour" / "summary.nc", "behaviour")["source"].values) == [
        f"model_{name}" for name in NETWORKS]
    for name in NETWORKS:
        attention = open_dataset(results / "model" / name / "attention.nc", "attention")
        # A network is decoded like a region: held-out trials as many as a session's, hidden states at every time.
        assert attention.sizes["trial"] == rates.sizes["trial"] and attention["hidden"].notnull().all()
        assert open_dataset(results / "decoding" / f"model_{name}.nc", "decoding").sizes["neuron"] == attention.sizes["unit"]


def test_the_shared_region_transfers_and_the_independent_one_does_not(workdir):
    transfer = {
        region: float(
            xr.open_dataset(workdir / "results" / "decoding" / f"{region}.nc")["accuracy"]
            .sel(train_task="retro", test_task="pro", time=slice(100, 800)).mean()
        )
        for region in REGIONS
    }
    assert transfer["high"] > 0.7 and abs(transfer["low"] - 0.5) < 0.15
    significant = {
        region: bool(
            xr.open_dataset(workdir / "results" / "decoding" / f"{region}.nc")["significant"]
            .sel(train_task="retro", test_task="pro", time=slice(100, 800)).any()
        )
        for region in REGIONS
    }
    assert significant == {"high": True, "low": False}


def planned_after(workdir, tmp_path, change):
    """The jobs a dry run plans after ``change`` (a function editing the tiny config): {rule: count}."""
    config = yaml.safe_load(TINY.read_text())
    change(config)
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(config))
    plan = snakemake(workdir, "--dry-run", "--quiet", "rules", configfile=changed)
    return {line.split()[0]: int(line.split()[1]) for line in plan.splitlines()
            if len(line.split()) == 2 and line.split()[1].isdigit()}


def test_changing_a_regions_simulation_reruns_the_sessions_and_everything_downstream(workdir, tmp_path):
    planned = planned_after(workdir, tmp_path, lambda config: config["regions"]["high"].update(shared_selection=0.8))
    # a session file holds every region: both regions' decoding, and what reads them, run again
    assert planned == {"simulate": 1, "decode": 2, "contrast": 1, "plot_examples": 1, "plot_decoding": 2,
                       "plot_generalization_summary": 1, "plot_overview": 1, "compare": 1,
                       "plot_comparison": 1, "behaviour": 1, "plot_behaviour": 1, "all": 1, "total": 14}


def test_changing_one_network_retrains_only_that_network(workdir, tmp_path):
    planned = planned_after(workdir, tmp_path, lambda config: config["networks"]["shared"].update(n_steps=5))
    assert planned == {"train_network": 1, "decode_network": 1, "behaviour": 1, "plot_behaviour": 1, "compare": 1,
                       "plot_comparison": 1, "plot_attention_model": 1, "all": 1, "total": 8}


@pytest.mark.parametrize("section, key, value", [("decoding", "C", 0.5), ("comparison", "n_draws", 200),
                                                 ("figures", "transfer_window", [0, 600])])
def test_changing_a_decoding_comparison_or_figure_key_reruns_no_simulation(workdir, tmp_path, section, key, value):
    planned = planned_after(workdir, tmp_path, lambda config: config.setdefault(section, {}).update({key: value}))
    assert "simulate" not in planned and planned.get("total", 0) > 0


def test_the_comparison_has_a_row_per_region_and_network_recomputed_from_the_files(workdir):
    results = workdir / "results"
    table = pd.read_csv(results / "comparison" / "summary.csv", index_col="name")
    assert list(table.index) == REGIONS + [f"model_{name}" for name in NETWORKS]
    for name in table.index:
        decoding = open_dataset(results / "decoding" / f"{name}.nc", "decoding")
        gi = table.loc[name, "gi_delay_retro_to_pro"]  # undefined (NaN) where retro does not decode within itself
        assert np.isnan(gi) or np.isclose(gi, float(decoding["gi"].sel(window="delay", direction="retro_to_pro")))
    assert set(table.loc[REGIONS, "match"]) <= set(NETWORKS) | {"undecided"}
    assert (table.loc[REGIONS, [f"distance_to_{name}_low" for name in NETWORKS]].to_numpy() >= 0).all()
    # The state_dict loads as the issue specifies, into a network of the configured variant and size.
    for name, settings in NETWORKS.items():
        network = build({key: value for key, value in settings.items() if key != "seed"})
        network.load_state_dict(torch.load(results / "model" / name / "model.pt", weights_only=True))


def test_the_report_holds_every_figure_with_its_caption(workdir, tmp_path):
    report = tmp_path / "report.html"
    log = snakemake(workdir, "--report", str(report))
    assert "ERROR/" not in log  # docutils' complaint about a caption's markup, which then renders garbled
    html = report.read_text()
    for figure in ("task", "examples", "decoding_overview", "generalization_overview", "geometry_overview",
                   "generalization_summary", "attention_model", "comparison", "behaviour",
                   *(f"{kind}_{region}" for kind in ("decoding", "geometry") for region in REGIONS)):
        assert f"{figure}.png" in html, figure
    for caption in ("The task as configured", "Which attention-network variant each region resembles", "Spikes of one example neuron",
                    "generalisation index GI", "mixture model of Bays"):
        assert caption in html, caption
    # The config used, resolved: the tiny config's regions and a default it does not set.
    assert "The configuration used" in html and "regions: " + ", ".join(REGIONS) in html
    assert "&quot;plane_windows&quot;" in html
    # PNGs only: a PDF would list every figure twice and may exceed what a browser opens as a data URL.
    pngs = list((workdir / "results" / "figures").glob("*.png"))
    assert '"mime_type": "application/pdf"' not in html and html.count('"mime_type": "image/png"') == len(pngs) == 15


def test_redrawing_the_figures_runs_only_plot_rules(workdir):
    # What `make figures` runs: every plot rule forced, the `figures` target.
    listed = snakemake(workdir, "--list-rules", "--quiet")
    plot_rules = [line.strip() for line in listed.splitlines() if line.strip().startswith("plot_")]
    plan = snakemake(workdir, "--forcerun", *plot_rules, "--dry-run", "--quiet", "rules", "--", "figures")
    planned = {line.split()[0] for line in plan.splitlines() if len(line.split()) == 2 and line.split()[1].isdigit()}
    assert planned - {"total", "figures"} == {
        "plot_task", "plot_examples", "plot_decoding", "plot_overview", "plot_generalization_summary", "plot_attention_model",
        "plot_comparison", "plot_behaviour"}


@pytest.mark.parametrize("target, planned, source", [("run", "simulate", TINY), ("figures", "plot_task", TINY),
                                                     ("figures", "plot_task", ROOT / "tests" / "configs" / "inference.yaml")])
def test_make_takes_a_config_path_with_spaces(tmp_path, target, planned, source):
    # snakemake through the Makefile, dry-run; BIN and INSTALLED point away from the repository's .venv
    config = tmp_path / "my configs" / "tiny copy.yaml"
    config.parent.mkdir()
    shutil.copy(source, config)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "snakemake").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m snakemake "$@"\n')
    (bin_dir / "snakemake").chmod(0o755)
    installed = tmp_path / "installed"
    installed.touch()
    run = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "-o", str(installed), target, f"CONFIG={config}",
         f"BIN={bin_dir}", f"INSTALLED={installed}", f"SNAKEMAKE_ARGS=--dry-run --directory {tmp_path / 'work'}"],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"rule {planned}:" in run.stdout and "This was a dry-run" in run.stdout
    assert "rule infer_" not in run.stdout  # only the inference target runs the inference


def recorded_config(tmp_path, *paths):
    """The tiny config reading the given NWB files instead of simulating."""
    config = yaml.safe_load(TINY.read_text())
    config["source"] = {"nwb": [str(path) for path in paths]}
    path = tmp_path / "recorded.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def exported(workdir):
    """The tiny simulation's one session, exported to NWB by the pipeline."""
    snakemake(workdir, "nwb")
    return workdir / "results" / "nwb" / "session0.nwb"


@pytest.fixture(scope="module")
def recorded(exported, tmp_path_factory):
    """The whole pipeline on the exported file."""
    recorded = tmp_path_factory.mktemp("recorded")
    snakemake(recorded, configfile=recorded_config(recorded, exported))
    return recorded


def test_the_pipeline_on_a_recording_gives_the_simulations_results(workdir, recorded):
    simulated, imported = workdir / "results", recorded / "results"
    assert "units by region: high 20, low 20" in (imported / "logs" / "check_recordings.log").read_text()
    assert "neurons by region: high 20, low 20" in (imported / "logs" / "import_nwb" / "session0.log").read_text()
    rates = open_dataset(imported / "rates" / "session0.nc", "rates")
    np.testing.assert_array_equal(rates["rate"], open_dataset(simulated / "rates" / "session0.nc", "rates")["rate"])
    assert "nwb" in yaml.safe_load(rates.attrs["config"])["source"]
    for region in REGIONS:
        # every analysis, its time axis too (attrs differ: the config)
        xr.testing.assert_equal(xr.load_dataset(imported / "decoding" / f"{region}.nc"),
                                xr.load_dataset(simulated / "decoding" / f"{region}.nc"))
    assert not (imported / "benchmarks" / "simulate").exists()  # nothing was simulated
    assert sorted(path.name for path in (imported / "figures").glob("*.png")) == sorted(
        path.name for path in (simulated / "figures").glob("*.png"))
    pd.testing.assert_frame_equal(pd.read_csv(imported / "comparison" / "summary.csv"),
                                  pd.read_csv(simulated / "comparison" / "summary.csv"), check_exact=True)


def test_a_recording_that_does_not_fit_stops_the_run_before_anything_is_written(exported, tmp_path):
    # a session of the tiny simulation has 12 trials per condition: too few for 20 folds
    config = yaml.safe_load(recorded_config(tmp_path, exported).read_text())
    config["decoding"]["n_folds"] = 20
    path = tmp_path / "too_many_folds.yaml"
    path.write_text(yaml.safe_dump(config))
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
         "--configfile", str(path), "--cores", "2", "results/rates/session0.nc"],
        capture_output=True, text=True,
    )
    assert run.returncode != 0 and "check_recordings" in run.stdout + run.stderr
    log = (tmp_path / "results" / "logs" / "check_recordings.log").read_text()
    assert "session0.nwb: 12 retro trial(s) cued upper" in log and "decoding.n_folds" in log
    assert not (tmp_path / "results" / "rates").exists() and not (tmp_path / "results" / "spikes").exists()
