from wmattn.io import open_dataset, output_to
from wmattn.nwb import export_session

with output_to(snakemake.log[0], snakemake.threads):
    export_session(open_dataset(snakemake.input[0], "spikes"), snakemake.output[0], snakemake.config)
