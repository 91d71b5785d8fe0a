"""Region-attention readout: which region carries a selection signal that serves both tasks?

The regions of a session were recorded (or simulated) together, on the same
trials. For each direction (e.g. ``retro_to_pro``) and each time bin:

1. every region gets a cued-location decoder (z-scored L2 logistic regression,
   ``SlidingLogisticRegression``) fitted on all trials of the *map* task
   (``retro`` for ``retro_to_pro``); its log-odds of "upper" on the trials of
   the other, *attention* task is the region's token (one scalar per trial);
2. an attention readout reads the tokens,
   ``p(upper) = sigmoid(g * sum_r softmax(a)_r * token_r + b)``, with one logit
   ``a_r`` per region, a gain ``g = softplus(.) >= 0`` and a bias ``b``, fitted
   by penalised maximum likelihood on the attention task's trials.

Because ``g >= 0`` the readout cannot use a region by flipping its sign: a region
whose code reverses between the tasks hurts the fit and its weight falls, as
does the weight of a region whose code does not carry over (orthogonal axes)
or that has no signal. The L2 penalty on the logits pulls the weights towards
uniform where no region is informative (before the cue), so uninformative
regions do not get arbitrary weights. Where no region's code carries over with
the right sign the fitted gain goes to 0 and the weights, no longer constrained
by the data, return to uniform: read the weights together with ``gain``.

Each bin's readout is fitted on the tokens divided by their root mean square
over the fit's training trials and all regions (so the gain and its penalty are
scale-free; the softmax weights are unchanged by this common scale). All bins,
folds and the all-trials fit are solved together by batched Newton steps
(``fit_attention``, torch.func gradients and Hessians).

Several sessions: one resample of pseudo-trials, balanced over task x cued
location within every session (``wmattn.pseudopop``), with the same
pseudo-trial index for every region (a session's regions share its trials),
each region's neurons taken from their own session's trial.
"""

import time as _time
import warnings

import numpy as np
import torch
import xarray as xr

from wmattn.analysis.location import fold_mean, stratified_folds
from wmattn.logistic import SlidingLogisticRegression
from wmattn.pseudopop import (condition_codes, first_trials, gather, pseudo_trial_index, session_labels, trial_values,
                              two_item_trials)
from wmattn.task import LOCATIONS

DIRECTIONS = {"retro_to_pro": ("retro", "pro"), "pro_to_retro": ("pro", "retro")}
TRIAL_COORDS = ("task", "cued", "session")
PROGRESS_AFTER_S = 3.0


