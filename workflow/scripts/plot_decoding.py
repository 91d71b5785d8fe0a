from wmattn.figures import decoding, geometry
from wmattn.figures.style import save
from wmattn.io import open_dataset, output_to

with output_to(snakemake.log[0], snakemake.threads):
    result = open_dataset(snakemake.input[0], "decoding")
    for name, draw in [
        ("decoding", decoding.decoding_time_courses),
        ("generalization", decoding.generalization_matrices),
        ("geometry", geometry.selection_geometry),
    ]:
        figure = draw(result, snakemake.wildcards.region)
        save(figure, snakemake.output[name])
