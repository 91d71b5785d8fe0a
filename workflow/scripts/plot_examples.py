import json

from wmattn.io import open_dataset, output_to
from wmattn.figures.style import save
from wmattn.figures.task import example_neurons
from wmattn.rates import region_spikes

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    spikes = open_dataset(snakemake.input[0], "spikes")
    figure = example_neurons({region: region_spikes(spikes, region) for region in snakemake.params.regions},
                             config["figures"]["transfer_window"], config["rates"]["bin_ms"], config["rates"]["step_ms"])
    save(figure, snakemake.output)
