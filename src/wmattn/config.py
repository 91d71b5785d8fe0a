"""Config validation: the schema, its defaults, and what a schema cannot say."""

import math
import os
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from wmattn.task import (LOCATIONS, condition_counts, conditions, epoch_names, single_item_total, spread,
                         timing_from_config)


class ConfigError(ValueError):
    """A config value that the pipeline refuses; the message names the key."""


SIMULATED_SOURCES = ("circuit", "planted")
# a region's keys that only one simulated source reads; the other refuses them
CIRCUIT_KEYS = ("memory", "cue_neurons", "controller", "report", "feedback")
PLANTED_KEYS = (
    "shared_selection", "inhibitory_fraction", "connection_probability", "excitatory_weight_mV", "inhibition_ratio",
    "background_rate", "background_weight_mV", "color_gain_mV", "tuning_kappa", "memory_fraction",
    "selection_gain_mV", "selection_latency", "cued_gain", "response_alignment", "top_down",
)
DEFAULT_N_NEURONS = 100  # planted: a region's network; recordings: the expected units of a region


def _key(path):
    return ".".join(str(part) for part in path) or "(top level)"


def validate_config(config, schema_path):
    """Check ``config`` against the schema at ``schema_path`` and fill in defaults.

    Raises :class:`ConfigError` with a one-line message naming the offending
    key, e.g. ``config key regions.LPFC.shared_selection: 1.5 is greater than
    the maximum of 1``. Beyond the schema it refuses NaN and infinite numbers,
    whole-number floats (``3.0``) where the schema says integer, and
    combinations of values no job could run with.
    """
    _check_finite(config, [])
    # before the schema fills in defaults
    given, given_sessions, given_task = (_given_region_keys(config), _given_keys(config, "sessions"),
                                         _given_keys(config, "task"))
    try:
        validate(config, str(schema_path), set_default=True)
    except WorkflowError as error:
        # snakemake keeps jsonschema's error as the context of its own
        cause = error.__context__
        if not isinstance(cause, ValidationError):
            raise
        raise _refusal(cause) from None
    # jsonschema counts 3.0 as an integer; the pipeline would fail on it later (range(3.0), array shapes)
    schema = yaml.safe_load(Path(schema_path).read_text())
    error = best_match(_StrictIntegers(schema).iter_errors(config))
    if error is not None:
        raise _refusal(error) from None
    try:
        timing = timing_from_config(config["task"]["timing"])
    except ValueError as error:
        raise ConfigError(f"config key {error}") from None
    source = config["source"]
    if source in SIMULATED_SOURCES:
        _check_source_keys(config["regions"], given, source)
    _drop_unused_defaults(config["regions"], given, source)
    _check_trial_totals(config, given_sessions, given_task)
    _check_neuron_totals(config["regions"], given)
    if source == "circuit":
        _check_circuit_regions(config)
    elif source == "planted":
        _check_planted_regions(config["regions"])
    else:
        _check_recordings(config, epoch_names(timing))
    if source in SIMULATED_SOURCES:
        _check_folds(config)
    if source != "circuit":  # the circuit records all of a region's neurons when n_neurons is absent
        for region in config["regions"].values():
            if "n_neurons_total" not in region:
                region.setdefault("n_neurons", DEFAULT_N_NEURONS)
    if source in SIMULATED_SOURCES:
        _check_session_neurons(config)
    rates = config["rates"]
    if rates["bin_ms"] % rates["step_ms"]:
        raise ConfigError(
            f"config key rates.bin_ms: {rates['bin_ms']} is not a whole multiple of "
            f"rates.step_ms ({rates['step_ms']})"
        )
    _check_rates_fit_in_memory(config)
    _check_windows(config)
    return config


