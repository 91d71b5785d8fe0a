import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import xarray as xr

from wmattn.io import open_dataset, output_to, write_dataset


def test_a_foreign_netcdf_file_is_refused_with_its_path_and_what_is_missing(tmp_path):
    path = tmp_path / "foreign.nc"
    xr.Dataset({"spikes": ("cell", np.zeros(3))}).to_netcdf(path)
    with pytest.raises(ValueError) as refused:
        open_dataset(path, "rates")
    assert str(path) in str(refused.value)
    assert "variable rate" in str(refused.value) and "coordinate cued" in str(refused.value)


def test_a_corrupt_file_is_refused_with_its_path(tmp_path):
    path = tmp_path / "corrupt.nc"
    path.write_bytes(b"not a netcdf file")
    with pytest.raises(ValueError, match=f"{path}: cannot be read"):
        open_dataset(path, "decoding")


def test_written_files_carry_provenance_and_leave_no_partial_file(tmp_path):
    dataset = xr.Dataset(
        {"accuracy": (("train_task", "test_task", "time"), np.full((2, 2, 3), 0.5))},
        coords={"train_task": ["retro", "pro"], "test_task": ["retro", "pro"], "time": [0.0, 50, 100]},
    )
    config = {"seed": 3, "regions": {"A": {"shared_selection": 0.5}}}
    write_dataset(dataset, tmp_path / "out" / "A.nc", config)
    written = xr.load_dataset(tmp_path / "out" / "A.nc")
    assert json.loads(written.attrs["config"]) == config
    assert written.attrs["seed"] == 3
    assert "brian2" in json.loads(written.attrs["versions"])
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["A.nc"]


