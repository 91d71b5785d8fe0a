"""Config validation: the schema, its defaults, and what a schema cannot say."""

from jsonschema.exceptions import ValidationError
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from wmattn.task import epoch_names, timing_from_config


class ConfigError(ValueError):
    """A config value that the pipeline refuses; the message names the key."""


def _key(path):
    return ".".join(str(part) for part in path) or "(top level)"


def validate_config(config, schema_path):
    """Check ``config`` against the schema at ``schema_path`` and fill in defaults.

    Raises :class:`ConfigError` with a one-line message naming the offending
    key, e.g. ``config key regions.LPFC.shared_selection: 1.5 is greater than
    the maximum of 1``.
    """
    try:
        validate(config, str(schema_path), set_default=True)
    except WorkflowError as error:
        # snakemake keeps jsonschema's error as the context of its own
        cause = error.__context__
        if not isinstance(cause, ValidationError):
            raise
        path, message = list(cause.absolute_path), cause.message
        if cause.validator == "additionalProperties":
            allowed = cause.schema.get("properties", {})
            unknown = [key for key in cause.instance if key not in allowed]
            path.append(unknown[0])
            message = f"unknown key; allowed here: {', '.join(allowed)}"
        elif cause.validator == "contains":
            message = f"needs an epoch named {cause.validator_value['required'][0]}"
        elif cause.validator == "const":  # only source has one: the string branch of string-or-mapping
            message = f"{cause.instance!r} is neither {cause.validator_value!r} nor a mapping (see its description in the schema)"
        raise ConfigError(f"config key {_key(path)}: {message}") from None
    try:
        timing = timing_from_config(config["task"]["timing"])
    except ValueError as error:
        raise ConfigError(f"config key {error}") from None
    if "model" in config["regions"]:
        raise ConfigError("config key regions.model: 'model' names the attention network's results; rename the region")
    if config["source"] == "simulation":
        _check_simulated_regions(config["regions"])
    else:
        _check_recordings(config, epoch_names(timing))
    rates = config["rates"]
    if rates["bin_ms"] % rates["step_ms"]:
        raise ConfigError(
            f"config key rates.bin_ms: {rates['bin_ms']} is not a whole multiple of "
            f"rates.step_ms ({rates['step_ms']})"
        )
    return config


def _check_simulated_regions(regions):
    """A simulated region needs its shared selection; top-down sources must be other regions, without cycles."""
    for name, region in regions.items():
        if "shared_selection" not in region:
            raise ConfigError(f"config key regions.{name}.shared_selection: required when source is simulation")
    _check_top_down(regions)


def _check_recordings(config, epochs):
    """What only a simulation can do, and event columns of epochs the task does not have."""
    for name, region in config["regions"].items():
        if "top_down" in region:
            raise ConfigError(f"config key regions.{name}.top_down: a recording cannot be given top-down input; "
                              "it applies to source: simulation only")
    if config["sweeps"]:
        raise ConfigError("config key sweeps: sweeps simulate regions again with other parameters; "
                          "they apply to source: simulation only")
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
