import functools
import json
import math

import wmattn.config

FIGURE_FORMATS = ["png", "pdf"]  # the first is shown in the report


def figure(name, caption, category, subcategory=None):
    """A figure's files: the PNG shown in the report, and a PDF for manuscripts.

    The report embeds a PDF as one data URL, which browsers refuse above 2 MB,
    and listing both formats would show every figure twice.
    """
    shown, *others = (f"results/figures/{name}.{ext}" for ext in FIGURE_FORMATS)
    return [report(shown, caption=f"../report/{caption}.rst", category=category, subcategory=subcategory), *others]


def stage_config(*sections, cfg=None):
    """The part of the config (default: the workflow's) a stage reads, as key-sorted JSON.

    Rules pass it as a param, and Snakemake reruns a job when its params change,
    so a change to a decoding key reruns no simulation, and sorting keeps a
    mere reordering of the YAML from counting as a change.
    """
    cfg = cfg or config
    return json.dumps({section: cfg[section] for section in sections}, sort_keys=True)


def network_config(wildcards):
    """What a network's training reads: the task, the trials' layout and its own entry (not the others')."""
    return json.dumps({**json.loads(stage_config("seed", "task", "sessions", "rates")),
                       "network": config["networks"][wildcards.network], "name": wildcards.network}, sort_keys=True)


def session_files(kind, cfg=None):
    """Every session's file of ``kind`` (rates, spikes): one per simulated session or imported NWB file."""
    cfg = cfg or config
    n_sessions = cfg["sessions"]["n_sessions"] if cfg["source"] in ("circuit", "planted") else len(cfg["source"]["nwb"])
    return [f"results/{kind}/session{k}.nc" for k in range(n_sessions)]


def point_files(kind="rates"):
    """Every session's file of ``kind`` at the wildcards' sweep point (an input function)."""
    return lambda w: [f"results/sweeps/{w.sweep}/{w.point}/{kind}/session{k}.nc" for k in range(config["sessions"]["n_sessions"])]


# --- Inference ----------------------------------------------------------------


