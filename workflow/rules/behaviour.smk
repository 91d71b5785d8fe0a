rule behaviour:
    input:
        rates=session_files("rates"),
        networks=expand("results/model/{network}/attention.nc", network=NETWORKS),
    output:
        "results/behaviour/summary.nc",
    params:
        config=stage_config("seed", "source", "behaviour"),
        networks=NETWORKS,
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
    log:
        "results/logs/behaviour/behaviour.log",
    benchmark:
        "results/benchmarks/behaviour/behaviour.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/behaviour.py"


rule plot_behaviour:
    input:
        "results/behaviour/summary.nc",
    output:
        figure("behaviour", "behaviour", "Behaviour"),
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
    log:
        "results/logs/figures/behaviour.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/plot_behaviour.py"
