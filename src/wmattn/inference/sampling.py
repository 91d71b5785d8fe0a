"""The sampling of the data being fitted: each session's trials per condition and neurons per region.

A draw of the prior is simulated with exactly this sampling (sessions, trials
of every task x cued location x number of items, neurons recorded in each
region), so that its summaries and the observed ones have the same noise.
"""

import pandas as pd

from wmattn import seeds
from wmattn.task import draw_trials, timing_from_config, too_few_for_folds

CONDITION_COLUMNS = ("task", "cued", "n_items")


def read_sampling(sessions, paths, regions, n_folds):
    """Every session's sampling, a list of ``{"trials": {"task|cued|n_items": n}, "neurons": {region: n}}``.

    ``sessions`` are the rates datasets (``task``, ``cued``, ``region``;
    ``n_items`` if any trial has one item) of the files ``paths``;
    ``regions`` the circuit's regions, ``{name: number of its neurons}``.
    Refuses, naming the file: a region the circuit does not have, more of a
    region's neurons than the circuit has, and fewer two-item trials of a
    task x cued location than the ``n_folds`` of the decoding.
    """
    sampling = []
    for rates, path in zip(sessions, paths):
        neurons = pd.Series(rates["region"].to_numpy()).value_counts()
        for region, n in neurons.items():
            if region not in regions:
                raise ValueError(f"{path}: region {region} has no counterpart in the circuit fitted "
                                 f"(its regions: {', '.join(regions)}); name it there or leave it out of the recording")
            if n > regions[region]:
                raise ValueError(f"{path}: {n} neurons of {region}, but the circuit's {region} has {regions[region]}")
        table = pd.DataFrame({name: rates[name].to_numpy() for name in ("task", "cued")})
        table["n_items"] = rates["n_items"].to_numpy() if "n_items" in rates.coords else 2
        short = too_few_for_folds(table, n_folds)
        if short:
            task, cued, n = short
            raise ValueError(f"{path}: {n} two-item {task} trials cued {cued}; the decoding's "
                             f"{n_folds} folds (decoding.n_folds) need at least {n_folds}")
        counts = table.value_counts(list(CONDITION_COLUMNS))
        sampling.append({
            "trials": {"|".join(map(str, key)): int(n) for key, n in sorted(counts.items())},
            "neurons": {str(region): int(n) for region, n in neurons.items()},
        })
    return sampling


def simulated_trials(sampling, task_config, seed):
    """Trials with the sampling's counts in every session (a table with a ``session`` column), drawn afresh."""
    timing = timing_from_config(task_config["timing"])
    sessions = []
    for k, session in enumerate(sampling):
        counts = {}
        for key, n in session["trials"].items():
            task, cued, n_items = key.split("|")
            counts[task, cued, int(n_items)] = n
        sessions.append(draw_trials(counts, seeds.rng(seed, "inference", "trials", str(k)), timing).assign(session=k))
    return pd.concat(sessions, ignore_index=True)