def region_attention(rates, n_folds=5, C=1.0, seed=0, logit_penalty=1.0, gain_penalty=1.0, max_iter=100):
    """Attention over regions' transferred cued-location codes, in both directions.

    Parameters
    ----------
    rates : dict
        Region name -> its rates, one dataset per session
        (:func:`wmattn.io.region_sessions`): ``rate`` (trial, neuron, time),
        per-trial ``task``, ``cued``, ``session``, and ``time``. A session's
        regions must hold the same trials in the same order, and every
        session the same time bins. Two-item trials only are used
        (:func:`wmattn.pseudopop.two_item_trials`).
    n_folds : int
        Stratified folds (on the cued location) of the attention task's
        trials, for the readout's cross-validated accuracy.
    C : float
        Inverse L2 strength of the regions' decoders.
    seed : int or numpy.random.SeedSequence
        Seeds the pseudo-trials and the folds.
    logit_penalty : float
        ``logit_penalty * sum(a**2) / 2`` is added to the summed log-loss of
        every bin's readout over its training trials (a Gaussian prior of
        variance ``1 / logit_penalty`` on the logits, so it weighs less as
        trials accumulate, like scikit-learn's ``1 / C``).
    gain_penalty : float
        ``gain_penalty * g**2 / 2`` likewise, with ``g`` the gain on tokens of
        unit root mean square; keeps the gain finite where a token separates
        the classes.
    max_iter : int
        Newton iterations of each direction's batched readout fit
        (``fit_attention``); a warning if they do not suffice.

    Returns
    -------
    xarray.Dataset
        ``weight`` (direction, time, region): softmax weights of the readout
        fitted on all (pseudo-)trials of the attention task; ``accuracy``
        (direction, time): the readout's held-out accuracy, mean over folds
        (each fold's readout fitted on the other folds; the region decoders
        never see the attention task); ``gain`` (direction, time) of the
        all-trials fit (on unit-RMS tokens); ``token_accuracy`` (direction,
        time, region): each region's transfer alone (sign of its token).
        ``direction`` is ``retro_to_pro`` (decoders fitted on retro, readout
        fitted and scored on pro) and ``pro_to_retro``.
    """
    start = _time.perf_counter()
    rates = {region: two_item_trials(sessions) for region, sessions in rates.items()}
    regions, time, sessions = _check_regions(rates)
    rng = np.random.default_rng(seed)
    trials = list(sessions.values())
    # One pseudo-trial index for every region: a session's regions share its trials.
    index = pseudo_trial_index(session_labels(trials), condition_codes(trials, ["task", "cued"]), rng)
    rows = index - first_trials(trials)
    labels = list(sessions)
    X = {region: gather(rates[region], rows[:, [labels.index(_label(data)) for data in rates[region]]])
         for region in regions}
    source = index[:, 0]
    task = trial_values(trials, "task")[source]
    upper = trial_values(trials, "cued")[source] == LOCATIONS[0]
    fold_seed = int(rng.integers(2**31))

    shape = (len(DIRECTIONS), len(time))
    weight = np.empty(shape + (len(regions),))
    token_accuracy = np.empty(shape + (len(regions),))
    accuracy, gain = np.empty(shape), np.empty(shape)
    for d, (direction, (map_task, attention_task)) in enumerate(DIRECTIONS.items()):
        on_map, on_attention = task == map_task, task == attention_task
        labels = upper[on_attention]
        for name, trials in ((map_task, on_map), (attention_task, on_attention)):
            if len(np.unique(upper[trials])) < 2:
                raise ValueError(f"{name} trials hold only one cued location; nothing to decode")
        tokens = np.stack([
            SlidingLogisticRegression(C).fit(X[region][on_map], upper[on_map]).decision_function(X[region][on_attention])
            for region in regions
        ], axis=1)  # (trials, regions, times): log-odds of "upper"
        token_accuracy[d] = ((tokens > 0) == labels[:, None, None]).mean(axis=0).T
        test = stratified_folds(labels, n_folds, fold_seed)
        train = np.column_stack([~test, np.ones(len(labels), bool)])
        fit = fit_attention(tokens, labels, train, logit_penalty, gain_penalty, max_iter)
        if not fit["converged"]:
            warnings.warn(f"region attention ({direction}): readout fit did not converge in {max_iter} Newton iterations",
                          RuntimeWarning)
        correct = (fit["log_odds"][:, :-1] > 0) == labels[None, None, :]  # (times, folds, trials)
        accuracy[d] = fold_mean(correct.transpose(0, 2, 1), test)
        weight[d], gain[d] = fit["weight"][:, -1], fit["gain"][:, -1]
        elapsed = _time.perf_counter() - start
        if elapsed > PROGRESS_AFTER_S:
            print(f"region attention: {direction} done ({elapsed:.1f} s)", flush=True)

    dims = ("direction", "time")
    return xr.Dataset(
        {
            "weight": (dims + ("region",), weight),
            "accuracy": (dims, accuracy),
            "gain": (dims, gain),
            "token_accuracy": (dims + ("region",), token_accuracy),
        },
        coords={"direction": list(DIRECTIONS), "time": time, "region": list(regions)},
        attrs={
            "n_folds": n_folds, "C": C, "logit_penalty": logit_penalty, "gain_penalty": gain_penalty,
            "n_resamples": 1, "n_pseudo_trials": len(source),
            "weight_fit": "all trials of the attention task",
        },
    )


