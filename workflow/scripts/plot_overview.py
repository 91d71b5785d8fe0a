import json
from functools import partial
from pathlib import Path

from wmattn import plots
from wmattn.io import open_dataset, output_to

with output_to(snakemake.log[0], snakemake.threads):
    figures = json.loads(snakemake.params.config)["figures"]
    decodings = {Path(path).stem: open_dataset(path, "decoding") for path in snakemake.input}
    drawings = [
        ("decoding", plots.decoding_overview),
        ("generalization", plots.generalization_overview),
        ("geometry", partial(plots.geometry_overview, before_window=figures["before_selection_window"],
                             after_window=figures["transfer_window"])),
    ]
    for name, draw in drawings:
        figure = draw(decodings)
        plots.save(figure, snakemake.output[name])
