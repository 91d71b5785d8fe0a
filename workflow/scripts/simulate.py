import json

from wmattn.io import output_to, region_sessions, write_dataset
from wmattn.simulation import simulate_session

# planted: the job's threads are processes (regions simulated side by side), each on one thread;
# the circuit is one network in one process
with output_to(snakemake.log[0], 1):
    config = json.loads(snakemake.params.config)
    session = int(snakemake.wildcards.session)
    # A planted sweep point simulates only the regions it changes; their top-down sources come from the main
    # results. The circuit simulates every region of the session and ignores both.
    sources = {region: region_sessions([path], region)[0] for region, path in snakemake.params.get("sources", {}).items()}
    rates, spikes = simulate_session(
        config, session, regions=snakemake.params.get("regions"), sources=sources, processes=snakemake.threads,
    )
    # A sweep point records its own config, not the main one.
    provenance = snakemake.params.get("provenance", snakemake.config)
    write_dataset(rates, snakemake.output.rates, provenance)
    write_dataset(spikes, snakemake.output.spikes, provenance)
