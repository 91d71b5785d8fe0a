from pathlib import Path

from wmattn.io import open_dataset, output_to
from wmattn.nwb import export_sessions

with output_to(snakemake.log[0]):
    spikes = {Path(path).stem: open_dataset(path, "spikes") for path in snakemake.input}
    export_sessions(spikes, snakemake.output, snakemake.config)