def _refusal(cause):
    """A :class:`ConfigError` naming the key of jsonschema's error ``cause``."""
    path, message = list(cause.absolute_path), cause.message
    if cause.validator == "additionalProperties":
        allowed = cause.schema.get("properties", {})
        unknown = [key for key in cause.instance if key not in allowed]
        path.append(unknown[0])
        message = f"unknown key; allowed here: {', '.join(allowed)}"
    elif cause.validator == "contains":
        message = f"needs an epoch named {cause.validator_value['required'][0]}"
    elif cause.validator == "enum" and path == ["source"]:  # the string branch of source's string-or-mapping
        names = ", ".join(repr(value) for value in cause.validator_value)
        message = f"{cause.instance!r} is neither one of {names} nor a mapping (see its description in the schema)"
    elif cause.validator == "type" and cause.validator_value == "integer" and isinstance(cause.instance, float):
        message = f"{cause.instance!r} is not of type 'integer'; write a whole number without a decimal point"
    return ConfigError(f"config key {_key(path)}: {message}")


# The schema's validator, except that an integer must be an int: 3.0 is not one.
_StrictIntegers = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda checker, instance: isinstance(instance, int) and not isinstance(instance, bool)
    ),
)


def _check_finite(value, path):
    """Refuse NaN and infinity anywhere (YAML's .nan and .inf pass the schema's bounds)."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, path + [key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite(item, path + [index])
    elif isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"config key {_key(path)}: {value!r} is not a finite number")


def _check_folds(config):
    """Stratified folds need at least as many two-item trials of each task x cued location in every session as folds.

    Simulated sources only: with recordings, the import checks every file's trials.
    """
    n_folds = config["decoding"]["n_folds"]
    sessions = config["sessions"]
    if "n_trials" not in sessions:
        n_trials = sessions["n_trials_per_condition"]
        if n_folds > n_trials:
            raise ConfigError(
                f"config key decoding.n_folds: {n_folds} folds need at least {n_folds} trials of each task x cued "
                f"location in a session, and sessions.n_trials_per_condition is {n_trials}"
            )
        return
    for k, counts in enumerate(session_trial_counts(config)):
        (task, cued, _), fewest = min(((key, n) for key, n in counts.items() if key[2] == 2), key=lambda item: item[1])
        if n_folds > fewest:
            raise ConfigError(
                f"config key decoding.n_folds: {n_folds} folds need at least {n_folds} two-item trials of each task x "
                f"cued location in a session, and sessions.n_trials gives session {k} {fewest} {task} trials cued {cued}"
            )


def _longest_ms(length):
    return max(length) if isinstance(length, list) else length


def cue_aligned_span_ms(config):
    """(first, last) ms from the cue onset that trials can reach once aligned on their cue."""
    timing = timing_from_config(config["task"]["timing"])
    before = after = 0
    for epochs in timing.values():
        names = list(epochs)
        cue = names.index("cue")
        before = max(before, sum(_longest_ms(epochs[name]) for name in names[:cue]))
        after = max(after, sum(_longest_ms(epochs[name]) for name in names[cue:]))
    return -before, after


def trial_span_ms(config):
    """The longest span trials can cover once aligned on their cue: the time axis of the rates."""
    first, last = cue_aligned_span_ms(config)
    return last - first


def _check_windows(config):
    """Every analysis window is [start, end] with start < end and lies within the cue-aligned time axis."""
    first, last = cue_aligned_span_ms(config)
    decoding = config["decoding"]
    windows = {f"decoding.windows.{name}": window for name, window in decoding["windows"].items()}
    windows |= {f"decoding.plane_windows.{task}.{name}": window
                for task, named in decoding["plane_windows"].items() for name, window in named.items()}
    for key, (start, end) in windows.items():
        if not start < end:
            raise ConfigError(f"config key {key}: [{start}, {end}] must start before it ends")
        if end <= first or start >= last:
            raise ConfigError(f"config key {key}: [{start}, {end}] ms lies outside the trials, which span "
                              f"{first:g} to {last:g} ms from the cue onset")


def n_time_bins(config):
    """Upper bound of the time bins of a rates file."""
    rates = config["rates"]
    return int((trial_span_ms(config) - rates["bin_ms"]) // rates["step_ms"]) + 1


def session_trial_counts(config):
    """Every session's trials of every condition: a list with one ``{(task, cued, n_items): count}`` per session.

    With ``sessions.n_trials_per_condition``, that many two-item trials of
    every task x cued location in every session and single-item trials on top,
    ``task.single_item_fraction`` of all trials
    (:func:`wmattn.task.condition_counts`). With ``sessions.n_trials``, totals
    over the sessions: each task's two-item trials and the single-item trials
    (``single_item``, or ``task.single_item_fraction`` of all) are spread over
    the sessions as evenly as possible, the first sessions taking the
    remainders, then within a session over the cued locations (single-item
    trials over task x cued location), the remainders passed on from session
    to session so that no condition collects them. With recordings these are
    the expected trials of ``sessions.n_sessions`` sessions (the network's
    held-out trials, the jobs' sizes).
    """
    sessions, timing = config["sessions"], timing_from_config(config["task"]["timing"])
    n_sessions = sessions["n_sessions"]
    if "n_trials" not in sessions:
        fraction = config["task"]["single_item_fraction"]
        return [condition_counts(sessions["n_trials_per_condition"], fraction, timing, start=k) for k in range(n_sessions)]
    totals = sessions["n_trials"]
    two_item = {task: spread(totals[task], n_sessions) for task in timing}
    single_item = spread(totals["single_item"] if "single_item" in totals else single_item_total(
        sum(totals[task] for task in timing), config["task"]["single_item_fraction"]), n_sessions)
    pairs = conditions(timing)
    counts = []
    for k in range(n_sessions):
        own = {(task, cued, 2): int(n) for task in timing
               for cued, n in zip(LOCATIONS, spread(two_item[task][k], len(LOCATIONS), k))}
        own |= {(task, cued, 1): int(n) for (task, cued), n in zip(pairs, spread(single_item[k], len(pairs), k))}
        counts.append(own)
    return counts


def trials_per_session(config):
    """Every session's number of trials (a list): two-item and single-item trials of every condition."""
    return [sum(counts.values()) for counts in session_trial_counts(config)]


def single_item_fraction(config):
    """The fraction of the sessions' trials that have a single item: ``task.single_item_fraction``,
    or what ``sessions.n_trials`` gives."""
    totals = config["sessions"].get("n_trials", {})
    if "single_item" not in totals:
        return config["task"]["single_item_fraction"]
    return totals["single_item"] / sum(totals.values())


def machine_memory_bytes():
    """Physical memory of this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _check_rates_fit_in_memory(config):
    """The largest session's rates array (float32: its trials x every region's neurons x time bins) must fit in memory."""
    bins, per_region = n_time_bins(config), recorded_neurons(config)
    trials, neurons = max(((n, sum(counts[k] for counts in per_region.values()))
                           for k, n in enumerate(trials_per_session(config))), key=lambda pair: pair[0] * pair[1])
    needed, available = trials * neurons * bins * 4, machine_memory_bytes()
    if needed > available:
        step = config["rates"]["step_ms"]
        raise ConfigError(
            f"config key rates.step_ms: {step} ms steps give {bins} time bins, and a session's rates array "
            f"({trials} trials x {neurons} neurons of every region x {bins} time bins x 4 bytes) would need "
            f"{needed / 1e9:.1f} GB; this machine has {available / 1e9:.1f} GB of memory"
        )


def simulation_dt_ms(config):
    """The time step (ms) of the config's simulated source: spikes fall on its multiples."""
    return config["circuit" if config["source"] == "circuit" else "simulation"]["dt_ms"]


