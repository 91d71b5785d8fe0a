from wmattn import plots
from wmattn.io import open_dataset, output_to

with output_to(snakemake.log[0], snakemake.threads):
    decoding = open_dataset(snakemake.input[0], "decoding")
    for name, draw in [
        ("decoding", plots.decoding_time_courses),
        ("generalization", plots.generalization_matrices),
        ("geometry", plots.geometry_time_courses),
    ]:
        figure = draw(decoding, snakemake.wildcards.region)
        plots.save(figure, snakemake.output[name])
