"""The comparison: which attention-network variant each region resembles, and whether the data can decide.

Every region and every network (decoded like a region, as ``model_{name}``)
is reduced to the same signature (:func:`signature`): measures of the
analyses, each with its interval, on scales that a spiking population and a
network's units share (accuracies, indices, cosines, latencies, behaviour),
never a raw firing rate or unit activity:

- ``gi_{window}_{direction}``: the generalisation index, undefined (NaN)
  where the training task's within-task accuracy does not exceed chance
  (its interval reaches 0.5), since GI divides by it;
- ``accuracy_{window}_{train}_to_{test}``: within-task and transfer
  accuracy in the GI windows;
- ``onset_found_{train}_to_{test}``: whether the course has an onset (a
  cluster-significant bin after the cue), as the fraction of the decoding's
  bootstrap draws that found one: within a task, whether the cued location
  is selected; across tasks, whether the code transfers;
- ``onset_{task}_to_{task}``: the selection onset latency within each task,
  where there is one (a course without an onset has no latency: counting it
  as some late time made that time decide the match; the separate-control
  circuit's LPFC went from task_specific to undecided to shared as it was set
  to 1, 2 or 3 s). Transfer courses have no latency in the signature: where
  transfer is marginal its first significant bin jumps (instances of the
  task_specific network: none, 0, 350 or 1450 ms) and made the variant's
  centroid, not the region, decide the distance's interval;
- ``colour_{task}``: (cued - uncued) / (cued + uncued) colour information
  (PEV, a fraction of variance in any unit) after selection;
- ``plane_{pair}``: every colour-plane comparison's |cos|;
- ``error_{condition}``, ``swap_{condition}``: report error and swap rate
  (behaviour; optional, shared by all regions of a simulated session).

The distance between two signatures is the root mean square of their
differences, each measure divided by its kind's scale (:data:`SCALES`), over
the measures both define (so that a region's distance to one network does
not change with what another network lacks). Its interval comes from draws of both signatures,
each measure drawn from the normal distribution its stored 95 % interval
describes (the decoding stage's bootstraps over trials, neurons or
resamples), measures independently; since noise inflates every draw's
distance, the draws' percentiles are shifted so that their median is the
estimate (as GI's interval is, :mod:`wmattn.analysis.generalization`).
A region is compared with each network *variant* (``selection``), not with
one trained instance: instances of a variant differ, so the variant is the
centroid of its instances, and the distance's interval resamples them
(:func:`match_networks`). A region is matched to its nearest variant when
that distance's interval lies below every other variant's; where they
overlap the comparison says "undecided".

The networks' attention weights enter as timing (:func:`attention_timing`):
when the attention on the cued item rises after the cue, beside each
region's selection onset.
"""

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from wmattn.pseudopop import two_item_trials
from wmattn.task import RESPONSE_MS, TASKS

DIRECTIONS = ("retro_to_pro", "pro_to_retro")
# What a unit of difference means for each kind of measure: the distance counts a GI of 0 vs 1, an
# accuracy of 0.5 vs 1, 500 ms of latency, an error of 45 degrees as one unit each.
SCALES = {"gi": 1.0, "accuracy": 0.5, "found": 1.0, "onset": 500.0, "colour": 1.0, "plane": 1.0, "error": np.pi / 4,
          "swap": 0.5}
CI = (0.025, 0.975)
Z_95 = 3.92  # width of a normal's central 95 % in standard deviations
UNDECIDED = "undecided"


def _interval(da):
    """(low, high) of an interval variable with its bounds on ``ci_bound``."""
    return float(da.isel(ci_bound=0)), float(da.isel(ci_bound=-1))


