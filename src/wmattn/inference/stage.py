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
    observed summaries: the samples dataset (``theta`` (sample, parameter) and per-parameter quantiles)."""
    chosen = parameters(inference["prior"], circuit)
    draws, n_excluded = gather(chunks)
    kept = ~draws["excluded"].to_numpy()
    print(f"training {inference['density_estimator']} on {kept.sum()} draws ({n_excluded} excluded)", flush=True)
    estimator, epochs = npe.train(chosen, draws["theta"].to_numpy()[kept], draws["x"].to_numpy()[kept],
                                  inference["density_estimator"], seeds.integer_seed(seed, "inference", "train"),
                                  inference["max_epochs"])
    statistics = list(observed["statistic"].to_numpy())
    npe.save(path, estimator, chosen, statistics, inference["density_estimator"])
    posterior, _, _ = npe.load(path)  # what every later step uses: the saved estimator
    theta = npe.sample(posterior, chosen, observed["x_o"].to_numpy(), inference["n_samples"],
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
               "density_estimator": inference["density_estimator"]},
    )


def calibrate(chunks, posterior_path, inference, seed):
    """Simulation-based calibration and expected coverage of the saved estimator on the held-out chunks."""
    posterior, chosen, _ = npe.load(posterior_path)
    draws, n_excluded = gather(chunks)
    kept = ~draws["excluded"].to_numpy()
    print(f"calibrating on {kept.sum()} held-out draws ({n_excluded} excluded)", flush=True)
    result = npe.calibration(posterior, chosen, draws["theta"].to_numpy()[kept], draws["x"].to_numpy()[kept],
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
