from wmattn.figures.model import comparison
from wmattn.figures.style import save
from wmattn.io import open_dataset, output_to

with output_to(snakemake.log[0], snakemake.threads):
    save(comparison(open_dataset(snakemake.input.summary, "comparison")), snakemake.output)