def signature(decoding, colour_windows, behaviour=None, source=None):
    """One region's or network's signature: ``value``, ``low`` and ``high`` over ``measure``.

    Parameters
    ----------
    decoding : xarray.Dataset
        A decoding file: ``gi``/``gi_ci`` (window, direction),
        ``window_accuracy``/``window_accuracy_ci`` (window, train_task,
        test_task), ``onset_latency``/``onset_latency_found_ci`` and
        ``onset_found_fraction`` (train_task, test_task),
        ``color_information_mean``/``_ci`` (measure, task, cue_status,
        time), ``plane_cosine``/``_ci`` (plane_pair), and ``time``.
    colour_windows : dict
        ``{task: [start_ms, end_ms]}`` after selection, where the colour
        information of the cued and the uncued item is compared.
    behaviour : xarray.Dataset, optional
        The behaviour summary (``mean_abs_error``, ``p_swap`` and their
        ``*_ci`` over source, condition) and the ``source`` whose row this
        entity's reports are.

    Returns
    -------
    xarray.Dataset
        ``value``, ``low``, ``high`` (measure) and the measures' ``kind``.
    """
    rows = []
    for window in decoding["window"].to_numpy():
        accuracy = decoding["window_accuracy"].sel(window=window)
        accuracy_ci = decoding["window_accuracy_ci"].sel(window=window)
        for direction in DIRECTIONS:
            train = direction.split("_to_")[0]
            decodes = _interval(accuracy_ci.sel(train_task=train, test_task=train))[0] > 0.5
            gi = decoding["gi"].sel(window=window, direction=direction)
            low, high = _interval(decoding["gi_ci"].sel(window=window, direction=direction))
            rows.append((f"gi_{window}_{direction}", "gi", *((float(gi), low, high) if decodes else (np.nan,) * 3)))
        for train in TASKS:
            for test in TASKS:
                pair = {"train_task": train, "test_task": test}
                rows.append((f"accuracy_{window}_{train}_to_{test}", "accuracy", float(accuracy.sel(pair)),
                             *_interval(accuracy_ci.sel(pair))))
    for train in TASKS:
        for test in TASKS:
            pair = {"train_task": train, "test_task": test}
            onset = float(decoding["onset_latency"].sel(pair))
            found = float(decoding["onset_found_fraction"].sel(pair))
            found = float(np.isfinite(onset)) if np.isnan(found) else found  # NaN: decoded without a bootstrap
            rows.append((f"onset_found_{train}_to_{test}", "found", found, found, found))
            if train == test:
                # the latency's interval over the draws that found an onset: whether there is one is the found
                # fraction's to say (as later than the decoded time, the draws without one made a course with
                # an onset in 62 % of them span 0 to 3.6 s)
                bounds = _interval(decoding["onset_latency_found_ci"].sel(pair))
                rows.append((f"onset_{train}_to_{test}", "onset", onset,
                             *(bounds if np.isfinite(onset) else [np.nan] * 2)))
    pev = decoding["color_information_mean"].sel(measure="pev")
    pev_ci = decoding["color_information_mean_ci"].sel(measure="pev")
    for task, (start, stop) in colour_windows.items():
        in_window = {"task": task, "time": slice(start, stop)}
        cued, uncued = (float(pev.sel(in_window).sel(cue_status=status).mean()) for status in ("cued", "uncued"))
        bounds = {status: pev_ci.sel(in_window).sel(cue_status=status).mean("time") for status in ("cued", "uncued")}
        rows.append((f"colour_{task}", "colour", _contrast(cued, uncued),
                     _contrast(float(bounds["cued"][0]), float(bounds["uncued"][1])),
                     _contrast(float(bounds["cued"][1]), float(bounds["uncued"][0]))))
    for pair in decoding["plane_pair"].to_numpy():
        rows.append((f"plane_{pair}", "plane", float(decoding["plane_cosine"].sel(plane_pair=pair)),
                     *_interval(decoding["plane_cosine_ci"].sel(plane_pair=pair))))
    if behaviour is not None:
        reports = behaviour.sel(source=source)
        for condition in reports["condition"].to_numpy():
            for name, variable in (("error", "mean_abs_error"), ("swap", "p_swap")):
                rows.append((f"{name}_{condition}", name, float(reports[variable].sel(condition=condition)),
                             *_interval(reports[f"{variable}_ci"].sel(condition=condition))))
    names, kinds, values, lows, highs = zip(*rows)
    return xr.Dataset({"value": ("measure", list(values)), "low": ("measure", list(lows)),
                       "high": ("measure", list(highs))},
                      coords={"measure": list(names), "kind": ("measure", list(kinds))})


