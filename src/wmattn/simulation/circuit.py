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

import atexit
import hashlib
import json
import os
import shutil
import tempfile

import brian2 as b2
import numpy as np
from brian2.devices.device import all_devices, runtime_device

from wmattn import config as settings
from wmattn import seeds
from wmattn.rates import as_dataset, as_spikes, bin_spikes
from wmattn.simulation.architecture import build, copy_drives
from wmattn.simulation.sessions import session_trials
from wmattn.task import aligned_schedule, epoch_offset

# Code generation: "cython" (runtime) or "cpp_standalone" (single-threaded unless
# OPENMP_THREADS > 0; its build is reused, through device.run(run_args=...), by later
# sessions of the same shapes in the same process). Cython is the default because one
# Snakemake job simulates one session, so a standalone build is never reused across jobs:
# benchmarks/simulation.py on the default circuit at 48 trials per session (2 loaded cores)
# measured Cython with a warm cache 15.7 s per session, cpp_standalone 49.9 s for a first
# session (38 s of it code generation and compilation) and 11.9 s for a session that reuses
# the build (1.3x faster than Cython), OpenMP with 2 threads 554 s. Cython's compiled-code
# cache is shared by every job on the machine and file-locked; standalone would need a build
# directory per job and compile in each. Standalone pays off only in a process running
# several sessions of one shape (or, extrapolating, sessions whose Cython run exceeds ~2.5 min).
CODEGEN_TARGET = "cython"
OPENMP_THREADS = 0
STANDALONE_DIRECTORY = None
"""Root of this process's cpp_standalone builds; None: a temporary directory of the process,
removed at exit. Each process (each Snakemake job) must have its own."""
SEED_VARIABLE = "WMATTN_SPIKE_SEED"
_build = {}  # this process's standalone build: key, group, monitor, directory

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
    n_trials, n_neurons = len(trials), len(neurons)
    times = {
        "sample_on": network_onsets["onset_samples"].to_numpy(),
        "sample_off": epoch_offset(network_onsets, "samples"),
        "cue_on": network_onsets["onset_cue"].to_numpy(),
        "cue_off": epoch_offset(network_onsets, "cue"),
        "response_on": network_onsets["onset_response"].to_numpy(),
    }
    ones = np.ones((1, n_neurons))
    values = {name: (onsets[:, None] * ones).ravel() * b2.ms for name, onsets in times.items()}
    values.update({name: drive.ravel() * b2.mV for name, drive in copy_drives(neurons, trials, circuit).items()})
    values["bias"] = neuron_biases(neurons, config, n_trials, rng).ravel() * b2.mV
    if CODEGEN_TARGET == "cpp_standalone":
        group, spikes = _run_standalone(config, projections, n_trials, n_neurons, duration, values, seed)
    else:
        if b2.get_device() is not runtime_device:
            b2.set_device("runtime")
            _build.pop("key", None)  # the standalone device is left; its next use rebuilds
        b2.start_scope()
        b2.prefs.codegen.target = CODEGEN_TARGET
        b2.seed(seed)
        group, spikes, network = _network(circuit, projections, n_trials, n_neurons, values)
        network.run(duration * b2.ms, report="text", report_period=60 * b2.second)
    index = np.asarray(spikes.i)
    return neurons, index // n_neurons, index % n_neurons, np.asarray(spikes.t / b2.ms)


def _network(circuit, projections, n_trials, n_neurons, values):
    """The session's group (one copy of the circuit per trial, per-copy ``values`` set), its
    synapses and spike monitor, in a Network on the current device."""
    b2.defaultclock.dt = circuit["dt_ms"] * b2.ms
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
    for name, value in values.items():
        setattr(group, name, value)

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
    return group, spikes, b2.Network(group, spikes, *synapses)


def _run_standalone(config, projections, n_trials, n_neurons, duration, values, seed):
    """Run the session with cpp_standalone, reusing this process's build when the shapes match.

    The build depends on the config's circuit and regions (constants, connectivity), the trial
    count and the duration; a session with the same ones only passes its per-copy ``values`` and
    its seed to the compiled binary (``device.run(run_args=...)`` and an environment variable
    read by code inserted before the run), so nothing is compiled again.
    """
    key = hashlib.sha1(json.dumps([config["circuit"], config["regions"], n_trials, n_neurons, float(duration)],
                                  sort_keys=True, default=str).encode()).hexdigest()
    os.environ[SEED_VARIABLE] = str(int(seed))
    if _build.get("key") == key and b2.get_device() is _build["device"]:
        b2.device.run(run_args={getattr(_build["group"], name): value for name, value in values.items()},
                      with_output=False)
        return _build["group"], _build["spikes"]
    root = STANDALONE_DIRECTORY or _process_directory()
    directory = os.path.join(root, key[:12])
    if "key" in _build or all_devices["cpp_standalone"].has_been_run:
        all_devices["cpp_standalone"].reinit()
    _build.pop("key", None)
    b2.prefs.devices.cpp_standalone.openmp_threads = OPENMP_THREADS
    b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
    b2.start_scope()
    threads = max(1, OPENMP_THREADS)
    b2.device.insert_code(  # the seed, read when the binary runs (b2.seed would compile it in)
        "main", f"for (int _i=0; _i<{threads}; _i++) brian::_random_generators[_i].seed("
                f"std::strtoull(std::getenv(\"{SEED_VARIABLE}\"), NULL, 10) + _i);")
    group, spikes, network = _network(config["circuit"], projections, n_trials, n_neurons, values)
    network.run(duration * b2.ms, report="text", report_period=60 * b2.second)
    b2.device.build(directory=directory, compile=True, run=True, with_output=False)
    _build.update(key=key, group=group, spikes=spikes, directory=directory, device=b2.get_device())
    return group, spikes


def _process_directory():
    if "root" not in _build:
        _build["root"] = tempfile.mkdtemp(prefix="wmattn-brian-")
        atexit.register(shutil.rmtree, _build["root"], ignore_errors=True)
    return _build["root"]


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


# the ground truth of each recorded neuron, written as neuron coordinates
NEURON_COORDINATES = ("population", "location", "preferred_color", "cell_type", "cue")


def recorded_neurons(neurons, counts, rng):
    """Positions of the recorded neurons: ``counts[region]`` of each region's drawn at random (all of them
    if that many or more), regions in the order of ``counts``."""
    kept = []
    for name, n in counts.items():
        members = np.flatnonzero(neurons["region"].to_numpy() == name)
        kept.append(np.sort(rng.choice(members, n, replace=False)) if n < len(members) else members)
    return np.concatenate(kept)


def simulate_session(config, session, trials=None, n_recorded=None):
    """One session of the circuit: its rates and spikes datasets (DESIGN.md).

    ``config`` is the resolved config; this uses ``seed``, ``task``,
    ``sessions``, ``circuit``, ``rates`` and ``regions``. Every region is
    in one network; a session has its own trials, neuron biases, recorded
    neurons and noise. The rates' trials carry the ``report`` (radians),
    single-item trials too.

    ``trials`` (every session's trials, with a ``session`` column, as
    :func:`wmattn.simulation.sessions.session_trials` gives) and ``n_recorded``
    (``{region: neurons recorded in this session}``) default to what the
    config's ``sessions`` and ``regions`` say; the inference stage passes those
    of the recordings it fits.
    """
    trials = session_trials(config) if trials is None else trials
    if n_recorded is None:
        n_recorded = {name: n[session] for name, n in settings.recorded_neurons(config).items()}
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
    recorded = recorded_neurons(neurons, n_recorded, rng)
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

