"""Spiking simulation of one region on the retro/pro task (Brian2).

Every trial of a region runs in one network: the neuron group holds one copy of
the region's population per trial, and a per-neuron ``trial`` variable indexes
the trial's inputs in two-dimensional ``TimedArray``s. Each trial is placed in
network time so that all cue onsets coincide; before its fixation onset and
after its response onset a copy only receives background drive.

The population is leaky integrate-and-fire with white-noise background drive.
Two inputs shape it:

- colour: each neuron is tuned (von Mises) to a preferred colour and prefers the
  upper item, the lower item or both; it is driven by its items' colours while
  the samples are shown and by a fraction of that drive through the delays;
- selection: from the cue onset to the response, a drive proportional to the
  neuron's selection weight for the trial's task, signed by the cued location.
  The retro and pro weights are ``sqrt(s) a_shared + sqrt(1 - s) a_task`` with
  ``s = shared_selection`` and orthogonal axes ``a``, so their cosine is ``s``.
"""

import brian2 as b2
import numpy as np

from wmattn import seeds
from wmattn.rates import as_dataset, bin_spikes
from wmattn.task import LOCATIONS, TASKS, generate_trials, timing_from_config

LOCATION_PREFERENCES = ("upper", "lower", "both")

EQUATIONS = """
dv/dt = (v_rest - v + background + sample(t, trial) * color_drive
         + cue(t, trial) * selection_drive) / tau_m
        + noise * sqrt(2 / tau_m) * xi : volt (unless refractory)
trial : integer (constant)
color_drive : volt (constant)
selection_drive : volt (constant)
"""

INPUT_DT_MS = 1.0  # resolution of the trial-by-trial input time courses


def draw_neurons(n_neurons, shared_selection, rng):
    """Draw each neuron's assigned parameters: the ground truth of the region.

    The selection weights of the two tasks are built from three orthogonal
    random axes (one shared, one per task), each scaled so that a neuron's
    weight has unit variance, so their cosine is exactly ``shared_selection``
    rather than that plus the chance overlap of random vectors.

    Returns a dict of per-neuron arrays: ``preferred_color`` (radians),
    ``location_preference`` (upper|lower|both) and ``selection_weight_{task}``
    for each task.
    """
    if n_neurons < 1 + len(TASKS):
        raise ValueError(f"n_neurons must be at least {1 + len(TASKS)}, got {n_neurons}")
    axes, _ = np.linalg.qr(rng.standard_normal((n_neurons, 1 + len(TASKS))))
    shared, *specific = np.sqrt(n_neurons) * axes.T
    neurons = {
        "preferred_color": rng.uniform(0, 2 * np.pi, n_neurons),
        "location_preference": rng.choice(LOCATION_PREFERENCES, n_neurons),
    }
    for task, own in zip(TASKS, specific):
        neurons[f"selection_weight_{task}"] = (
            np.sqrt(shared_selection) * shared + np.sqrt(1 - shared_selection) * own
        )
    return neurons


def aligned_schedule(trials):
    """Place trials in network time with every cue onset at the same instant.

    Returns ``(cue_time, duration, network_onsets)``: the network time of the
    cue onset and the network's run length in ms, and a table of every trial's
    epoch onsets in network time.
    """
    onsets = trials.filter(like="onset_")
    cue_time = trials["onset_cue"].max()
    start = cue_time - trials["onset_cue"].to_numpy()
    network_onsets = onsets.add(start, axis=0)
    duration = np.nanmax(network_onsets["onset_response"].to_numpy())
    return cue_time, duration, network_onsets


def _input_courses(trials, network_onsets, duration, memory_fraction):
    """Per-trial input time courses at ``INPUT_DT_MS``: (time, trial) arrays."""
    time = np.arange(0, duration, INPUT_DT_MS)[:, None]
    sample_on = network_onsets["onset_samples"].to_numpy()
    sample_off = sample_on + _epoch_length(trials, "samples")
    response = network_onsets["onset_response"].to_numpy()
    cue_on = network_onsets["onset_cue"].to_numpy()
    showing = (time >= sample_on) & (time < sample_off)
    remembered = (time >= sample_off) & (time < response)
    sample = showing + memory_fraction * remembered
    cue = ((time >= cue_on) & (time < response)).astype(float)
    return sample, cue


def _epoch_length(trials, epoch):
    """Length of ``epoch`` in every trial: the next epoch's onset minus its own."""
    columns = list(trials.filter(like="onset_").columns)
    onsets = trials[columns].to_numpy()
    own = onsets[:, columns.index(f"onset_{epoch}")]
    later = np.where(onsets > own[:, None], onsets, np.inf)
    return later.min(axis=1) - own


