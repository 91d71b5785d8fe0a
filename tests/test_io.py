import json

import numpy as np
import pytest
import xarray as xr

from wmattn.io import open_dataset, write_dataset


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
