import json
from pathlib import Path

from threadpoolctl import threadpool_limits

from wmattn import seeds
from wmattn.io import open_dataset, output_to, write_dataset
from wmattn.readout import region_attention

with output_to(snakemake.log[0]), threadpool_limits(snakemake.threads):
    config = json.loads(snakemake.params.config)
    readout = region_attention(
        {Path(path).stem: open_dataset(path, "rates") for path in snakemake.input},
        n_folds=config["decoding"]["n_folds"],
        C=config["decoding"]["C"],
        seed=seeds.seed_sequence(config["seed"], "region_attention"),
    )
    # A sweep point records its own config, not the main one.
    write_dataset(readout, snakemake.output[0], snakemake.params.get("provenance", snakemake.config))
