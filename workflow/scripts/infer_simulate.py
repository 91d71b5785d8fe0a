import json

import xarray as xr

from wmattn.inference.stage import run_chunk
from wmattn.io import output_to, write_dataset

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    samples = xr.load_dataset(snakemake.input.samples[0]) if snakemake.input.samples else None
    chunk = run_chunk(xr.load_dataset(snakemake.input.observed), config["circuit"], config["inference"],
                      config["decoding"], snakemake.wildcards.set, int(snakemake.wildcards.chunk), snakemake.params.size, config["seed"],
                      samples)
    print(f"{int(chunk['excluded'].sum())} of {chunk.sizes['draw']} draws excluded", flush=True)
    write_dataset(chunk, snakemake.output[0], snakemake.config)
