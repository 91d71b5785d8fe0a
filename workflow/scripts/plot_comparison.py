import json

from wmattn.io import open_dataset, output_to
from wmattn.figures.model import comparison
from wmattn.figures.style import save

with output_to(snakemake.log[0], snakemake.threads):
    figure = comparison(
        open_dataset(snakemake.input.summary, "comparison"),
        open_dataset(snakemake.input.region_attention, "region_attention"),
        json.loads(snakemake.params.config)["figures"]["transfer_window"],
    )
    save(figure, snakemake.output)
