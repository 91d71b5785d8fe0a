"""A simulated session's trials, shared by every source of simulated rates."""

import pandas as pd

from wmattn import seeds
from wmattn.config import session_trial_counts
from wmattn.task import draw_trials, timing_from_config


def session_trials(config):
    """Every session's trials in one table with a ``session`` column.

    Each session has its own counts of every condition
    (:func:`wmattn.config.session_trial_counts`: sessions may differ in
    size). Depends on the seed, the task and the sessions config only, so
    every region sees the same trials, as if all regions were recorded
    together, and every session job can place its trials on the one time
    axis of all sessions (``wmattn.task.aligned_schedule``).
    """
    timing = timing_from_config(config["task"]["timing"])
    return pd.concat([
        draw_trials(counts, seeds.rng(config["seed"], "task", str(k)), timing).assign(session=k)
        for k, counts in enumerate(session_trial_counts(config))
    ], ignore_index=True)
