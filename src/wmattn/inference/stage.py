"""The ``infer`` stage's steps, each called by one rule: observe, simulate a chunk, fit, calibrate.

The files between them (``results/inference/``): ``observed.nc`` (the observed
summaries and sampling), ``simulations/{train,test,predictive}/chunk{k}.nc``
(:func:`wmattn.inference.draws.simulate_chunk`), ``posterior.pt``,
``samples.nc`` and ``calibration.nc``.
"""

import json

import numpy as np
import xarray as xr

from wmattn import seeds
from wmattn.config import circuit_neurons
from wmattn.inference import posterior as npe
from wmattn.inference.draws import simulate_chunk
from wmattn.inference.prior import draw, parameters
from wmattn.inference.sampling import read_sampling
from wmattn.inference.summaries import summary_statistics
from wmattn.io import open_dataset


def observe(paths, circuit, inference, decoding, seed):
    """The observed summaries (``x_o`` over ``statistic``) of the rates files ``paths``, with their
    sampling (attr ``sampling``, JSON) checked against the circuit."""
    sessions = [open_dataset(path, "rates") for path in paths]
    sampling = read_sampling(sessions, paths, circuit_neurons(circuit), decoding["n_folds"])
    behaviour = all("report" in rates.coords for rates in sessions)
    x = summary_statistics(sessions, inference["summaries"], decoding["n_folds"], decoding["C"],
                           seeds.rng(seed, "inference", "observed"), behaviour=behaviour)
    missing = x.index[~np.isfinite(x.to_numpy())]
    if len(missing):
        raise ValueError(f"{', '.join(map(str, paths))}: summary statistics not finite: {', '.join(missing)}")
    return xr.Dataset({"x_o": ("statistic", x.to_numpy())}, coords={"statistic": list(x.index)},
                      attrs={"sampling": json.dumps(sampling, sort_keys=True),
                             "n_trials": sum(sum(s["trials"].values()) for s in sampling)})


def chunk_values(chosen, set_name, chunk, size, chunk_size, seed, samples=None):
    """The parameter values of one chunk of ``size`` draws (draw, parameter): prior draws of its own stream
    (train, test), or the posterior samples of its rows (predictive; chunks of ``chunk_size``)."""
    if set_name == "predictive":
        return samples["theta"].to_numpy()[chunk * chunk_size:chunk * chunk_size + size]
    return draw(chosen, size, seeds.rng(seed, "inference", set_name, str(chunk)))


def run_chunk(observed, circuit, inference, decoding, set_name, chunk, size, seed, samples=None):
    """Simulate one chunk of ``size`` draws of ``set_name`` (train, test, predictive)."""
    chosen = parameters(inference["prior"], circuit)
    values = chunk_values(chosen, set_name, chunk, size, inference["chunk_size"], seed, samples)
    sampling = json.loads(observed.attrs["sampling"])
    print(f"simulating {len(values)} draws of {set_name} chunk {chunk}: {', '.join(p.name for p in chosen)}; "
          f"{observed.attrs['n_trials']} trials in {len(sampling)} session(s) each", flush=True)
    return simulate_chunk(circuit, values, chosen, sampling, list(observed["statistic"].to_numpy()),
                          inference["summaries"], decoding, seed, f"{set_name}/{chunk}")


def gather(chunks):
    """The draws of every chunk file, in order, and the number excluded."""
    draws = xr.concat([xr.load_dataset(path) for path in chunks], dim="draw")
    return draws, int(draws["excluded"].sum())


