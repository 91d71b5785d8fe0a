import json

from wmattn import seeds
from wmattn.analysis.region import decode_region
from wmattn.io import model_as_rates, open_dataset, output_to, region_sessions, write_dataset

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    settings = config["decoding"]
    if snakemake.params.contract == "attention":  # the network's hidden states, decoded as one more region
        sessions = model_as_rates(open_dataset(snakemake.input[0], "attention"))
    else:  # the region's neurons, read from every session's rates file
        sessions = region_sessions(snakemake.input, snakemake.params.name)
    print(f"decoding {snakemake.params.name}: {sum(rates.sizes['neuron'] for rates in sessions)} neurons "
          f"from {len(sessions)} session(s)", flush=True)
    decoding = decode_region(
        sessions,
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
