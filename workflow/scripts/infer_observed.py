import json

from wmattn.inference.stage import observe
from wmattn.io import output_to, write_dataset

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    observed = observe(list(snakemake.input), config["circuit"], config["inference"], config["decoding"], config["seed"])
    print(f"{observed.sizes['statistic']} summary statistics of {observed.attrs['n_trials']} trials", flush=True)
    write_dataset(observed, snakemake.output[0], snakemake.config)
