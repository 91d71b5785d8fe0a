import json

from wmattn.io import open_dataset, output_to
from wmattn.plots import comparison

with output_to(snakemake.log[0]):
    figure = comparison(
        open_dataset(snakemake.input.summary, "comparison"),
        open_dataset(snakemake.input.region_attention, "region_attention"),
        json.loads(snakemake.params.config)["figures"]["transfer_window"],
    )
    for path in snakemake.output:
        figure.savefig(path, dpi=150)