def fit(chunks, observed, circuit, inference, seed, path):
    """Train the estimator on the training chunks, save it to ``path`` and sample the posterior of the
    observed summaries: the samples dataset (``theta`` (sample, parameter) and per-parameter quantiles).

    Statistics saturated in the training draws (:func:`.posterior.informative`) are left out, and named in the
    log and in the attribute ``dropped_statistics``; the saved estimator lists the ones it uses. Observed
    statistics outside the training draws' range are named too (``observed_outside_training``): the posterior
    there is an extrapolation."""
    chosen = parameters(inference["prior"], circuit)
    draws, n_excluded = gather(chunks)
    kept = ~draws["excluded"].to_numpy()
    x = draws["x"].sel(statistic=observed["statistic"]).isel(draw=kept)
    varying = npe.informative(x.to_numpy())
    dropped = list(x["statistic"].to_numpy()[~varying])
    if dropped:
        print(f"dropped {len(dropped)} statistics with one value in at least {npe.SATURATED_SHARE:.0%} of the "
              f"training draws: {', '.join(dropped)}", flush=True)
    if not varying.any():
        raise ValueError(f"{', '.join(map(str, chunks))}: no summary statistic varies over the {kept.sum()} training "
                         "draws; the prior's parameters change nothing the summaries see")
    x = x.isel(statistic=varying)
    statistics = list(x["statistic"].to_numpy())
    x_o = observed["x_o"].sel(statistic=statistics)
    outside = [name for name in statistics if not x.sel(statistic=name).min() <= x_o.sel(statistic=name)
               <= x.sel(statistic=name).max()]
    if outside:
        print(f"observed outside the training draws' range (the circuit may not reproduce them): "
              f"{', '.join(outside)}", flush=True)
    print(f"training {inference['n_estimators']} x {inference['density_estimator']} on {kept.sum()} draws "
          f"({n_excluded} excluded), {len(statistics)} statistics", flush=True)
    estimators, epochs = npe.train(chosen, draws["theta"].to_numpy()[kept], x.to_numpy(),
                                   inference["density_estimator"], seeds.integer_seed(seed, "inference", "train"),
                                   inference["max_epochs"], inference["n_estimators"])
    npe.save(path, estimators, chosen, statistics, inference["density_estimator"])
    posterior, _, _ = npe.load(path)  # what every later step uses: the saved estimator
    theta = npe.sample(posterior, chosen, x_o.to_numpy(), inference["n_samples"],
                       seeds.integer_seed(seed, "inference", "samples"))
    names = [p.name for p in chosen]
    return xr.Dataset(
        {
            "theta": (("sample", "parameter"), theta),
            "quantile_value": (("quantile", "parameter"), np.quantile(theta, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)),
            "prior_low": ("parameter", [p.low for p in chosen]),
            "prior_high": ("parameter", [p.high for p in chosen]),
            "scale": ("parameter", [p.scale for p in chosen]),
        },
        coords={"parameter": names, "quantile": [0.05, 0.25, 0.5, 0.75, 0.95]},
        attrs={"n_train": int(kept.sum()), "n_excluded": n_excluded, "epochs": epochs,
               "n_estimators": inference["n_estimators"],
               "density_estimator": inference["density_estimator"], "dropped_statistics": json.dumps(dropped),
               "observed_outside_training": json.dumps(outside)},
    )


def calibrate(chunks, posterior_path, inference, seed):
    """Simulation-based calibration and expected coverage of the saved estimator on the held-out chunks."""
    posterior, chosen, statistics = npe.load(posterior_path)
    draws, n_excluded = gather(chunks)
    kept = ~draws["excluded"].to_numpy()
    print(f"calibrating on {kept.sum()} held-out draws ({n_excluded} excluded)", flush=True)
    x = draws["x"].sel(statistic=statistics).to_numpy()[kept]
    result = npe.calibration(posterior, chosen, draws["theta"].to_numpy()[kept], x,
                             inference["n_samples"], seeds.integer_seed(seed, "inference", "calibration"))
    return xr.Dataset(
        {
            "rank": (("draw", "parameter"), result["ranks"]),
            "theta": (("draw", "parameter"), draws["theta"].to_numpy()[kept]),
            "ks_p": ("parameter", result["ks_p"]),
            "coverage": ("level", result["coverage"]),
            "marginal_coverage": (("level", "parameter"), result["marginal_coverage"]),
        },
        coords={"parameter": [p.name for p in chosen], "level": npe.LEVELS},
        attrs={"n_samples": inference["n_samples"], "n_test": int(kept.sum()), "n_excluded": n_excluded},
    )
