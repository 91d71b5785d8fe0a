"""A simulated session's trials, shared by every source of simulated rates."""

import pandas as pd

from wmattn import seeds
from wmattn.task import generate_trials, timing_from_config


def session_trials(config):
    """Every session's trials in one table with a ``session`` column.

    Depends on the seed, the task and the sessions config only, so every
    region sees the same trials, as if all regions were recorded together,
    and every session job can place its trials on the one time axis of all
    sessions (``wmattn.task.aligned_schedule``).
    """
    sessions = config["sessions"]
    timing = timing_from_config(config["task"]["timing"])
    return pd.concat([
        generate_trials(sessions["n_trials_per_condition"], seeds.rng(config["seed"], "task", str(k)), timing)
        .assign(session=k)
        for k in range(sessions["n_sessions"])
    ], ignore_index=True)
