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
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
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
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
    log:
        "results/logs/figures/transfer_summary.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/plot_transfer_summary.py"


rule plot_comparison:
    input:
        summary="results/comparison/summary.nc",
        region_attention="results/model/region_attention.nc",
    output:
        report(
            multiext("results/figures/comparison", ".png", ".pdf"),
            caption="../report/comparison.rst",
            category="Comparison",
        ),
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
    log:
        "results/logs/figures/comparison.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/plot_comparison.py"


rule plot_attention_model:
    input:
        attention="results/model/attention.nc",
        training="results/model/training.csv",
    output:
        report(
            multiext("results/figures/attention_model", ".png", ".pdf"),
            caption="../report/attention_model.rst",
            category="Attention model",
        ),
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
    log:
        "results/logs/figures/attention_model.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/plot_attention_model.py"


rule plot_task:
    output:
        report(multiext("results/figures/task", ".png", ".pdf"), caption="../report/task.rst", category="Task"),
    params:
        config=stage_config("task"),
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
    log:
        "results/logs/figures/task.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/plot_task.py"


rule plot_overview:
    input:
        expand("results/decoding/{region}.nc", region=REGIONS),
    output:
        decoding=report(
            multiext("results/figures/decoding_overview", ".png", ".pdf"),
            caption="../report/decoding_overview.rst",
            category="Summary",
        ),
        generalization=report(
            multiext("results/figures/generalization_overview", ".png", ".pdf"),
            caption="../report/generalization_overview.rst",
            category="Summary",
        ),
        geometry=report(
            multiext("results/figures/geometry_overview", ".png", ".pdf"),
            caption="../report/geometry_overview.rst",
            category="Summary",
        ),
    params:
        config=stage_config("figures"),
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
    log:
        "results/logs/figures/overview.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/plot_overview.py"


rule plot_examples:
    input:
        expand("results/spikes/{region}.nc", region=REGIONS),
    output:
        report(multiext("results/figures/examples", ".png", ".pdf"), caption="../report/examples.rst", category="Task"),
    params:
        config=stage_config("rates", "figures"),
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
    log:
        "results/logs/figures/examples.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/plot_examples.py"
