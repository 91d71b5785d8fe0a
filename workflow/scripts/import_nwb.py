import json

from wmattn.io import output_to, write_dataset
from wmattn.nwb import import_recordings
from wmattn.task import timing_from_config

with output_to(snakemake.log[0]):
    config = json.loads(snakemake.params.config)
    regions = snakemake.params.regions
    # every file is checked before anything is written; then one region at a time
    imported = import_recordings(
        snakemake.input,
        regions,
        config["source"]["columns"],
        timing_from_config(config["task"]["timing"]),
        config["rates"],
        snakemake.params.n_folds,
    )
    for (region, (rates, spikes)), rates_path, spikes_path in zip(imported, snakemake.output.rates, snakemake.output.spikes):
        write_dataset(rates, rates_path, snakemake.config)
        write_dataset(spikes, spikes_path, snakemake.config)
        print(f"{region}: {rates.sizes['neuron']} neurons, {spikes.sizes['spike']} spikes in the trials' spans", flush=True)
