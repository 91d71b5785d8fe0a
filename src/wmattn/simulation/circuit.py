"""The multi-area spiking circuit of one session (Brian2): every region and every trial in one network.

Neurons spike stochastically with a rate that is a sigmoid of their
potential ("escape noise", Gerstner & Kistler 2002, ch. 5.3): the potential
is a bias plus slow excitatory (NMDA-like) and fast inhibitory synaptic
potentials plus the stimulus drives, so a population's mean-field is a rate
model whose attractors the spiking network inherits with its noise. A
neuron's bias varies between sessions and, less, between trials (the
fluctuating input from the rest of the brain, held constant within a trial:
a state variable with white noise doubled the run time).
Feedback from the controller is modulatory: its synapses raise a gain that
multiplies the neuron's excitatory input (recurrent and sample), as
top-down attention scales the responses a neuron already has (McAdams &
Maunsell 1999; Reynolds & Heeger 2009). Its effect therefore depends on
what the target holds: a memory in retro trials, the incoming samples in pro
trials, nothing in a silent population. The
architecture (which populations, which projections) is built by
:mod:`wmattn.simulation.architecture`; here it becomes one Brian2 network.

As in the planted source, the neuron group holds one copy of the circuit per
trial of the session (the same neurons and synapses in every copy), each
copy's stimuli follow its trial's epochs through per-neuron onset times,
and trials are placed in network time so that all cue onsets coincide.
After its response onset a copy is silenced: the trial is over. The report
is the population vector of the report ring's spikes just before the
response onset.
"""

import json

import brian2 as b2
import numpy as np

from wmattn import seeds
from wmattn.rates import as_dataset, as_spikes, bin_spikes
from wmattn.simulation.architecture import build, copy_drives
from wmattn.simulation.sessions import session_trials
from wmattn.task import aligned_schedule, epoch_offset

CODEGEN_TARGET = "cython"

EQUATIONS = """
du_exc/dt = -u_exc / tau_exc : volt
du_inh/dt = -u_inh / tau_inh : volt
dgain/dt = -gain / tau_exc : 1
u = bias + (1 + gain) * (u_exc + in_sample * sample_drive) - u_inh + in_cue * cue_drive
    - ended * end_inhibition : volt
rate = max_rate / (1 + exp((half_activation - u) / activation_slope)) : Hz
in_sample = int(t >= sample_on) * int(t < sample_off) : 1
in_cue = int(t >= cue_on) * int(t < cue_off) : 1
ended = int(t >= response_on) : 1
sample_on : second (constant)
sample_off : second (constant)
cue_on : second (constant)
cue_off : second (constant)
response_on : second (constant)
bias : volt (constant)
sample_drive : volt (constant)
cue_drive : volt (constant)
"""


def neuron_biases(neurons, config, n_trials, rng):
    """Each copy's neurons' biases in mV (trial, neuron): the cell type's (the gates' own), a
    per-session jitter of each neuron, and a per-trial one."""
    circuit = config["circuit"]
    bias = np.where(neurons["cell_type"] == "E", circuit["excitatory_bias_mV"], circuit["inhibitory_bias_mV"])
    for name, region in config["regions"].items():
        if "report" in region:
            gates = ((neurons["region"] == name) & (neurons["population"] == "gate")).to_numpy()
            bias[gates] = region["report"]["gate_bias_mV"]
    bias = bias + circuit["bias_jitter_mV"] * rng.standard_normal(len(neurons))
    return bias + circuit["trial_jitter_mV"] * rng.standard_normal((n_trials, len(neurons)))


def run_session(trials, network_onsets, duration, config, rng, seed):
    """Simulate every trial of one session in one network run.

    Parameters
    ----------
    trials : pandas.DataFrame
        The session's trials (``task``, ``cued``, ``color_upper``, ``color_lower``).
    network_onsets : pandas.DataFrame
        Their epoch onsets (``onset_<epoch>``) in network time, ms.
    duration : float
        Network run length in ms.
    config : dict
        The resolved config (``circuit`` and ``regions``).
    rng : numpy.random.Generator
        Draws the neurons' biases.
    seed : int
        Passed to :func:`brian2.seed` (the spikes' noise).

    Returns
    -------
    neurons : pandas.DataFrame
        One copy's neurons (:func:`wmattn.simulation.architecture.build`).
    trial_index, neuron_index, spike_time : arrays
        One entry per spike; ``spike_time`` in ms of network time.
    """
    circuit = config["circuit"]
    neurons, projections = build(config)
    b2.start_scope()
    b2.prefs.codegen.target = CODEGEN_TARGET
    b2.seed(seed)
    b2.defaultclock.dt = circuit["dt_ms"] * b2.ms
    n_trials, n_neurons = len(trials), len(neurons)
    group = b2.NeuronGroup(
        n_trials * n_neurons, EQUATIONS,
        threshold="rand() < rate * dt", refractory=circuit["refractory_ms"] * b2.ms, method="exact",
        namespace={
            "tau_exc": circuit["excitatory_tau_ms"] * b2.ms,
            "tau_inh": circuit["inhibitory_tau_ms"] * b2.ms,
            "max_rate": circuit["max_rate"] * b2.Hz,
            "half_activation": circuit["half_activation_mV"] * b2.mV,
            "activation_slope": circuit["activation_slope_mV"] * b2.mV,
            "end_inhibition": circuit["end_inhibition_mV"] * b2.mV,
        },
        name="circuit",
    )
    ones = np.ones((1, n_neurons))
    times = {
        "sample_on": network_onsets["onset_samples"].to_numpy(),
        "sample_off": epoch_offset(network_onsets, "samples"),
        "cue_on": network_onsets["onset_cue"].to_numpy(),
        "cue_off": epoch_offset(network_onsets, "cue"),
        "response_on": network_onsets["onset_response"].to_numpy(),
    }
    for name, values in times.items():
        setattr(group, name, (values[:, None] * ones).ravel() * b2.ms)
    for name, values in copy_drives(neurons, trials, circuit).items():
        setattr(group, name, values.ravel() * b2.mV)
    group.bias = neuron_biases(neurons, config, n_trials, rng).ravel() * b2.mV

    offset = (np.arange(n_trials) * n_neurons)[:, None]  # the same synapses in every copy
    synapses = []
    # one Synapses object per kind, not per projection: each object is compiled on its own
    for name, kind in (("local_excitation", "local excitation"), ("local_inhibition", "local inhibition"),
                       ("feedback", "feedback")):
        chosen = [projection for projection in projections if projection.kind == kind]
        if not chosen:
            continue
        pre, post, weight, delay = (np.concatenate([getattr(p, field) * np.ones(len(p.pre)) for p in chosen])
                                    for field in ("pre", "post", "weight_mV", "delay_ms"))
        target, dimension, unit = {"local excitation": ("u_exc", "volt", b2.mV),
                                   "local inhibition": ("u_inh", "volt", b2.mV), "feedback": ("gain", "1", 1)}[kind]
        synapses.append(b2.Synapses(group, group, f"w : {dimension}", on_pre=f"{target}_post += w", name=name))
        synapses[-1].connect(i=(offset + pre.astype(int)).ravel(), j=(offset + post.astype(int)).ravel())
        synapses[-1].w = np.tile(weight, n_trials) * unit
        synapses[-1].delay = np.tile(delay, n_trials) * b2.ms
    spikes = b2.SpikeMonitor(group)
    network = b2.Network(group, spikes, *synapses)
    network.run(duration * b2.ms, report="text", report_period=60 * b2.second)
    index = np.asarray(spikes.i)
    return neurons, index // n_neurons, index % n_neurons, np.asarray(spikes.t / b2.ms)


