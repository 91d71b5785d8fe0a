import json

import pandas as pd

from wmattn import seeds
from wmattn.analysis.behaviour import behaviour_summary, trial_table
from wmattn.io import open_dataset, output_to, write_dataset

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    rates_source = config["source"] if isinstance(config["source"], str) else "recordings"
    # per-trial coordinates only: no neuron's rates, no time step of the network
    files = {rates_source: [(path, "rates", "neuron") for path in snakemake.input.rates],
             **{f"model_{name}": [(path, "attention", "time")]
                for name, path in zip(snakemake.params.networks, snakemake.input.networks)}}
    trials = {}
    for source, paths in files.items():
        tables = []
        for path, kind, dim in paths:
            dataset = open_dataset(path, kind, select=lambda data: {dim: []})
            if "report" not in dataset:
                print(f"{path}: no report; source {source} has no behaviour from this file", flush=True)
                continue
            tables.append(trial_table(dataset))
        if tables:
            trials[source] = pd.concat(tables, ignore_index=True)
    summary = behaviour_summary(trials, config["behaviour"]["n_bootstrap"], seeds.seed_sequence(config["seed"], "behaviour"))
    columns = ["n_trials", "n_no_report", "mean_abs_error", "kappa", "p_target", "p_swap", "p_guess"]
    print(summary[columns].to_dataframe().to_string(), flush=True)
    write_dataset(summary, snakemake.output[0], snakemake.config)
