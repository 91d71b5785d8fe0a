rule simulate:
    input:
        top_down=top_down_source,
    output:
        rates="results/rates/{region}.nc",
        # one session's spike times, for the example rasters
        spikes="results/spikes/{region}.nc",
    params:
        config=lambda w: stage_config("seed", "task", "sessions", "simulation", "rates", region=w.region),
    # sessions are simulated in parallel processes; Snakemake scales this down to --cores
    threads: config["sessions"]["n_sessions"]
    resources:
        # sized from the config for the threads the job gets (common.smk, "Resources")
        mem_mb=mem_mb_simulate,
        runtime=runtime_simulate,
    log:
        "results/logs/simulate/{region}.log",
    benchmark:
        "results/benchmarks/simulate/{region}.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/simulate.py"


# `make nwb`: the simulation as NWB files, one per session, to share; the
# importer (source: {nwb: [paths]}) reads them back to the same rates.
rule export_nwb:
    input:
        expand("results/spikes/{region}.nc", region=REGIONS),
    output:
        expand("results/nwb/session{session}.nwb", session=range(config["sessions"]["n_sessions"])),
    threads: 1
    resources:
        mem_mb=mem_mb_export_nwb,
        runtime=runtime_small,
    log:
        "results/logs/export_nwb.log",
    benchmark:
        "results/benchmarks/export_nwb.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/export_nwb.py"
