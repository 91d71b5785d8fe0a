import json

import torch

from wmattn import seeds
from wmattn.attention import evaluate, train
from wmattn.config import session_trial_counts, single_item_fraction
from wmattn.io import output_to, write_dataset
from wmattn.task import draw_trials, timing_from_config

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    settings = dict(config["network"], dt_ms=config["rates"]["step_ms"])
    # the instance, not the name, seeds the streams: variants of one instance train and are
    # evaluated on the same trials with the same noise, and differ only in how they select
    instance = (str(settings.pop("seed")),)
    print(f"training network {config['name']} (selection {settings['selection']})", flush=True)
    timing = timing_from_config(config["task"]["timing"])
    model, history = train(settings, seeds.integer_seed(config["seed"], "model", *instance), timing=timing,
                           single_item_fraction=single_item_fraction(config))
    history.to_csv(snakemake.output.training, index=False)
    torch.save(model.state_dict(), snakemake.output.model)
    # As many held-out trials of every condition as the first (the largest) simulated session has,
    # so that the network is decoded from as many trials as a region.
    held_out = draw_trials(session_trial_counts(config)[0], seeds.rng(config["seed"], "model", *instance, "held-out"), timing)
    attention = evaluate(model, held_out, settings["dt_ms"],
                         rng_seed=seeds.integer_seed(config["seed"], "model", *instance, "noise"))
    write_dataset(attention, snakemake.output.attention, snakemake.config)
