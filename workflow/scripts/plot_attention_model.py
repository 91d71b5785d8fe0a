import pandas as pd

from wmattn.figures.model import attention_models
from wmattn.figures.style import save
from wmattn.io import open_dataset, output_to

with output_to(snakemake.log[0], snakemake.threads):
    networks = snakemake.params.networks
    figure = attention_models(
        {name: open_dataset(path, "attention") for name, path in zip(networks, snakemake.input.attention)},
        {name: pd.read_csv(path) for name, path in zip(networks, snakemake.input.training)},
    )
    save(figure, snakemake.output)