@functools.cache
def inference_circuit():
    """The circuit the inference stage fits (read only when one of its jobs is planned)."""
    from wmattn.inference.circuit import circuit_config

    return circuit_config(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")


def inference_chunk_sizes(set_name):
    """Draws of every chunk of a set (train, test, predictive): full chunks, the last one holding the rest
    (so adding draws changes only the last chunk and adds new ones)."""
    n, size = config["inference"][f"n_{set_name}"], config["inference"]["chunk_size"]
    return [min(size, n - start) for start in range(0, n, size)]


def inference_chunks(set_name):
    return [f"results/inference/simulations/{set_name}/chunk{k}.nc" for k in range(len(inference_chunk_sizes(set_name)))]


def inference_config(wildcards=None):
    """What a simulation chunk reads: not n_train or n_test, so adding draws reruns no chunk."""
    settings = {key: value for key, value in config["inference"].items() if key not in ("n_train", "n_test")}
    return json.dumps({"seed": config["seed"], "decoding": config["decoding"], "inference": settings,
                       "circuit": inference_circuit()}, sort_keys=True)


# --- Resources ---------------------------------------------------------------
#
# Every rule declares `threads` and the memory (`mem_mb`, MB) and wall time
# (`runtime`, minutes) its job needs, estimated from the config, so that a
# scheduler can place it: SLURM (workflow/profiles/slurm) turns them into
# --cpus-per-task, --mem and --time, and a workstation run keeps the sum of the
# running jobs' mem_mb under `--resources mem_mb=...` when one is given. An
# estimate adds up what a job holds at its peak and how long its main loops
# run, with constants measured on this pipeline (2 cores, x86-64; wall times
# vary 2-3x with the machine's load):
#
#   simulate, planted: default config (1 session of 240 trials, 4 regions of 100 neurons): 19 s a region
#   (with recordings, `sessions` and the regions' `n_neurons` are taken as the
#   expected size of the recording: import_nwb and every later job are sized from them)
#   simulate, planted: config/paper.yaml (a session of 376 trials, 4 regions of 24 neurons):
#     a region's network in a forked worker of up to 0.28 GB; the session's
#     rates (15 MB) and spikes in the main process
#   simulate, circuit: one process, one network of a copy of every region's
#     neurons and synapses per trial. Two small runs (48 trials, 5.3 s of network
#     time, dt 0.5 ms, ~8.7 Hz, the other core busy): 180 neurons and 4,368
#     synapses a copy 3-5 s of network run, 0.24 GB peak; 524 neurons and 39,984
#     synapses 13 s, 0.35 GB. Fitted: 4e-8 s per neuron and time step, 2e-8 s per
#     synaptic event. Not yet measured at the default config's scale.
#   decode, default: 1-2 CPU-min, 0.65 GB; paper: 20 CPU-min per region (10-30
#     min wall on 2 threads; 3-6 min on a faster machine)
#   train_network, default (600 steps x 64 trials x 64 units): 51 s idle (the one network before the
#     variants); side by side on 2 cores, shared (64 units) 137 s, task_specific (2 x 64 units) 182 s
#
# A job that outgrows its request is killed (memory) or cancelled (time) by
# SLURM, while an oversized request only waits a little longer in the queue,
# so the request is the estimate with a margin:
#
#   mem_mb  = max(1000, 1.5 x estimate) x attempt
#   runtime = max(10, 2 x estimate + 5 min) x attempt
#
# 1.5 covers what an estimate leaves out (allocator slack, netCDF buffers, a
# copy a new library version makes); time doubles because nodes and busy
# workstations differ in speed that much (the measurements above vary 2x with
# the load); the floors keep small jobs clear of start-up costs (imports,
# Brian2's code generation). `attempt` counts a job's tries: the SLURM profile
# sets `retries: 1`, so a job killed for memory or time comes back once with
# twice its request.
#
# Sessions may differ in size (trial and neuron totals spread over them, the first
# sessions the larger): a session's job (simulate, import_nwb, export_nwb) is sized
# from the largest session, so that no session outgrows the request; what reads
# every session (a region's decoding) adds them up; decoding works on
# pseudo-trials of two-item trials, as many per condition as the session with the
# fewest has.
#
# The estimates take the config as `cfg` (default: the workflow's), so that a
# rule running with another config (a sweep point) can size its jobs from it.

BYTES_PER_MB = 1e6
PROCESS_MB = 400  # an idle job: Python with NumPy, xarray and Brian2, scikit-learn or PyTorch
SIM_WORKER_MB = 300  # a forked simulation worker besides its network (measured: up to 0.28 GB unshared)
SIM_STARTUP_S = 20  # imports, Brian2's code generation
SIM_SESSION_S = 20  # building a session's network, binning its spikes
SIM_S_PER_NEURON_S = 1.5e-4  # one neuron (one copy per trial) for one second of network time
SPIKE_RATE_HZ = 20  # mean firing rate, generous (measured: 7 Hz)
CIRCUIT_S_PER_NEURON_STEP = 4e-8  # circuit: one neuron (one copy per trial) for one time step (measured, see above)
CIRCUIT_S_PER_SYNAPTIC_EVENT = 2e-8  # circuit: one spike delivered to one synapse (measured, see above)
NEURON_BYTES, SYNAPSE_BYTES = 200, 100  # a neuron's and a synapse's state in Brian2, with the arrays that build them
FIT_S_PER_UNIT = 7e-8  # logistic fits: one trial x neuron x time bin x fold x labelling
# The region contrast, calibrated on its own: config/paper.yaml's took 1,232 s on 2 cores,
# 1.7 times what FIT_S_PER_UNIT predicted for its units.
CONTRAST_S_PER_UNIT = 1.2e-7
JOB_STARTUP_S = 30  # imports, reading the inputs, writing the output


def request_mb(estimate_mb, attempt=1):
    """Memory (MB) to request for a job estimated to peak at ``estimate_mb``."""
    return int(max(1000, 1.5 * estimate_mb) * attempt)


def request_minutes(estimate_s, attempt=1):
    """Wall time (minutes) to request for a job estimated to take ``estimate_s`` seconds."""
    return int(max(10, math.ceil(2 * estimate_s / 60 + 5)) * attempt)


def trial_span_ms(cfg=None):
    """The longest span trials can cover once aligned on their cue: the time axis of the rates."""
    return wmattn.config.trial_span_ms(cfg or config)


def n_time_bins(cfg=None):
    """Upper bound of the time bins of a rates file (the config check of its size counts them the same way)."""
    return wmattn.config.n_time_bins(cfg or config)


def model_steps(cfg=None):
    """Time steps of the network's trials: one per ``rates.step_ms``, and a few at the ends."""
    return int(trial_span_ms(cfg) // (cfg or config)["rates"]["step_ms"]) + 3


def trials_per_session(cfg=None):
    """Every session's trials (a list): sessions differ in size when the config gives totals."""
    return wmattn.config.trials_per_session(cfg or config)


def pseudo_trials(cfg=None, sessions=None):
    """Trials of a pseudo-population of the two-item trials (the analyses' trials) of ``sessions``
    (default all): every task x cued location as often as the fewest any session has."""
    counts = wmattn.config.session_trial_counts(cfg or config)
    counts = counts if sessions is None else [counts[k] for k in sessions]
    conditions = [key for key in counts[0] if key[2] == 2]
    return len(conditions) * min(own[key] for own in counts for key in conditions)


@functools.lru_cache(maxsize=64)
def _circuit_size(cfg_json):
    """(recorded neurons per region, neurons of a copy of the circuit, synapses of a copy) of a config as JSON."""
    from wmattn.simulation.architecture import build

    cfg = json.loads(cfg_json)
    neurons, projections = build(cfg)
    return wmattn.config.recorded_neurons(cfg), len(neurons), sum(len(projection.pre) for projection in projections)


def recorded_neurons(cfg=None):
    """Each region's neurons in every session, {region: [count per session]}: the recorded ones (for the
    circuit without ``n_neurons``, all of the region's circuit neurons; with recordings the expected number)."""
    cfg = cfg or config
    if cfg["source"] == "circuit":
        return _circuit_size(json.dumps(cfg, sort_keys=True))[0]
    return wmattn.config.recorded_neurons(cfg)


def largest_session(cfg=None):
    """(trials, neurons of every region) of the session with the largest rates array: a session job's
    memory and size, and its time, are the largest session's so that no job outgrows its request."""
    cfg = cfg or config
    neurons = [sum(counts) for counts in zip(*recorded_neurons(cfg).values())]
    return max(zip(trials_per_session(cfg), neurons), key=lambda size: size[0] * size[1])


def rates_mb(cfg=None):
    """Size of the largest session's rate array: float32 (trial, neuron, time), every region's neurons."""
    cfg = cfg or config
    trials, neurons = largest_session(cfg)
    return trials * neurons * n_time_bins(cfg) * 4 / BYTES_PER_MB


def spikes_mb(cfg=None):
    """The largest session's spikes, 16 bytes each (time, trial and neuron)."""
    cfg = cfg or config
    trials, neurons = largest_session(cfg)
    return 16 * trials * neurons * trial_span_ms(cfg) / 1000 * SPIKE_RATE_HZ / BYTES_PER_MB


def _copies(name, cfg):
    """A planted region's neuron copies in its largest session: a copy of its neurons per trial."""
    return max(trials * n for trials, n in zip(trials_per_session(cfg), recorded_neurons(cfg)[name]))


def _network_mb(name, cfg):
    """A planted region's network in its largest session: a copy of its neurons per trial and of their synapses."""
    settings, copies = cfg["regions"][name], _copies(name, cfg)
    n_neurons = max(recorded_neurons(cfg)[name])
    return (NEURON_BYTES * copies + SYNAPSE_BYTES * copies * n_neurons * settings["connection_probability"]) / BYTES_PER_MB


def simulate_threads(regions=None, cfg=None):
    """Threads of a session's simulation job: the circuit is one process; the planted source
    runs its regions (``regions``, default all) in parallel processes."""
    cfg = cfg or config
    if cfg["source"] == "circuit":
        return 1
    return len(cfg["regions"] if regions is None else regions)


def circuit_mb(cfg=None):
    """Peak memory of a session of the circuit: one network of a copy of every region's neurons and
    synapses per trial, the spikes of all its neurons (the monitor's, 16 bytes each), and the
    session's rates and recorded spikes."""
    cfg = cfg or config
    _, neurons, synapses = _circuit_size(json.dumps(cfg, sort_keys=True))
    trials = max(trials_per_session(cfg))
    network = trials * (NEURON_BYTES * neurons + SYNAPSE_BYTES * synapses)
    monitor = 16 * trials * neurons * trial_span_ms(cfg) / 1000 * SPIKE_RATE_HZ
    return PROCESS_MB + (network + monitor) / BYTES_PER_MB + rates_mb(cfg) + spikes_mb(cfg)


def circuit_seconds(cfg=None):
    """Wall time of the largest session of the circuit: every neuron of every copy at every time step, and
    every spike delivered to its synapses; then the rates are written (compressed, ~20 MB/s)."""
    cfg = cfg or config
    _, neurons, synapses = _circuit_size(json.dumps(cfg, sort_keys=True))
    seconds = max(trials_per_session(cfg)) * trial_span_ms(cfg) / 1000  # network time of all copies
    steps = CIRCUIT_S_PER_NEURON_STEP * 1000 / cfg["circuit"]["dt_ms"] * neurons
    events = CIRCUIT_S_PER_SYNAPTIC_EVENT * SPIKE_RATE_HZ * synapses
    return SIM_STARTUP_S + SIM_SESSION_S + seconds * (steps + events) + 0.05 * rates_mb(cfg)


def simulate_mb(threads, regions=None, cfg=None):
    """Peak memory of a session's simulation (of ``regions``, default all), regions ``threads`` at a time.

    The circuit: :func:`circuit_mb`. Planted: the main process holds the
    session's rates and spikes; every worker (none for one process) holds a
    region's network.
    """
    cfg = cfg or config
    if cfg["source"] == "circuit":
        return circuit_mb(cfg)
    networks = [_network_mb(name, cfg) for name in cfg["regions"] if regions is None or name in regions]
    main = PROCESS_MB + rates_mb(cfg) + spikes_mb(cfg)
    if min(threads, len(networks)) > 1:
        return main + min(threads, len(networks)) * (SIM_WORKER_MB + max(networks))
    return main + max(networks)


def simulate_seconds(threads, regions=None, cfg=None):
    """Wall time of a session's simulation: its regions run ``threads`` at a time, each in time
    proportional to its neurons (copies) x network time; then the rates are written (compressed, ~20 MB/s).
    The circuit, one network: :func:`circuit_seconds`."""
    cfg = cfg or config
    if cfg["source"] == "circuit":
        return circuit_seconds(cfg)
    names = [name for name in cfg["regions"] if regions is None or name in regions]
    per_region = max(SIM_SESSION_S + SIM_S_PER_NEURON_S * _copies(name, cfg) * trial_span_ms(cfg) / 1000 for name in names)
    rounds = math.ceil(len(names) / max(1, threads)) + sum(1 for name in names if "top_down" in cfg["regions"][name])
    return SIM_STARTUP_S + rounds * per_region + 0.05 * rates_mb(cfg)


def import_mb(cfg=None):
    """A session's spikes as read, and its rate array with three copies of its spikes (per trial,
    sorted, written): with recordings, ``sessions`` and the regions' ``n_neurons`` are the expected size."""
    cfg = cfg or config
    return PROCESS_MB + rates_mb(cfg) + 4 * spikes_mb(cfg)


def import_seconds(cfg=None):
    """Reading and binning are quick; writing the rates (compressed, ~20 MB/s) takes the time."""
    cfg = cfg or config
    return JOB_STARTUP_S + 0.05 * (rates_mb(cfg) + spikes_mb(cfg))


def region_mb(region, cfg=None):
    """A region's rates over every session, as the decoding reads them (float32): they add up."""
    cfg = cfg or config
    cells = sum(trials * n for trials, n in zip(trials_per_session(cfg), recorded_neurons(cfg)[region]))
    return cells * n_time_bins(cfg) * 4 / BYTES_PER_MB


def decoding_shape(name, cfg=None):
    """(trials of a resample, neurons, time bins, MB of the input file's array) of the decoding of ``name``.

    A resample of pseudo-trials draws, from each session, every task x cued
    location's two-item trials as often as the session with the fewest has
    them (:func:`pseudo_trials`), with every session's neurons. The network
    (``model_{network}``) is decoded on held-out trials as many as the first session
    has (the input holds them all, the analyses their two-item ones), its
    hidden units as the neurons.
    """
    cfg = cfg or config
    if name.startswith("model_"):
        network = cfg["networks"][name.removeprefix("model_")]
        held_out, neurons, times = trials_per_session(cfg)[0], network_units(network), model_steps(cfg)
        return pseudo_trials(cfg, [0]), neurons, times, held_out * neurons * times * 4 / BYTES_PER_MB
    neurons = sum(recorded_neurons(cfg)[name])
    return pseudo_trials(cfg), neurons, n_time_bins(cfg), region_mb(name, cfg)


def _fit_columns(cfg):
    """Logistic fits solved together in a resample: every fold and the all-trials fit,
    each for the observed labels and the resample's share of the permutations."""
    decoding = cfg["decoding"]
    return (decoding["n_folds"] + 1) * (1 + math.ceil(decoding["n_permutations"] / decoding["n_resamples"]))


def decode_mb(name, cfg=None):
    """Peak memory of the decoding of a region (or network): the input, read
    whole, and one resample's work, in bytes per element of float32 arrays:

    - the pseudo-population (trials x neurons x time), ~6 copies: drawn,
      split by task, z-scored, squared, with an intercept column;
    - the fits solved together (``_fit_columns``): log-odds, probabilities
      and curvature per trial, weights, gradients and conjugate-gradient
      vectors per neuron;
    - the Newton preconditioner (neurons x neurons per time bin) and its inverse,
      or, with more neurons than a task's trials, the dual form's Gram matrices
      (trials x trials per time bin and fold): the smaller of the two squared;
    - the cross-temporal generalisation (trials x folds x time x time).
    """
    cfg = cfg or config
    trials, neurons, times, input_mb = decoding_shape(name, cfg)
    groups = cfg["decoding"]["n_folds"] + 1
    columns = _fit_columns(cfg)
    work = (
        24 * trials * neurons * times
        + 8 * times * trials * columns
        + 20 * times * neurons * columns
        + 12 * groups * times * min(neurons, trials // 2) ** 2
        + 6 * trials * groups * times**2
    )
    return PROCESS_MB + input_mb + work / BYTES_PER_MB


def decode_seconds(name, cfg=None):
    """Wall time of the decoding of a region (or network): in every resample and
    time bin, Newton steps on every fit column cost trials x neurons each, and
    the preconditioner's inverse neurons^3."""
    cfg = cfg or config
    trials, neurons, times, _ = decoding_shape(name, cfg)
    units = cfg["decoding"]["n_resamples"] * times * (_fit_columns(cfg) * trials * neurons + min(neurons, trials // 2) ** 3 / 100)
    return JOB_STARTUP_S + FIT_S_PER_UNIT * units


def network_units(model):
    """Hidden units of a network's config entry (every controller's)."""
    from wmattn.attention import n_units  # imports torch: only when a network's job is planned

    return n_units(model)


def train_network_mb(network, cfg=None):
    """The training batch's graph, kept for backpropagation (~30 floats per trial,
    step and unit: GRU gates, attention, gradients), and the held-out trials' states
    (as many as the first session's trials)."""
    cfg = cfg or config
    model = cfg["networks"][network]
    floats = 30 * model_steps(cfg) * network_units(model) * (model["batch_size"] + trials_per_session(cfg)[0])
    return PROCESS_MB + 4 * floats / BYTES_PER_MB


def train_network_seconds(network, cfg=None):
    """Training steps x time steps, each a Python-level step (0.4 ms) and its arithmetic
    (batch x units^2: a variant's controllers run as one GRU cell of all their units; 51 s for
    the one 64-unit network before the variants, on an idle machine)."""
    cfg = cfg or config
    model = cfg["networks"][network]
    per_step = 4e-4 + 8e-10 * model["batch_size"] * network_units(model) ** 2
    return 10 + model["n_steps"] * model_steps(cfg) * per_step


# The rules' resources: Snakemake calls these with what their arguments name.


def mem_mb_simulate(wildcards, threads, attempt):
    return request_mb(simulate_mb(threads), attempt)


def runtime_simulate(wildcards, threads, attempt):
    return request_minutes(simulate_seconds(threads), attempt)


def mem_mb_import_nwb(wildcards, attempt):
    return request_mb(import_mb(), attempt)


def runtime_import_nwb(wildcards, attempt):
    return request_minutes(import_seconds(), attempt)


def mem_mb_export_nwb(wildcards, attempt):
    """A session's spikes, twice (read, and laid out on the session clock)."""
    return request_mb(PROCESS_MB + 2 * spikes_mb(), attempt)


def _decoded(wildcards):
    """The rule's {region}, or its {network} as the decoding names it."""
    return wildcards["region"] if "region" in wildcards.keys() else f"model_{wildcards.network}"


def mem_mb_decode(wildcards, attempt):
    return request_mb(decode_mb(_decoded(wildcards)), attempt)


def runtime_decode(wildcards, attempt):
    return request_minutes(decode_seconds(_decoded(wildcards)), attempt)


def mem_mb_train_network(wildcards, attempt):
    return request_mb(train_network_mb(wildcards.network), attempt)


def runtime_train_network(wildcards, attempt):
    return request_minutes(train_network_seconds(wildcards.network), attempt)


def mem_mb_small(wildcards, attempt):
    """A job that reads small files only (decoding results, summaries) to tabulate or plot them."""
    return request_mb(PROCESS_MB, attempt)


def runtime_small(wildcards, attempt):
    return request_minutes(JOB_STARTUP_S, attempt)


def _contrast_units(cfg):
    """Logistic fit units of the region contrast: every pair of regions, every permutation and
    subsample, every window; each a fit per fold and on all trials of both tasks, on the pair's
    two matched subsamples of the smaller region's neurons."""
    decoding, contrast = cfg["decoding"], cfg["contrast"]
    neurons = sorted(decoding_shape(region, cfg)[1] for region in cfg["regions"])
    pairs = [(a, b) for i, a in enumerate(neurons) for b in neurons[i + 1:]]
    draws = contrast["n_permutations"] + contrast["n_subsamples"]
    fits = 2 * (decoding["n_folds"] + 1) * len(decoding["windows"])
    return sum(draws * fits * pseudo_trials(cfg) * 2 * min(a, b) for a, b in pairs)


def mem_mb_contrast(wildcards, attempt):
    """Every region's rates, read whole, and a pair's window means (small)."""
    held = sum(region_mb(region) for region in config["regions"])
    return request_mb(PROCESS_MB + 2 * held, attempt)


def runtime_contrast(wildcards, attempt):
    return request_minutes(JOB_STARTUP_S + CONTRAST_S_PER_UNIT * _contrast_units(config), attempt)
