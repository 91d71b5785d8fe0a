"""The circuit's architecture: its neurons and its projections, from the config (no Brian2 here).

Every region is built from the populations its config names; nothing here
knows a region by name:

- ``memory``: per location a ring of excitatory neurons with evenly spaced
  preferred colours and colour-tuned recurrent excitation, and the ring's
  inhibitory neurons (a bump attractor: Compte et al. 2000, Wimmer et al.
  2014). The sample drives each ring with its location's colour; with enough
  recurrence the bump outlasts the sample.
- ``cue``: excitatory neurons selective for one cue stimulus (task x cued
  location); the retro and the pro cues are different stimuli, as in
  Panichello & Buschman (2021).
- ``controller``: per location a pool of excitatory neurons, and an
  inhibitory population per task, so the pools compete (Wang 2002). Each
  neuron is reached by the retro cue, the pro cue or both (``cue_overlap`` is
  the fraction reached by both); two neurons of a location excite each other
  when a cue reaches both, and a neuron competes through the inhibition of
  each task whose cue reaches it, so with no overlap each task has its own
  attractors and its own competition.
- ``gate`` and ``report``: per location a copy of the memory ring that fires
  only when the controller's pool of that location excites it too, and one
  location-independent ring (with its inhibition) that the gates feed: the
  selected item, whatever its location, read out as the report.
- feedback: the controller's pool of each location raises the gain of
  another (or its own) region's memory ring and gates of that location, with
  a delay: selection by biased competition (Ardid, Wang & Compte 2007) acting
  as gain modulation. Its weights are gains (dimensionless) per spike.

Weights in the config are summed over a neuron's inputs of one kind (mV of
potential per spike and per unit of summed input), so a population's
dynamics do not change with its size; per-synapse weights are those divided
over the synapses.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from wmattn.task import LOCATIONS, TASKS

CUE_TYPES = ("retro", "pro", "both")  # which cue reaches a controller neuron


@dataclass
class Projection:
    """Synapses of one kind between the neurons of one network copy (indices into the neuron table)."""

    name: str
    pre: np.ndarray
    post: np.ndarray
    weight_mV: np.ndarray
    kind: str = "local excitation"  # or "local inhibition", or "feedback" (between or within regions)
    delay_ms: float = 0.0


def von_mises(angle, kappa):
    """Tuning curve with peak 1 at ``angle == 0``."""
    return np.exp(kappa * (np.cos(angle) - 1))


def ring_colors(n):
    return np.arange(n) * 2 * np.pi / n


def build(config):
    """The neurons of one network copy (a table) and its projections (a list of :class:`Projection`).

    ``config`` is the resolved config; this uses ``circuit`` and ``regions``.
    The table has one row per neuron with ``region``, ``population``,
    ``location`` (upper, lower or none), ``preferred_color`` (radians, NaN
    if untuned), ``cell_type`` (E or I) and ``cue`` (the cue stimulus or cue
    type that reaches it, or none).
    """
    circuit, regions = config["circuit"], config["regions"]
    parts, index = [], {}

    def add(region, population, cell_type, n, location="none", colors=None, cue="none"):
        if n == 0:
            return
        start = sum(len(part) for part in parts)
        parts.append(pd.DataFrame({
            "region": region, "population": population, "location": location,
            "preferred_color": np.full(n, np.nan) if colors is None else colors,
            "cell_type": cell_type, "cue": cue,
        }))
        index[region, population, cell_type, location, cue] = np.arange(start, start + n)

    for name, region in regions.items():
        memory = region.get("memory")
        if memory:
            n = memory["neurons_per_location"]
            for location in LOCATIONS:
                add(name, "memory", "E", n, location, ring_colors(n))
                add(name, "memory", "I", _n_inhibitory(n, circuit), location)
        for task in TASKS:
            for location in LOCATIONS:
                if region.get("cue_neurons", 0):
                    add(name, "cue", "E", region["cue_neurons"], location, cue=f"{task}_{location}")
        controller = region.get("controller")
        if controller:
            n = controller["neurons_per_location"]
            for location in LOCATIONS:
                for cue, count in zip(CUE_TYPES, _cue_split(n, controller["cue_overlap"])):
                    add(name, "controller", "E", count, location, cue=cue)
            for task in TASKS:  # each task's pools compete through their own inhibition
                add(name, "controller", "I", _n_inhibitory(2 * n, circuit), cue=task)
        if "report" in region:
            n = memory["neurons_per_location"]
            for location in LOCATIONS:
                add(name, "gate", "E", n, location, ring_colors(n))
            ring = region["report"]["neurons"]
            add(name, "report", "E", ring, colors=ring_colors(ring))
            add(name, "report", "I", _n_inhibitory(ring, circuit))
    neurons = pd.concat(parts, ignore_index=True)

    def get(region, population, cell_type="E", location=None, cue=None):
        """Neurons of a population, of one location and cue or (None) of any."""
        keys = [key for key in index if key[:3] == (region, population, cell_type)
                and location in (None, key[3]) and cue in (None, key[4])]
        return np.concatenate([index[key] for key in keys]) if keys else np.array([], int)

    projections = []
    for name, region in regions.items():
        if region.get("memory"):
            for location in LOCATIONS:
                projections += _attractor(f"{name}.memory.{location}", neurons, get(name, "memory", "E", location),
                                          get(name, "memory", "I", location), region["memory"]["recurrent_mV"],
                                          circuit)
        if region.get("controller"):
            projections += _controller(name, neurons, get, region["controller"], circuit)
        if "report" in region:
            report = region["report"]
            ring = get(name, "report")
            for location in LOCATIONS:
                gate = get(name, "gate", location=location)
                projections.append(_topographic(f"{name}.memory_to_gate.{location}", neurons,
                                                get(name, "memory", location=location), gate,
                                                report["memory_to_gate_mV"], circuit["ring_kappa"]))
                projections.append(_topographic(f"{name}.gate_to_report.{location}", neurons, gate, ring,
                                                report["gate_to_report_mV"], circuit["ring_kappa"]))
            projections += _attractor(f"{name}.report", neurons, ring, get(name, "report", "I"),
                                      report["recurrent_mV"], circuit)
    controller_region = next((name for name, region in regions.items() if region.get("controller")), None)
    for name, region in regions.items():
        feedback = region.get("feedback")
        if not feedback or controller_region is None:
            continue
        for location in LOCATIONS:
            pool = get(controller_region, "controller", location=location)
            for population, key in (("memory", "memory_gain"), ("gate", "gate_gain")):
                target = get(name, population, location=location)
                if len(target) and feedback[key] > 0:
                    projections.append(_uniform(f"{controller_region}_to_{name}.{population}.{location}",
                                                pool, target, feedback[key], kind="feedback",
                                                delay_ms=feedback["delay_ms"]))
    return neurons, [projection for projection in projections if len(projection.pre)]


def _n_inhibitory(n_excitatory, circuit):
    return max(1, int(round(circuit["inhibitory_fraction"] * n_excitatory)))


def _cue_split(n, overlap):
    """Neurons of a controller pool reached by the retro cue only, the pro cue only, and both."""
    both = int(round(overlap * n))
    retro = (n - both) // 2
    return retro, n - both - retro, both


def _pairs(pre, post, allowed=None):
    pre_grid, post_grid = np.meshgrid(pre, post, indexing="ij")
    keep = pre_grid != post_grid
    if allowed is not None:
        keep &= allowed
    return pre_grid[keep], post_grid[keep]


def _normalised(pre, post, raw, total_mV):
    """Per-synapse weights whose sum over each neuron's inputs is ``total_mV``."""
    sums = np.bincount(post, weights=raw, minlength=post.max() + 1 if len(post) else 0)
    return total_mV * raw / np.where(sums[post] > 0, sums[post], 1)


