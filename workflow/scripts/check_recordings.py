import json

from wmattn.io import atomic, output_to
from wmattn.nwb import check_recordings
from wmattn.task import timing_from_config

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    span = check_recordings(
        snakemake.input,
        snakemake.params.regions,
        config["source"]["columns"],
        timing_from_config(config["task"]["timing"]),
        snakemake.params.n_folds,
    )
    with atomic(snakemake.output[0]) as partial, open(partial, "w") as file:
        json.dump(span, file)
