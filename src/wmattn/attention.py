"""Soft-attention networks trained on the retro/pro task (PyTorch), in variants of how they select.

A GRU controller sees the task's inputs step by step. Each item (upper, lower)
is written into its own memory slot while its sample is shown; the controller
reads the slots back through softmax attention, so the attention weights say
which item the network selects at each moment. The controller is built
mirror-symmetric (see :class:`AttentionNetwork`), so any preference for a
location must come from the cue. Memory and inputs are noisy, in
training and evaluation alike, so reports have errors and the retro and pro
errors can differ.

The retro and the pro cue are different stimuli (as P&B's). The variants
(:data:`SELECTIONS`) differ only in what they do with them:

- ``shared``: one controller and one query serve both cue types; both enter
  through one learned embedding of where the cue points (and, apart from it,
  of which type it is);
- ``task_specific``: a controller and a query per cue type, each seeing only
  its own cue type; a trial's attention is set by the query of the cue it
  was shown.

Whether a decoder of the cued location transfers between the tasks is then a
property of the trained variant that the decoding has to find.

The trained network's attention weights and hidden states, cue-aligned like a
simulation's rates, make ``model/attention.nc`` (see DESIGN.md).
"""

import time
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
import xarray as xr
from torch.nn.utils import parametrize

from wmattn import seeds
from wmattn.task import (DEFAULT_TIMING, LOCATIONS, RESPONSE_MS, TASKS, aligned_schedule, generate_trials,
                         trial_coordinates)

ATTENTION_TYPES = ("dot", "additive")
SELECTIONS = ("shared", "task_specific")
DEVICES = ("cpu", "cuda")
ITEMS = LOCATIONS  # one memory slot, and one attention weight, per location

# Features of one input step: fixation, (cos, sin) of each location's sample, then a one-hot of
# each (cue type, cued location): the retro and the pro cues are different stimuli.
FIXATION = 0
SAMPLE = {"upper": slice(1, 3), "lower": slice(3, 5)}
N_STIMULUS_FEATURES = 5  # fixation and the samples
CUE = {(task, location): N_STIMULUS_FEATURES + 2 * i + j for i, task in enumerate(TASKS) for j, location in enumerate(LOCATIONS)}
N_FEATURES = N_STIMULUS_FEATURES + len(CUE)
# The input seen from the lower side: the samples swap, and so does each cue type's pair.
MIRROR = [FIXATION, 3, 4, 1, 2] + [CUE[task, location] for task in TASKS for location in reversed(LOCATIONS)]
# The cue types each controller of a variant sees.
PATHWAYS = {"shared": (TASKS,), "task_specific": tuple((task,) for task in TASKS)}

DEFAULTS = {
    "selection": "shared",
    "hidden_size": 64,
    "cue_size": 4,
    "attention": "dot",
    "input_noise": 0.1,
    "memory_noise": 0.05,
    "learning_rate": 3e-3,
    "batch_size": 64,
    "n_steps": 600,
    "device": "cpu",
    "dt_ms": 50,
}


class TaskInputs(NamedTuple):
    """A trial table discretised for the network (see :func:`task_inputs`)."""

    inputs: np.ndarray  # float32 (trial, step, feature)
    target: np.ndarray  # the cued item's colour (trial,)
    response_mask: np.ndarray  # bool (trial, step): steps of the response epoch
    cue_step: int  # the step of every trial's cue onset


def _step(time_ms, dt_ms):
    """The step a time falls on; onsets are rounded so jittered epochs keep their length on average."""
    return np.rint(np.asarray(time_ms, dtype=float) / dt_ms).astype(int)


def _epoch_end(trials, epoch):
    """Each trial's end of ``epoch``: the next onset after its own, whichever epoch that is."""
    onsets = trials.filter(like="onset_").to_numpy(dtype=float)
    start = trials[f"onset_{epoch}"].to_numpy(dtype=float)[:, None]
    later = np.where(onsets > start, onsets, np.inf)  # NaN (absent epoch) compares False
    return later.min(axis=1)


