import json

from wmattn import seeds
from wmattn.io import output_to, region_sessions, write_dataset
from wmattn.readout import region_attention

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    # A sweep point simulates some regions again: those come from its own session files.
    again = snakemake.params.get("resimulated", [])
    readout = region_attention(
        {region: region_sessions(snakemake.input.point if region in again else snakemake.input.rates, region)
         for region in snakemake.params.regions},
        n_folds=config["decoding"]["n_folds"],
        C=config["decoding"]["C"],
        seed=seeds.seed_sequence(config["seed"], "region_attention"),
    )
    # A sweep point records its own config, not the main one.
    write_dataset(readout, snakemake.output[0], snakemake.params.get("provenance", snakemake.config))