def _uniform(name, pre, post, total_mV, kind="local excitation", delay_ms=0.0, allowed=None):
    pre, post = _pairs(pre, post, allowed)
    return Projection(name, pre, post, _normalised(pre, post, np.ones(len(pre)), total_mV), kind, delay_ms)


def _topographic(name, neurons, pre, post, total_mV, kappa):
    pre, post = _pairs(pre, post)
    colors = neurons["preferred_color"].to_numpy()
    raw = von_mises(colors[pre] - colors[post], kappa)
    return Projection(name, pre, post, _normalised(pre, post, raw, total_mV))


def _inhibition(name, excitatory, inhibitory, circuit):
    return [
        _uniform(f"{name}.to_inhibitory", excitatory, inhibitory, circuit["to_inhibitory_mV"]),
        _uniform(f"{name}.inhibition", inhibitory, excitatory, circuit["inhibition_mV"], kind="local inhibition"),
    ]


def _attractor(name, neurons, excitatory, inhibitory, recurrent_mV, circuit):
    """A ring attractor: colour-tuned recurrent excitation and feedback inhibition."""
    projections = _inhibition(name, excitatory, inhibitory, circuit)
    if recurrent_mV > 0:
        projections.append(_topographic(f"{name}.recurrent", neurons, excitatory, excitatory, recurrent_mV,
                                        circuit["ring_kappa"]))
    return projections