def _during(steps, start_ms, stop_ms, dt_ms):
    """Mask (trial, step) of the steps in [start, stop)."""
    return (steps >= _step(start_ms, dt_ms)[:, None]) & (steps < _step(stop_ms, dt_ms)[:, None])


def task_inputs(trials, dt_ms):
    """Discretise a trial table into network inputs, targets and masks.

    Trials are laid out as the simulation lays them out
    (:func:`wmattn.task.aligned_schedule`): every cue onset on one common
    step, each trial starting where its own epochs put it, and the network
    running from step 0 to the end of the latest response. Before its trial
    starts and after its response a trial's input is all zero, as the
    simulated network runs on without input; so the hidden states exist at
    every time of the rates' time axis and are decoded like a region's rates.

    Parameters
    ----------
    trials : pandas.DataFrame
        From :func:`wmattn.task.generate_trials`.
    dt_ms : float
        Step length; epoch boundaries are rounded to the nearest step.

    Returns
    -------
    TaskInputs
        ``inputs`` float32 (trial, step, feature) with features fixation (1
        from the trial's start until its response onset), the upper sample's
        (cos, sin) and the lower sample's (cos, sin) while the samples are
        shown (zero for an item not shown), and the cued location one-hot
        (upper, lower) while the cue is shown; ``target`` the cued item's colour; ``response_mask`` bool
        (trial, step), the ``RESPONSE_MS`` after the response onset;
        ``cue_step`` the common step of the cue onsets.
    """
    cue_time, _, onsets = aligned_schedule(trials)
    start = cue_time - trials["onset_cue"].to_numpy(dtype=float)
    response_end = onsets["onset_response"].to_numpy(dtype=float) + RESPONSE_MS
    steps = np.arange(_step(response_end.max(), dt_ms))[None, :]
    inputs = np.zeros((len(trials), steps.shape[1], N_FEATURES), dtype=np.float32)

    inputs[:, :, FIXATION] = _during(steps, start, onsets["onset_response"], dt_ms)
    shown = _during(steps, onsets["onset_samples"], _epoch_end(onsets, "samples"), dt_ms)
    for location in LOCATIONS:
        color = trials[f"color_{location}"].to_numpy(dtype=float)[:, None]
        present = np.isfinite(color)  # a single-item trial's uncued item (NaN colour) gives no input
        inputs[:, :, SAMPLE[location]] = np.where(
            (shown & present)[:, :, None], np.stack([np.cos(color), np.sin(color)], axis=-1), 0
        )
    cue_on = _during(steps, onsets["onset_cue"], _epoch_end(onsets, "cue"), dt_ms)
    for (task, location), feature in CUE.items():
        shown_cue = (trials["task"].to_numpy() == task) & (trials["cued"].to_numpy() == location)
        inputs[:, :, feature] = cue_on & shown_cue[:, None]

    cued_upper = (trials["cued"] == "upper").to_numpy()
    return TaskInputs(
        inputs=inputs,
        target=np.where(cued_upper, trials["color_upper"], trials["color_lower"]),
        response_mask=_during(steps, onsets["onset_response"], response_end, dt_ms),
        cue_step=int(_step(cue_time, dt_ms)),
    )


class _Mask(torch.nn.Module):
    """A weight with some entries held at zero (a parametrization): the blocks a layer may not connect."""

    def __init__(self, mask):
        super().__init__()
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, weight):
        return weight * self.mask


def _blocked(layer, weight=None, **weights):
    """``layer`` with its ``weight`` (or the named weights) masked, see :class:`_Mask`."""
    for name, mask in ({"weight": weight} if weight is not None else weights).items():
        parametrize.register_parametrization(layer, name, _Mask(mask))
    return layer