def _contrast(cued, uncued):
    """(cued - uncued) / (cued + uncued) of information floored at 0, so in [-1, 1]; NaN where both are 0.

    PEV is bias-corrected and can be negative where there is no information:
    without the floor a sum near 0 made the ratio explode (V4: -39)."""
    cued, uncued = max(cued, 0.0), max(uncued, 0.0)
    total = cued + uncued
    return (cued - uncued) / total if total > 0 else np.nan


def signature_draws(sig, n_draws, rng):
    """Draws (draw, measure) of a signature: each measure normal with the SD its 95 % interval implies
    (0 where it has none), independently."""
    value = sig["value"].to_numpy()
    sd = np.nan_to_num((sig["high"] - sig["low"]).to_numpy() / Z_95, nan=0.0).clip(min=0)
    return value + sd * rng.standard_normal((n_draws, len(value)))


def distance(a, b, scale):
    """RMS of the scaled differences of signatures ``a`` and ``b`` (..., measure) over the measures both define."""
    scaled = (np.asarray(a) - np.asarray(b)) / scale
    return np.sqrt(np.nanmean(scaled**2, axis=-1))


def common_measures(signatures):
    """The measures every signature defines (finite value), in the first one's order."""
    measures = signatures[0]["measure"].to_numpy()
    keep = np.ones(len(measures), bool)
    for sig in signatures:
        keep &= np.isfinite(sig["value"].reindex(measure=measures).to_numpy())
    return list(measures[keep])


def measure_scales(sig):
    """Each measure's :data:`SCALES` entry, by its kind (a signature's ``kind`` over ``measure``)."""
    return np.array([SCALES[kind] for kind in sig["kind"].to_numpy()])


def centroid(signatures):
    """The mean signature of a variant's instances (``value`` over ``measure``, NaN-aware: a measure that only
    some instances define is their mean), with the first instance's coordinates."""
    values = np.array([sig["value"].to_numpy() for sig in signatures])
    with warnings.catch_warnings():  # measures that no instance defines stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=0)
    return signatures[0][["value"]].copy(data={"value": mean})


