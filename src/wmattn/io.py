"""Reading and writing the files that connect the stages (DESIGN.md contract).

Every file is written atomically with provenance attributes, and every file a
stage reads is checked against the contract first, so that a corrupt or foreign
file is refused with its path and what is missing rather than failing later.
"""

import contextlib
import json
import os
import platform
import traceback
from importlib import metadata

import numpy as np
import xarray as xr

PACKAGES = ("wmattn", "brian2", "numpy", "xarray", "scikit-learn", "netCDF4", "pynwb", "snakemake")

CONTRACTS = {
    "rates": {
        "variables": {"rate": ("trial", "neuron", "time")},
        "coords": ("time", "task", "cued", "color_upper", "color_lower", "session",
                   "onset_cue", "neuron_session"),
    },
    "spikes": {
        "variables": {"spike_time": ("spike",), "spike_trial": ("spike",), "spike_neuron": ("spike",)},
        "coords": ("trial", "neuron", "task", "cued", "onset_cue", "onset_samples", "onset_response"),
    },
    "decoding": {
        "variables": {
            "accuracy": ("train_task", "test_task", "time"),
            "auc": ("train_task", "test_task", "time"),
            "null": ("permutation", "train_task", "test_task", "time"),
            "p_value": ("train_task", "test_task", "time"),
            "significant": ("train_task", "test_task", "time"),
            "generalization": ("train_task", "test_task", "train_time", "test_time"),
            "weights": ("train_task", "time", "neuron"),
            "weight_cosine": ("time",),
            "color_accuracy": ("task", "item", "cue_status", "time"),
            "plane_cosine": ("task", "pair", "time"),
            "ccgp": ("time",),
            "parallelism": ("time",),
        },
        "coords": ("train_task", "test_task", "time", "train_time", "test_time"),
    },
    "attention": {
        "variables": {"attention": ("trial", "time", "item"), "hidden": ("trial", "time", "unit")},
        "coords": ("time", "task", "cued", "color_upper", "color_lower", "onset_cue"),
    },
    "comparison": {
        "variables": {"transfer_retro_to_pro": ("region",), "agreement_within_retro": ("region",)},
        "coords": ("region",),
    },
    "region_attention": {
        "variables": {"weight": ("direction", "time", "region"), "accuracy": ("direction", "time")},
        "coords": ("direction", "time", "region"),
    },
}


def versions():
    """Python's and the key packages' versions."""
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def write_dataset(dataset, path, config):
    """Write ``dataset`` to NetCDF at ``path`` atomically, with provenance attrs.

    The attrs record the full resolved ``config`` as JSON, its seed and the
    package versions. Numeric variables are compressed (NaN-padded rates and
    sorted spike indices compress well). The file appears at ``path`` only
    once it is complete.
    """
    dataset = dataset.assign_attrs(
        config=json.dumps(config, sort_keys=True),
        seed=config["seed"],
        versions=json.dumps(versions(), sort_keys=True),
    )
    encoding = {
        name: {"zlib": True, "complevel": 4}
        for name, variable in dataset.data_vars.items()
        if variable.dtype.kind in "fiu"
    }
    with atomic(path) as partial:
        dataset.to_netcdf(partial, encoding=encoding, engine="netcdf4")


@contextlib.contextmanager
def atomic(path, suffix=".partial"):
    """A temporary path beside ``path`` to write to; it becomes ``path`` only if the block succeeds."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    partial = f"{path}.{os.getpid()}{suffix}"
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise


def open_dataset(path, kind):
    """Open a contract file of ``kind`` (a key of :data:`CONTRACTS`) into memory.

    Raises ``ValueError`` naming the path if the file cannot be read as NetCDF
    or lacks a variable, a dimension or a coordinate the contract requires.
    """
    try:
        dataset = xr.load_dataset(path, engine="netcdf4")
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: cannot be read as a NetCDF file ({error})") from error
    contract = CONTRACTS[kind]
    missing = [
        f"variable {name}{dims}"
        for name, dims in contract["variables"].items()
        if name not in dataset.data_vars or dataset[name].dims != dims
    ]
    missing += [f"coordinate {name}" for name in contract["coords"] if name not in dataset.coords]
    if missing:
        raise ValueError(f"{path}: not a wmattn {kind} file; missing {', '.join(missing)}")
    return dataset


def model_as_rates(attention):
    """The attention network's hidden states as a rates dataset (one session), for the decoding stage."""
    rates = attention.drop_vars("attention").rename(hidden="rate", unit="neuron").transpose("trial", "neuron", "time", ...)
    return rates.assign_coords(
        session=("trial", np.zeros(rates.sizes["trial"], int)),
        neuron_session=("neuron", np.zeros(rates.sizes["neuron"], int)),
    )


@contextlib.contextmanager
def output_to(log_path):
    """Send stdout and stderr (progress lines, warnings) to the job's log file."""
    with open(log_path, "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            yield
        except BaseException:
            # Python prints the traceback after the redirection ends: keep it in the log.
            traceback.print_exc()
            raise
