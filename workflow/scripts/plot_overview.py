from pathlib import Path

from wmattn import plots
from wmattn.io import open_dataset, output_to

with output_to(snakemake.log[0]):
    decodings = {Path(path).stem: open_dataset(path, "decoding") for path in snakemake.input}
    for name, draw in [("decoding", plots.decoding_overview), ("generalization", plots.generalization_overview)]:
        figure = draw(decodings)
        for path in snakemake.output[name]:
            figure.savefig(path, dpi=150)
