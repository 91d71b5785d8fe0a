"""Speed of the circuit's simulation (source: circuit), side by side in one run (not a test).

On config/config.yaml's circuit (every region, ~570 neurons per copy) at a
reduced trial count (``--trials-per-condition``, default 12: 48 trials per
session instead of 240), every measurement in a fresh process:

(a) trial-vectorised (every trial of a session in one network, one copy of the
    circuit per trial) against one trial per network run (a few trials, each
    run for its own length, extrapolated per trial), both with Cython;
(b) the code generation targets, per session: Cython at runtime with a warm
    cache (a warm-up process of the same size compiles first; compilation is
    not counted), cpp_standalone single-threaded for a first session (code
    generation and compilation included) and for a second session of the same
    shapes in the same process, which reuses the build through
    ``device.run(run_args=...)``; optionally (``--openmp``) cpp_standalone with
    OpenMP on 2 threads.

Times are of :func:`wmattn.simulation.circuit.run_session` (network building,
the run, reading the spikes), not of the binning around it.

    PYTHONPATH=src .venv/bin/python benchmarks/simulation.py [--openmp]
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from wmattn import seeds
from wmattn.config import validate_config
from wmattn.simulation import circuit
from wmattn.simulation.sessions import session_trials
from wmattn.task import aligned_schedule

ROOT = Path(__file__).resolve().parents[1]
LOOPED_TRIALS = 3


def default_sessions(n_trials_per_condition, n_sessions=2):
    config = validate_config(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()),
                             ROOT / "workflow" / "schemas" / "config.schema.yaml")
    config["sessions"] = {"n_sessions": n_sessions, "n_trials_per_condition": n_trials_per_condition}
    trials = session_trials(config)
    _, duration, onsets = aligned_schedule(trials)
    return config, trials, onsets, duration


def one_session(config, trials, onsets, duration, session):
    rows = (trials["session"] == session).to_numpy()
    start = time.perf_counter()
    circuit.run_session(trials[rows].reset_index(drop=True), onsets[rows].reset_index(drop=True), duration,
                        config, seeds.rng(config["seed"], "circuit", str(session)), session + 1)
    return time.perf_counter() - start


def measure(mode, n_trials_per_condition):
    """Seconds of one or two sessions (``mode``) in this process, as a dict."""
    config, trials, onsets, duration = default_sessions(n_trials_per_condition)
    if mode == "loop":  # one trial per network, each for its own length (the first run is not counted)
        seconds = []
        for k in range(LOOPED_TRIALS + 1):
            _, own_duration, own_onsets = aligned_schedule(trials.iloc[[k]].reset_index(drop=True))
            one = trials.iloc[[k]].reset_index(drop=True).assign(session=0)
            seconds.append(one_session(config, one, own_onsets, own_duration, 0))
        return {"seconds_per_trial": float(np.mean(seconds[1:]))}
    circuit.CODEGEN_TARGET = "cython" if mode == "cython" else "cpp_standalone"
    circuit.OPENMP_THREADS = 2 if mode == "openmp" else 0
    return {"first": one_session(config, trials, onsets, duration, 0),
            "second": one_session(config, trials, onsets, duration, 1),
            "trials": int((trials["session"] == 0).sum())}


def in_fresh_process(mode, n_trials_per_condition, timeout=None):
    """The mode's measurement in a fresh process; None if it took longer than ``timeout`` seconds."""
    try:
        output = subprocess.run([sys.executable, __file__, "--one", mode, "--trials-per-condition",
                                 str(n_trials_per_condition)], capture_output=True, text=True, check=True,
                                timeout=timeout).stdout
    except subprocess.TimeoutExpired:
        return None
    return json.loads(output.strip().splitlines()[-1])


def main(n_trials_per_condition, openmp):
    in_fresh_process("cython", n_trials_per_condition)  # warm-up: fills Brian2's Cython cache
    cython = in_fresh_process("cython", n_trials_per_condition)
    loop = in_fresh_process("loop", n_trials_per_condition)
    standalone = in_fresh_process("cpp_standalone", n_trials_per_condition)
    n = cython["trials"]
    warm = (cython["first"] + cython["second"]) / 2
    print(f"config/config.yaml's circuit, {n} trials per session ({n_trials_per_condition} per condition), "
          "each row in a fresh process\n")
    print(f"(a) vectorised, {n} trials in one run (Cython): {warm / n:.3f} s per trial; one trial per run "
          f"({LOOPED_TRIALS} trials): {loop['seconds_per_trial']:.3f} s per trial; "
          f"vectorised / loop speed: {loop['seconds_per_trial'] * n / warm:.1f}x (target: at least 10x)\n")
    rows = [("cython, warm cache (compilation not counted)", cython["first"], cython["second"]),
            ("cpp_standalone 1 thread: compile + run, then reuse (run_args)", standalone["first"],
             standalone["second"])]
    if openmp:  # stopped after 5 times the single-threaded two sessions
        limit = 5 * (standalone["first"] + standalone["second"])
        threaded = in_fresh_process("openmp", n_trials_per_condition, timeout=limit) or {
            "first": limit, "second": float("nan")}
        rows.append(("cpp_standalone OpenMP 2 threads: compile + run, then reuse", threaded["first"],
                     threaded["second"]))
    print(f"(b) {'target':<64} {'session 1 s':>11} {'session 2 s':>11} {'1 / cython':>10} {'2 / cython':>10}")
    for name, first, second in rows:
        print(f"    {name:<64} {first:>11.1f} {second:>11.1f} {first / warm:>10.2f} {second / warm:>10.2f}")
    fastest = "cpp_standalone" if standalone["first"] < warm else "cython"
    print(f"\none session per job: the faster is {fastest} because "
          + ("its run is faster than warm Cython even with its compilation."
             if fastest == "cpp_standalone" else
             f"cpp_standalone's build ({standalone['first'] - standalone['second']:.0f} s more than its reused "
             "run) is paid again by every job, each in its own build directory, while Cython's cache is shared "
             "and compiled once per machine;")
          + (f" a job running several sessions of one shape would pay it once (reused: "
             f"{standalone['second']:.1f} s against {warm:.1f} s)." if fastest == "cython" else ""))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials-per-condition", type=int, default=12)
    parser.add_argument("--openmp", action="store_true", help="also measure cpp_standalone with 2 OpenMP threads")
    parser.add_argument("--one", choices=["cython", "loop", "cpp_standalone", "openmp"],
                        help="measure one mode in this process and print JSON (used internally)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.trials_per_condition)))
    else:
        main(args.trials_per_condition, args.openmp)
