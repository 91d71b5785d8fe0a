"""Are the default network variants told apart by their decoding alone? (not a test)

Trains ``shared`` and ``task_specific`` with the default config's settings
(``networks`` in workflow/schemas/config.schema.yaml, one step per
``rates.step_ms`` = 50 ms) with 10 seeds each, decodes each on 60 held-out
two-item trials per task x cued location with the default decoding settings,
reduces each to its decoding signature and assigns every instance to the
variant whose other instances' mean signature is nearest
(:func:`wmattn.recovery.leave_one_out`). ``tests/test_recovery.py`` does the
same with small networks.

Prints, per instance, its training time (one thread), its median report
error, GI and its predicted variant; then how many of each variant's seeds
were recognised. Runs two instances at a time, one thread each (2 cores).

    .venv/bin/python benchmarks/network_recovery.py [--seeds 10] [--out recovery.csv]
"""

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

VARIANTS = ("shared", "task_specific")
DECODING = {"n_folds": 5, "C": 1.0, "n_resamples": 1, "n_permutations": 100}


def _one(job):
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    import torch

    torch.set_num_threads(1)
    from wmattn.recovery import network_signature

    variant, seed = job
    lines = []
    started = time.perf_counter()
    signature = network_signature({"selection": variant, "dt_ms": 50}, seed, 60, DECODING, progress=lines.append)
    return variant, seed, signature, lines[-1], time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--out", default=None, help="CSV of every instance's signature")
    args = parser.parse_args()
    jobs = [(variant, seed) for seed in range(args.seeds) for variant in VARIANTS]
    signatures = {variant: {} for variant in VARIANTS}
    started = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        for variant, seed, signature, line, seconds in pool.map(_one, jobs):
            signatures[variant][seed] = signature
            gi = signature["value"].sel(measure=["gi_cue_retro_to_pro", "gi_delay_retro_to_pro",
                                                 "gi_delay_pro_to_retro"]).to_numpy().round(2)
            print(f"{line}; GI cue r->p, delay r->p, delay p->r {gi} ({seconds:.0f} s in all)", flush=True)
    from wmattn.recovery import leave_one_out

    ordered = {variant: [signatures[variant][seed] for seed in range(args.seeds)] for variant in VARIANTS}
    predicted = leave_one_out(ordered)
    for variant in VARIANTS:
        hits = sum(label == variant for label in predicted[variant])
        print(f"{variant}: recognised in {hits} of {args.seeds} seeds ({predicted[variant]})")
    print(f"wall time {time.perf_counter() - started:.0f} s on 2 workers")
    if args.out:
        import pandas as pd

        rows = [sig["value"].to_series().rename(f"{variant}_{seed}")
                for variant in VARIANTS for seed, sig in enumerate(ordered[variant])]
        pd.concat(rows, axis=1).T.to_csv(args.out)


if __name__ == "__main__":
    main()
