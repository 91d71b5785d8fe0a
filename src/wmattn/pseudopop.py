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


def pseudo_trial_index(session, condition, rng, replace=False):
    """The trials behind one resample of pseudo-trials.

    Parameters
    ----------
    session : array (n_trials,)
        Session of every trial.
    condition : array (n_trials,)
        Condition of every trial (any hashable labels, e.g. integer codes).
    rng : numpy.random.Generator
    replace : bool
        Draw with replacement: a bootstrap of every session's trials of each
        condition followed by a resample (the smallest count drawn from each).
        Then a trial can fill several pseudo-trials, so a cross-validation
        must split the trials into folds first and give each fold its own
        condition codes.

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
        np.column_stack([rng.choice(members[c, s], n_per_condition, replace=replace) for s in sessions])
        for c in conditions
    ])


def two_item_trials(sessions):
    """Every session's two-item trials (``n_items == 2``), or all its trials where it has no ``n_items``
    (a recording without single-item trials): for analyses that use both items' colours or
    compare cued locations between trials that show both."""
    return [rates.isel(trial=rates["n_items"].to_numpy() == 2) if "n_items" in rates.coords else rates
            for rates in sessions]


def trial_values(sessions, name):
    """The per-trial coordinate ``name`` of every session, one after another (an array over their trials)."""
    return np.concatenate([rates[name].to_numpy() for rates in sessions])


def condition_codes(sessions, by):
    """Integer condition of every trial of ``sessions``: one code per combination of the coordinates ``by``."""
    codes, _ = pd.MultiIndex.from_arrays([trial_values(sessions, name) for name in by]).factorize()
    return codes


def session_labels(sessions):
    """Every trial's position in ``sessions`` (the list of one region's sessions)."""
    return np.repeat(np.arange(len(sessions)), [rates.sizes["trial"] for rates in sessions])


def first_trials(sessions):
    """Where each session's trials start when the sessions' trials are counted one after another."""
    return np.cumsum([0] + [rates.sizes["trial"] for rates in sessions])[:-1]


def gather(sessions, rows):
    """Pseudo-rates (pseudo-trial, neuron, time): session k's neurons at its own trials ``rows[:, k]``."""
    return np.concatenate([
        rates["rate"].transpose("trial", "neuron", "time").to_numpy()[rows[:, k]]
        for k, rates in enumerate(sessions)
    ], axis=1)


def resample(sessions, condition, rng):
    """One pseudo-population drawn from one region's sessions.

    ``sessions`` is a list of rates datasets, one per session (each needs
    ``rate`` (trial, neuron, time)); ``condition`` is the code of every trial
    of the sessions one after another (:func:`condition_codes`).

    Returns the pseudo-rates (pseudo-trial, neuron, time) as a numpy array and,
    for every pseudo-trial, the index (across the sessions' trials) of the
    first session's trial behind it, whose per-trial coordinates (task,
    cued, ...) the whole pseudo-trial shares where they define the condition.
    """
    index = pseudo_trial_index(session_labels(sessions), condition, rng)
    return gather(sessions, index - first_trials(sessions)), index[:, 0]
