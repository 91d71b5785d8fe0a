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
- top-down (optional): another region's selection signal in the same
  session, simulated first, drives this region along its shared selection axis.

A session is simulated region by region (:func:`simulate_session`), and its
regions' rates and spikes go into one file each (DESIGN.md).
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import brian2 as b2
import numpy as np
import xarray as xr

from wmattn import seeds
from wmattn.config import recorded_neurons
from wmattn.rates import as_dataset, as_spikes, bin_spikes
from wmattn.simulation.architecture import von_mises
from wmattn.simulation.sessions import session_trials
from wmattn.task import LOCATIONS, TASKS, aligned_schedule, epoch_offset

LOCATION_PREFERENCES = ("upper", "lower", "both")
CODEGEN_TARGET = "cython"  # compiled once per machine and trial count, cached (benchmarks/simulation.py measures the circuit)

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


def copy_inputs(trials, network_onsets, neurons, region):
    """Per-copy input parameters, (trial, neuron) arrays in ms and mV.

    An item not shown (its colour NaN: a single-item trial's uncued
    location) drives no neuron. Raises if an input is not finite.
    """
    tuning = {}
    for location in LOCATIONS:
        color = trials[f"color_{location}"].to_numpy()[:, None]
        shown = np.isfinite(color)
        tuning[location] = shown * np.isin(neurons["location_preference"], (location, "both")) * von_mises(
            np.where(shown, color, 0) - neurons["preferred_color"], region["tuning_kappa"])
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
    inputs = {
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
    for name, values in inputs.items():
        if not np.isfinite(values).all():
            raise ValueError(f"{name}: not finite on {int((~np.isfinite(values)).any(axis=1).sum())} trial(s)")
    return inputs


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
    coordinates), averaged over the neurons; positive when the upper item is
    selected. ``rates`` is one session's rates of one region: ``rate``
    (trial, neuron, time), ``task`` (trial) and ``selection_weight_{task}``
    (neuron). Returns an array (trial, time).
    """
    rate = rates["rate"].to_numpy().astype(float)
    z = (rate - rate.mean(axis=(0, 2))[:, None]) / rate.std(axis=(0, 2)).clip(min=1e-9)[:, None]
    weight = np.where((rates["task"] == "retro").to_numpy()[:, None], rates["selection_weight_retro"].to_numpy(),
                      rates["selection_weight_pro"].to_numpy())
    signal = np.einsum("tnb,tn->tb", z, weight) / rates.sizes["neuron"]
    return signal / signal.std()


def _top_down_course(source, cue_time, duration):
    """The source region's selection signal (one session) on a grid of network time: (time, trial), step."""
    signal = selection_signal(source)
    step = float(np.diff(source["time"].values[:2])[0])
    grid = np.arange(0, duration + step, step)
    values = np.stack([
        np.interp(grid - cue_time, source["time"].values, trace, left=0, right=0)
        for trace in signal
    ], axis=1)
    return values, step


def simulation_order(regions, names):
    """``names`` in waves: every region after the region driving it top-down (a list of lists).

    A top-down source that is not among ``names`` is given (``sources`` of
    :func:`simulate_session`), so it does not hold a region back.
    """
    waves, done = [], set()
    while len(done) < len(names):
        waves.append([name for name in names if name not in done
                      and regions[name].get("top_down", {}).get("source") not in set(names) - done])
        done.update(waves[-1])
    return waves


def simulate_session(config, session, regions=None, sources=None, processes=1):
    """Simulate one session of every configured region (or of ``regions``): its rates and spikes.

    ``config`` is the resolved config; this uses ``seed``, ``task``,
    ``sessions``, ``simulation``, ``rates`` and ``regions``. A region's
    neurons and spikes depend on the seed, the region's name and the session,
    so adding a region or a session changes nothing else. Regions are
    simulated ``processes`` at a time, each after the region that drives it
    top-down (whose rates of this session give its drive); ``sources`` maps a
    top-down source that is not simulated here (a sweep changes only some
    regions) to its rates of this session.

    Returns the session's rates dataset and spikes dataset
    (:func:`wmattn.rates.as_dataset`, :func:`wmattn.rates.as_spikes`), with
    the regions' neurons in the order of ``regions`` (default: the config's).
    """
    seed, settings = config["seed"], config["regions"]
    names = list(settings if regions is None else regions)
    n_neurons = {name: counts[session] for name, counts in recorded_neurons(config).items()}
    trials = session_trials(config)
    # one time axis for every session: the cue onsets of all sessions' trials coincide
    cue_time, duration, network_onsets = aligned_schedule(trials)
    rows = (trials["session"] == session).to_numpy()
    trials, network_onsets = trials[rows].reset_index(drop=True), network_onsets[rows]
    print(f"simulating session {session}: {', '.join(names)}; {len(trials)} trials, "
          f"{duration:.0f} ms of network time", flush=True)
    rates, spikes = dict(sources or {}), {}
    for wave in simulation_order(settings, names):
        jobs = []
        for region in wave:
            params = settings[region]
            rng = seeds.rng(seed, "neurons", region, str(session))
            neurons = draw_neurons(n_neurons[region], params, rng)
            top_down = params.get("top_down")
            jobs.append((
                trials, network_onsets, duration, neurons,
                draw_synapses(neurons["cell_type"], params, rng), params, config["simulation"],
                None if top_down is None else _top_down_course(rates[top_down["source"]], cue_time, duration),
                seeds.integer_seed(seed, "spikes", region, str(session)),
            ))
        if processes > 1 and len(jobs) > 1:
            # fork, not spawn: a spawned worker re-runs the calling script (a Snakemake script)
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(min(processes, len(jobs)), mp_context=context) as pool:
                spike_trains = list(pool.map(run_session, *zip(*jobs)))
        else:
            spike_trains = [run_session(*job) for job in jobs]
        for region, job, (trial, neuron, spike_time) in zip(wave, jobs, spike_trains):
            rate, time = bin_spikes(
                trial, neuron, spike_time - cue_time,
                shape=(len(trials), n_neurons[region]),
                start=-cue_time,
                stop=duration - cue_time,
                bin_ms=config["rates"]["bin_ms"],
                step_ms=config["rates"]["step_ms"],
            )
            rates[region] = as_dataset(rate, time, trials, job[3], np.full(rate.shape[1], region))
            spikes[region] = (trial, neuron, spike_time - cue_time)
            print(f"session {session}: {region} done", flush=True)
    return _merge([rates[name] for name in names], [spikes[name] for name in names])


def _merge(rates, spikes):
    """One session's rates and spikes from each region's rates and (trial, neuron, time) of its spikes.

    Neurons are numbered across the regions, in the order given.
    """
    merged = xr.concat(rates, "neuron", coords="different", compat="equals", join="exact")
    merged = merged.assign_coords(neuron=np.arange(merged.sizes["neuron"]))
    first = np.cumsum([0] + [region.sizes["neuron"] for region in rates])
    trial, neuron, spike_time = (np.concatenate(column) for column in zip(*(
        (trial, first[k] + neuron, spike_time) for k, (trial, neuron, spike_time) in enumerate(spikes)
    )))
    return merged, as_spikes(merged, trial, neuron, spike_time)
