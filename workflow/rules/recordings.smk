# source: {nwb: [paths]}: recordings replace the simulation. One job reads every
# file's trials and units and checks them (wmattn.nwb.RecordingError in its log
# stops the run before any file is imported); then one job per file imports its
# session's units of every configured region, so a cluster imports them side by side.


rule check_recordings:
    input:
        config["source"]["nwb"],
    output:
        # the time span every session's rates share
        "results/recordings/span.json",
    params:
        config=stage_config("source", "task", "rates"),
        regions=REGIONS,
        # every session needs this many trials of every task x cued location
        n_folds=config["decoding"]["n_folds"],
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
    log:
        "results/logs/check_recordings.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/check_recordings.py"


rule import_nwb:
    input:
        nwb=lambda wildcards: config["source"]["nwb"][int(wildcards.session)],
        span="results/recordings/span.json",
    output:
        rates="results/rates/session{session}.nc",
        spikes="results/spikes/session{session}.nc",
    params:
        config=stage_config("source", "task", "rates"),
        regions=REGIONS,
        n_folds=config["decoding"]["n_folds"],
    threads: 1
    resources:
        mem_mb=mem_mb_import_nwb,
        runtime=runtime_import_nwb,
    log:
        "results/logs/import_nwb/session{session}.log",
    benchmark:
        "results/benchmarks/import_nwb/session{session}.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/import_nwb.py"