def _block_mask(rows, blocks, owners, gates=1):
    """A (gates * sum(rows), sum(blocks)) mask: controller k's outputs (``rows[k]`` of them) see the input
    blocks it owns (``owners``, one per block of ``blocks`` widths) and those owned by none (None)."""
    mask = torch.zeros(sum(rows), sum(blocks))
    starts, columns = np.cumsum([0, *rows]), np.cumsum([0, *blocks])
    for block, owner in enumerate(owners):
        for k in range(len(rows)):
            if owner is None or owner == k:
                mask[starts[k]:starts[k + 1], columns[block]:columns[block + 1]] = 1
    return mask.repeat(gates, 1)


def _cue_map(tasks):
    """(feature, code) matrix of a controller's cue input seen from one side: whether a cue of its types is at
    the side's own location, at the other, and which type it is. The location code is the same for every cue
    type the controller serves, so in a shared controller both tasks' cues say "here" through one pathway."""
    own, other = (sum(np.eye(N_FEATURES)[CUE[task, location]] for task in tasks) for location in LOCATIONS)
    types = [np.eye(N_FEATURES)[CUE[task, "upper"]] + np.eye(N_FEATURES)[CUE[task, "lower"]] for task in tasks]
    return torch.as_tensor(np.stack([own, other, *types], axis=1), dtype=torch.float32)


