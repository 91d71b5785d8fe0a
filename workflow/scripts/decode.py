import json

from threadpoolctl import threadpool_limits

from wmattn import seeds
from wmattn.decode import decode_region
from wmattn.io import model_as_rates, open_dataset, output_to, write_dataset

with output_to(snakemake.log[0]), threadpool_limits(snakemake.threads):
    config = json.loads(snakemake.params.config)
    settings = config["decoding"]
    rates = open_dataset(snakemake.input[0], snakemake.params.contract)
    if snakemake.params.contract == "attention":  # the network's hidden states, decoded as one more region
        rates = model_as_rates(rates)
    decoding = decode_region(
        rates,
        n_folds=settings["n_folds"],
        C=settings["C"],
        n_resamples=settings["n_resamples"],
        n_permutations=settings["n_permutations"],
        alpha=settings["alpha"],
        cluster_alpha=settings["cluster_alpha"],
        seed=seeds.seed_sequence(config["seed"], "decoding", snakemake.params.name),
    )
    # A sweep point records its own config, not the main one.
    write_dataset(decoding, snakemake.output[0], snakemake.params.get("provenance", snakemake.config))
