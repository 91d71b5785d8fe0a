import json

FIGURE_FORMATS = ["png", "pdf"]


def stage_config(*sections, region=None):
    """The part of the config a stage reads, as key-sorted JSON.

    Rules pass it as a param, and Snakemake reruns a job when its params change,
    so a change to one region's entry reruns only that region's jobs and what
    depends on them, and sorting keeps a mere reordering of the YAML from
    counting as a change.
    """
    part = {section: config[section] for section in sections}
    if region is not None:
        part["regions"] = {region: config["regions"][region]}
    return json.dumps(part, sort_keys=True)


def top_down_source(wildcards):
    """The rates file of the region whose selection signal drives this one, if any."""
    top_down = config["regions"][wildcards.region].get("top_down")
    return [f"results/rates/{top_down['source']}.nc"] if top_down else []
