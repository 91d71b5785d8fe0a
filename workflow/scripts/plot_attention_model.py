import pandas as pd

from wmattn.io import open_dataset, output_to
from wmattn.plots import attention_model, save

with output_to(snakemake.log[0], snakemake.threads):
    figure = attention_model(open_dataset(snakemake.input.attention, "attention"), pd.read_csv(snakemake.input.training))
    save(figure, snakemake.output)
