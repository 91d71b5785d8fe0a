rule simulate:
    output:
        "results/rates/{region}.nc",
    params:
        config=lambda w: stage_config("seed", "task", "simulation", "rates", region=w.region),
    log:
        "results/logs/simulate/{region}.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/simulate.py"