def _given_region_keys(config):
    """Every region's keys as written, before the schema fills in defaults (empty where malformed)."""
    regions = config.get("regions") if isinstance(config, dict) else None
    if not isinstance(regions, dict):
        return {}
    return {name: set(region) for name, region in regions.items() if isinstance(region, dict)}


def _given_keys(config, section):
    """The keys of a top-level ``section`` as written, before the schema fills in defaults (empty where malformed)."""
    keys = config.get(section) if isinstance(config, dict) else None
    return set(keys) if isinstance(keys, dict) else set()


def _check_trial_totals(config, given_sessions, given_task):
    """``sessions.n_trials`` (totals) replaces ``sessions.n_trials_per_condition``, and its ``single_item``
    replaces ``task.single_item_fraction``: each pair is refused together, and the default the schema
    filled into the one replaced is removed."""
    sessions = config["sessions"]
    if "n_trials" not in sessions:
        return
    if "n_trials_per_condition" in given_sessions:
        raise ConfigError("config key sessions.n_trials: totals over the sessions, and sessions.n_trials_per_condition "
                          "gives trials per session; give one of them")
    sessions.pop("n_trials_per_condition", None)
    if "single_item" in sessions["n_trials"]:
        if "single_item_fraction" in given_task:
            raise ConfigError("config key sessions.n_trials.single_item: the single-item trials, and "
                              "task.single_item_fraction gives them as a fraction; give one of them")
        config["task"].pop("single_item_fraction", None)


