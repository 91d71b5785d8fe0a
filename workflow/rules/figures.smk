rule plot_decoding:
    input:
        "results/decoding/{region}.nc",
    output:
        decoding=figure("decoding_{region}", "decoding", "Decoding", subcategory="{region}"),
        generalization=figure("generalization_{region}", "generalization", "Decoding", subcategory="{region}"),
        geometry=figure("geometry_{region}", "geometry", "Geometry", subcategory="{region}"),
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


rule plot_generalization_summary:
    input:
        decodings=expand("results/decoding/{region}.nc", region=REGIONS),
        contrast="results/contrast/generalization.nc",
    output:
        figure("generalization_summary", "generalization_summary", "Summary"),
    params:
        config=stage_config("regions", "source"),
    threads: 1
    resources:
        mem_mb=mem_mb_small,
        runtime=runtime_small,
    log:
        "results/logs/figures/generalization_summary.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/plot_generalization_summary.py"


rule plot_comparison:
    input:
        summary="results/comparison/summary.nc",
    output:
        figure("comparison", "comparison", "Comparison"),
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
        attention=expand("results/model/{network}/attention.nc", network=NETWORKS),
        training=expand("results/model/{network}/training.csv", network=NETWORKS),
    output:
        figure("attention_model", "attention_model", "Attention model"),
    params:
        networks=NETWORKS,
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
        figure("task", "task", "Task"),
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
        decoding=figure("decoding_overview", "decoding_overview", "Summary"),
        generalization=figure("generalization_overview", "generalization_overview", "Summary"),
        geometry=figure("geometry_overview", "geometry_overview", "Summary"),
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
        # the first session's neurons of every region
        session_files("spikes")[0],
    output:
        figure("examples", "examples", "Task"),
    params:
        config=stage_config("rates", "figures"),
        regions=REGIONS,
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