def centroid_draws(signatures, n_draws, rng):
    """Draws (draw, measure) of a variant's centroid: its instances resampled with replacement (how instances
    of a variant differ), each drawn within its own intervals (:func:`signature_draws`), then averaged."""
    draws = np.stack([signature_draws(sig, n_draws, rng) for sig in signatures], axis=1)  # (draw, instance, measure)
    picked = np.take_along_axis(draws, rng.integers(0, len(signatures), (n_draws, len(signatures)))[:, :, None], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(picked, axis=1)


def match_networks(region_signatures, network_signatures, variants=None, n_draws=1000, rng=None):
    """Each region's distance to each network variant, its interval, and the match.

    A variant (a hypothesis about selection) is represented by the centroid
    of its trained instances: instances of one variant differ (a
    task_specific instance can learn some transfer), so one instance is one
    draw of the hypothesis, not the hypothesis.

    Parameters
    ----------
    region_signatures, network_signatures : dict
        Name -> :func:`signature`.
    variants : dict, optional
        Network name -> the variant it is an instance of; by default each
        network is a variant of its own.
    n_draws : int
        Draws of every signature for the distances' intervals.
    rng : numpy.random.Generator or seed

    Returns
    -------
    xarray.Dataset
        ``distance`` (region, variant) to the variant's centroid
        (:func:`centroid`), ``distance_ci`` (region, variant, bound) from
        draws of the region's signature and of the centroid
        (:func:`centroid_draws`: instances resampled, each measure drawn
        within its interval), ``n_measures`` (region, variant): the measures
        compared (those the region and the centroid both define); ``n_instances``
        (variant); ``nearest`` and ``match`` (region): the nearest variant,
        and it again where its interval lies below every other variant's,
        else ``"undecided"``; ``variant_distance`` (variant, other_variant):
        how far the centroids are from each other, the yardstick of a
        region's distances (a region farther from its match than the
        variants are apart resembles neither much).
    """
    rng = np.random.default_rng(rng)
    variants = variants or {name: name for name in network_signatures}
    instances = {}
    for network, variant in variants.items():
        instances.setdefault(variant, []).append(network_signatures[network])
    first = next(iter(region_signatures.values()))
    measures = first["measure"].to_numpy()
    # every signature on the same measures, in the same order (a network's and a region's can differ: behaviour)
    instances = {variant: [sig.reindex(measure=measures) for sig in sigs] for variant, sigs in instances.items()}
    centroids = {variant: centroid(sigs) for variant, sigs in instances.items()}
    scale = measure_scales(first)
    regions, names = list(region_signatures), list(instances)
    point = np.full((len(regions), len(names)), np.nan)
    interval = np.full((len(regions), len(names), 2), np.nan)
    n_measures = np.zeros((len(regions), len(names)), int)
    nearest, match = [], []
    for i, region in enumerate(regions):
        region_sig = region_signatures[region].reindex(measure=measures)
        region_draws = signature_draws(region_sig, n_draws, rng)
        for j, variant in enumerate(names):
            # the measures these two define: another variant's gaps cannot change their distance
            both = np.isfinite(region_sig["value"].to_numpy()) & np.isfinite(centroids[variant]["value"].to_numpy())
            n_measures[i, j] = both.sum()
            point[i, j] = distance(region_sig["value"].to_numpy()[both], centroids[variant]["value"].to_numpy()[both],
                                   scale[both])
            draws = distance(region_draws[:, both], centroid_draws(instances[variant], n_draws, rng)[:, both],
                             scale[both])
            # noise adds to every draw's distance: the draws' percentiles are shifted onto the estimate
            interval[i, j] = np.clip(np.nanquantile(draws, CI) - np.nanmedian(draws) + point[i, j], 0, None)
        best = int(np.nanargmin(point[i]))
        nearest.append(names[best])
        others = [j for j in range(len(names)) if j != best]
        match.append(names[best] if all(interval[i, best, 1] < interval[i, j, 0] for j in others) else UNDECIDED)
    between = np.array([[distance(*(centroids[name]["value"].to_numpy() for name in pair), scale)
                         for pair in ((a, b) for b in names)] for a in names])
    return xr.Dataset(
        {"distance": (("region", "variant"), point), "distance_ci": (("region", "variant", "bound"), interval),
         "n_measures": (("region", "variant"), n_measures),
         "n_instances": ("variant", [len(instances[name]) for name in names]),
         "nearest": ("region", nearest), "match": ("region", match),
         "variant_distance": (("variant", "other_variant"), between)},
        coords={"region": regions, "variant": names, "other_variant": names, "bound": list(CI)},
    )


def cued_attention(attention):
    """Attention on the cued item (trial, time): ``attention`` (trial, time, item) with items named as ``cued``."""
    return attention["attention"].sel(item=attention["cued"])


def rise_times(course, time, threshold=0.5):
    """Onset and rise of selection courses (..., time) that start at 0.5 (no preference) after time 0.

    Onset: the first time at or after 0 where the course passes halfway from
    0.5 to its maximum after 0; rise: from 10 % to 90 % of that range. NaN
    where the course never rises above 0.5.
    """
    course = np.asarray(course, float)
    after = np.asarray(time) >= 0
    values, times = course[..., after], np.asarray(time)[after]
    peak = np.nan_to_num(values, nan=-np.inf).max(axis=-1, keepdims=True)
    rises = peak > 0.5 + 1e-6

    def first_crossing(fraction):
        above = np.nan_to_num(values, nan=0.5) >= 0.5 + fraction * (peak - 0.5)
        return np.where(rises[..., 0] & above.any(axis=-1), times[np.argmax(above, axis=-1)], np.nan)

    return first_crossing(threshold), first_crossing(0.9) - first_crossing(0.1)


def response_attention(attention):
    """Each two-item trial's mean attention on the cued item over its response epoch (trial): whether the
    network selected what it reports. ``attention`` needs ``attention``, ``cued``, ``n_items`` and
    ``onset_response`` (ms from the cue, as ``time``)."""
    attention = two_item_trials([attention])[0]
    responding = (attention["time"] >= attention["onset_response"]) & (
        attention["time"] < attention["onset_response"] + RESPONSE_MS)
    return cued_attention(attention).where(responding).mean("time")


def attention_timing(attention, n_bootstrap=1000, rng=None):
    """When a network's attention turns to the cued item, per task, with bootstrap intervals over trials.

    ``attention`` needs ``attention`` (trial, time, item), per-trial ``task``,
    ``cued``, ``n_items`` and ``onset_response``, time in ms from the cue.
    Returns ``attention_onset`` and ``attention_rise`` (task) with ``*_ci``
    (task, bound); ``cued_attention`` (task, time): the mean weight on the
    cued item over the task's two-item trials; and ``response_attention``
    (task) with ``_ci``: that weight over the response epochs
    (:func:`response_attention`), near 0.5 where a network does not select
    in a task (its signature is then that of a network that fails the task,
    not of a variant).
    """
    rng = np.random.default_rng(rng)
    at_response = response_attention(attention)
    attention = two_item_trials([attention])[0]
    time = attention["time"].to_numpy()
    variables = {name: [] for name in ("attention_onset", "attention_rise", "response_attention", "attention_onset_ci",
                                       "attention_rise_ci", "response_attention_ci", "cued_attention")}
    for task in TASKS:
        in_task = (attention["task"] == task).to_numpy()
        weight = cued_attention(attention.isel(trial=in_task)).to_numpy()
        picks = rng.integers(0, len(weight), (n_bootstrap, len(weight)))
        with warnings.catch_warnings():  # all-NaN bins: before both samples are shown there is no attention
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(weight, axis=0)
            draws = rise_times(np.nanmean(weight[picks], axis=1), time)
        onset, rise = rise_times(mean, time)
        responses = at_response.to_numpy()[in_task]
        variables["cued_attention"].append(mean)
        for name, value, draw in (("attention_onset", onset, draws[0]), ("attention_rise", rise, draws[1]),
                                  ("response_attention", responses.mean(), responses[picks].mean(axis=1))):
            variables[name].append(value)
            variables[f"{name}_ci"].append(np.nanquantile(draw, CI) if np.isfinite(draw).any() else [np.nan] * 2)
    dims = {name: ("task", "bound") if name.endswith("_ci") else ("task",) for name in variables}
    dims["cued_attention"] = ("task", "time")
    return xr.Dataset({name: (dims[name], np.array(values, float)) for name, values in variables.items()},
                      coords={"task": list(TASKS), "bound": list(CI), "time": time})


def summarize(region_decodings, network_decodings, attentions, colour_windows, behaviour=None, source=None,
              variants=None, n_draws=1000, seed=0):
    """The comparison (DESIGN.md, ``comparison/summary``).

    Parameters
    ----------
    region_decodings, network_decodings : dict
        Name -> decoding file (see :func:`signature`); networks by their
        config name (decoded as ``model_{name}``).
    attentions : dict
        Network name -> its ``attention.nc`` (see :func:`attention_timing`).
    colour_windows : dict
        ``{task: [start_ms, end_ms]}`` for the colour measures.
    behaviour : xarray.Dataset, optional
        The behaviour summary: regions take the ``source`` row, network
        ``name`` the ``model_{name}`` row.
    variants : dict, optional
        Network name -> the variant (``selection``) it is an instance of
        (:func:`match_networks`); by default each network is its own.
    n_draws : int
        Draws of the signatures and bootstrap resamples of the attention timing.
    seed : int or numpy.random.SeedSequence

    Returns
    -------
    xarray.Dataset
        ``signature``, ``signature_low``, ``signature_high`` (entity,
        measure) over every region and network (``model_{name}``);
        :func:`match_networks`'s variables over the variants;
        ``network_variant`` (network); each region's ``selection_onset`` (region, task: the
        within-task onset latency) with ``selection_onset_ci``, and
        :func:`attention_timing`'s variables per network.
    """
    streams = (np.random.SeedSequence(seed) if isinstance(seed, int) else seed).spawn(2)
    regions = {name: signature(decoding, colour_windows, behaviour, source)
               for name, decoding in region_decodings.items()}
    networks = {name: signature(decoding, colour_windows, behaviour, f"model_{name}")
                for name, decoding in network_decodings.items()}
    # a network's row is named as its decoding file is, so that no network can take a region's name
    entities = {**regions, **{f"model_{name}": sig for name, sig in networks.items()}}
    table = xr.concat([sig.expand_dims(entity=[name]) for name, sig in entities.items()], "entity", join="outer")
    summary = xr.Dataset({"signature": table["value"], "signature_low": table["low"], "signature_high": table["high"]})
    summary = summary.assign_coords(kind=("measure", [_kind(entities, m) for m in summary["measure"].to_numpy()]))
    variants = variants or {name: name for name in networks}
    summary = summary.merge(match_networks(regions, networks, variants, n_draws, streams[0]))
    within = [(task, {"train_task": task, "test_task": task}) for task in TASKS]
    summary["selection_onset"] = (("region", "task"), [[float(d["onset_latency"].sel(pair)) for _, pair in within]
                                                       for d in region_decodings.values()])
    summary["selection_onset_ci"] = (("region", "task", "bound"), [
        [d["onset_latency_ci"].sel(pair).to_numpy() for _, pair in within] for d in region_decodings.values()])
    timing_rng = np.random.default_rng(streams[1])
    timing = xr.concat([attention_timing(attentions[name], n_draws, timing_rng) for name in networks], "network",
                       join="outer")
    summary = summary.merge(timing.assign_coords(network=list(networks)).rename(time="attention_time"))
    summary["network_variant"] = ("network", [variants[name] for name in networks])
    return summary.assign_coords(task=list(TASKS)).assign_attrs(
        scales=str(SCALES), colour_windows=str(colour_windows),
        how="distance to a variant's centroid: RMS of the scaled differences of the measures both define; interval "
            "from draws of the region and of the centroid (instances resampled, each measure normal within its 95 % "
            "interval)")


def _kind(signatures, measure):
    return next(str(sig["kind"].sel(measure=measure).item()) for sig in signatures.values() if measure in sig["measure"])


def as_table(summary):
    """One row per region and network: every measure with ``*_low``/``*_high``, each region's distance to each
    variant (with the number of measures compared) and match, and each network's variant, attention onset and
    rise per task (ms from the cue) and attention on the cued item over the responses."""
    columns = {}
    for measure in summary["measure"].to_numpy():
        for suffix, name in (("", "signature"), ("_low", "signature_low"), ("_high", "signature_high")):
            columns[f"{measure}{suffix}"] = summary[name].sel(measure=measure).to_numpy()
    table = pd.DataFrame(columns, index=pd.Index(summary["entity"].to_numpy(), name="name"))
    regions = summary["region"].to_numpy()
    for variant in summary["variant"].to_numpy():
        for suffix, values in (("", summary["distance"].sel(variant=variant)),
                               ("_low", summary["distance_ci"].sel(variant=variant).isel(bound=0)),
                               ("_high", summary["distance_ci"].sel(variant=variant).isel(bound=1)),
                               ("_n_measures", summary["n_measures"].sel(variant=variant))):
            table[f"distance_to_{variant}{suffix}"] = pd.Series(values.to_numpy(), index=regions)
    table["match"] = pd.Series(summary["match"].to_numpy(), index=regions)
    rows = [f"model_{network}" for network in summary["network"].to_numpy()]
    table["variant"] = pd.Series(summary["network_variant"].to_numpy(), index=rows)
    for name in ("attention_onset", "attention_rise", "response_attention"):
        for task in summary["task"].to_numpy():
            values = summary[name].sel(task=task).to_numpy()
            bounds = summary[f"{name}_ci"].sel(task=task).to_numpy()
            for suffix, column in (("", values), ("_low", bounds[:, 0]), ("_high", bounds[:, 1])):
                table[f"{name}_{task}{suffix}"] = pd.Series(column, index=rows)
    return table
