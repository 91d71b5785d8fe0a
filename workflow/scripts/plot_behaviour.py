from wmattn.figures.behaviour import behaviour
from wmattn.io import open_dataset, output_to
from wmattn.figures.style import save

with output_to(snakemake.log[0], snakemake.threads):
    save(behaviour(open_dataset(snakemake.input[0], "behaviour")), snakemake.output)
