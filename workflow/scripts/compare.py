import json
from pathlib import Path

from wmattn import seeds
from wmattn.compare import as_table, summarize
from wmattn.io import open_dataset, output_to, write_dataset

with output_to(snakemake.log[0], snakemake.threads):
    config = json.loads(snakemake.params.config)
    networks = snakemake.params.networks
    # the colour of the cued and the uncued item is compared where the planes compare it: after selection
    colour_windows = {task: windows["after_selection"] for task, windows in config["decoding"]["plane_windows"].items()
                      if "after_selection" in windows}
    behaviour = open_dataset(snakemake.input.behaviour, "behaviour")
    rates_source = config["source"] if isinstance(config["source"], str) else "recordings"
    summary = summarize(
        {Path(path).stem: open_dataset(path, "decoding") for path in snakemake.input.regions},
        {name: open_dataset(path, "decoding") for name, path in zip(networks, snakemake.input.networks)},
        {name: open_dataset(path, "attention") for name, path in zip(networks, snakemake.input.attention)},
        colour_windows,
        behaviour=behaviour if rates_source in behaviour["source"] else None,
        source=rates_source,
        variants=snakemake.params.variants,
        n_draws=config["comparison"]["n_draws"],
        seed=seeds.seed_sequence(config["seed"], "comparison"),
    )
    for network in networks:
        for task in summary["task"].to_numpy():
            value = summary["response_attention"].sel(network=network, task=task).item()
            low, high = summary["response_attention_ci"].sel(network=network, task=task).to_numpy()
            print(f"{network}: attention on the cued item over the {task} responses {value:.2f} [{low:.2f}, {high:.2f}]",
                  flush=True)
            if not low > 0.5:
                print(f"WARNING: network {network} does not select the cued item in {task} trials, so it stands for "
                      f"a network that fails the task rather than for its variant: train it longer "
                      f"(networks.{network}.n_steps) or another instance (networks.{network}.seed)", flush=True)
    for variant, count in zip(summary["variant"].to_numpy(), summary["n_instances"].to_numpy()):
        if count == 1:
            print(f"WARNING: variant {variant} has one instance: the distances' intervals leave out how instances of "
                  f"it differ (config/hypotheses/*.yaml train several, networks.{{name}}.seed)", flush=True)
    for region, match in zip(summary["region"].to_numpy(), summary["match"].to_numpy()):
        distances = ", ".join(f"{variant} {summary['distance'].sel(region=region, variant=variant).item():.2f} "
                              f"[{summary['distance_ci'].sel(region=region, variant=variant)[0].item():.2f}, "
                              f"{summary['distance_ci'].sel(region=region, variant=variant)[1].item():.2f}]"
                              for variant in summary["variant"].to_numpy())
        print(f"{region}: {match} ({distances})", flush=True)
    write_dataset(summary, snakemake.output.summary, snakemake.config)
    as_table(summary).to_csv(snakemake.output.table)
