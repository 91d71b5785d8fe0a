import json

from wmattn.io import open_dataset, output_to, write_dataset
from wmattn.simulate import simulate_region

with output_to(snakemake.log[0]):
    config = json.loads(snakemake.params.config)
    source = [open_dataset(path, "rates") for path in snakemake.input.top_down]
    rates, spikes = simulate_region(
        config,
        snakemake.wildcards.region,
        top_down_source=source[0] if source else None,
        processes=snakemake.threads,
    )
    # A sweep point records its own config, not the main one.
    provenance = snakemake.params.get("provenance", snakemake.config)
    write_dataset(rates, snakemake.output.rates, provenance)
    write_dataset(spikes, snakemake.output.spikes, provenance)
