import json

from wmattn.io import output_to, write_dataset
from wmattn.nwb import import_session
from wmattn.task import timing_from_config

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    rates, spikes = import_session(
        snakemake.input.nwb,
        int(snakemake.wildcards.session),
        snakemake.params.regions,
        config["source"]["columns"],
        timing_from_config(config["task"]["timing"]),
        config["rates"],
        snakemake.params.n_folds,
        # the span every session's rates share, from check_recordings
        json.loads(open(snakemake.input.span).read()),
    )
    write_dataset(rates, snakemake.output.rates, snakemake.config)
    write_dataset(spikes, snakemake.output.spikes, snakemake.config)
    found = ", ".join(f"{region} {(rates['region'] == region).sum().item()}" for region in snakemake.params.regions)
    print(f"{snakemake.input.nwb}: neurons by region: {found}; {spikes.sizes['spike']} spikes in the trials' spans", flush=True)
