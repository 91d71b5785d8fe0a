"""The Snakemake workflow end to end, on the tiny config."""

import shutil
import subprocess
import sys

import pytest
import xarray as xr
import yaml

from conftest import ROOT, TINY
from wmattn.io import open_dataset

REGIONS = list(yaml.safe_load(TINY.read_text())["regions"])


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
    for region in REGIONS:
        rates = open_dataset(results / "rates" / f"{region}.nc", "rates")
        decoding = open_dataset(results / "decoding" / f"{region}.nc", "decoding")
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
    assert (results / "figures" / "transfer_summary.png").stat().st_size > 1000


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


def test_changing_one_region_reruns_only_what_depends_on_it(workdir, tmp_path):
    config = yaml.safe_load(TINY.read_text())
    config["regions"]["high"]["shared_selection"] = 0.8
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(config))
    copy = tmp_path / "copy"
    shutil.copytree(workdir, copy, symlinks=True)
    plan = snakemake(copy, "--dry-run", "--quiet", "rules", configfile=changed)
    planned = {line.split()[0]: int(line.split()[1]) for line in plan.splitlines()
               if len(line.split()) == 2 and line.split()[1].isdigit()}
    assert planned == {"simulate": 1, "decode": 1, "plot_decoding": 1,
                       "plot_transfer_summary": 1, "all": 1, "total": 5}
    assert "results/rates/high.nc" in snakemake(copy, "--dry-run", configfile=changed)