class AttentionNetwork(torch.nn.Module):
    """Mirror-symmetric GRU controllers reading two memory slots through softmax attention.

    Memory: a slot per location holds the (cos, sin) of its sample, copied from
    the input while the sample is shown and then perturbed by Gaussian noise at
    every step. Keys and values are computed from the slot contents at read
    time, so the noise lives on the colour itself and cannot be scaled away by
    a learned embedding.

    Controllers: one per pathway of the variant (:data:`PATHWAYS`), each two
    GRU halves with shared weights, one per location. Each half sees the
    input from its location's side (its own sample and cue first, the other
    location's second) — the stimuli as they are, the cues of its pathway's
    cue types as where they point (own or other location, one code for all
    its cue types) and which type they are, through a learned linear
    embedding (``cue_size``) — the other
    half's state and the previous read vector. Swapping upper and lower in
    the input therefore swaps the halves and the attention weights exactly:
    the network has no built-in preference for a location, so before a retro
    cue (colours drawn alike for both items) its mean attention is 0.5 by
    construction, not by training.

    Attention: slot i's key is a map of its content plus a learned bias; its
    query is a map of a controller's state seen from location i's side
    ``[own half, other half]`` — which half is "own" is the location part of
    the key/query pair (a learned location embedding per slot would be a
    built-in preference). Each pathway has its own query; a trial is scored
    by the query of the pathway whose cue it has been shown, and by the mean
    of the pathways' scores before any cue. Scores are scaled dot products or
    additive (Bahdanau); weights are a softmax over the two slots. The report
    is read from the sum of each controller's halves (location-blind) and the
    read vector.

    Parameters
    ----------
    hidden_size : int
        Units of each controller, its two halves together (even). Every
        pathway's controller has as many as the shared variant's one: a
        task-specific controller given half of them learned the retro task
        and not the pro one (pro attention at 0.51, median pro error 43 deg
        after the default training, against 7 deg with as many units).
    attention : {"dot", "additive"}
        Scaled dot-product or additive (Bahdanau) attention scores.
    input_noise, memory_noise : float
        Standard deviations of the Gaussian noise added to every input and to
        every slot content at each step.
    key_size : int
        Size of keys, queries and values.
    selection : {"shared", "task_specific"}
        The variant (module docstring).
    cue_size : int
        Size of each controller's cue embedding.
    """

    def __init__(self, hidden_size, attention="dot", input_noise=0.0, memory_noise=0.0, key_size=16,
                 selection="shared", cue_size=4):
        super().__init__()
        if attention not in ATTENTION_TYPES:
            raise ValueError(f"attention must be one of {ATTENTION_TYPES}, got {attention!r}")
        if selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}")
        self.pathways = PATHWAYS[selection]
        n_pathways = len(self.pathways)
        if hidden_size % 2:
            raise ValueError(f"hidden_size must be even (each controller's two mirror halves), got {hidden_size}")
        self.attention = attention
        self.input_noise = input_noise
        self.memory_noise = memory_noise
        self.key_size = key_size
        self.half = hidden_size // 2  # one controller's units on one side
        side = n_pathways * self.half  # every controller's units on one side
        self.cue_features = [[CUE[task, location] for task in tasks for location in LOCATIONS] for tasks in self.pathways]
        self.register_buffer("cue_map", torch.cat([_cue_map(tasks) for tasks in self.pathways], dim=1), persistent=False)
        # The controllers run as one GRU cell (one call a step, however many there are) whose weights
        # are masked to blocks: a controller's units see the stimuli, the read vector, their own cue
        # embedding and their own other half, nothing of another controller.
        controllers = list(range(n_pathways))
        codes = [2 + len(tasks) for tasks in self.pathways]
        self.cue_embedding = _blocked(torch.nn.Linear(sum(codes), n_pathways * cue_size, bias=False),
                                      _block_mask([cue_size] * n_pathways, codes, controllers))
        # input: the stimuli and the read vector, every controller's cue code, every controller's other half
        inputs = [N_STIMULUS_FEATURES + key_size] + [cue_size] * n_pathways + [self.half] * n_pathways
        units = [self.half] * n_pathways
        self.controller = _blocked(torch.nn.GRUCell(sum(inputs), side),
                                   weight_ih=_block_mask(units, inputs, [None] + controllers * 2, gates=3),
                                   weight_hh=_block_mask(units, units, controllers, gates=3))
        self.key = torch.nn.Linear(2, key_size)
        self.value = torch.nn.Linear(2, key_size, bias=False)
        # each controller's query reads its own units from the slot's side and from the other side
        self.query = _blocked(torch.nn.Linear(2 * side, n_pathways * key_size),
                              _block_mask([key_size] * n_pathways, units * 2, controllers * 2))
        if attention == "additive":
            self.score_query = torch.nn.Linear(key_size, key_size, bias=False)
            self.score_key = torch.nn.Linear(key_size, key_size)
            self.score = torch.nn.Linear(key_size, 1, bias=False)
        self.readout = torch.nn.Linear(side + key_size, 2)

    def _scores(self, queries, keys):
        """Attention scores (batch, item, pathway) of each pathway's query (batch, item, pathway, key) and each slot's key (batch, item, key)."""
        keys = keys[:, :, None]
        if self.attention == "dot":
            return (queries * keys).sum(dim=-1) / self.key_size**0.5
        return self.score(torch.tanh(self.score_query(queries) + self.score_key(keys)))[..., 0]

    def _select(self, state, keys, cued_pathway):
        """Each trial's scores (batch, item): its cue's pathway's, or the pathways' mean before any cue."""
        queries = self.query(torch.cat([state, state.flip(1)], dim=-1))
        scores = self._scores(queries.unflatten(-1, (len(self.pathways), self.key_size)), keys)
        if len(self.pathways) == 1:
            return scores[..., 0]
        seen = cued_pathway.any(dim=-1, keepdim=True)
        weights = torch.where(seen, cued_pathway.to(scores.dtype), 1.0 / len(self.pathways))
        return (scores * weights[:, None, :]).sum(dim=-1)

    def forward(self, inputs, generator=None):
        """Run the network over whole trials.

        Parameters
        ----------
        inputs : torch.Tensor (batch, step, feature)
            Noise-free inputs from :func:`task_inputs`; the noise is added here.
        generator : torch.Generator, optional
            Source of the input and memory noise.

        Returns
        -------
        outputs : torch.Tensor (batch, step, 2)
            (cos, sin) of the reported colour, up to scale.
        attention : torch.Tensor (batch, step, item)
            Weights on the upper and lower slot; NaN until both slots have been
            written (nothing to select between), so throughout a single-item
            trial. The read vector is zero until a slot is written; a slot
            never written (an item not shown) gets no weight in it.
        hidden : torch.Tensor (batch, step, unit)
            Controller states (:func:`n_units` of them), controller by controller, each the upper-side half first.
        """
        batch, n_steps, _ = inputs.shape
        n_pathways = len(self.pathways)
        # A sample is shown where its noise-free (cos, sin) is on the unit circle, not zero.
        shown = torch.stack(
            [inputs[:, :, SAMPLE[item]].norm(dim=-1) > 0.5 for item in ITEMS], dim=-1
        )
        # which pathway's cue each trial has been shown by each step
        cued_pathway = torch.stack([inputs[:, :, features].sum(dim=-1) > 0.5 for features in self.cue_features],
                                   dim=-1).cummax(dim=1).values
        noisy = inputs + self.input_noise * self._noise(inputs.shape, inputs, generator)
        memory_noise = self.memory_noise * self._noise((batch, n_steps, len(ITEMS), 2), inputs, generator)
        cue_codes = self.cue_embedding(torch.stack([noisy, noisy[:, :, MIRROR]], dim=2) @ self.cue_map)

        side = self.controller.hidden_size
        state = inputs.new_zeros(batch, len(ITEMS), side)  # (batch, side, unit)
        read = inputs.new_zeros(batch, self.key_size)
        slots = inputs.new_zeros(batch, len(ITEMS), 2)
        written = torch.zeros(batch, len(ITEMS), dtype=torch.bool, device=inputs.device)
        outputs, weights, hidden = [], [], []
        with parametrize.cached():  # the masked weights once per run, not once per step
            for step in range(n_steps):
                stimuli = torch.stack([noisy[:, step, :N_STIMULUS_FEATURES],
                                       noisy[:, step, MIRROR[:N_STIMULUS_FEATURES]]], dim=1)
                controller_input = torch.cat([stimuli, read[:, None].expand(-1, len(ITEMS), -1), cue_codes[:, step],
                                              state.flip(1)], dim=-1)
                state = self.controller(controller_input.flatten(0, 1), state.flatten(0, 1)).view(batch, len(ITEMS), side)
                samples = torch.stack([noisy[:, step, SAMPLE[item]] for item in ITEMS], dim=1)
                slots = torch.where(shown[:, step, :, None], samples, slots) + memory_noise[:, step]
                written = written | shown[:, step]
                # a slot never written (a single-item trial's absent item) cannot be read
                scores = torch.where(written, self._select(state, self.key(slots), cued_pathway[:, step]),
                                     torch.finfo(inputs.dtype).min)
                weight = torch.softmax(scores, dim=-1)
                ready = written.any(dim=-1, keepdim=True)
                read = torch.where(ready, (weight[:, :, None] * self.value(slots)).sum(dim=1), 0.0)
                weights.append(torch.where(written.all(dim=-1, keepdim=True), weight, torch.nan))
                outputs.append(self.readout(torch.cat([state.sum(dim=1), read], dim=-1)))
                hidden.append(state.unflatten(-1, (n_pathways, self.half)).transpose(1, 2).flatten(1))
        return torch.stack(outputs, dim=1), torch.stack(weights, dim=1), torch.stack(hidden, dim=1)

    @staticmethod
    def _noise(shape, like, generator):
        return torch.randn(shape, generator=generator, dtype=like.dtype, device=like.device)


