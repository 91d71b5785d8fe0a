# source: {nwb: [paths]}: recordings replace the simulation. One job reads every
# file and writes every region's rates and spikes, so that a file that does not
# fit (wmattn.nwb.RecordingError in the log) stops the run before anything is written.


rule import_nwb:
    input:
        config["source"]["nwb"],
    output:
        rates=expand("results/rates/{region}.nc", region=REGIONS),
        spikes=expand("results/spikes/{region}.nc", region=REGIONS),
    params:
        config=stage_config("source", "task", "rates"),
        regions=REGIONS,
        # every session needs this many trials of every task x cued location
        n_folds=config["decoding"]["n_folds"],
    threads: 1
    resources:
        mem_mb=mem_mb_import_nwb,
        runtime=runtime_import_nwb,
    log:
        "results/logs/import_nwb.log",
    benchmark:
        "results/benchmarks/import_nwb.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/import_nwb.py"
