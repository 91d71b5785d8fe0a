import json
from functools import partial
from pathlib import Path

from wmattn.figures import decoding, geometry
from wmattn.figures.style import save
from wmattn.io import open_dataset, output_to

with output_to(snakemake.log[0], snakemake.threads):
    figures = json.loads(snakemake.params.config)["figures"]
    decodings = {Path(path).stem: open_dataset(path, "decoding") for path in snakemake.input}
    drawings = [
        ("decoding", decoding.decoding_overview),
        ("generalization", decoding.generalization_overview),
        ("geometry", partial(geometry.geometry_overview, before_window=figures["before_selection_window"],
                             after_window=figures["transfer_window"])),
    ]
    for name, draw in drawings:
        save(draw(decodings), snakemake.output[name])
