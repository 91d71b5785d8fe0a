rule plot_decoding:
    input:
        "results/decoding/{region}.nc",
    output:
        decoding=report(
            multiext("results/figures/decoding_{region}", ".png", ".pdf"),
            caption="../report/decoding.rst",
            category="Decoding",
            subcategory="{region}",
        ),
        generalization=report(
            multiext("results/figures/generalization_{region}", ".png", ".pdf"),
            caption="../report/generalization.rst",
            category="Decoding",
            subcategory="{region}",
        ),
        geometry=report(
            multiext("results/figures/geometry_{region}", ".png", ".pdf"),
            caption="../report/geometry.rst",
            category="Geometry",
            subcategory="{region}",
        ),
    log:
        "results/logs/figures/decoding_{region}.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/plot_decoding.py"


rule plot_transfer_summary:
    input:
        expand("results/decoding/{region}.nc", region=REGIONS),
    output:
        report(
            multiext("results/figures/transfer_summary", ".png", ".pdf"),
            caption="../report/transfer_summary.rst",
            category="Summary",
        ),
    params:
        config=stage_config("figures", "regions"),
    log:
        "results/logs/figures/transfer_summary.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/plot_transfer_summary.py"
