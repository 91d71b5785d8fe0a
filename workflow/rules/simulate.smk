# One job per session: every region of the session in one job (the regions of a
# session share its trials). The circuit is one network of every region in one
# process; the planted source simulates its regions in parallel processes up to the
# job's threads (a region driven top-down reads its source's rates of the same session).
rule simulate:
    output:
        rates="results/rates/session{session}.nc",
        # the session's spike times: for the example rasters and the NWB export
        spikes="results/spikes/session{session}.nc",
    params:
        config=stage_config("seed", "source", "task", "sessions", "simulation", "circuit", "rates", "regions"),
        # in the config's order (the JSON above sorts them)
        regions=REGIONS,
    # planted: regions in parallel processes (Snakemake scales this down to --cores); circuit: 1
    threads: simulate_threads()
    # first: everything but the network's training waits for the sessions, and a one-thread
    # job started before would keep this one from starting on a machine of two cores
    priority: 10
    resources:
        # sized from the config for the threads the job gets (common.smk, "Resources")
        mem_mb=mem_mb_simulate,
        runtime=runtime_simulate,
    log:
        "results/logs/simulate/session{session}.log",
    benchmark:
        "results/benchmarks/simulate/session{session}.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/simulate.py"


# `make nwb`: the simulation as NWB files, one per session, to share; the
# importer (source: {nwb: [paths]}) reads them back to the same rates.
rule export_nwb:
    input:
        "results/spikes/session{session}.nc",
    output:
        "results/nwb/session{session}.nwb",
    params:
        dt_ms=wmattn.config.simulation_dt_ms(config),
    threads: 1
    resources:
        mem_mb=mem_mb_export_nwb,
        runtime=runtime_small,
    log:
        "results/logs/export_nwb/session{session}.log",
    benchmark:
        "results/benchmarks/export_nwb/session{session}.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/export_nwb.py"


rule nwb:
    input:
        expand("results/nwb/session{session}.nwb", session=range(config["sessions"]["n_sessions"])),
