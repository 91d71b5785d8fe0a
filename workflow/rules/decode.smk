rule decode:
    input:
        "results/rates/{region}.nc",
    output:
        "results/decoding/{region}.nc",
    params:
        config=stage_config("seed", "decoding"),
        name=lambda wildcards: wildcards.region,
        contract="rates",
    threads: 2
    log:
        "results/logs/decode/{region}.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/decode.py"
