import json

from wmattn.io import output_to, write_dataset
from wmattn.simulate import simulate_region

with output_to(snakemake.log[0]):
    config = json.loads(snakemake.params.config)
    rates = simulate_region(config, snakemake.wildcards.region)
    write_dataset(rates, snakemake.output[0], snakemake.config)
