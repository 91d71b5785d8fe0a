"""Spiking simulation of one region on the retro/pro task (Brian2).

A region is a recurrent network of excitatory and inhibitory leaky
integrate-and-fire neurons (current-based, delta synapses) driven by background
Poisson input, as in Brunel (2000). Like a recording, it comes in sessions; each
session has its own trials and its own neurons, and all trials of a session
run in one network: the neuron group holds one copy of the session's network
per trial (the same neurons and the same synapses in every copy), and each
copy's inputs follow its trial's epochs through per-neuron onset times indexed
by the copy's ``trial``. Trials are placed in network time so that all cue
onsets coincide; before its fixation onset and after its response onset a copy
only receives background input.

Inputs, all in mV of drive:

- colour: each neuron is tuned (von Mises) to a preferred colour and prefers the
  upper item, the lower item or both; it is driven by its items' colours while
  the samples are shown and by ``memory_fraction`` of that through the delays;
- selection: from ``selection_latency`` after the cue onset to the response, a
  drive proportional to the neuron's selection weight for the trial's task,
  signed by the cued location. The retro and pro weights are
  ``sqrt(s) a_shared + sqrt(1 - s) a_task`` with ``s = shared_selection`` and
  orthogonal axes ``a``, so their cosine is exactly ``s``;
- what selection does to the memory (Panichello & Buschman 2021): the cued
  item's colour drive is multiplied by ``1 + cued_gain``, and a fraction
  ``response_alignment`` of it moves from the neuron's location-specific tuning
  to a tuning shared by both locations (a second preferred colour), so the
  upper and lower colour planes of the cued item align after selection;
- top-down (optional): another region's selection signal, read from its rates
  file, drives this region along its shared selection axis.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import brian2 as b2
import numpy as np
import pandas as pd

from wmattn import seeds
from wmattn.rates import as_dataset, as_spikes, bin_spikes
from wmattn.task import LOCATIONS, TASKS, aligned_schedule, generate_trials, timing_from_config

LOCATION_PREFERENCES = ("upper", "lower", "both")
CODEGEN_TARGET = "cython"  # compiled once per machine and trial count, cached; see benchmarks/simulation.py

EQUATIONS = """
dv/dt = (v_rest - v + sample * (item_drive + selected * selected_change)
         + selected * selection_drive + top_down(t, trial) * top_down_weight) / tau_m
        : volt (unless refractory)
sample = int(t >= sample_on) * int(t < sample_off)
         + memory_fraction * int(t >= sample_off) * int(t < response_on) : 1
