"""Pseudo-populations: neurons from different sessions decoded as one population.

Each resample draws, from every session, the same number of trials of every
condition (without replacement, so cross-validation never sees one trial in
training and test). Pseudo-trial j of a condition takes each neuron's rates from
the j-th trial drawn in that neuron's own session; neurons of one session share
their trial, so their noise correlations survive. With a single session a
resample is simply a balanced subset of the trials.
"""

import numpy as np
import pandas as pd


def pseudo_trial_index(session, condition, rng):
    """The trials behind one resample of pseudo-trials.

    Parameters
    ----------
    session : array (n_trials,)
        Session of every trial.
    condition : array (n_trials,)
        Condition of every trial (any hashable labels, e.g. integer codes).
    rng : numpy.random.Generator

    Returns
    -------
    index : array (n_pseudo_trials, n_sessions)
        Column s holds trials of the s-th session (sorted session labels); every
        condition fills the same number of consecutive rows.
    """
    session, condition = np.asarray(session), np.asarray(condition)
    sessions, conditions = np.unique(session), np.unique(condition)
    members = {(c, s): np.flatnonzero((condition == c) & (session == s)) for c in conditions for s in sessions}
    n_per_condition = min(len(trials) for trials in members.values())
    if n_per_condition == 0:
        empty = next(key for key, trials in members.items() if len(trials) == 0)
        raise ValueError(f"session {empty[1]} has no trial of condition {empty[0]}; cannot build pseudo-trials")
    return np.vstack([
        np.column_stack([rng.choice(members[c, s], n_per_condition, replace=False) for s in sessions])
        for c in conditions
    ])


def condition_codes(rates, by):
    """Integer condition of every trial: one code per combination of the coordinates ``by``."""
    codes, _ = pd.MultiIndex.from_arrays([rates[name].to_numpy() for name in by]).factorize()
    return codes


def resample(rates, condition, rng):
    """One pseudo-population drawn from ``rates``.

    ``rates`` needs ``rate`` (trial, neuron, time) and the coordinates
    ``session`` (trial) and ``neuron_session`` (neuron); ``condition`` is the
    code of every trial (``condition_codes``).

    Returns the pseudo-rates (pseudo-trial, neuron, time) as a numpy array and,
    for every pseudo-trial, the index of the first session's trial behind it,
    whose per-trial coordinates (task, cued, ...) the whole pseudo-trial shares
    where they define the condition.
    """
    session = rates["session"].to_numpy()
    index = pseudo_trial_index(session, condition, rng)
    column = np.searchsorted(np.unique(session), rates["neuron_session"].to_numpy())
    rate = rates["rate"].to_numpy()
    return rate[index[:, column], np.arange(rate.shape[1])], index[:, 0]
