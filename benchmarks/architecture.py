"""Is the controller's architecture recoverable from decoding? (acceptance of the circuit; not a test)

For each of ``--seeds`` seeds, simulates one session of
config/hypotheses/shared_control.yaml and of separate_control.yaml (they
differ only in the controller's cue_overlap) and computes, in the window
``--window`` ms after the cue onset, the generalisation index GI =
(transfer - 0.5) / (within - 0.5) of the cued location with its bootstrap
95 % interval (wmattn.analysis.generalization.window_generalization), for the
controller's neurons, for every region, and the default's claims: LPFC's GI
against parietal's and V4's, and LPFC's colour planes before and after
selection against their colour-shuffle nulls
(wmattn.analysis.geometry.plane_alignment, in the default plane windows). Prints one line per seed and
configuration, and the count of seeds in which the shared and separate
controller GIs differ by at least 0.4 with disjoint intervals.

    .venv/bin/python benchmarks/architecture.py --seeds 10
"""

import argparse
import copy
from pathlib import Path

import brian2 as b2
import yaml

from wmattn.analysis.generalization import window_generalization
from wmattn.analysis.geometry import plane_alignment
from wmattn.config import validate_config
from wmattn.simulation.circuit import simulate_session

ROOT = Path(__file__).resolve().parents[1]


def load(name, seed, n_trials_per_condition):
    config = yaml.safe_load((ROOT / "config" / "hypotheses" / f"{name}.yaml").read_text())
    config["seed"] = seed
    config["sessions"] = {"n_sessions": 1, "n_trials_per_condition": n_trials_per_condition}
    return validate_config(config, ROOT / "workflow" / "schemas" / "config.schema.yaml")


def generalization(rates, window, seed):
    """GI of both directions and its 95 % interval in ``window``."""
    result = window_generalization([rates], {"window": window}, rng=seed).sel(window="window", direction="both")
    return {"gi": float(result["gi"]), "gi_interval": result["gi_ci"].to_numpy()}


def interval(result):
    return f"{result['gi']:.2f} [{result['gi_interval'][0]:.2f}, {result['gi_interval'][1]:.2f}]"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=30, help="trials per task x cued location")
    parser.add_argument("--window", type=float, nargs=2, default=(100, 800))
    args = parser.parse_args()
    b2.prefs.logging.console_log_level = "ERROR"
    recovered = 0
    for seed in range(args.seeds):
        controller = {}
        for name in ("shared_control", "separate_control"):
            config = load(name, seed, args.trials)
            rates, _ = simulate_session(copy.deepcopy(config), 0)
            gi = {"controller": generalization(rates.isel(neuron=(rates["population"] == "controller").to_numpy()),
                                               args.window, seed)}
            for region in config["regions"]:
                gi[region] = generalization(rates.isel(neuron=(rates["region"] == region).to_numpy()), args.window, seed)
            controller[name] = gi["controller"]
            line = f"seed {seed} {name:16s} " + "  ".join(f"{key} {interval(value)}" for key, value in gi.items())
            if name == "shared_control":
                lpfc = rates.isel(neuron=(rates["region"] == "LPFC").to_numpy())
                planes = plane_alignment([lpfc], config["decoding"]["plane_windows"], rng=seed)
                for comparison in ("retro/before_selection/upper_lower", "retro/after_selection/cued",
                                   "retro-pro/after_selection/cross_task_cued_other_location"):
                    plane = planes.sel(plane_pair=comparison)
                    line += (f"  LPFC {comparison} {float(plane['plane_cosine']):.2f} (null 95% "
                             f"{float(plane['plane_cosine_null'].quantile(0.95)):.2f}, p {float(plane['plane_p_value']):.3f})")
            print(line, flush=True)
        shared, separate = controller["shared_control"], controller["separate_control"]
        recovered += (shared["gi"] - separate["gi"] >= 0.4
                      and shared["gi_interval"][0] > separate["gi_interval"][1])
    print(f"controller GI: shared - separate >= 0.4 with disjoint 95% intervals in {recovered} of {args.seeds} seeds")


if __name__ == "__main__":
    main()
