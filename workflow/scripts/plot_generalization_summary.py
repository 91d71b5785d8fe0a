import json
from pathlib import Path

from wmattn.figures.decoding import generalization_summary
from wmattn.figures.style import save
from wmattn.io import open_dataset, output_to

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    regions = config["regions"]
    decodings = {Path(path).stem: open_dataset(path, "decoding") for path in snakemake.input.decodings}
    figure = generalization_summary(
        decodings,
        open_dataset(snakemake.input.contrast, "contrast"),
        # only the planted source sets a region's shared selection; otherwise the regions keep the config's order
        {region: regions[region]["shared_selection"] for region in regions} if config["source"] == "planted" else None,
    )
    save(figure, snakemake.output)
