import json
from pathlib import Path

from wmattn import seeds
from wmattn.compare import as_table, summarize
from wmattn.io import open_dataset, output_to, write_dataset

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    summary = summarize(
        {Path(path).stem: open_dataset(path, "decoding") for path in snakemake.input.decodings},
        open_dataset(snakemake.input.attention, "attention"),
        open_dataset(snakemake.input.region_attention, "region_attention"),
        config["figures"]["transfer_window"],
        seed=seeds.seed_sequence(config["seed"], "comparison"),
    )
    write_dataset(summary, snakemake.output.summary, snakemake.config)
    as_table(summary).to_csv(snakemake.output.table)
