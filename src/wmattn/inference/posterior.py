"""The neural posterior estimator (``sbi``'s single-round, amortized NPE) and its calibration.

Parameters are handled in fit space (:mod:`.prior`), where the prior is a
box-uniform; samples are returned in the keys' own units. The flow learns the
posterior of the parameters mapped to an unbounded space by the prior's
bounds (sbi's ``transform_to_unconstrained``), so it puts no mass outside the
prior: an unbounded flow trained on a few hundred draws left most of its mass
outside the box for most held-out draws, which made sampling by rejection
slow and the posterior a truncated tail. Several estimators trained with
different seeds are averaged (an ensemble, Hermans et al. 2022: a single NPE
at a small simulation budget is overconfident). The estimators are saved as
their ``state_dict`` with plain-typed metadata, so that
``torch.load(path, weights_only=True)`` reads them, and are rebuilt from them.
"""

import numpy as np
import torch
from sbi.diagnostics import check_sbc, run_sbc
from sbi.inference import NPE, DirectPosterior
from sbi.inference.posteriors.ensemble_posterior import EnsemblePosterior
from sbi.neural_nets import posterior_nn
from sbi.utils import BoxUniform

from wmattn.inference.prior import Parameter, from_fit, to_fit


def box_prior(chosen):
    low, high = zip(*(p.fit_bounds for p in chosen))
    return BoxUniform(low=torch.tensor(low, dtype=torch.float32), high=torch.tensor(high, dtype=torch.float32))


class _NoTracking:
    """sbi's training tracker, doing nothing: its default writes TensorBoard files into the working directory
    (``sbi-logs/``); the losses are printed by :func:`train` instead."""

    log_dir = None

    def log_metric(self, name, value, step=None):
        pass

    def log_metrics(self, metrics, step=None):
        pass

    def log_params(self, params):
        pass

    def add_figure(self, name, figure, step=None):
        pass

    def flush(self):
        pass


SATURATED_SHARE = 0.95


def informative(x):
    """Which statistics (columns of ``x``, draw x statistic) tell the training draws apart: one that takes a
    single value in at least ``SATURATED_SHARE`` of them (an accuracy at ceiling in nearly every draw) carries
    next to nothing, and its near-zero spread makes the estimator's z-scoring put any observation that differs
    (a recording will) thousands of standard deviations out."""
    return np.array([np.unique(column, return_counts=True)[1].max() < SATURATED_SHARE * len(column) for column in x.T],
                    dtype=bool)


def _builder(model, chosen):
    return posterior_nn(model=f"zuko_{model}", z_score_theta="transform_to_unconstrained", x_dist=box_prior(chosen))


def train(chosen, theta, x, model, seed, max_epochs, n_estimators):
    """Train ``n_estimators`` NPE estimators (seeds ``seed``, ``seed + 1``, ...) on draws ``theta`` (draw,
    parameter; the keys' units) and their summaries ``x``; ``model`` is a flow of sbi's zuko family (``maf``,
    ``nsf``).

    Returns the density estimators and the number of epochs each trained
    (early stopping on 10 % of the draws held out for validation).
    """
    estimators, epochs = [], []
    for member in range(n_estimators):
        torch.manual_seed(seed + member)
        inference = NPE(prior=box_prior(chosen), density_estimator=_builder(model, chosen), tracker=_NoTracking(),
                        show_progress_bars=False)
        inference.append_simulations(torch.as_tensor(to_fit(chosen, theta), dtype=torch.float32),
                                     torch.as_tensor(x, dtype=torch.float32))
        estimators.append(inference.train(max_num_epochs=max_epochs))
        summary = inference.summary
        epochs.append(int(summary["epochs_trained"][-1]))
        print(f"estimator {member + 1}/{n_estimators}: trained {epochs[-1]} epochs; training loss "
              f"{summary['training_loss'][-1]:.3f}, best validation loss {summary['best_validation_loss'][-1]:.3f}",
              flush=True)
    return estimators, epochs


