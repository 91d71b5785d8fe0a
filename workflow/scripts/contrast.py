import json

from wmattn import seeds
from wmattn.analysis.generalization import region_contrast
from wmattn.io import output_to, region_sessions, write_dataset

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    settings, contrast = config["decoding"], config["contrast"]
    sessions = {region: region_sessions(snakemake.input, region) for region in snakemake.params.regions}
    print("contrasting the generalisation of " + ", ".join(f"{region} ({sum(s.sizes['neuron'] for s in sessions[region])} neurons)"
                                                           for region in sessions), flush=True)
    result = region_contrast(
        sessions,
        settings["windows"],
        n_folds=settings["n_folds"],
        C=settings["C"],
        n_permutations=contrast["n_permutations"],
        n_subsamples=contrast["n_subsamples"],
        rng=seeds.seed_sequence(config["seed"], "contrast"),
    )
    write_dataset(result, snakemake.output[0], snakemake.config)
