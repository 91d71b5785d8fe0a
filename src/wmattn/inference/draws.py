"""Simulating draws of the circuit's parameters and reducing each to its summary statistics.

A draw is simulated with the sampling of the data being fitted
(:mod:`.sampling`), and only its rates are computed: no spikes file, no
permutation null, no plot. A draw whose simulation fails or whose summaries
are not all finite is kept in the output with ``excluded`` set and its error
logged, so that the count of excluded draws can be reported.
"""

import time

import numpy as np
import xarray as xr

from wmattn import seeds
from wmattn.inference.prior import with_values
from wmattn.inference.sampling import simulated_trials
from wmattn.inference.summaries import summary_statistics
from wmattn.simulation.circuit import simulate_session


def simulate_summaries(circuit, value, chosen, sampling, summaries, decoding, seed, behaviour=True):
    """The summary statistics (a ``pandas.Series``) of one draw: ``value`` of the parameters ``chosen``,
    set in the resolved circuit config ``circuit``, simulated with ``sampling`` under ``seed``."""
    config = with_values(circuit, chosen, value) | {"seed": seed}
    trials = simulated_trials(sampling, config["task"], seed)
    sessions = [simulate_session(config, k, trials=trials, n_recorded=session["neurons"])[0]
                for k, session in enumerate(sampling)]
    return summary_statistics(sessions, summaries, decoding["n_folds"], decoding["C"],
                              seeds.rng(seed, "inference", "summaries"), behaviour=behaviour)


def simulate_chunk(circuit, values, chosen, sampling, statistics, summaries, decoding, seed, key):
    """Every draw of ``values`` (draw, parameter), as a dataset: ``theta`` (draw, parameter), ``x`` (draw,
    statistic; NaN where excluded), ``excluded`` and ``error`` (draw).

    ``statistics`` are the names of the observed summaries (a draw's are put in
    that order; one it lacks excludes the draw); ``key`` (e.g. ``train/3``)
    and ``seed`` give each draw its own seed.
    """
    behaviour = any(name.startswith("behaviour.") for name in statistics)
    x = np.full((len(values), len(statistics)), np.nan)
    errors = [""] * len(values)
    started = time.perf_counter()
    for i, value in enumerate(values):
        draw_seed = seeds.integer_seed(seed, "inference", key, str(i))
        try:
            summary = simulate_summaries(circuit, value, chosen, sampling, summaries, decoding, draw_seed, behaviour)
            row = summary.reindex(statistics).to_numpy()
            if not np.isfinite(row).all():
                bad = [name for name, v in zip(statistics, row) if not np.isfinite(v)]
                raise ValueError(f"summaries not finite: {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}")
            x[i] = row
        except Exception as error:  # a draw the circuit cannot run is excluded, not fatal
            errors[i] = f"{type(error).__name__}: {error}"
            print(f"draw {key}/{i} excluded ({errors[i]})", flush=True)
        elapsed = time.perf_counter() - started
        print(f"draw {i + 1}/{len(values)} of {key} done; {elapsed:.0f} s, {elapsed / (i + 1):.1f} s a draw",
              flush=True)
    return xr.Dataset(
        {
            "theta": (("draw", "parameter"), np.asarray(values, float)),
            "x": (("draw", "statistic"), x),
            "excluded": ("draw", np.array([bool(e) for e in errors])),
            "error": ("draw", np.array(errors, dtype=str)),
        },
        coords={"parameter": [p.name for p in chosen], "statistic": list(statistics)},
    )