def rates_file(path, rng=None, n_trials=8, n_neurons=6, n_times=10):
    """A small rates file that keeps the contract, written compressed by write_dataset."""
    rng = rng or np.random.default_rng(0)
    trials = np.arange(n_trials)
    dataset = xr.Dataset(
        {"rate": (("trial", "neuron", "time"), (rng.poisson(3, (n_trials, n_neurons, n_times)) * 10).astype(np.float32))},
        coords={
            "time": np.arange(n_times) * 50.0,
            "task": ("trial", np.where(trials % 2, "retro", "pro")),
            "cued": ("trial", np.where(trials // 2 % 2, "upper", "lower")),
            "color_upper": ("trial", rng.uniform(0, 2 * np.pi, n_trials)),
            "color_lower": ("trial", rng.uniform(0, 2 * np.pi, n_trials)),
            "session": ("trial", np.zeros(n_trials, int)),
            "onset_cue": ("trial", np.zeros(n_trials)),
            "region": ("neuron", np.where(np.arange(n_neurons) < n_neurons // 2, "LPFC", "V4")),
        },
    )
    write_dataset(dataset, path, {"seed": 0})
    return dataset


def rewritten(path, change):
    """The contract file at ``path`` written again after ``change`` (a function of the loaded dataset)."""
    dataset = xr.load_dataset(path)
    for name in ("config", "seed", "versions"):
        dataset.attrs.pop(name)
    write_dataset(change(dataset), path, {"seed": 0})


@pytest.mark.parametrize("value, what", [(np.nan, "1 NaN and 0 infinite"), (np.inf, "0 NaN and 1 infinite"),
                                         (-np.inf, "0 NaN and 1 infinite")])
def test_a_rate_that_is_not_finite_is_refused_with_the_path_and_where(tmp_path, value, what):
    path = tmp_path / "rates.nc"
    rates_file(path)
    rewritten(path, lambda ds: ds.assign(rate=ds["rate"].where(
        ~((ds["trial"] == 3) & (ds["neuron"] == 4) & (ds["time"] == 100.0)), value)))
    with pytest.raises(ValueError) as refused:
        open_dataset(path, "rates")
    assert str(path) in str(refused.value)
    assert f"variable rate must be finite but holds {what}" in str(refused.value)
    assert "trial=3, neuron=4, time=2" in str(refused.value)


def test_a_spike_time_that_is_not_finite_is_refused(tmp_path):
    path = tmp_path / "spikes.nc"
    xr.Dataset(
        {"spike_time": ("spike", [1.0, np.nan, 3.0]), "spike_trial": ("spike", [0, 0, 1]),
         "spike_neuron": ("spike", [0, 1, 1])},
        coords={"trial": [0, 1], "neuron": [0, 1], "task": ("trial", ["retro", "pro"]),
                "cued": ("trial", ["upper", "lower"]), "onset_cue": ("trial", [0.0, 0.0]), "session": ("trial", [0, 0]),
                "region": ("neuron", ["LPFC", "LPFC"]), "onset_samples": ("trial", [-800.0, 600.0]), "onset_response": ("trial", [1500.0, 2500.0])},
    ).to_netcdf(path)
    with pytest.raises(ValueError, match=f"{path}: variable spike_time must be finite but holds 1 NaN"):
        open_dataset(path, "spikes")


def decoding_dataset(n_times=3, n_neurons=4, n_permutations=5):
    """A decoding dataset that keeps the contract, with NaN where the analyses may leave them."""
    tasks = ["retro", "pro"]
    grid = ("train_task", "test_task", "time")
    colour = ("measure", "task", "cue_status")
    return xr.Dataset(
        {
            "accuracy": (grid, np.full((2, 2, n_times), 0.6)),
            "auc": (grid, np.full((2, 2, n_times), 0.7)),
            "null": (("permutation",) + grid, np.full((n_permutations, 2, 2, n_times), 0.5)),
            "p_value": (grid, np.full((2, 2, n_times), 0.2)),
            "significant": (grid, np.zeros((2, 2, n_times), bool)),
            "generalization": (("train_task", "test_task", "train_time", "test_time"), np.full((2, 2, n_times, n_times), 0.5)),
            "weights": (("train_task", "time", "neuron"), np.ones((2, n_times, n_neurons))),
            "weight_cosine": ("time", np.full(n_times, np.nan)),
            "ccgp": ("time", np.full(n_times, 0.5)),
            "parallelism": ("time", np.full(n_times, np.nan)),
            "window_accuracy": (("window", "train_task", "test_task"), np.full((1, 2, 2), 0.6)),
            "gi": (("window", "direction"), np.full((1, 3), np.nan)),
            "gi_ci": (("ci_bound", "window", "direction"), np.full((2, 1, 3), np.nan)),
            "color_information": (colour + ("neuron", "time"), np.full((2, 2, 2, n_neurons, n_times), np.nan)),
            "color_information_mean": (colour + ("time",), np.full((2, 2, 2, n_times), np.nan)),
            "color_significant": (colour + ("time",), np.zeros((2, 2, 2, n_times), bool)),
            "color_difference_significant": (("measure", "task", "time"), np.zeros((2, 2, n_times), bool)),
            "plane_cosine": ("plane_pair", [np.nan]),
            "plane_cosine_ci": (("ci_bound", "plane_pair"), np.full((2, 1), np.nan)),
            "plane_cosine_null": (("shuffle", "plane_pair"), np.full((3, 1), np.nan)),
            "plane_p_value": ("plane_pair", [np.nan]),
            "epoch_onset": (("task", "epoch", "onset_statistic"), np.full((2, 1, 3), np.nan)),
            "onset_latency": (("train_task", "test_task"), np.full((2, 2), np.nan)),  # no significant bin
            "onset_latency_ci": (("ci_bound", "train_task", "test_task"), np.full((2, 2, 2), np.nan)),
            "onset_latency_found_ci": (("ci_bound", "train_task", "test_task"), np.full((2, 2, 2), np.nan)),
            "onset_found_fraction": (("train_task", "test_task"), np.zeros((2, 2))),
        },
        coords={"train_task": tasks, "test_task": tasks, "time": np.arange(n_times) * 50.0,
                "train_time": np.arange(n_times) * 50.0, "test_time": np.arange(n_times) * 50.0,
                "window": ["cue"], "direction": ["retro_to_pro", "pro_to_retro", "both"], "plane_pair": ["retro/after/cued"]},
    )


def test_a_decoding_file_may_hold_nan_where_an_analysis_was_skipped(tmp_path):
    path = tmp_path / "decoding.nc"
    write_dataset(decoding_dataset(), path, {"seed": 0})
    assert open_dataset(path, "decoding")["weight_cosine"].isnull().all()


@pytest.mark.parametrize("name", ["accuracy", "auc", "null", "p_value", "generalization", "weights"])
def test_a_decoding_score_that_is_not_finite_is_refused(tmp_path, name):
    path = tmp_path / "decoding.nc"
    dataset = decoding_dataset()
    dataset[name][(0,) * dataset[name].ndim] = np.nan
    write_dataset(dataset, path, {"seed": 0})
    with pytest.raises(ValueError, match=f"{path}: variable {name} must be finite but holds 1 NaN"):
        open_dataset(path, "decoding")


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda ds: ds.drop_vars("rate"), "missing variable rate('trial', 'neuron', 'time')"),
        (lambda ds: ds.drop_vars("onset_cue"), "missing coordinate onset_cue"),
        (lambda ds: ds.assign(rate=ds["rate"].transpose("neuron", "trial", "time")),
         "variable rate has dimensions ('neuron', 'trial', 'time') instead of ('trial', 'neuron', 'time')"),
        (lambda ds: ds.assign(rate=ds["rate"].astype(str)), "variable rate holds <U"),
    ],
)
def test_a_rates_file_without_the_contracts_structure_is_refused(tmp_path, change, problem):
    path = tmp_path / "rates.nc"
    rates_file(path)
    rewritten(path, change)
    with pytest.raises(ValueError) as refused:
        open_dataset(path, "rates")
    assert str(refused.value).startswith(f"{path}: not a wmattn rates file; ")
    assert problem in str(refused.value)


def corrupt_a_chunk(path):
    """Zero 16 bytes of ``path`` where netCDF4 still opens the file but fails to read its data.

    Where a compressed chunk lies depends on the HDF5 library, so the offset
    is searched for: the first one (every 32 bytes) at which opening succeeds
    and loading fails.
    """
    original = path.read_bytes()
    for offset in range(0, len(original) - 16, 32):
        corrupted = bytearray(original)
        corrupted[offset:offset + 16] = bytes(16)
        path.write_bytes(bytes(corrupted))
        try:
            lazy = xr.open_dataset(path, engine="netcdf4")
        except Exception:
            continue
        with lazy:
            try:
                lazy.load()
            except RuntimeError:
                return offset
    raise AssertionError("no offset makes the data unreadable but the file openable")


def test_a_corrupt_compressed_chunk_is_refused_with_the_path_when_read(tmp_path):
    path = tmp_path / "rates.nc"
    rates_file(path, n_trials=20, n_neurons=10, n_times=30)
    corrupt_a_chunk(path)
    with pytest.raises(ValueError) as refused:
        open_dataset(path, "rates")
    assert str(refused.value).startswith(f"{path}: cannot read variable rate (RuntimeError: NetCDF: HDF error")


def test_part_of_a_file_is_read_and_checked(tmp_path):
    path = tmp_path / "rates.nc"
    written = rates_file(path)
    lpfc = lambda ds: {"neuron": ds["region"].values == "LPFC"}  # noqa: E731
    part = open_dataset(path, "rates", select=lpfc)
    assert (part["region"] == "LPFC").all() and part.sizes["neuron"] == 3
    xr.testing.assert_equal(part["rate"], written["rate"].isel(neuron=slice(0, 3)))
    # a NaN outside the part read is not seen; one inside is refused
    rewritten(path, lambda ds: ds.assign(rate=ds["rate"].where(ds["neuron"] != 4)))
    assert open_dataset(path, "rates", select=lpfc).sizes["neuron"] == 3
    with pytest.raises(ValueError, match="variable rate must be finite"):
        open_dataset(path, "rates", select=lambda ds: {"neuron": ds["region"].values == "V4"})
    with pytest.raises(ValueError, match="variable rate must be finite"):
        open_dataset(path, "rates")
    # the structure is checked on the whole file, before anything is read
    rewritten(path, lambda ds: ds.assign(rate=ds["rate"].fillna(0)).drop_vars("onset_cue"))
    with pytest.raises(ValueError, match="missing coordinate onset_cue"):
        open_dataset(path, "rates", select=lpfc)


def test_a_whole_file_is_read_into_memory_and_closed(tmp_path):
    path = tmp_path / "rates.nc"
    written = rates_file(path)
    dataset = open_dataset(path, "rates")
    path.unlink()  # nothing is left to read from the file
    xr.testing.assert_equal(dataset["rate"], written["rate"])


WRITE_LARGE = textwrap.dedent("""
    import sys
    import numpy as np
    import xarray as xr
    from wmattn.io import output_to, write_dataset

    path = sys.argv[1]
    rate = np.random.default_rng(0).standard_normal((50, 100, 2000), dtype=np.float32)  # 40 MB, seconds to compress
    with output_to(path + ".log"):
        write_dataset(xr.Dataset({"rate": (("trial", "neuron", "time"), rate)}), path, {"seed": 0})
""")


def test_a_job_terminated_while_writing_leaves_no_partial_file(tmp_path):
    # SLURM ends a job at its time limit with SIGTERM; by default that ends Python without cleanup
    path = tmp_path / "rates.nc"
    job = subprocess.Popen([sys.executable, "-c", WRITE_LARGE, str(path)], env=dict(os.environ))
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("rates.nc.*.partial")):
        assert job.poll() is None, "the job ended before it started writing"
        assert time.monotonic() < deadline, "the job never started writing"
        time.sleep(0.01)
    job.send_signal(signal.SIGTERM)
    returncode = job.wait(timeout=120)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rates.nc.log"]
    assert returncode == 128 + signal.SIGTERM
    assert "SIGTERM received" in (tmp_path / "rates.nc.log").read_text()


def test_output_to_restores_the_sigterm_handler_and_leaves_other_threads_alone(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    with output_to(tmp_path / "main.log"):
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
    import threading
    errors = []

    def job():
        try:
            with output_to(tmp_path / "thread.log"):
                pass
        except Exception as error:  # signal.signal raises ValueError outside the main thread
            errors.append(error)

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    assert errors == []


def test_a_selection_the_file_cannot_answer_is_refused_with_the_path(tmp_path):
    path = tmp_path / "rates.nc"
    rates_file(path)
    with pytest.raises(ValueError, match=f"{path}: cannot select the part to read \\(KeyError: .*cell_type"):
        open_dataset(path, "rates", select=lambda ds: {"neuron": ds["cell_type"].values == "pyramidal"})
