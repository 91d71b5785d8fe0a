import json

from wmattn.io import output_to
from wmattn.figures.style import save
from wmattn.figures.task import task_timeline
from wmattn.task import timing_from_config

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    figure = task_timeline(timing_from_config(config["task"]["timing"]))
    save(figure, snakemake.output)
