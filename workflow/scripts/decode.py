import json

from wmattn import seeds
from wmattn.decode import decode_cued_location
from wmattn.io import open_dataset, output_to, write_dataset

with output_to(snakemake.log[0]):
    config = json.loads(snakemake.params.config)
    decoding = decode_cued_location(
        open_dataset(snakemake.input[0], "rates"),
        n_folds=config["decoding"]["n_folds"],
        C=config["decoding"]["C"],
        random_state=seeds.integer_seed(config["seed"], "decoding", snakemake.wildcards.region),
    )
    write_dataset(decoding, snakemake.output[0], snakemake.config)