def population_vector_reports(neurons, trial_index, neuron_index, spike_time, response_on, window_ms):
    """Each trial's reported colour (radians): the population vector of the report ring's spikes.

    Counts the spikes of the excitatory ``report`` neurons in the
    ``window_ms`` before each trial's ``response_on`` (ms, same clock as
    ``spike_time``). A trial without a report spike reports NaN.
    """
    ring = ((neurons["population"] == "report") & (neurons["cell_type"] == "E")).to_numpy()
    kept = ring[neuron_index] & (spike_time >= response_on[trial_index] - window_ms) & (
        spike_time < response_on[trial_index])
    angle = neurons["preferred_color"].to_numpy()[neuron_index[kept]]
    vector = np.bincount(trial_index[kept], weights=np.cos(angle), minlength=len(response_on)) \
        + 1j * np.bincount(trial_index[kept], weights=np.sin(angle), minlength=len(response_on))
    reported = np.mod(np.angle(vector), 2 * np.pi)
    return np.where(np.abs(vector) > 0, reported, np.nan)


def recorded_neurons(neurons, regions, rng):
    """Positions of the recorded neurons: ``n_neurons`` of each region drawn at random (all if unset), in order."""
    kept = []
    for name, region in regions.items():
        members = np.flatnonzero(neurons["region"].to_numpy() == name)
        n = region.get("n_neurons") or len(members)
        kept.append(np.sort(rng.choice(members, n, replace=False)) if n < len(members) else members)
    return np.concatenate(kept)


def simulate_session(config, session):
    """One session of the circuit: its rates and spikes datasets (DESIGN.md).

    ``config`` is the resolved config; this uses ``seed``, ``task``,
    ``sessions``, ``circuit``, ``rates`` and ``regions``. Every region is
    in one network; a session has its own trials, neuron biases, recorded
    neurons and noise. The rates' trials carry the ``report`` (radians).
    """
    trials = session_trials(config)
    cue_time, duration, network_onsets = aligned_schedule(trials)
    rows = (trials["session"] == session).to_numpy()
    trials, network_onsets = trials[rows].reset_index(drop=True), network_onsets[rows].reset_index(drop=True)
    rng = seeds.rng(config["seed"], "circuit", str(session))
    print(f"simulating session {session} of the circuit: {', '.join(config['regions'])}; {len(trials)} trials, "
          f"{duration:.0f} ms of network time", flush=True)
    neurons, trial, neuron, spike_time = run_session(
        trials, network_onsets, duration, config, rng, seeds.integer_seed(config["seed"], "spikes", str(session)))
    trials = trials.assign(report=population_vector_reports(
        neurons, trial, neuron, spike_time, network_onsets["onset_response"].to_numpy(),
        config["circuit"]["report_window_ms"]))
    recorded = recorded_neurons(neurons, config["regions"], rng)
    position = np.full(len(neurons), -1)
    position[recorded] = np.arange(len(recorded))
    kept = position[neuron] >= 0
    trial, neuron, spike_time = trial[kept], position[neuron[kept]], spike_time[kept] - cue_time
    rate, time = bin_spikes(trial, neuron, spike_time, shape=(len(trials), len(recorded)), start=-cue_time,
                            stop=duration - cue_time, bin_ms=config["rates"]["bin_ms"],
                            step_ms=config["rates"]["step_ms"])
    table = neurons.iloc[recorded].reset_index(drop=True)
    rates = as_dataset(rate, time, trials, {name: table[name].to_numpy() for name in NEURON_COORDINATES},
                       table["region"].to_numpy())
    rates.attrs["architecture"] = json.dumps({name: config["regions"][name] for name in config["regions"]})
    return rates, as_spikes(rates, trial, neuron, spike_time)


NEURON_COORDINATES = ("population", "location", "preferred_color", "cell_type", "cue")
