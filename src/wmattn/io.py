"""Reading and writing the files that connect the stages (DESIGN.md contract).

Every file is written atomically with provenance attributes, and every file a
stage reads is checked against the contract first, so that a corrupt or foreign
file is refused with its path and what is missing rather than failing later.
"""

import contextlib
import json
import os
import platform
import signal
import sys
import threading
import traceback
from importlib import metadata

import numpy as np
import xarray as xr

PACKAGES = ("wmattn", "brian2", "numpy", "xarray", "scikit-learn", "netCDF4", "pynwb", "snakemake")

# Each contract: the variables with their dimensions, the coordinates, and the
# variables that must be finite (no NaN or infinity), which open_dataset checks.
CONTRACTS = {
    "rates": {
        "variables": {"rate": ("trial", "neuron", "time")},
        "coords": ("time", "task", "cued", "color_upper", "color_lower", "session", "onset_cue", "region"),
        "finite": ("rate",),
    },
    "spikes": {
        "variables": {"spike_time": ("spike",), "spike_trial": ("spike",), "spike_neuron": ("spike",)},
        "coords": ("trial", "neuron", "task", "cued", "session", "onset_cue", "onset_samples", "onset_response", "region"),
        "finite": ("spike_time",),
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
            "ccgp": ("time",),
            "parallelism": ("time",),
            "window_accuracy": ("window", "train_task", "test_task"),
            "gi": ("window", "direction"),
            "gi_ci": ("ci_bound", "window", "direction"),
            "color_information": ("measure", "task", "cue_status", "neuron", "time"),
            "color_information_mean": ("measure", "task", "cue_status", "time"),
            "color_significant": ("measure", "task", "cue_status", "time"),
            "color_difference_significant": ("measure", "task", "time"),
            "plane_cosine": ("plane_pair",),
            "plane_cosine_ci": ("ci_bound", "plane_pair"),
            "plane_cosine_null": ("shuffle", "plane_pair"),
            "plane_p_value": ("plane_pair",),
            "epoch_onset": ("task", "epoch", "onset_statistic"),
            "onset_latency": ("train_task", "test_task"),
            "onset_latency_ci": ("ci_bound", "train_task", "test_task"),
            "onset_latency_found_ci": ("ci_bound", "train_task", "test_task"),
            "onset_found_fraction": ("train_task", "test_task"),
        },
        "coords": ("train_task", "test_task", "time", "train_time", "test_time", "window", "direction", "plane_pair"),
        # NaN by design elsewhere: weight_cosine (an all-zero weight vector), gi (a within-task
        # accuracy of 0.5), colour information (a silent neuron; PMI of negative values),
        # plane angles (fewer than three neurons with every colour bin), parallelism (no
        # neuron with every condition), epoch_onset (an epoch a task does not have), onset_latency
        # (no cluster-significant bin after the cue)
        "finite": ("accuracy", "auc", "null", "p_value", "generalization", "weights", "window_accuracy"),
    },
    "contrast": {
        "variables": {
            "gi_difference": ("contrast", "window", "direction"),
            "p_value": ("contrast", "window", "direction"),
            "p_holm": ("contrast", "window", "direction"),
        },
        "coords": ("contrast", "region_a", "region_b", "window", "direction"),
    },
    "attention": {
        "variables": {"attention": ("trial", "time", "item"), "hidden": ("trial", "time", "unit")},
        "coords": ("time", "task", "cued", "color_upper", "color_lower", "onset_cue"),
    },
    "comparison": {
        "variables": {"signature": ("entity", "measure"), "distance": ("region", "variant"),
                      "distance_ci": ("region", "variant", "bound"), "match": ("region",),
                      "network_variant": ("network",)},
        "coords": ("entity", "measure", "region", "variant", "network"),
    },
    "behaviour": {
        "variables": {
            "mean_abs_error": ("source", "condition"),
            "mean_abs_error_ci": ("ci_bound", "source", "condition"),
            "kappa": ("source", "condition"),
            "kappa_ci": ("ci_bound", "source", "condition"),
            "p_target": ("source", "condition"),
            "p_target_ci": ("ci_bound", "source", "condition"),
            "p_swap": ("source", "condition"),
            "p_swap_ci": ("ci_bound", "source", "condition"),
            "p_guess": ("source", "condition"),
            "p_guess_ci": ("ci_bound", "source", "condition"),
            "n_trials": ("source", "condition"),
            "n_no_report": ("source", "condition"),
            "target_error_density": ("source", "condition", "error_bin"),
            "target_error_model": ("source", "condition", "error_grid"),
        },
        "coords": ("source", "condition", "ci_bound", "error_bin", "error_grid"),
        # nothing checked finite: a condition without reported trials is NaN by design
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

    The attrs record the full resolved ``config`` as JSON, its seed, the source
    of the rates (circuit, planted or recordings) and the package versions. Numeric variables are compressed (rates with many zeros and
    sorted spike indices compress well). The file appears at ``path`` only
    once it is complete.
    """
    dataset = dataset.assign_attrs(
        config=json.dumps(config, sort_keys=True),
        seed=config["seed"],
        source="recordings" if isinstance(config.get("source"), dict) else str(config.get("source", "not given")),
        versions=json.dumps(versions(), sort_keys=True),
    )
    encoding = {
        name: {"zlib": True, "complevel": 4}
        for name, variable in dataset.data_vars.items()
        if variable.dtype.kind in "fiu"
    }
    with atomic(path) as partial:
        dataset.to_netcdf(partial, encoding=encoding, engine="netcdf4")


# Partial files that atomic is writing in this process: a job ended by SIGTERM removes them (output_to).
_PARTIALS = set()


@contextlib.contextmanager
def atomic(path, suffix=".partial"):
    """A temporary path beside ``path`` to write to; it becomes ``path`` only if the block succeeds."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    partial = f"{path}.{os.getpid()}{suffix}"
    _PARTIALS.add(partial)
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    finally:
        _PARTIALS.discard(partial)


def open_dataset(path, kind, select=None):
    """Open a contract file of ``kind`` (a key of :data:`CONTRACTS`) into memory.

    ``select``, if given, reads only part of the file: it is called with the
    lazily opened dataset and returns an ``isel`` indexer, e.g.
    ``lambda ds: {"neuron": ds["region"].values == "LPFC"}``; only that part
    is read from disk. Without it the whole file is read.

    Raises ``ValueError`` naming the path and what is wrong if the file cannot
    be opened as NetCDF; lacks a variable (with the contract's dimensions) or
    a coordinate the contract requires (checked on the whole file, before
    anything is read); holds a chunk that cannot be read or decompressed; or
    holds a NaN or infinite value in a variable the contract lists as
    ``finite`` (both checked on the part read).
    """
    contract = CONTRACTS[kind]
    try:
        lazy = xr.open_dataset(path, engine="netcdf4")
    except (OSError, ValueError, RuntimeError) as error:
        raise ValueError(f"{path}: cannot be read as a NetCDF file ({error})") from error
    with lazy:
        _check_structure(lazy, contract, path, kind)
        part = lazy
        if select is not None:
            try:
                part = lazy.isel(_positions(select(lazy)))
            except (KeyError, IndexError, ValueError) as error:  # e.g. a coordinate the file does not have
                raise ValueError(f"{path}: cannot select the part to read ({type(error).__name__}: {error})") from error
        for name, variable in part.variables.items():
            try:
                variable.load()  # in place: part is in memory once every variable is
            except (OSError, ValueError, RuntimeError) as error:
                # e.g. a corrupt compressed chunk: netCDF4 says "NetCDF: HDF error", and not which file
                raise ValueError(f"{path}: cannot read variable {name} ({type(error).__name__}: {error}); "
                                 "the file is corrupt or truncated") from error
    _check_finite(part, contract, path)
    return part


def _check_structure(dataset, contract, path, kind):
    """Refuse a dataset that lacks a variable, its dimensions or a coordinate of ``contract``."""
    problems = []
    for name, dims in contract["variables"].items():
        if name not in dataset.data_vars:
            problems.append(f"missing variable {name}{dims}")
        elif dataset[name].dims != dims:
            problems.append(f"variable {name} has dimensions {dataset[name].dims} instead of {dims}")
        elif name in contract.get("finite", ()) and dataset[name].dtype.kind not in "biuf":
            problems.append(f"variable {name} holds {dataset[name].dtype} values instead of numbers")
    problems += [f"missing coordinate {name}" for name in contract["coords"] if name not in dataset.coords]
    if problems:
        raise ValueError(f"{path}: not a wmattn {kind} file; {'; '.join(problems)}")


def _positions(indexer):
    """``indexer`` with boolean masks as positions, which every backend can read lazily."""
    return {dim: np.flatnonzero(index) if np.asarray(index).dtype == bool else index for dim, index in indexer.items()}


def _check_finite(dataset, contract, path):
    """Refuse NaN or infinite values in the variables the contract lists as ``finite``."""
    for name in contract.get("finite", ()):
        values = dataset[name].to_numpy()
        if values.dtype.kind != "f":
            continue  # integers and booleans are always finite
        bad = ~np.isfinite(values)
        if bad.any():
            first = dict(zip(dataset[name].dims, (int(i) for i in np.argwhere(bad)[0])))
            n_nan = int(np.isnan(values).sum())
            where = ", ".join(f"{dim}={i}" for dim, i in first.items())
            raise ValueError(
                f"{path}: variable {name} must be finite but holds {n_nan} NaN and {int(bad.sum()) - n_nan} "
                f"infinite values" + (f" (the first at position {where})" if where else "")
            )


def region_sessions(paths, region):
    """The rates of ``region``'s neurons in every session file that has some: a list of datasets.

    Each rates file holds one session's regions (DESIGN.md); only the region's
    neurons are read. Sessions without a neuron of the region (a recording
    that missed it) are left out. Raises ``ValueError`` naming the file whose
    time axis differs from the first's, or if no file has the region.
    """
    sessions, first = [], None
    for path in paths:
        rates = open_dataset(path, "rates", select=lambda data: {"neuron": data["region"].to_numpy() == region})
        if rates.sizes["neuron"] == 0:
            continue
        if first is None:
            first = (path, rates["time"].to_numpy())
        elif not np.array_equal(rates["time"].to_numpy(), first[1]):
            raise ValueError(f"{path}: its time axis differs from {first[0]}'s; every session needs the same bins")
        sessions.append(rates)
    if not sessions:
        raise ValueError(f"no neuron of region {region} in {', '.join(map(str, paths))}")
    return sessions


def model_as_rates(attention):
    """The attention network's hidden states as the rates of one session, for the decoding stage."""
    rates = attention.drop_vars("attention").rename(hidden="rate", unit="neuron").transpose("trial", "neuron", "time", ...)
    return [rates.assign_coords(session=("trial", np.zeros(rates.sizes["trial"], int)))]


@contextlib.contextmanager
def output_to(log_path, threads=1):
    """Run a job: stdout and stderr to its log file, at most ``threads`` threads, and no partial file on SIGTERM.

    Progress lines and warnings go to the log. BLAS, OpenMP and PyTorch use at
    most ``threads`` threads (the rule's): Snakemake caps them for shell
    commands only, and a library that starts a thread per core spin-waits for
    the cores other jobs hold, which on a loaded machine made training ten
    times slower. A scheduler ends a job with SIGTERM (SLURM at its time
    limit, SIGKILL following), whose default action ends the process at once,
    leaving the file :func:`atomic` was writing behind. While the block runs,
    SIGTERM removes those partial files, notes where the job was in the log,
    and ends the process with status 143 (128 + SIGTERM).
    """
    with open(log_path, "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        with _sigterm_removes_partials(), limit_threads(threads):
            try:
                yield
            except BaseException:
                # Python prints the traceback after the redirection ends: keep it in the log.
                traceback.print_exc()
                raise


@contextlib.contextmanager
def _sigterm_removes_partials():
    """While the block runs, SIGTERM removes the partial files of :func:`atomic` and exits with 143.

    Not by raising ``SystemExit``: an exception raised inside a write (where
    xarray holds its HDF5 lock) deadlocks when the file is closed on the way
    out, so the handler cleans up itself and calls ``os._exit``. Python runs
    the handler in the main thread between bytecodes, so within a long C call
    (compressing one large variable) it waits for the call to return; it is
    installed from the main thread only, and the previous handler is restored
    on leaving. A forked worker (a simulation's process pool) that inherits it
    keeps the default action.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()

    def terminate(signum, frame):
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        removed = []
        for partial in list(_PARTIALS):
            with contextlib.suppress(FileNotFoundError):
                os.remove(partial)
                removed.append(partial)
        try:
            print(f"SIGTERM received (e.g. a time limit); partial files removed: {', '.join(removed) or 'none'}; "
                  "the job was at:", file=sys.stderr)
            traceback.print_stack(frame, file=sys.stderr)
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # e.g. the log was being written when the signal came: exit regardless
            pass
        os._exit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@contextlib.contextmanager
def limit_threads(threads):
    """At most ``threads`` threads in BLAS, OpenMP and PyTorch while the block runs (and in processes it starts)."""
    from threadpoolctl import threadpool_limits

    previous = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
    torch = sys.modules.get("torch")  # only if the job uses it: importing torch takes seconds
    torch_threads = torch.get_num_threads() if torch else None
    try:
        with threadpool_limits(threads):
            if torch:
                torch.set_num_threads(threads)
            yield
    finally:
        if torch:
            torch.set_num_threads(torch_threads)
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