def _check_neuron_totals(regions, given):
    """A region's ``n_neurons_total`` (over the sessions) replaces its ``n_neurons`` (per session)."""
    for name, region in regions.items():
        if "n_neurons_total" in region and "n_neurons" in given.get(name, ()):
            raise ConfigError(f"config key regions.{name}.n_neurons_total: neurons over the sessions, and "
                              f"regions.{name}.n_neurons gives them per session; give one of them")


def _check_session_neurons(config):
    """A simulated session records at least 3 neurons of every region given by ``n_neurons_total``
    (a planted network needs them, as ``n_neurons``' minimum says)."""
    sessions = config["sessions"]["n_sessions"]
    for name, counts in recorded_neurons(config).items():
        if "n_neurons_total" in config["regions"][name] and min(counts) < 3:
            raise ConfigError(f"config key regions.{name}.n_neurons_total: {sum(counts)} neurons over {sessions} "
                              f"session(s) give a session {min(counts)}, and a simulated session needs at least 3")


def _check_source_keys(regions, given, source):
    """A simulated source refuses the region keys only the other one reads."""
    other, others_keys = ("planted", PLANTED_KEYS) if source == "circuit" else ("circuit", CIRCUIT_KEYS)
    for name in regions:
        for key in others_keys:
            if key in given.get(name, ()):
                raise ConfigError(f"config key regions.{name}.{key}: a key of source {other}, and source is {source}; "
                                  f"drop it, or set source: {other}")


def _drop_unused_defaults(regions, given, source):
    """Remove the defaults the schema filled into region keys that the source does not read.

    The schema fills every region key's default whatever the source, so the
    resolved config would show planted keys in a circuit's regions (and the
    reverse, and both with recordings); keys the config gives stay.
    """
    if source in SIMULATED_SOURCES:
        unused = PLANTED_KEYS if source == "circuit" else CIRCUIT_KEYS
    else:  # recordings: neither source's
        unused = PLANTED_KEYS + CIRCUIT_KEYS
    for name, region in regions.items():
        for key in unused:
            if key in region and key not in given.get(name, ()):
                del region[key]


def circuit_neurons(config):
    """Neurons of each region in one copy of the circuit, {region: count} (the resolved config)."""
    from wmattn.simulation.architecture import build  # pandas and the architecture: only when asked

    counts = build(config)[0]["region"].value_counts()
    return {name: int(counts.get(name, 0)) for name in config["regions"]}


