# Fitting the circuit to the decoding of results/rates (target `inference`, never part of `all`):
# prior draws simulated in chunks, one job each (a cluster spreads them; adding draws runs only the
# new chunks), a neural posterior estimator trained on them (sbi), its calibration on held-out
# draws, and a posterior predictive check. wmattn.inference.stage says what each step computes.
rule infer_observed:
    input:
        session_files("rates"),
    output:
        "results/inference/observed.nc",
    params:
        config=inference_config,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=runtime_small,
    log:
        "results/logs/inference/observed.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/infer_observed.py"


rule infer_simulate:
    input:
        observed="results/inference/observed.nc",
        # the predictive check simulates posterior samples
        samples=lambda w: ["results/inference/samples.nc"] if w.set == "predictive" else [],
    output:
        "results/inference/simulations/{set}/chunk{chunk}.nc",
    wildcard_constraints:
        set="train|test|predictive",
        chunk=r"\d+",
    params:
        config=inference_config,
        size=lambda w: inference_chunk_sizes(w.set)[int(w.chunk)],
    threads: 1
    resources:
        mem_mb=2000,
        # measured on 2 cores: about 20 s a draw of 100 trials of the default circuit
        runtime=lambda w: 10 + math.ceil(config["inference"]["chunk_size"] * 0.01 * max(
            wmattn.config.trials_per_session(inference_circuit()))),
    log:
        "results/logs/inference/simulate_{set}_chunk{chunk}.log",
    benchmark:
        "results/benchmarks/inference/simulate_{set}_chunk{chunk}.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/infer_simulate.py"


rule infer_train:
    input:
        observed="results/inference/observed.nc",
        chunks=lambda w: inference_chunks("train"),
    output:
        posterior="results/inference/posterior.pt",
        samples="results/inference/samples.nc",
    params:
        config=lambda w: json.dumps({"seed": config["seed"], "inference": config["inference"],
                                     "circuit": inference_circuit()}, sort_keys=True),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    log:
        "results/logs/inference/train.log",
    benchmark:
        "results/benchmarks/inference/train.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/infer_train.py"


rule infer_calibrate:
    input:
        posterior="results/inference/posterior.pt",
        chunks=lambda w: inference_chunks("test"),
    output:
        "results/inference/calibration.nc",
    params:
        config=lambda w: json.dumps({"seed": config["seed"], "inference": config["inference"]}, sort_keys=True),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    log:
        "results/logs/inference/calibrate.log",
    benchmark:
        "results/benchmarks/inference/calibrate.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/infer_calibrate.py"


rule plot_inference:
    input:
        observed="results/inference/observed.nc",
        samples="results/inference/samples.nc",
        calibration="results/inference/calibration.nc",
        predictive=lambda w: inference_chunks("predictive"),
    output:
        posterior=figure("inference_posterior", "inference_posterior", "Inference"),
        calibration=figure("inference_calibration", "inference_calibration", "Inference"),
        predictive=figure("inference_predictive", "inference_predictive", "Inference"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=runtime_small,
    log:
        "results/logs/inference/plot.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/plot_inference.py"


rule inference:
    input:
        "results/inference/posterior.pt",
        "results/inference/samples.nc",
        "results/inference/calibration.nc",
        expand("results/figures/{name}.{ext}", name=["inference_posterior", "inference_calibration",
                                                      "inference_predictive"], ext=FIGURE_FORMATS),