def _reported(outputs, response_mask):
    """The reported colour of each trial: the angle of the mean output over its response epoch."""
    mean = (outputs * response_mask[:, :, None]).sum(dim=1)
    return torch.atan2(mean[:, 1], mean[:, 0])


def _absolute_error(reported, target):
    """Absolute angular distance, in [0, pi]."""
    return torch.abs(torch.remainder(reported - target + torch.pi, 2 * torch.pi) - torch.pi)


def _loss(outputs, target, response_mask):
    """Mean cosine distance 1 - cos(error) over every response step."""
    unit = outputs / (outputs.norm(dim=-1, keepdim=True) + 1e-6)
    cos_error = unit[:, :, 0] * torch.cos(target)[:, None] + unit[:, :, 1] * torch.sin(target)[:, None]
    return ((1 - cos_error) * response_mask).sum() / response_mask.sum()


def _resolve(config):
    """``config`` over :data:`DEFAULTS`, checked; a wrong key or value raises naming the key."""
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown attention config key(s) {unknown}; known: {sorted(DEFAULTS)}")
    config = {**DEFAULTS, **config}
    if config["attention"] not in ATTENTION_TYPES:
        raise ValueError(f"config key 'attention' must be one of {ATTENTION_TYPES}, got {config['attention']!r}")
    if config["selection"] not in SELECTIONS:
        raise ValueError(f"config key 'selection' must be one of {SELECTIONS}, got {config['selection']!r}")
    if config["hidden_size"] % 2:
        raise ValueError(f"config key 'hidden_size' must be even (each controller's two mirror halves), "
                         f"got {config['hidden_size']}")
    if config["device"] not in DEVICES:
        raise ValueError(f"config key 'device' must be one of {DEVICES}, got {config['device']!r}")
    if config["device"] == "cuda" and not torch.cuda.is_available():
        raise ValueError("config key 'device' is 'cuda' but torch sees no CUDA device; use 'cpu'")
    return config


