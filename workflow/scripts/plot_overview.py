from pathlib import Path

from wmattn.figures import decoding, geometry
from wmattn.figures.style import save
from wmattn.io import open_dataset, output_to

with output_to(snakemake.log[0], snakemake.threads):
    decodings = {Path(path).stem: open_dataset(path, "decoding") for path in snakemake.input}
    for name, draw in [("decoding", decoding.decoding_overview), ("generalization", decoding.generalization_overview),
                       ("geometry", geometry.geometry_overview)]:
        save(draw(decodings), snakemake.output[name])
