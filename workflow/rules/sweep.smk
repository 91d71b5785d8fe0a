# Parameter sweeps (`snakemake sweeps`, not part of `all`): the config key `sweeps`
# lists tables whose one column is a region's config key and whose rows are its
# values (wmattn.sweep). Every row is a point of a Paramspace with its own directory,
# results/sweeps/{sweep}/{point}/ (point e.g. shared_selection~0.5), where the
# simulate and decode rules run again with the point's config; a point's session
# files hold the regions it simulates again (the circuit: every region; planted:
# the swept one and those it drives top-down), and the regions it does not simulate
# again keep their main results' rates (to drive it top-down). Only the swept
# region is decoded at a point.
import re

from wmattn.sweep import POINT_RATES, no_sweeps_configured, read_sweeps

SWEEPS = read_sweeps(config["sweeps"], config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")


wildcard_constraints:
    sweep="|".join(map(re.escape, SWEEPS)),
    point="|".join(re.escape(point) for sweep in SWEEPS.values() for point in sweep.points),


rule sweeps:
    input:
        expand("results/figures/sweep_{sweep}.{ext}", sweep=SWEEPS, ext=FIGURE_FORMATS) if SWEEPS else no_sweeps_configured,


use rule simulate as sweep_simulate with:
    input:
        # the main rates of top-down sources that the point does not simulate again
        lambda w: list(SWEEPS[w.sweep].sources(w.point, w.session).values()),
    output:
        rates=POINT_RATES,
        spikes="results/sweeps/{sweep}/{point}/spikes/session{session}.nc",
    params:
        config=lambda w: stage_config("seed", "source", "task", "sessions", "simulation", "circuit", "rates", "regions",
                                      cfg=SWEEPS[w.sweep].point_config(w.point)),
        regions=lambda w: SWEEPS[w.sweep].resimulated(w.point),
        sources=lambda w: SWEEPS[w.sweep].sources(w.point, w.session),
        provenance=lambda w: SWEEPS[w.sweep].point_config(w.point),
    # planted: the regions a point simulates again run in parallel processes; circuit: 1
    threads: lambda w: simulate_threads(SWEEPS[w.sweep].resimulated(w.point), SWEEPS[w.sweep].point_config(w.point))
    resources:
        # sized from the point's config (common.smk, "Resources")
        mem_mb=lambda w, threads, attempt: request_mb(
            simulate_mb(threads, SWEEPS[w.sweep].resimulated(w.point), SWEEPS[w.sweep].point_config(w.point)), attempt
        ),
        runtime=lambda w, threads, attempt: request_minutes(
            simulate_seconds(threads, SWEEPS[w.sweep].resimulated(w.point), SWEEPS[w.sweep].point_config(w.point)), attempt
        ),
    log:
        "results/logs/sweeps/{sweep}/{point}/simulate/session{session}.log",
    benchmark:
        "results/benchmarks/sweeps/{sweep}/{point}/simulate/session{session}.tsv"


use rule decode as sweep_decode with:
    input:
        point_files(),
    output:
        "results/sweeps/{sweep}/{point}/decoding/{region}.nc",
    params:
        config=stage_config("seed", "decoding"),
        name=lambda w: w.region,
        contract="rates",
        provenance=lambda w: SWEEPS[w.sweep].point_config(w.point),
    threads: 1
    resources:
        mem_mb=lambda w, attempt: request_mb(decode_mb(w.region, SWEEPS[w.sweep].point_config(w.point)), attempt),
        runtime=lambda w, attempt: request_minutes(decode_seconds(w.region, SWEEPS[w.sweep].point_config(w.point)), attempt),
    log:
        "results/logs/sweeps/{sweep}/{point}/decode/{region}.log",
    benchmark:
        "results/benchmarks/sweeps/{sweep}/{point}/decode/{region}.tsv"


rule plot_sweep:
    input:
        decodings=lambda w: SWEEPS[w.sweep].at_points("results/sweeps/{sweep}/{point}/decoding/{region}.nc"),
    output:
        figure=figure("sweep_{sweep}", "sweep", "Sweeps"),
        table="results/sweeps/{sweep}/summary.csv",
    params:
        key=lambda w: SWEEPS[w.sweep].key,
        region=lambda w: SWEEPS[w.sweep].region,
        values=lambda w: SWEEPS[w.sweep].values,
        configured=lambda w: SWEEPS[w.sweep].configured,
        window=config["figures"]["transfer_window"],
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
    log:
        "results/logs/sweeps/{sweep}/plot.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/plot_sweep.py"
