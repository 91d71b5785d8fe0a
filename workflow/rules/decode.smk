rule decode:
    input:
        # the region's neurons are read from every session's file
        session_files("rates"),
    output:
        "results/decoding/{region}.nc",
    params:
        config=stage_config("seed", "decoding"),
        name=lambda wildcards: wildcards.region,
        contract="rates",
    # one thread: jobs run side by side instead, and BLAS threads spin-wait for cores that other
    # jobs hold (measured with another process busy on 2 cores: a decoding took 16-23 s on 2 threads,
    # 6.5 s on 1). On a cluster node of its own, --set-threads decode=N gives it N.
    threads: 1
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


# Does one region's code transfer across tasks more than another's? Every pair of regions,
# each subsampled to the smaller one's neurons; the regions' neurons are read from every session.
rule contrast:
    input:
        session_files("rates"),
    output:
        "results/contrast/generalization.nc",
    params:
        config=stage_config("seed", "decoding", "contrast"),
        regions=REGIONS,
    threads: 1
    resources:
        mem_mb=mem_mb_contrast,
        runtime=runtime_contrast,
    log:
        "results/logs/contrast/generalization.log",
    benchmark:
        "results/benchmarks/contrast/generalization.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/contrast.py"