def save(path, estimators, chosen, statistics, model):
    torch.save({
        "state_dicts": [estimator.state_dict() for estimator in estimators],
        "model": model,
        # plain Python types only: weights_only=True refuses numpy scalars
        "parameters": [str(p.name) for p in chosen], "low": [float(p.low) for p in chosen],
        "high": [float(p.high) for p in chosen], "scale": [str(p.scale) for p in chosen],
        "statistics": [str(name) for name in statistics],
    }, path)


def load(path):
    """The posterior of a file written by :func:`save` (read with ``weights_only=True``; the average of its
    estimators), its parameters and statistic names."""
    saved = torch.load(path, weights_only=True)
    chosen = [Parameter(*fields) for fields in zip(saved["parameters"], saved["low"], saved["high"], saved["scale"])]
    members = []
    for state_dict in saved["state_dicts"]:
        # shapes only: the z-scoring's statistics and every weight come from the state_dict
        estimator = _builder(saved["model"], chosen)(box_prior(chosen).sample((10,)),
                                                     torch.randn(10, len(saved["statistics"])))
        estimator.load_state_dict(state_dict)
        estimator.eval()
        members.append(DirectPosterior(estimator, box_prior(chosen)))
    posterior = members[0] if len(members) == 1 else EnsemblePosterior(members)
    return posterior, chosen, saved["statistics"]


def sample(posterior, chosen, x, n, seed):
    """``n`` posterior samples given summaries ``x`` (statistic,), (sample, parameter) in the keys' units."""
    torch.manual_seed(seed)
    fit = posterior.sample((n,), x=torch.as_tensor(x, dtype=torch.float32), show_progress_bars=False)
    return from_fit(chosen, fit.numpy().astype(float))


LEVELS = np.linspace(0, 1, 21)


def calibration(posterior, chosen, theta, x, n_samples, seed):
    """Simulation-based calibration (Talts et al. 2018) and expected coverage on held-out draws.

    Returns a dict: ``ranks`` (draw, parameter) of each true value among
    ``n_samples`` posterior samples, ``ks_p`` (parameter) the Kolmogorov-Smirnov
    p-value of their uniformity (``sbi.diagnostics.check_sbc``),
    ``coverage`` (level) the expected coverage of the highest-posterior-density
    regions (Deistler et al. 2022: the fraction of true values inside the
    region of each credibility level), and ``marginal_coverage`` (level,
    parameter) of the central credible intervals, from the ranks.
    """
    torch.manual_seed(seed)
    theta_fit = torch.as_tensor(to_fit(chosen, theta), dtype=torch.float32)
    x = torch.as_tensor(x, dtype=torch.float32)
    ranks, dap = run_sbc(theta_fit, x, posterior, num_posterior_samples=n_samples, show_progress_bar=False)
    checks = check_sbc(ranks, posterior.prior.sample((len(theta_fit),)), dap, num_posterior_samples=n_samples)
    # unnormalized: a density's rank among samples of the same x needs no normalizing constant, whose
    # estimate would cost 10,000 samples a draw
    density_ranks, _ = run_sbc(theta_fit, x, posterior, num_posterior_samples=n_samples, show_progress_bar=False,
                               reduce_fns=lambda samples, observed: posterior.log_prob(samples, x=observed,
                                                                                       norm_posterior=False))
    quantile = ranks.numpy() / n_samples
    outside_hpd = 1 - density_ranks.numpy()[:, 0] / n_samples  # share of samples more probable than the truth
    return {
        "ranks": ranks.numpy().astype(int),
        "ks_p": checks["ks_pvals"].numpy().astype(float),
        "coverage": np.array([np.mean(outside_hpd < level) for level in LEVELS]),
        "marginal_coverage": np.array([[np.mean((q >= (1 - level) / 2) & (q <= (1 + level) / 2)) for q in quantile.T]
                                       for level in LEVELS]),
    }
