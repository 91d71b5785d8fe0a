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
SIZED_RULES = {"simulate", "decode", "decode_network", "train_network", "compare"}


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
    for network in config["networks"].values():
        network |= {"hidden_size": 64, "batch_size": 64, "n_steps": 6000}
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
    # one simulation job per session, every region of the session in it
    assert {wildcards for rule, wildcards in tiny if rule == "simulate"} == {"session=0"}
    assert {wildcards for rule, wildcards in bigger if rule == "simulate"} == {f"session={k}" for k in range(8)}
    for rule, wildcards in [("simulate", "session=0"), ("decode", "region=high"), ("decode", "region=low")]:
        assert int(bigger[rule, wildcards]["mem_mb"]) > int(tiny[rule, wildcards]["mem_mb"]), rule
        assert int(bigger[rule, wildcards]["runtime"]) >= int(tiny[rule, wildcards]["runtime"]), rule
    # one simulation worker process per region: as many threads as regions
    assert bigger["simulate", "session=0"]["threads"] == tiny["simulate", "session=0"]["threads"] == 2
    for network in ("shared", "task_specific"):
        job = "train_network", f"network={network}"
        assert int(bigger[job]["runtime"]) > int(tiny[job]["runtime"])
        assert bigger["decode_network", f"network={network}"]["threads"] == 1


def test_memory_grows_with_the_threads_a_simulation_gets(tmp_path):
    config = bigger(yaml.safe_load(TINY.read_text()), tmp_path / "bigger.yaml")
    _, capped = plan(tmp_path / "work", config, "--set-threads", "simulate=1")
    _, full = plan(tmp_path / "work", config)
    assert capped["simulate", "session=0"]["threads"] == 1 and full["simulate", "session=0"]["threads"] == 2
    assert int(capped["simulate", "session=0"]["mem_mb"]) < int(full["simulate", "session=0"]["mem_mb"])
    # fewer processes take longer
    assert int(capped["simulate", "session=0"]["runtime"]) >= int(full["simulate", "session=0"]["runtime"])


def recordings(config, workdir, n_files):
    """``config`` reading ``n_files`` NWB files (empty: a dry run does not open them) in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    for k in range(n_files):
        (workdir / f"session{k}.nwb").touch()
    config["source"] = {"nwb": [f"session{k}.nwb" for k in range(n_files)]}
    for region in config["regions"].values():
        region.pop("shared_selection", None)  # a simulation key
    path = workdir / "recordings.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_recordings_are_checked_once_and_imported_one_job_per_file_sized_from_the_config(tmp_path):
    tiny = recordings(yaml.safe_load(TINY.read_text()), tmp_path / "tiny", 3)
    config = yaml.safe_load(TINY.read_text())
    bigger(config, tmp_path / "bigger.yaml")
    large = recordings(config, tmp_path / "bigger", 3)
    _, small = plan(tmp_path / "tiny", tiny)
    _, big = plan(tmp_path / "bigger", large)
    for jobs in (small, big):
        assert [wildcards for rule, wildcards in jobs if rule == "check_recordings"] == [""]
        assert {wildcards for rule, wildcards in jobs if rule == "import_nwb"} == {"session=0", "session=1", "session=2"}
        assert not any(rule == "simulate" for rule, _ in jobs)
        for (rule, _), job in jobs.items():
            if rule != "all":
                assert int(job["mem_mb"]) >= 1000 and int(job["runtime"]) >= 10, (rule, job)
    # sessions and n_neurons give the expected size of a recording
    assert int(big["import_nwb", "session=0"]["mem_mb"]) > int(small["import_nwb", "session=0"]["mem_mb"])


def test_the_nwb_export_is_one_job_per_session(tmp_path):
    _, jobs = plan(tmp_path / "work", bigger(yaml.safe_load(TINY.read_text()), tmp_path / "bigger.yaml"), "nwb")
    assert {wildcards for rule, wildcards in jobs if rule == "export_nwb"} == {f"session={k}" for k in range(8)}
    assert all(int(job["mem_mb"]) >= 1000 and int(job["runtime"]) >= 10 for job in jobs.values())


def circuit(config, path, neurons_per_location):
    """``config`` with the circuit as its source: a controller region and a memory region it feeds back to."""
    config["source"] = "circuit"
    config["sessions"] = {"n_sessions": 4, "n_trials_per_condition": 60}
    config["regions"] = {
        "high": {"memory": {"neurons_per_location": neurons_per_location}, "controller": {}, "report": {}},
        "low": {"memory": {"neurons_per_location": neurons_per_location}, "feedback": {}},
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_circuit_is_one_single_threaded_job_per_session_sized_from_its_network(tmp_path):
    _, small = plan(tmp_path / "small", circuit(yaml.safe_load(TINY.read_text()), tmp_path / "small.yaml", 8))
    _, large = plan(tmp_path / "large", circuit(yaml.safe_load(TINY.read_text()), tmp_path / "large.yaml", 64))
    for jobs in (small, large):
        # one job per session, each one network in one process
        assert {wildcards for rule, wildcards in jobs if rule == "simulate"} == {f"session={k}" for k in range(4)}
        assert all(jobs["simulate", f"session={k}"]["threads"] == 1 for k in range(4))
    assert int(large["simulate", "session=0"]["mem_mb"]) > int(small["simulate", "session=0"]["mem_mb"])
    assert int(large["simulate", "session=0"]["runtime"]) >= int(small["simulate", "session=0"]["runtime"])
    # every circuit neuron is recorded: the decoding of a region is sized from them
    assert int(large["decode", "region=low"]["mem_mb"]) > int(small["decode", "region=low"]["mem_mb"])


def test_sessions_of_different_sizes_size_a_session_job_from_the_largest_and_a_region_from_them_all(tmp_path):
    """Totals over the sessions (sessions.n_trials, regions.*.n_neurons_total): the first session is as large
    as with 60 trials per condition and 100 neurons, the last one smaller, so a simulation job requests the same
    and a region's decoding, which reads every session, less."""
    _, even = plan(tmp_path / "even", bigger(yaml.safe_load(TINY.read_text()), tmp_path / "even.yaml"))
    config = yaml.safe_load(bigger(yaml.safe_load(TINY.read_text()), tmp_path / "uneven.yaml").read_text())
    config["sessions"] = {"n_sessions": 8, "n_trials": {"retro": 8 * 120 - 1, "pro": 8 * 120 - 1}}
    for region in config["regions"].values():
        region["n_neurons_total"] = 8 * region.pop("n_neurons") - 1
    (tmp_path / "uneven.yaml").write_text(yaml.safe_dump(config))
    _, uneven = plan(tmp_path / "uneven", tmp_path / "uneven.yaml")
    for k in (0, 7):
        assert uneven["simulate", f"session={k}"] == even["simulate", f"session={k}"]
    for region in ("high", "low"):
        assert int(uneven["decode", f"region={region}"]["mem_mb"]) < int(even["decode", f"region={region}"]["mem_mb"])