selected = int(t >= selection_on) * int(t < response_on) : 1
trial : integer (constant)
sample_on : second (constant)
sample_off : second (constant)
selection_on : second (constant)
response_on : second (constant)
item_drive : volt (constant)
selected_change : volt (constant)
selection_drive : volt (constant)
top_down_weight : volt (constant)
"""


def von_mises(angle, kappa):
    """Tuning curve with peak 1 at ``angle == 0``."""
    return np.exp(kappa * (np.cos(angle) - 1))


def draw_neurons(n_neurons, region, rng):
    """Draw one session's neurons: the ground truth of the region.

    The selection weights of the two tasks are built from three orthogonal
    random axes (one shared, one per task), each scaled so that a neuron's
    weight has unit variance, so their cosine is exactly ``shared_selection``
    rather than that plus the chance overlap of random vectors.

    Returns a dict of per-neuron arrays: ``cell_type`` (E|I),
    ``preferred_color`` and ``response_color`` (radians; location-specific and
    location-independent tuning), ``location_preference`` (upper|lower|both),
    ``selection_weight_{task}`` for each task and ``selection_weight_shared``.
    """
    if n_neurons < 1 + len(TASKS):
        raise ValueError(f"n_neurons must be at least {1 + len(TASKS)}, got {n_neurons}")
    n_inhibitory = int(round(region["inhibitory_fraction"] * n_neurons))
    axes, _ = np.linalg.qr(rng.standard_normal((n_neurons, 1 + len(TASKS))))
    shared, *specific = np.sqrt(n_neurons) * axes.T
    s = region["shared_selection"]
    neurons = {
        "cell_type": np.array(["E"] * (n_neurons - n_inhibitory) + ["I"] * n_inhibitory),
        "preferred_color": rng.uniform(0, 2 * np.pi, n_neurons),
        "response_color": rng.uniform(0, 2 * np.pi, n_neurons),
        "location_preference": rng.choice(LOCATION_PREFERENCES, n_neurons),
        "selection_weight_shared": shared,
    }
    for task, own in zip(TASKS, specific):
        neurons[f"selection_weight_{task}"] = np.sqrt(s) * shared + np.sqrt(1 - s) * own
    return neurons


def draw_synapses(cell_type, region, rng):
    """Recurrent connections of one session's network: (pre, post, weight in mV).

    Each ordered pair connects with ``connection_probability``; excitatory
    synapses have ``excitatory_weight_mV`` and inhibitory ones
    ``-inhibition_ratio`` times that, so that the network is balanced when
    ``inhibition_ratio`` is the ratio of excitatory to inhibitory neurons.
    """
    n = len(cell_type)
    connected = rng.random((n, n)) < region["connection_probability"]
    np.fill_diagonal(connected, False)
    pre, post = np.nonzero(connected)
    weight = np.where(
        cell_type[pre] == "E",
        region["excitatory_weight_mV"],
        -region["inhibition_ratio"] * region["excitatory_weight_mV"],
    )
    return pre, post, weight


def epoch_offset(onsets, epoch):
    """End of ``epoch`` in every trial: the earliest later onset."""
    own = onsets[f"onset_{epoch}"].to_numpy()[:, None]
    values = onsets.to_numpy()
    return np.where(values > own, values, np.inf).min(axis=1)


def copy_inputs(trials, network_onsets, neurons, region):
    """Per-copy input parameters, (trial, neuron) arrays in ms and mV."""
    tuning = {
        location: np.isin(neurons["location_preference"], (location, "both"))
        * von_mises(trials[f"color_{location}"].to_numpy()[:, None] - neurons["preferred_color"],
                    region["tuning_kappa"])
        for location in LOCATIONS
    }
    cued = trials["cued"].to_numpy()[:, None]
    cued_color = np.where(cued == "upper", trials["color_upper"].to_numpy()[:, None],
                          trials["color_lower"].to_numpy()[:, None])
    cued_tuning = np.where(cued == "upper", tuning["upper"], tuning["lower"])
    response_tuning = von_mises(cued_color - neurons["response_color"], region["tuning_kappa"])
    gain, moved = 1 + region["cued_gain"], region["response_alignment"]
    weight = np.stack([neurons[f"selection_weight_{task}"] for task in trials["task"]])
    cue_on = network_onsets["onset_cue"].to_numpy()[:, None]
    ones = np.ones((len(trials), len(neurons["cell_type"])))
    top_down_mV = region["top_down"]["weight_mV"] if "top_down" in region else 0.0
    return {
        "sample_on": network_onsets["onset_samples"].to_numpy()[:, None] * ones,
        "sample_off": epoch_offset(network_onsets, "samples")[:, None] * ones,
        "selection_on": (cue_on + region["selection_latency"]) * ones,
        "response_on": network_onsets["onset_response"].to_numpy()[:, None] * ones,
        "item_drive": region["color_gain_mV"] * (tuning["upper"] + tuning["lower"]),
        "selected_change": region["color_gain_mV"]
        * ((gain * (1 - moved) - 1) * cued_tuning + gain * moved * response_tuning),
        "selection_drive": region["selection_gain_mV"] * np.where(cued == "upper", 1.0, -1.0) * weight,
        "top_down_weight": top_down_mV * neurons["selection_weight_shared"] * ones,
    }


def run_session(trials, network_onsets, duration, neurons, synapses, region, lif, top_down, seed):
    """Simulate every trial of one session in one Brian2 network run.

    Parameters
    ----------
    trials : pandas.DataFrame
        The session's trials, from :func:`wmattn.task.generate_trials`.
    network_onsets : pandas.DataFrame
        Their epoch onsets in network time (:func:`wmattn.task.aligned_schedule`).
    duration : float
        Network run length in ms.
    neurons, synapses
        From :func:`draw_neurons` and :func:`draw_synapses`.
    region : dict
        The region's config.
    lif : dict
        The ``simulation`` config.
    top_down : (array (time, trial), step in ms) or None
        The top-down selection signal sampled every ``step`` ms of network
        time; None for no top-down input.
    seed : int
        Passed to :func:`brian2.seed`.

    Returns
    -------
    trial_index, neuron_index, spike_time
        One entry per spike; ``spike_time`` in ms of network time.
    """
    b2.start_scope()
    b2.prefs.codegen.target = CODEGEN_TARGET
    b2.seed(seed)
    b2.defaultclock.dt = lif["dt_ms"] * b2.ms
    n_trials, n_neurons = len(trials), len(neurons["cell_type"])
    if top_down is None:
        top_down_values, top_down_step = np.zeros((1, n_trials)), lif["dt_ms"]
    else:
        top_down_values, top_down_step = top_down
    group = b2.NeuronGroup(
        n_trials * n_neurons,
        EQUATIONS,
        threshold="v > v_threshold",
        reset="v = v_reset",
        refractory=lif["refractory_ms"] * b2.ms,
        method="euler",
        namespace={
            "top_down": b2.TimedArray(top_down_values, dt=top_down_step * b2.ms),
            "memory_fraction": region["memory_fraction"],
            "tau_m": lif["tau_m_ms"] * b2.ms,
            "v_rest": lif["v_rest_mV"] * b2.mV,
            "v_threshold": lif["v_threshold_mV"] * b2.mV,
            "v_reset": lif["v_reset_mV"] * b2.mV,
        },
    )
    group.trial = np.repeat(np.arange(n_trials), n_neurons)
    units = {"sample_on": b2.ms, "sample_off": b2.ms, "selection_on": b2.ms, "response_on": b2.ms}
    for name, values in copy_inputs(trials, network_onsets, neurons, region).items():
        setattr(group, name, values.ravel() * units.get(name, b2.mV))
    group.v = "v_reset + rand() * (v_threshold - v_reset)"

    background = b2.PoissonInput(
        group, "v", N=100, rate=region["background_rate"] / 100 * b2.Hz,
        weight=region["background_weight_mV"] * b2.mV,
    )
    pre, post, weight = synapses
    offset = (np.arange(n_trials) * n_neurons)[:, None]  # the same synapses in every copy
    recurrent = b2.Synapses(group, group, "w : volt", on_pre="v_post += w",
                            delay=lif["synaptic_delay_ms"] * b2.ms)
    recurrent.connect(i=(offset + pre).ravel(), j=(offset + post).ravel())
    recurrent.w = np.tile(weight, n_trials) * b2.mV
    spikes = b2.SpikeMonitor(group)
    network = b2.Network(group, background, recurrent, spikes)
    network.run(duration * b2.ms, report="text", report_period=60 * b2.second)

    index = np.asarray(spikes.i)
    return index // n_neurons, index % n_neurons, np.asarray(spikes.t / b2.ms)


def selection_signal(rates):
    """A region's selection signal per trial over time, in units of its spread.

    The projection of each trial's population rate, z-scored per neuron, on the
    neurons' selection weights for that trial's task (from the ground-truth
    coordinates), averaged over the neurons of the trial's session; positive
    when the upper item is selected. Computed session by session, so that the
    mostly-NaN (trial, neuron) rate array is never copied whole.

    ``rates`` needs ``rate`` (trial, neuron, time), ``task`` and ``session``
    (trial), ``neuron_session`` and ``selection_weight_{task}`` (neuron).
    Returns an array (trial, time).
    """
    rate = rates["rate"].values
    retro = (rates["task"] == "retro").values
    signal = np.zeros((rates.sizes["trial"], rates.sizes["time"]))
    for session in np.unique(rates["neuron_session"].values):
        rows = np.flatnonzero(rates["session"].values == session)
        columns = np.flatnonzero(rates["neuron_session"].values == session)
        own = rate[np.ix_(rows, columns)].astype(float)
        z = (own - own.mean(axis=(0, 2))[:, None]) / own.std(axis=(0, 2)).clip(min=1e-9)[:, None]
        weight = np.where(retro[rows, None], rates["selection_weight_retro"].values[columns],
                          rates["selection_weight_pro"].values[columns])
        signal[rows] = np.einsum("tnb,tn->tb", z, weight) / len(columns)
    return signal / signal.std()


def _top_down_course(source, cue_time, duration, trials):
    """The source region's selection signal on a grid of network time."""
    signal = selection_signal(source)
    if len(signal) != len(trials) or not np.array_equal(source["task"].values, trials["task"].values):
        raise ValueError("the top-down source region's rates file holds other trials than this region's")
    step = float(np.diff(source["time"].values[:2])[0])
    grid = np.arange(0, duration + step, step)
    values = np.stack([
        np.interp(grid - cue_time, source["time"].values, trace, left=0, right=0)
        for trace in signal
    ], axis=1)
    return values, step


