# The attention networks: every variant of config `networks` is trained by its own job and
# decoded by the decoding stage as one more region, model_{network}.


rule train_network:
    output:
        attention="results/model/{network}/attention.nc",
        model="results/model/{network}/model.pt",
        training="results/model/{network}/training.csv",
    params:
        config=network_config,
    # one thread: the network's matrices are small, and torch's threads spin-wait for cores that
    # other jobs hold (measured with another process busy on 2 cores: 223 s for 40 steps on 2 threads, 18 s on 1)
    threads: 1
    resources:
        mem_mb=mem_mb_train_network,
        runtime=runtime_train_network,
    log:
        "results/logs/model/train_{network}.log",
    benchmark:
        "results/benchmarks/model/train_{network}.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/train_network.py"


rule decode_network:
    input:
        "results/model/{network}/attention.nc",
    output:
        "results/decoding/model_{network}.nc",
    params:
        config=stage_config("seed", "decoding"),
        name=lambda wildcards: f"model_{wildcards.network}",
        contract="attention",
    threads: 1
    resources:
        mem_mb=mem_mb_decode,
        runtime=runtime_decode,
    log:
        "results/logs/decode/model_{network}.log",
    benchmark:
        "results/benchmarks/decode/model_{network}.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/decode.py"


rule compare:
    input:
        regions=expand("results/decoding/{region}.nc", region=REGIONS),
        networks=expand("results/decoding/model_{network}.nc", network=NETWORKS),
        attention=expand("results/model/{network}/attention.nc", network=NETWORKS),
        behaviour="results/behaviour/summary.nc",
    output:
        summary="results/comparison/summary.nc",
        table=report("results/comparison/summary.csv", caption="../report/comparison_table.rst", category="Comparison"),
    params:
        config=stage_config("seed", "source", "decoding", "comparison"),
        networks=NETWORKS,
        # the variant each network is an instance of: instances of one variant are pooled
        variants={name: config["networks"][name]["selection"] for name in NETWORKS},
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