def fit_attention(tokens, labels, train, logit_penalty=1.0, gain_penalty=1.0, max_iter=100, tol=1e-8):
    """Fit the softmax readout of region tokens for every time bin and trial group at once (``_fit_attention``).

    Runs torch on one thread (restored afterwards): the tensors are small, and
    torch's intra-op threads on a busy machine make every small op orders of
    magnitude slower (milliseconds instead of microseconds).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit_attention(tokens, labels, train, logit_penalty, gain_penalty, max_iter, tol)
    finally:
        torch.set_num_threads(threads)


def _fit_attention(tokens, labels, train, logit_penalty=1.0, gain_penalty=1.0, max_iter=100, tol=1e-8):
    """Fit the softmax readout of region tokens for every time bin and trial group at once.

    Every (bin, group) is a separate problem of ``regions + 2`` parameters
    (logits, gain, bias), minimising the summed log-loss over the group's
    training trials plus the penalties. All problems take Newton steps
    together (``torch.func``: batched gradients and Hessians); the Hessian,
    indefinite away from the optimum because of the softmax, is made positive
    definite by taking its eigenvalues' absolute values, and each problem's
    step is halved until its loss falls (Armijo).

    Parameters
    ----------
    tokens : array (trials, regions, times)
    labels : array (trials,)
        0/1 (or bool) labels.
    train : array (trials, groups)
        Training trials of each group (folds, and e.g. all trials).
    logit_penalty, gain_penalty :
        As in ``region_attention``.
    max_iter : int
        Newton iterations.
    tol : float
        Stop when every problem's largest absolute gradient is below this.

    Returns
    -------
    dict
        ``weight`` (times, groups, regions), ``gain`` (times, groups) on
        unit-RMS tokens, ``bias`` (times, groups), ``log_odds`` (times,
        groups, trials) of every group's readout on every trial and
        ``converged`` (bool).
    """
    T = torch.as_tensor(np.asarray(tokens, np.float64)).permute(2, 0, 1)  # (times, trials, regions)
    n_times, n_trials, n_regions = T.shape
    member = torch.as_tensor(np.asarray(train, np.float64))
    n_train = member.sum(dim=0)
    n_groups = member.shape[1]
    y = torch.as_tensor(np.asarray(labels, np.float64))
    # Root mean square over each group's training trials and all regions, per bin.
    rms = torch.sqrt(torch.einsum("tnr,ng->tg", T**2, member / n_train) / n_regions).clamp_min(1e-12)
    T = (T[:, None] / rms[:, :, None, None]).reshape(n_times * n_groups, n_trials, n_regions)
    W = member.T.expand(n_times, n_groups, n_trials).reshape(n_times * n_groups, n_trials)

    def split(theta):
        return theta[..., :n_regions], torch.nn.functional.softplus(theta[..., n_regions]), theta[..., n_regions + 1]

    def log_odds(theta, tokens):
        logits, gain, bias = split(theta)
        return gain[..., None] * (tokens @ torch.softmax(logits, dim=-1)[..., None])[..., 0] + bias[..., None]

    def loss(theta, tokens, weight):
        logits, gain, _ = split(theta)
        z = log_odds(theta, tokens)
        nll = torch.nn.functional.softplus(z) - y * z  # log-loss of log-odds z
        return (weight * nll).sum() + 0.5 * logit_penalty * (logits**2).sum() + 0.5 * gain_penalty * gain**2

    losses = torch.vmap(loss)
    gradients = torch.vmap(torch.func.grad(loss))
    hessians = torch.vmap(torch.func.jacrev(torch.func.grad(loss)))  # reverse over reverse: no forward-mode AD
    theta = torch.zeros(n_times * n_groups, n_regions + 2, dtype=torch.float64)
    theta[:, n_regions] = float(np.log(np.e - 1))  # gain 1
    f = losses(theta, T, W)
    converged = False
    for _ in range(max_iter):
        G = gradients(theta, T, W)
        if G.abs().max() <= tol:
            converged = True
            break
        values, vectors = torch.linalg.eigh(hessians(theta, T, W))
        values = values.abs().clamp_min(1e-10)
        step = -(vectors @ ((vectors.transpose(-1, -2) @ G[..., None]) / values[..., None]))[..., 0]
        slope = (G * step).sum(dim=-1)
        scale = torch.ones_like(f)
        for _ in range(40):
            new = theta + scale[:, None] * step
            f_new = losses(new, T, W)
            worse = f_new > f + 1e-4 * scale * slope + 1e-13 * f.abs()
            if not worse.any():
                break
            scale = torch.where(worse, scale / 2, scale)
        keep = worse[:, None]  # a problem whose loss would still rise keeps its parameters
        theta, f = torch.where(keep, theta, new), torch.where(worse, f, f_new)
    logits, gain, bias = split(theta)
    shape = (n_times, n_groups)
    return {
        "weight": torch.softmax(logits, dim=-1).reshape(shape + (n_regions,)).numpy(),
        "gain": gain.reshape(shape).numpy(),
        "bias": bias.reshape(shape).numpy(),
        "log_odds": log_odds(theta, T).reshape(shape + (n_trials,)).numpy(),
        "converged": converged,
    }


def _label(rates):
    """The session of a session's rates."""
    return rates["session"].to_numpy()[0].item()


def _check_regions(rates):
    """Region names (in the dict's order), the shared time axis, and the trials of every session (by label, sorted).

    ValueError naming a region whose sessions' trials or time bins differ from another region's.
    """
    if not isinstance(rates, dict) or not rates or not all(rates.values()):
        raise ValueError("region_attention needs a non-empty dict of region name -> its sessions' rates datasets")
    regions = list(rates)
    sessions, time, first = {}, None, regions[0]
    for region in regions:
        for data in rates[region]:
            missing = [name for name in ("rate",) + TRIAL_COORDS + ("time",) if name not in data.variables]
            if missing:
                raise ValueError(f"region {region}: rates lack {', '.join(missing)}")
            if set(data["rate"].dims) != {"trial", "neuron", "time"}:
                raise ValueError(f"region {region}: rate must have dims (trial, neuron, time), got {data['rate'].dims}")
            if time is None:
                time = data["time"].to_numpy()
            other = data["time"].to_numpy()
            if other.shape != time.shape or not np.allclose(other, time):
                raise ValueError(f"region {region}: time axis differs from region {first}'s; "
                                 "resample every region to the same bins")
            label = _label(data)
            trials = data.drop_dims(["neuron", "time"])
            if label not in sessions:
                sessions[label] = trials
            elif not _same_trials(trials, sessions[label]):
                raise ValueError(f"region {region}: the trials of session {label} differ from another region's; "
                                 "every region of a session must hold the same trials in the same order")
    return regions, time, dict(sorted(sessions.items()))


def _same_trials(a, b):
    """Whether two sessions' trial tables hold the same trials (coordinates of both; NaN equal to NaN)."""
    shared = [name for name in a.coords if a[name].dims == ("trial",) and name in b.coords and b[name].dims == ("trial",)]
    return a.sizes["trial"] == b.sizes["trial"] and all(_same(a[name], b[name]) for name in shared)


def _same(a, b):
    """Whether two coordinates hold the same values (NaN equal to NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)
