from wmattn.io import open_dataset, output_to
from wmattn.figures.style import save
from wmattn.figures.sweep import sweep_figure, sweep_summary

with output_to(snakemake.log[0], snakemake.threads):
    params = snakemake.params
    summary = sweep_summary(
        params.values,
        [open_dataset(path, "decoding") for path in snakemake.input.decodings],
        params.region,
        params.window,
    )
    summary.to_csv(snakemake.output.table, index=False)
    figure = sweep_figure(summary, params.key, params.region, params.window, params.configured)
    save(figure, snakemake.output.figure)