def run_network(trials, neurons, region, lif, seed):
    """Simulate every trial of one region in one Brian2 network run.

    Parameters
    ----------
    trials : pandas.DataFrame
        Output of :func:`wmattn.task.generate_trials`.
    neurons : dict
        Output of :func:`draw_neurons`.
    region : dict
        The region's config (``color_gain_mV``, ``tuning_kappa``,
        ``memory_fraction``, ``selection_gain_mV``, ``background_mV``,
        ``noise_mV``).
    lif : dict
        The ``simulation`` config: ``dt_ms``, ``tau_m_ms``, ``v_rest_mV``,
        ``v_threshold_mV``, ``v_reset_mV``, ``refractory_ms``.
    seed : int
        Passed to :func:`brian2.seed`.

    Returns
    -------
    trial_index, neuron_index, spike_time
        One entry per spike; ``spike_time`` in ms relative to the cue onset.
    """
    b2.start_scope()
    b2.seed(seed)
    b2.defaultclock.dt = lif["dt_ms"] * b2.ms
    n_trials, n_neurons = len(trials), len(neurons["preferred_color"])
    cue_time, duration, network_onsets = aligned_schedule(trials)
    sample_course, cue_course = _input_courses(
        trials, network_onsets, duration, region["memory_fraction"]
    )

    preference = neurons["location_preference"]
    tuning = {
        location: np.where(np.isin(preference, (location, "both")), 1.0, 0.0)
        * np.exp(region["tuning_kappa"] * (np.cos(
            trials[f"color_{location}"].to_numpy()[:, None] - neurons["preferred_color"]) - 1))
        for location in LOCATIONS
    }
    cued_sign = np.where(trials["cued"].to_numpy() == "upper", 1.0, -1.0)[:, None]
    weight = np.stack([neurons[f"selection_weight_{task}"] for task in trials["task"]])

    group = b2.NeuronGroup(
        n_trials * n_neurons,
        EQUATIONS,
        threshold="v > v_threshold",
        reset="v = v_reset",
        refractory=lif["refractory_ms"] * b2.ms,
        method="euler",
        namespace={
            "sample": b2.TimedArray(sample_course, dt=INPUT_DT_MS * b2.ms),
            "cue": b2.TimedArray(cue_course, dt=INPUT_DT_MS * b2.ms),
            "tau_m": lif["tau_m_ms"] * b2.ms,
            "v_rest": lif["v_rest_mV"] * b2.mV,
            "v_threshold": lif["v_threshold_mV"] * b2.mV,
            "v_reset": lif["v_reset_mV"] * b2.mV,
            "background": region["background_mV"] * b2.mV,
            "noise": region["noise_mV"] * b2.mV,
        },
    )
    group.trial = np.repeat(np.arange(n_trials), n_neurons)
    group.color_drive = region["color_gain_mV"] * (tuning["upper"] + tuning["lower"]).ravel() * b2.mV
    group.selection_drive = region["selection_gain_mV"] * (cued_sign * weight).ravel() * b2.mV
    group.v = "v_reset + rand() * (v_threshold - v_reset)"
    spikes = b2.SpikeMonitor(group)
    network = b2.Network(group, spikes)
    network.run(duration * b2.ms, report="text", report_period=30 * b2.second)

    index = np.asarray(spikes.i)
    spike_time = np.asarray(spikes.t / b2.ms) - cue_time
    return index // n_neurons, index % n_neurons, spike_time


def simulate_region(config, region):
    """Simulate one configured region and return its rates dataset.

    ``config`` is the resolved config; this uses ``seed``, ``task``,
    ``simulation``, ``rates`` and ``regions[region]``. The trials depend on the
    seed alone, so every region sees the same trials, as if recorded together;
    the neurons and the spikes depend on the seed and the region's name.
    """
    seed = config["seed"]
    params = config["regions"][region]
    trials = generate_trials(
        config["task"]["n_trials_per_condition"],
        seeds.rng(seed, "task"),
        timing_from_config(config["task"]["timing"]),
    )
    neurons = draw_neurons(
        params["n_neurons"], params["shared_selection"], seeds.rng(seed, "neurons", region)
    )
    cue_time, duration, _ = aligned_schedule(trials)
    print(
        f"simulating {region}: {len(trials)} trials x {params['n_neurons']} neurons, "
        f"{duration:.0f} ms of network time",
        flush=True,
    )
    spikes = run_network(
        trials, neurons, params, config["simulation"], seeds.integer_seed(seed, "spikes", region)
    )
    rate, time = bin_spikes(
        *spikes,
        shape=(len(trials), params["n_neurons"]),
        start=-cue_time,
        stop=duration - cue_time,
        bin_ms=config["rates"]["bin_ms"],
        step_ms=config["rates"]["step_ms"],
    )
    return as_dataset(rate, time, trials, neurons)
