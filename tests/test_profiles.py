"""The SLURM profile: a dry run plans every job with resources sized from the config.

Needs snakemake-executor-plugin-slurm (the `test` extra), but no SLURM: the
dry run is made with every SLURM command (sbatch, sinfo, ...) off the PATH.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, TINY

PROFILE = ROOT / "workflow" / "profiles" / "slurm"
SLURM_COMMANDS = ("sbatch", "srun", "sinfo", "squeue", "sacct", "scontrol", "scancel")
# Rules whose sizes the workflow computes from the config (common.smk); the
# others (figures) fall back to the profile's default-resources.
SIZED_RULES = {"simulate", "decode", "decode_model", "train_attention", "region_attention", "compare"}


def path_without_slurm():
    """PATH with every directory holding a SLURM command left out."""
    return os.pathsep.join(
        directory for directory in os.environ.get("PATH", "").split(os.pathsep)
        if directory and not any((Path(directory) / command).exists() for command in SLURM_COMMANDS)
    )


def plan(workdir, configfile, *args):
    """The jobs of a dry run with the SLURM profile: (rule, wildcards) -> threads and resources."""
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--profile", str(PROFILE),
         "--directory", str(workdir), "--configfile", str(configfile), "--dry-run", *args],
        capture_output=True, text=True, env=dict(os.environ, PATH=path_without_slurm()),
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    jobs = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", output):
        rule = re.match(r"(?:local)?rule (\w+):\n", block)
        if not rule:
            continue
        wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.MULTILINE)
        threads = re.search(r"^\s+threads: (\d+)$", block, re.MULTILINE)
        resources = re.search(r"^\s+resources: (.*)$", block, re.MULTILINE)
        jobs[rule.group(1), wildcards.group(1) if wildcards else ""] = {
            "threads": int(threads.group(1)) if threads else 1,
            **dict(item.split("=", 1) for item in resources.group(1).split(", ")),
        }
    return output, jobs


def bigger(config, path):
    """``config`` at a larger scale: more sessions, trials, neurons, resamples, a bigger network trained longer."""
    config["sessions"] = {"n_sessions": 8, "n_trials_per_condition": 60}
    config["decoding"] |= {"n_resamples": 4, "n_permutations": 100}
    for region in config["regions"].values():
        region["n_neurons"] = 100
    config["model"] |= {"hidden_size": 64, "batch_size": 64, "n_steps": 6000}
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("profiles")
    tiny = yaml.safe_load(TINY.read_text())
    return {
        "tiny": plan(tmp / "tiny", TINY),
        "bigger": plan(tmp / "bigger", bigger(tiny, tmp / "bigger.yaml")),
    }


def test_the_dry_run_needs_no_slurm_and_plans_every_job_for_the_cluster(plans):
    output, jobs = plans["tiny"]
    assert "Using profile" in output and str(PROFILE) in output
    assert {rule for rule, _ in jobs} >= SIZED_RULES | {"plot_decoding"}
    for (rule, _), job in jobs.items():
        if rule == "all":
            continue
        # every job would be submitted with memory (MB) and time (minutes)
        assert int(job["mem_mb"]) >= 1000 and int(job["runtime"]) >= 10, (rule, job)


def test_the_requests_are_sized_from_the_config(plans):
    _, tiny = plans["tiny"]
    _, bigger = plans["bigger"]
    regions = {wildcards for rule, wildcards in tiny if rule == "simulate"}
    assert regions == {"region=high", "region=low"}
    for region in regions:
        for rule in ("simulate", "decode"):
            assert int(bigger[rule, region]["mem_mb"]) > int(tiny[rule, region]["mem_mb"]), rule
            assert int(bigger[rule, region]["runtime"]) >= int(tiny[rule, region]["runtime"]), rule
        # one simulation worker process per session: as many threads as sessions
        assert bigger["simulate", region]["threads"] == 8
    assert int(bigger["train_attention", ""]["runtime"]) > int(tiny["train_attention", ""]["runtime"])
    assert int(bigger["region_attention", ""]["mem_mb"]) > int(tiny["region_attention", ""]["mem_mb"])


def test_memory_grows_with_the_threads_a_simulation_gets(tmp_path):
    config = bigger(yaml.safe_load(TINY.read_text()), tmp_path / "bigger.yaml")
    _, capped = plan(tmp_path / "work", config, "--set-threads", "simulate=2")
    _, full = plan(tmp_path / "work", config)
    assert capped["simulate", "region=high"]["threads"] == 2
    assert int(capped["simulate", "region=high"]["mem_mb"]) < int(full["simulate", "region=high"]["mem_mb"])
    # fewer processes take longer
    assert int(capped["simulate", "region=high"]["runtime"]) >= int(full["simulate", "region=high"]["runtime"])