def n_units(config):
    """Units of a network's hidden states: ``hidden_size`` for each controller of its ``selection``."""
    return config["hidden_size"] * len(PATHWAYS[config["selection"]])


def build(config):
    """The untrained :class:`AttentionNetwork` a config (keys of :data:`DEFAULTS`) describes, on its device."""
    config = _resolve(config)
    return AttentionNetwork(
        config["hidden_size"], config["attention"], config["input_noise"], config["memory_noise"],
        selection=config["selection"], cue_size=config["cue_size"],
    ).to(config["device"])


def _batch(trials, dt_ms, device):
    """Tensors of a trial table: inputs, target and response mask."""
    discrete = task_inputs(trials, dt_ms)
    return (
        torch.as_tensor(discrete.inputs, device=device),
        torch.as_tensor(discrete.target, dtype=torch.float32, device=device),
        torch.as_tensor(discrete.response_mask, dtype=torch.float32, device=device),
    )


def train(config, rng_seed, timing=None, single_item_fraction=0.0, progress=print):
    """Train an :class:`AttentionNetwork` on fresh trials of both tasks.

    Parameters
    ----------
    config : dict
        Any of the keys of :data:`DEFAULTS` (the rest take their defaults):
        ``selection`` (the variant, :data:`SELECTIONS`), ``hidden_size``,
        ``cue_size``, ``attention`` ("dot" | "additive"), ``input_noise``,
        ``memory_noise``, ``learning_rate``, ``batch_size`` (about that many
        trials: the two-item ones a multiple of 4, at least 4, so that every
        batch balances task x cued location, and the single-item ones on
        top), ``n_steps``, ``device`` ("cpu" | "cuda") and ``dt_ms``.
    rng_seed : int
        Seeds the weights (``torch.manual_seed``), the trials and the noise:
        the same seed gives the same weights.
    timing : dict, optional
        ``{task: {epoch: length}}`` for :func:`wmattn.task.generate_trials`
        (every task needs a ``samples`` and a ``cue`` epoch); defaults to
        :data:`wmattn.task.DEFAULT_TIMING`.
    single_item_fraction : float
        Of every batch's trials, those that show the cued item only.
    progress : callable
        Called with a progress line every 10 % of the steps.

    Returns
    -------
    model : AttentionNetwork
        In eval mode (noise stays on: it is part of the model).
    history : pandas.DataFrame
        One row per step: ``step``, ``loss`` and ``median_error_deg`` (median
        absolute colour error of the batch, degrees).
    """
    config = _resolve(config)
    timing = DEFAULT_TIMING if timing is None else timing
    torch.manual_seed(rng_seed)
    rng = seeds.rng(rng_seed, "attention", "trials")
    noise_seed = seeds.integer_seed(rng_seed, "attention", "noise")
    noise = torch.Generator(device=config["device"]).manual_seed(noise_seed)
    model = build(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"])
    n_two_item = round(config["batch_size"] * (1 - single_item_fraction))
    n_per_condition = max(1, n_two_item // (len(timing) * len(LOCATIONS)))

    history = []
    started = time.perf_counter()
    report_every = max(1, config["n_steps"] // 10)
    for step in range(config["n_steps"]):
        trials = generate_trials(n_per_condition, rng, timing, single_item_fraction)
        inputs, target, response_mask = _batch(trials, config["dt_ms"], config["device"])
        outputs, _, _ = model(inputs, noise)
        loss = _loss(outputs, target, response_mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        error = _absolute_error(_reported(outputs.detach(), response_mask), target)
        history.append((step, loss.item(), np.degrees(error.median().item())))
        if (step + 1) % report_every == 0 or step + 1 == config["n_steps"]:
            progress(
                f"attention step {step + 1}/{config['n_steps']}: loss {loss.item():.4f}, "
                f"median error {history[-1][2]:.1f} deg ({time.perf_counter() - started:.0f} s)"
            )
    return model.eval(), pd.DataFrame(history, columns=["step", "loss", "median_error_deg"])


def evaluate(model, trials, dt_ms, rng_seed=0):
    """Run a trained network on ``trials`` and collect the contract's dataset.

    Parameters
    ----------
    model : AttentionNetwork
    trials : pandas.DataFrame
        From :func:`wmattn.task.generate_trials` (held-out trials).
    dt_ms : float
        The step the model was trained with.
    rng_seed : int
        Seeds the input and memory noise, which stay on in evaluation.

    Returns
    -------
    xarray.Dataset
        ``attention`` (trial, time, item) and ``hidden`` (trial, time, unit),
        float32, on the simulation's schedule (:func:`task_inputs`): ``time``
        in ms from the cue onset (the start of the cue's step); ``attention``
        is NaN before both samples are shown (throughout a single-item trial); ``error``
        (trial), the absolute colour error in radians; per-trial coordinates ``task``,
        ``cued``, ``n_items``, ``color_upper``, ``color_lower`` (NaN for an item not
        shown), ``onset_{epoch}`` in ms relative to the cue onset, and ``report``, the
        reported colour (radians, in [0, 2 pi)).
    """
    discrete = task_inputs(trials, dt_ms)
    device = next(model.parameters()).device
    noise = torch.Generator(device=device).manual_seed(rng_seed)
    with torch.no_grad():
        outputs, attention, hidden = model(torch.as_tensor(discrete.inputs, device=device), noise)
        response_mask = torch.as_tensor(discrete.response_mask, dtype=torch.float32, device=device)
        target = torch.as_tensor(discrete.target, dtype=torch.float32, device=device)
        reported = _reported(outputs, response_mask)
        error = _absolute_error(reported, target).cpu().numpy()
    relative = np.arange(discrete.inputs.shape[1]) - discrete.cue_step

    trial_coords = trial_coordinates(trials)
    return xr.Dataset(
        {
            "attention": (("trial", "time", "item"), attention.cpu().numpy()),
            "hidden": (("trial", "time", "unit"), hidden.cpu().numpy()),
            "error": ("trial", error.astype(np.float64), {"units": "radians"}),
        },
        coords={
            "trial": np.arange(len(trials)),
            "time": ("time", relative * float(dt_ms), {"units": "ms", "reference": "cue onset"}),
            "item": list(ITEMS),
            "unit": np.arange(hidden.shape[2]),
            **trial_coords,
            "report": ("trial", np.mod(reported.cpu().numpy().astype(np.float64), 2 * np.pi), {"units": "radians"}),
        },
    )
