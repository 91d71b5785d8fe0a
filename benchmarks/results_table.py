"""The numbers behind the summary figures of a finished run, as text (not a test).

Per region: GI in every window with its interval; the region contrasts' p-values;
the clusters where the cued item's colour information differs from the uncued
item's; every colour-plane comparison with its interval, null and p-value; and the
behaviour table. Reads results/decoding/*.nc, results/contrast/generalization.nc and
results/behaviour/summary.nc of a run directory.

    .venv/bin/python benchmarks/results_table.py [results directory, default results]
"""

import sys
from pathlib import Path

import numpy as np

from wmattn.io import open_dataset


def clusters(significant, time):
    """Runs of significant bins as 'start-end ms' text."""
    runs, start = [], None
    for k, flag in enumerate(np.append(significant, False)):
        if flag and start is None:
            start = k
        elif not flag and start is not None:
            runs.append(f"{time[start]:.0f} to {time[k - 1]:.0f}")
            start = None
    return ", ".join(runs) or "none"


def main():
    results = Path(sys.argv[1] if len(sys.argv) > 1 else "results")
    decodings = {path.stem: open_dataset(path, "decoding") for path in sorted((results / "decoding").glob("*.nc"))}
    print("GI (both directions) [95 % interval]; retro->pro, pro->retro")
    for region, decoding in decodings.items():
        for window in decoding["window"].to_numpy():
            gi, ci = decoding["gi"].sel(window=window), decoding["gi_ci"].sel(window=window)
            low, high = ci.sel(direction="both").to_numpy()
            print(f"  {region:9s} {window:7s} {float(gi.sel(direction='both')):+.2f} [{low:+.2f}, {high:+.2f}];"
                  f" {float(gi.sel(direction='retro_to_pro')):+.2f}, {float(gi.sel(direction='pro_to_retro')):+.2f}")
    contrast_path = results / "contrast" / "generalization.nc"
    if contrast_path.exists():
        contrast = open_dataset(contrast_path, "contrast")
        print("region contrasts (GI difference, p, Holm p; both directions)")
        for name in contrast["contrast"].to_numpy():
            for window in contrast["window"].to_numpy():
                row = contrast.sel(contrast=name, window=window, direction="both")
                print(f"  {name:18s} {window:7s} {float(row['gi_difference']):+.2f}  p {float(row['p_value']):.3f}"
                      f"  Holm {float(row['p_holm']):.3f}  ({int(row['n_neurons'])} neurons each)")
    print("colour information clusters (ms from the cue): cued > 0 | uncued > 0 | cued vs uncued")
    for region, decoding in decodings.items():
        time = decoding["time"].to_numpy()
        for measure in decoding["measure"].to_numpy():
            for task in decoding["task"].to_numpy():
                pick = {"measure": measure, "task": task}
                print(f"  {region:9s} {measure:5s} {task:5s} "
                      f"{clusters(decoding['color_significant'].sel(pick | {'cue_status': 'cued'}).to_numpy(), time)} | "
                      f"{clusters(decoding['color_significant'].sel(pick | {'cue_status': 'uncued'}).to_numpy(), time)} | "
                      f"{clusters(decoding['color_difference_significant'].sel(pick).to_numpy(), time)}")
    print("colour planes |cos| [95 % interval] (null median, 95th percentile) p; ceiling")
    for region, decoding in decodings.items():
        for name in decoding["plane_pair"].to_numpy():
            plane = decoding.sel(plane_pair=name)
            low, high = plane["plane_cosine_ci"].to_numpy()
            null = plane["plane_cosine_null"]
            print(f"  {region:9s} {name:58s} {float(plane['plane_cosine']):.2f} [{low:.2f}, {high:.2f}]"
                  f" ({float(null.median()):.2f}, {float(null.quantile(0.95)):.2f}) p {float(plane['plane_p_value']):.3f};"
                  f" {float(plane['plane_cosine_ceiling']):.2f}")
    behaviour_path = results / "behaviour" / "summary.nc"
    if behaviour_path.exists():
        behaviour = open_dataset(behaviour_path, "behaviour")
        print("behaviour: mean |error| (deg), p_target, p_swap, p_guess, kappa [95 % intervals], n")
        for source in behaviour["source"].to_numpy():
            for condition in behaviour["condition"].to_numpy():
                row = behaviour.sel(source=source, condition=condition)

                def value(name, scale=1.0):
                    low, high = row[f"{name}_ci"].to_numpy() * scale
                    return f"{float(row[name]) * scale:.2f} [{low:.2f}, {high:.2f}]"

                print(f"  {source:8s} {condition:11s} {value('mean_abs_error', 180 / np.pi)}, {value('p_target')}, "
                      f"{value('p_swap')}, {value('p_guess')}, {value('kappa')}, n {int(row['n_trials'])}")


if __name__ == "__main__":
    main()
