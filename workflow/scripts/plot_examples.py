import json
from pathlib import Path

from wmattn.io import open_dataset, output_to
from wmattn.plots import example_neurons, save

with output_to(snakemake.log[0]):
    config = json.loads(snakemake.params.config)
    spikes = {Path(path).stem: open_dataset(path, "spikes") for path in snakemake.input}
    figure = example_neurons(spikes, config["figures"]["transfer_window"], config["rates"]["bin_ms"], config["rates"]["step_ms"])
    save(figure, snakemake.output)
