rule train_attention:
    output:
        attention="results/model/attention.nc",
        model="results/model/model.pt",
        training="results/model/training.csv",
    params:
        config=stage_config("seed", "task", "sessions", "rates", "model"),
    # one thread: the network's matrices are small, and torch's threads spin-wait for cores that
    # other jobs hold (measured with another process busy on 2 cores: 223 s for 40 steps on 2 threads, 18 s on 1)
    threads: 1
    resources:
        mem_mb=mem_mb_train_attention,
        runtime=runtime_train_attention,
    log:
        "results/logs/model/train_attention.log",
    benchmark:
        "results/benchmarks/model/train_attention.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/train_attention.py"


rule decode_model:
    input:
        "results/model/attention.nc",
    output:
        "results/decoding/model.nc",
    params:
        config=stage_config("seed", "decoding"),
        name="model",
        contract="attention",
    threads: 1
    resources:
        mem_mb=mem_mb_decode,
        runtime=runtime_decode,
    log:
        "results/logs/decode/model.log",
    benchmark:
        "results/benchmarks/decode/model.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/decode.py"


rule region_attention:
    input:
        rates=session_files("rates"),
    output:
        "results/model/region_attention.nc",
    params:
        config=stage_config("seed", "decoding"),
        regions=REGIONS,
    threads: 1
    resources:
        mem_mb=mem_mb_region_attention,
        runtime=runtime_region_attention,
    log:
        "results/logs/model/region_attention.log",
    benchmark:
        "results/benchmarks/model/region_attention.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/region_attention.py"


rule compare:
    input:
        decodings=expand("results/decoding/{name}.nc", name=REGIONS + ["model"]),
        attention="results/model/attention.nc",
        region_attention="results/model/region_attention.nc",
    output:
        summary="results/comparison/summary.nc",
        table=report("results/comparison/summary.csv", caption="../report/comparison_table.rst", category="Comparison"),
    params:
        config=stage_config("seed", "figures"),
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
    log:
        "results/logs/comparison/compare.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/compare.py"
