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
    resources:
        # sized from the config (common.smk, "Resources")
        mem_mb=mem_mb_decode,
        runtime=runtime_decode,
    log:
        "results/logs/decode/{region}.log",
    benchmark:
        "results/benchmarks/decode/{region}.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/decode.py"
