"""Speed and scale of the planted source's spiking simulation of one region (not a test).

Prints, for the first region of config/planted.yaml:

- neuron-steps per second of the trial-vectorised network (every trial of a
  session in one network run) and the ratio to a loop that runs the same model
  one trial per network run;
- how wall time and peak memory grow when the trials or the neurons double;
- the code generation target and why.

Every measurement runs in a fresh process, after a warm-up run of the same
number of trials (the compiled code depends on it, through the two-dimensional
TimedArray) that fills Brian2's compiled-code cache, so compilation is not
counted and peak memory is that of the measurement alone.

    .venv/bin/python benchmarks/simulation.py
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from wmattn.config import validate_config
from wmattn.simulation.planted import CODEGEN_TARGET, draw_neurons, draw_synapses, run_session
from wmattn.simulation.sessions import session_trials
from wmattn.task import aligned_schedule

ROOT = Path(__file__).resolve().parents[1]
TRIALS_PER_CONDITION, NEURONS, LOOPED_TRIALS = 60, 100, 8


def region_model(n_trials_per_condition, n_neurons):
    """One session of the default config's first region at the given size."""
    config = validate_config(
        yaml.safe_load((ROOT / "config" / "planted.yaml").read_text()),
        ROOT / "workflow" / "schemas" / "config.schema.yaml",
    )
    config["sessions"] = {"n_sessions": 1, "n_trials_per_condition": n_trials_per_condition}
    name = next(iter(config["regions"]))
    region = {**config["regions"][name], "n_neurons": n_neurons}
    region.pop("top_down", None)
    trials = session_trials(config)
    _, duration, onsets = aligned_schedule(trials)
    rng = np.random.default_rng(0)
    neurons = draw_neurons(n_neurons, region, rng)
    synapses = draw_synapses(neurons["cell_type"], region, rng)
    return trials, onsets, duration, neurons, synapses, region, config["simulation"]


def measure(n_trials_per_condition, n_neurons, looped):
    """Wall time of one region's session: all trials in one run, or ``looped`` trials one by one."""
    trials, onsets, duration, neurons, synapses, region, lif = region_model(n_trials_per_condition, n_neurons)
    start = time.perf_counter()
    if looped:
        for k in range(min(looped, len(trials))):
            run_session(trials.iloc[[k]], onsets.iloc[[k]], duration, neurons, synapses, region, lif, None, k)
        n_trials = looped
    else:
        run_session(trials, onsets, duration, neurons, synapses, region, lif, None, 0)
        n_trials = len(trials)
    seconds = time.perf_counter() - start
    steps = duration / lif["dt_ms"]
    return {
        "seconds": seconds,
        "neuron_steps_per_second": n_trials * n_neurons * steps / seconds,
        "seconds_per_trial": seconds / n_trials,
        "peak_rss_GB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
    }


def in_fresh_process(n_trials_per_condition, n_neurons, looped=0):
    for neurons in (10, n_neurons):  # the first run only compiles
        output = subprocess.run(
            [sys.executable, __file__, "--one", str(n_trials_per_condition), str(neurons), str(looped)],
            capture_output=True, text=True, check=True,
        ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    print(f"code generation target: {CODEGEN_TARGET}. Brian2's runtime Cython target compiles each code "
          "object once per machine (and per trial count) into a shared, file-locked cache, so parallel "
          "Snakemake jobs need no build directories of their own and a rerun compiles nothing; "
          "cpp_standalone would rebuild a whole project per job and run. Sessions are simulated in "
          "parallel processes (the rule's threads).")
    base = in_fresh_process(TRIALS_PER_CONDITION, NEURONS)
    loop = in_fresh_process(TRIALS_PER_CONDITION, NEURONS, LOOPED_TRIALS)
    n_trials = 4 * TRIALS_PER_CONDITION
    print(f"\nvectorised: {n_trials} trials x {NEURONS} neurons in one run: {base['seconds']:.1f} s, "
          f"{base['neuron_steps_per_second']:.3g} neuron-steps/s")
    print(f"loop: one trial per network run, {loop['seconds_per_trial']:.2f} s per trial "
          f"(measured on {LOOPED_TRIALS} trials), {loop['neuron_steps_per_second']:.3g} neuron-steps/s")
    print(f"vectorised / loop speed: {base['neuron_steps_per_second'] / loop['neuron_steps_per_second']:.1f}x "
          "(target: at least 10x)")

    print("\nscaling (doubling either may cost at most 2.2x):")
    print(f"{'trials':>7} {'neurons':>8} {'time s':>8} {'x time':>7} {'peak GB':>8} {'x memory':>9}")
    print(f"{n_trials:>7} {NEURONS:>8} {base['seconds']:>8.1f} {1:>7.2f} {base['peak_rss_GB']:>8.2f} {1:>9.2f}")
    for trials_per_condition, neurons in [(2 * TRIALS_PER_CONDITION, NEURONS), (TRIALS_PER_CONDITION, 2 * NEURONS)]:
        grown = in_fresh_process(trials_per_condition, neurons)
        print(f"{4 * trials_per_condition:>7} {neurons:>8} {grown['seconds']:>8.1f} "
              f"{grown['seconds'] / base['seconds']:>7.2f} {grown['peak_rss_GB']:>8.2f} "
              f"{grown['peak_rss_GB'] / base['peak_rss_GB']:>9.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", nargs=3, type=int, metavar=("TRIALS_PER_CONDITION", "NEURONS", "LOOPED"),
                        help="measure one size in this process and print JSON (used internally)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one)))
    else:
        main()
