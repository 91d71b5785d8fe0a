"""Does the fitted posterior recover known circuits through the whole pipeline? (not a test)

For each of ``--n`` held-out circuits (parameters drawn from the inference
config's prior, except the controller's ``cue_overlap``: half of the circuits
share the pools, drawn from [0.75, 1], half keep them apart, [0, 0.25]), with a
seed of their own:

1. the circuit is simulated and exported as NWB by the pipeline (``nwb`` target);
2. the NWB file is imported as a recording by the pipeline (``source: {nwb:
   [...]}``, ``inference.circuit`` the config) and reduced to the observed summary
   statistics (``results/inference/observed.nc``);
3. the posterior trained by an inference run of the config (``--run``, its
   ``results/inference/posterior.pt``) is sampled given them.

Prints and writes (``--out``) per circuit its true values, each parameter's
90 % central credible interval and whether it holds the truth, and the
posterior probability that cue_overlap exceeds 0.5; then per parameter how many
of the intervals hold the truth, and in how many circuits that probability is
on the truth's side of 0.5. Runs two circuits at a time (2 cores).

    .venv/bin/python benchmarks/inference_recovery.py --run DIR [--config config/inference.yaml] [--n 20]
        [--workdir results/benchmarks/inference_recovery] [--out recovery.csv]
"""

import argparse
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import yaml

ROOT = Path(__file__).resolve().parents[1]
OVERLAP = "cue_overlap"


def snakemake(workdir, configfile, *targets):
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory",
                          str(workdir), "--configfile", str(configfile), "--cores", "1", *targets],
                         capture_output=True, text=True, env=os.environ | {"OMP_NUM_THREADS": "1"})
    if run.returncode:
        raise RuntimeError(f"snakemake {' '.join(targets)} in {workdir} failed:\n{run.stdout[-3000:]}{run.stderr[-3000:]}")


def truths(config, n):
    """The circuits' parameter values (circuit, parameter) and seeds: the prior's, cue_overlap by half."""
    import copy

    from wmattn import seeds
    from wmattn.config import validate_config
    from wmattn.inference.circuit import circuit_config
    from wmattn.inference.prior import draw, parameters

    schema = ROOT / "workflow" / "schemas" / "config.schema.yaml"
    resolved = validate_config(copy.deepcopy(config), schema)
    # in the pipeline's order: its rules pass the prior as key-sorted JSON
    chosen = parameters(dict(sorted(resolved["inference"]["prior"].items())), circuit_config(resolved, schema))
    values = draw(chosen, n, seeds.rng(config["seed"], "inference", "recovery"))
    overlap = [i for i, p in enumerate(chosen) if p.name.endswith(OVERLAP)]
    if overlap:
        rng = seeds.rng(config["seed"], "inference", "recovery", OVERLAP)
        shared = np.arange(n) % 2 == 0
        values[:, overlap[0]] = np.where(shared, rng.uniform(0.75, 1, n), rng.uniform(0, 0.25, n))
    return chosen, values, [seeds.integer_seed(config["seed"], "inference", "recovery", str(i)) for i in range(n)]


def observe(job):
    """Simulate one circuit, export it, import it as a recording: the path of its observed summaries."""
    index, names, value, seed, config_path, workdir = job
    from wmattn.sweep import set_key

    config = yaml.safe_load(Path(config_path).read_text())
    for name, v in zip(names, value):
        config = set_key(config, name.split("."), float(v))
    config["seed"] = seed
    directory = Path(workdir) / f"circuit{index}"
    simulated, recorded = directory / "simulated", directory / "recorded"
    simulated.mkdir(parents=True, exist_ok=True)
    recorded.mkdir(parents=True, exist_ok=True)
    (simulated / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(simulated, simulated / "config.yaml", "nwb")
    recording = {key: config[key] for key in ("seed", "rates", "decoding") if key in config}
    recording |= {"source": {"nwb": [str(simulated / "results" / "nwb" / "session0.nwb")]},
                  "sessions": config["sessions"], "regions": {name: {} for name in config["regions"]},
                  "inference": {**config["inference"], "circuit": str(Path(config_path).resolve())}}
    (recorded / "config.yaml").write_text(yaml.safe_dump(recording))
    snakemake(recorded, recorded / "config.yaml", "results/inference/observed.nc")
    print(f"circuit {index}: observed", flush=True)
    return recorded / "results" / "inference" / "observed.nc"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="directory of a finished inference run of --config")
    parser.add_argument("--config", default=str(ROOT / "config" / "inference.yaml"))
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--workdir", default="results/benchmarks/inference_recovery")
    parser.add_argument("--out", default="inference_recovery.csv")
    args = parser.parse_args()
    from wmattn import seeds
    from wmattn.inference import posterior

    config = yaml.safe_load(Path(args.config).read_text())
    chosen, values, circuit_seeds = truths(config, args.n)
    fitted, saved, statistics = posterior.load(Path(args.run) / "results" / "inference" / "posterior.pt")
    if [p.name for p in saved] != [p.name for p in chosen]:
        raise SystemExit(f"the run's parameters {[p.name for p in saved]} are not the config's {[p.name for p in chosen]}")
    jobs = [(i, [p.name for p in chosen], values[i], circuit_seeds[i], args.config, args.workdir) for i in range(args.n)]
    with ProcessPoolExecutor(2) as pool:
        observed = list(pool.map(observe, jobs))
    rows = []
    for i, path in enumerate(observed):
        x = xr.load_dataset(path)["x_o"].sel(statistic=statistics).to_numpy()
        samples = posterior.sample(fitted, chosen, x, 2000, seeds.integer_seed(config["seed"], "recovery", str(i)))
        row = {"circuit": i}
        for k, p in enumerate(chosen):
            low, high = np.quantile(samples[:, k], [0.05, 0.95])
            row |= {f"{p.name}": values[i, k], f"{p.name} 5%": low, f"{p.name} 95%": high,
                    f"{p.name} inside": bool(low <= values[i, k] <= high)}
            if p.name.endswith(OVERLAP):
                row["P(overlap > 0.5)"] = float(np.mean(samples[:, k] > 0.5))
                row["side right"] = (row["P(overlap > 0.5)"] > 0.5) == (values[i, k] > 0.5)
        rows.append(row)
    table = pd.DataFrame(rows)
    table.to_csv(args.out, index=False)
    pd.set_option("display.width", 250)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    for p in chosen:
        print(f"{p.name}: truth inside the 90 % credible interval in {int(table[f'{p.name} inside'].sum())} of {args.n}")
    if "side right" in table:
        print(f"shared vs separate control on the truth's side of 0.5: {int(table['side right'].sum())} of {args.n}")


if __name__ == "__main__":
    main()