def _controller(name, neurons, get, controller, circuit):
    """Pools that compete through their task's inhibition; excitation within a location's cue type.

    A neuron that both cues reach excites and is inhibited by both tasks'
    pools, so with full overlap there is one competition, and with none two
    independent ones.
    """
    excitatory = get(name, "controller")
    cue = neurons["cue"].to_numpy()
    location = neurons["location"].to_numpy()
    reached = {task: np.isin(cue, (task, "both")) for task in TASKS}
    pre, post = np.meshgrid(excitatory, excitatory, indexing="ij")
    share_cue = np.any([reached[task][pre] & reached[task][post] for task in TASKS], axis=0)
    projections = []
    if controller["recurrent_mV"] > 0:
        projections.append(_uniform(f"{name}.controller.recurrent", excitatory, excitatory,
                                    controller["recurrent_mV"], allowed=(location[pre] == location[post]) & share_cue))
    inhibitory = np.concatenate([get(name, "controller", "I", cue=task) for task in TASKS])
    pre, post = np.meshgrid(excitatory, inhibitory, indexing="ij")
    same_task = np.any([reached[task][pre] & (cue[post] == task) for task in TASKS], axis=0)
    projections.append(_uniform(f"{name}.controller.to_inhibitory", excitatory, inhibitory,
                                circuit["to_inhibitory_mV"], allowed=same_task))
    projections.append(_uniform(f"{name}.controller.inhibition", inhibitory, excitatory, circuit["inhibition_mV"],
                                kind="local inhibition", allowed=same_task.T))
    return projections


def copy_drives(neurons, trials, circuit):
    """Per-copy stimulus drives in mV, (trial, neuron) arrays: ``sample_drive`` and ``cue_drive``.

    A memory neuron is driven by the colour of its location's item (von
    Mises tuning), and not at all where the item is not shown (its colour
    NaN: a single-item trial's uncued location); a cue neuron by its cue
    stimulus; a controller neuron by the cue of its location when the
    trial's task is a cue type that reaches it. Raises if a drive is not
    finite.
    """
    population = neurons["population"].to_numpy()
    location = neurons["location"].to_numpy()
    cue = neurons["cue"].to_numpy()
    excitatory = neurons["cell_type"].to_numpy() == "E"
    colors = neurons["preferred_color"].to_numpy()
    task = trials["task"].to_numpy()[:, None]
    cued = trials["cued"].to_numpy()[:, None]
    sample = np.zeros((len(trials), len(neurons)))
    for place in LOCATIONS:
        tuned = (population == "memory") & excitatory & (location == place)
        item = trials[f"color_{place}"].to_numpy()[:, None]
        shown = np.isfinite(item)
        sample[:, tuned] = np.where(shown, von_mises(np.where(shown, item, 0) - colors[tuned], circuit["sample_kappa"]), 0)
    cue_stimulus = np.char.add(np.char.add(task.astype(str), "_"), cued.astype(str))
    by_cue = (population == "cue") & (cue == cue_stimulus)
    by_controller = ((population == "controller") & excitatory & (location == cued)
                     & ((cue == task) | (cue == "both")))
    drives = {
        "sample_drive": circuit["sample_drive_mV"] * sample,
        "cue_drive": circuit["cue_drive_mV"] * (by_cue | by_controller),
    }
    for name, drive in drives.items():
        if not np.isfinite(drive).all():
            raise ValueError(f"{name}: not finite on {int((~np.isfinite(drive)).any(axis=1).sum())} trial(s)")
    return drives
