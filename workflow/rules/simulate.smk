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
