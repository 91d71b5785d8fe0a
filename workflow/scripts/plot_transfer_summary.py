import json
from pathlib import Path

from wmattn.io import open_dataset, output_to
from wmattn.figures.decoding import transfer_summary
from wmattn.figures.style import save

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    regions = config["regions"]
    decodings = {Path(path).stem: open_dataset(path, "decoding") for path in snakemake.input}
    figure = transfer_summary(
        decodings,
        # only the planted source sets a region's shared selection; otherwise the regions keep the config's order
        {region: regions[region]["shared_selection"] for region in regions} if config["source"] == "planted" else None,
        config["figures"]["transfer_window"],
    )
    save(figure, snakemake.output)
