import json
import time

import xarray as xr

from wmattn.inference.stage import fit
from wmattn.io import atomic, output_to, write_dataset

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    started = time.perf_counter()
    with atomic(snakemake.output.posterior) as partial:
        samples = fit(list(snakemake.input.chunks), xr.load_dataset(snakemake.input.observed), config["circuit"],
                      config["inference"], config["seed"], partial)
    print(f"trained in {time.perf_counter() - started:.0f} s ({samples.attrs['n_estimators']} estimators; epochs "
          f"{samples.attrs['epochs']}) on {samples.attrs['n_train']} draws; {samples.attrs['n_excluded']} draws "
          "excluded", flush=True)
    print(samples["quantile_value"].to_pandas().T.to_string(), flush=True)
    write_dataset(samples, snakemake.output.samples, snakemake.config)