def recorded_neurons(config):
    """Neurons recorded in every session in each region, {region: [count per session]}: ``n_neurons``
    in every session, ``n_neurons_total`` spread over the sessions as evenly as possible (the first
    sessions take the remainders), or with the circuit and neither all of the region's circuit
    neurons. With recordings, the expected numbers of ``sessions.n_sessions`` sessions."""
    regions, sessions = config["regions"], config["sessions"]["n_sessions"]
    every = circuit_neurons(config) if config["source"] == "circuit" and any(
        "n_neurons" not in region and "n_neurons_total" not in region for region in regions.values()) else {}
    return {name: [int(n) for n in spread(region["n_neurons_total"], sessions)] if "n_neurons_total" in region
            else [region.get("n_neurons", every.get(name))] * sessions
            for name, region in regions.items()}


def _check_circuit_regions(config):
    """Populations a region must have, keys that need another's, and no more recorded neurons than it has."""
    regions = config["regions"]
    controllers = [name for name, region in regions.items() if "controller" in region]
    if len(controllers) > 1:
        raise ConfigError(f"config key regions.{controllers[1]}.controller: at most one region has a controller, "
                          f"and regions.{controllers[0]}.controller is one")
    for name, region in regions.items():
        if not ("memory" in region or region.get("cue_neurons", 0) > 0 or "controller" in region):
            raise ConfigError(f"config key regions.{name}: no population; give the region memory, "
                              "cue_neurons (more than 0) or a controller")
        if "report" in region and "memory" not in region:
            raise ConfigError(f"config key regions.{name}.report: needs memory in the same region "
                              f"(regions.{name}.memory): the gates copy its rings")
        if "feedback" in region and not controllers:
            raise ConfigError(f"config key regions.{name}.feedback: needs a controller in some region "
                              "(regions.<region>.controller): the feedback comes from its pools")
    every = circuit_neurons(config)
    for name, region in regions.items():
        if region.get("n_neurons", 0) > every[name]:
            raise ConfigError(f"config key regions.{name}.n_neurons: {region['n_neurons']} neurons to record, and the "
                              f"region has {every[name]} in the circuit")
        if "n_neurons_total" in region:
            most = int(spread(region["n_neurons_total"], config["sessions"]["n_sessions"]).max())
            if most > every[name]:
                raise ConfigError(f"config key regions.{name}.n_neurons_total: {region['n_neurons_total']} neurons over "
                                  f"{config['sessions']['n_sessions']} session(s) record {most} in a session, and the "
                                  f"region has {every[name]} in the circuit")


def _check_planted_regions(regions):
    """A planted region needs its shared selection; top-down sources must be other regions, without cycles."""
    for name, region in regions.items():
        if "shared_selection" not in region:
            raise ConfigError(f"config key regions.{name}.shared_selection: required when source is planted")
    _check_top_down(regions)


def _check_recordings(config, epochs):
    """What only a simulation can do, and event columns of epochs the task does not have."""
    for name, region in config["regions"].items():
        if "top_down" in region:
            raise ConfigError(f"config key regions.{name}.top_down: a recording cannot be given top-down input; "
                              "it applies to source: planted only")
    if config["sweeps"]:
        raise ConfigError("config key sweeps: sweeps simulate regions again with other parameters; "
                          "they apply to a simulated source (source: circuit or planted) only")
    for epoch in config["source"]["columns"]["events"]:
        if epoch not in epochs:
            raise ConfigError(f"config key source.columns.events.{epoch}: not an epoch of task.timing "
                              f"(epochs: {', '.join(epochs)})")


def _check_top_down(regions):
    """Top-down sources must be other configured regions, without cycles."""
    for name, region in regions.items():
        seen = [name]
        while "top_down" in region:
            source = region["top_down"]["source"]
            key = f"config key regions.{seen[-1]}.top_down.source"
            if source not in regions:
                raise ConfigError(f"{key}: {source!r} is not a configured region")
            if source in seen:
                raise ConfigError(f"{key}: top-down input runs in a cycle: {' <- '.join(seen + [source])}")
            seen.append(source)
            region = regions[source]
