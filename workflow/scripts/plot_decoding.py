from wmattn.io import open_dataset, output_to
from wmattn.plots import decoding_time_courses

with output_to(snakemake.log[0]):
    figure = decoding_time_courses(
        open_dataset(snakemake.input[0], "decoding"), snakemake.wildcards.region
    )
    for path in snakemake.output:
        figure.savefig(path, dpi=150)
