# wmattn: does one control signal select from working memory and direct attention?
# Stages and the files between them are described in DESIGN.md; each rule is a
# thin call of a function in src/wmattn.
from pathlib import Path

from wmattn.config import validate_config


# A config given with --configfile stands alone: merged into the default, its
# regions would be added to the default's instead of replacing them.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


validate_config(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")

REGIONS = list(config["regions"])
NETWORKS = list(config["networks"])


report: "workflow/report/workflow.rst"


wildcard_constraints:
    region="|".join(REGIONS),
    network="|".join(NETWORKS),
    session=r"\d+",



include: "workflow/rules/common.smk"


# The rates come from a simulation (the circuit, or the planted calibration source) or
# from recordings; nothing downstream can tell.
SIMULATED = config["source"] in ("circuit", "planted")
if SIMULATED:

    include: "workflow/rules/simulate.smk"

else:

    include: "workflow/rules/recordings.smk"


include: "workflow/rules/decode.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/behaviour.smk"
include: "workflow/rules/figures.smk"


# The inference fits a circuit: the config's own, or the one inference.circuit names. Without
# one, asking for it is refused naming that key (and no rule of it exists to plan or force).
if config["source"] == "circuit" or "circuit" in config["inference"]:

    include: "workflow/rules/infer.smk"

else:

    rule inference:
        input:
            lambda w: inference_circuit(),


# sweeps simulate again (their rules reuse simulate's and decode's)
if SIMULATED:

    include: "workflow/rules/sweep.smk"


FIGURES = expand(
    "results/figures/{figure}_{region}.{ext}",
    figure=["decoding", "generalization", "geometry"],
    region=REGIONS,
    ext=FIGURE_FORMATS,
) + expand(
    "results/figures/{figure}.{ext}",
    figure=[
        "task", "examples", "decoding_overview", "generalization_overview", "geometry_overview", "generalization_summary",
        "attention_model", "comparison", "behaviour",
    ],
    ext=FIGURE_FORMATS,
)


rule all:
    default_target: True
    input:
        FIGURES,
        "results/comparison/summary.csv",
        "results/behaviour/summary.nc",


# `make figures` asks for this with every plot rule forced: figures are redrawn
# from the existing results, and nothing upstream runs unless it is out of date.
rule figures:
    input:
        FIGURES,