def session_trials(config):
    """Every session's trials in one table with a ``session`` column.

    Depends on the seed, the task and the sessions config only, so every
    region sees the same trials, as if all regions were recorded together.
    """
    sessions = config["sessions"]
    timing = timing_from_config(config["task"]["timing"])
    return pd.concat([
        generate_trials(sessions["n_trials_per_condition"], seeds.rng(config["seed"], "task", str(k)), timing)
        .assign(session=k)
        for k in range(sessions["n_sessions"])
    ], ignore_index=True)


def simulate_region(config, region, top_down_source=None, processes=1):
    """Simulate one configured region: its rates and its spikes.

    ``config`` is the resolved config; this uses ``seed``, ``task``,
    ``sessions``, ``simulation``, ``rates`` and ``regions[region]``. Neurons
    and spikes depend on the seed, the region's name and the session, so
    adding a region or a session changes nothing else. ``top_down_source`` is
    the rates dataset of the region named in ``regions[region].top_down``;
    ``processes`` sessions are simulated at a time.

    Returns the rates dataset and every session's spikes
    (:func:`wmattn.rates.as_spikes`): for rasters and NWB export.
    """
    seed, params = config["seed"], config["regions"][region]
    trials = session_trials(config)
    cue_time, duration, network_onsets = aligned_schedule(trials)
    top_down = None if top_down_source is None else _top_down_course(top_down_source, cue_time, duration, trials)
    n_sessions = config["sessions"]["n_sessions"]
    print(
        f"simulating {region}: {n_sessions} session(s), {len(trials)} trials, "
        f"{params['n_neurons']} neurons per session, {duration:.0f} ms of network time",
        flush=True,
    )
    jobs, session_neurons = [], []
    for k in range(n_sessions):
        rng = seeds.rng(seed, "neurons", region, str(k))
        neurons = draw_neurons(params["n_neurons"], params, rng)
        session_neurons.append(neurons)
        rows = (trials["session"] == k).to_numpy()
        jobs.append((
            trials[rows], network_onsets[rows], duration, neurons,
            draw_synapses(neurons["cell_type"], params, rng), params, config["simulation"],
            None if top_down is None else (top_down[0][:, rows], top_down[1]),
            seeds.integer_seed(seed, "spikes", region, str(k)),
        ))
    if processes > 1 and n_sessions > 1:
        # fork, not spawn: a spawned worker re-runs the calling script (a Snakemake script)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            spike_trains = list(pool.map(run_session, *zip(*jobs)))
    else:
        spike_trains = [run_session(*job) for job in jobs]

    # binned session by session: a neuron has rates only on its own session's trials
    n_neurons = params["n_neurons"]
    rate, spikes = None, []
    for k, (trial, neuron, spike_time) in enumerate(spike_trains):
        rows = np.flatnonzero(trials["session"] == k)
        session_rate, time = bin_spikes(
            trial, neuron, spike_time - cue_time,
            shape=(len(rows), n_neurons),
            start=-cue_time,
            stop=duration - cue_time,
            bin_ms=config["rates"]["bin_ms"],
            step_ms=config["rates"]["step_ms"],
        )
        if rate is None:
            rate = np.full((len(trials), n_sessions * n_neurons, len(time)), np.nan, np.float32)
        rate[rows[0]:rows[-1] + 1, k * n_neurons:(k + 1) * n_neurons] = session_rate  # rows are contiguous
        spikes.append((rows[trial], k * n_neurons + neuron, spike_time - cue_time))
    neurons = {name: np.concatenate([n[name] for n in session_neurons]) for name in session_neurons[0]}
    rates = as_dataset(rate, time, trials, neurons, np.repeat(np.arange(n_sessions), n_neurons))
    return rates, as_spikes(rates, *(np.concatenate(column) for column in zip(*spikes)))
