import pandas as pd

from wmattn.io import open_dataset, output_to
from wmattn.figures.model import attention_model
from wmattn.figures.style import save

with output_to(snakemake.log[0], snakemake.threads):
    figure = attention_model(open_dataset(snakemake.input.attention, "attention"), pd.read_csv(snakemake.input.training))
    save(figure, snakemake.output)
