import json

from wmattn.io import open_dataset, output_to, write_dataset
from wmattn.simulate import simulate_region

with output_to(snakemake.log[0]):
    config = json.loads(snakemake.params.config)
    source = [open_dataset(path, "rates") for path in snakemake.input.top_down]
    rates = simulate_region(
        config,
        snakemake.wildcards.region,
        top_down_source=source[0] if source else None,
        processes=snakemake.threads,
    )
    # A sweep point records its own config, not the main one.
    write_dataset(rates, snakemake.output[0], snakemake.params.get("provenance", snakemake.config))
