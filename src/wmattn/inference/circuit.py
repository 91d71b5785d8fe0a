"""The circuit whose draws the inference stage simulates: the config itself, or the one it names."""

import json
from pathlib import Path

import yaml

from wmattn.config import ConfigError, validate_config
from wmattn.inference.prior import parameters

SIMULATION_KEYS = ("seed", "source", "task", "sessions", "simulation", "circuit", "rates", "regions")


def circuit_config(config, schema_path):
    """The resolved circuit config whose draws are simulated: ``inference.circuit`` (a path) or the config
    itself. Its rates are binned as the config's (those of the observed files)."""
    path = config["inference"].get("circuit")
    if path is None:
        if config["source"] != "circuit":
            raise ConfigError("config key inference.circuit: the rates are not from the circuit "
                              f"(source: {config['source'] if isinstance(config['source'], str) else 'recordings'}); "
                              "name the circuit config to fit, e.g. config/inference.yaml")
        circuit = json.loads(json.dumps(config))
    else:
        if not Path(path).is_file():
            raise ConfigError(f"config key inference.circuit: no file {path}")
        circuit = validate_config(yaml.safe_load(Path(path).read_text()), schema_path)
        if circuit["source"] != "circuit":
            raise ConfigError(f"config key inference.circuit: {path} has source {circuit['source']!r}, not circuit")
    # what a simulation reads (as the simulate rule's params): other keys, n_train among them, change no draw
    circuit = {key: circuit[key] for key in SIMULATION_KEYS if key in circuit} | {"rates": config["rates"]}
    parameters(config["inference"]["prior"], circuit)  # refuses a key the circuit does not have
    return circuit
