from pathlib import Path

import pytest
import yaml

from wmattn.config import validate_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
TINY = Path(__file__).parent / "configs" / "tiny.yaml"


def load_config(path):
    return validate_config(yaml.safe_load(Path(path).read_text()), SCHEMA)


@pytest.fixture
def tiny_config():
    """The tiny test config, validated and with its defaults filled in."""
    return load_config(TINY)


@pytest.fixture(scope="module")
def config():
    """The tiny config split into two sessions (pseudo-populations, a file per session)."""
    config = load_config(TINY)
    config["sessions"] = {"n_sessions": 2, "n_trials_per_condition": 6}
    return config


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """Tests run on one BLAS, OpenMP and PyTorch thread, as the pipeline's jobs do: on a machine whose
    cores are busy with other work, their threads spin-wait (training ten times slower on 2 threads)."""
    import torch  # noqa: F401  (imported first, so that its threads are capped too)

    from wmattn.io import limit_threads

    with limit_threads(1):
        yield
